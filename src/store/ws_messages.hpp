#pragma once
// Private to src/store: the writer's WebSocket half. Captured messages go into ws_messages, each
// under the row of its (already written) upgrade entry.

#include "hark/capture/ws_record.hpp"
#include "hark/store/database.hpp"

#include <cstddef>
#include <functional>
#include <string>
#include <vector>

namespace hark::store {

/** Inserts `messages` in one transaction: each under its entry's row, and its wire bytes added
 *  to the entry's request_bytes (client) or response_bytes (server) and to its session's
 *  totalBytes, so that deleting the entry takes them back off. Messages whose entry is not
 *  stored are skipped. `inserted` gets the indices of the messages written. Throws
 *  store_error (then nothing is written). `before_commit`, if set, runs last in the same
 *  transaction. */
void insert_ws_messages(database& db, const std::vector<capture::ws_message_record>& messages,
                        std::vector<std::size_t>& inserted,
                        const std::function<void()>& before_commit = {});

/** The `websocket` event's data: `{"sessionId", "entryId", "message": WebSocketMessage}`. */
std::string websocket_event_json(const capture::ws_message_record& m);

}  // namespace hark::store
