#pragma once
// ws_message_record: one WebSocket message as the recorder hands it to the store, as soon as it
// completes (never gathered per connection: a connection may carry millions).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hark::json {
class writer;
}

namespace hark::capture {

struct ws_message_record {
  std::string entry_id;    ///< the upgrade entry, submitted before any of its messages
  std::string session_id;  ///< that entry's session
  std::int64_t seq = 0;    ///< 0, 1, … per entry, in the order the messages completed
  bool from_client = false;
  std::int64_t started_us = 0;  ///< first frame, Unix us
  std::int64_t ended_us = 0;    ///< last frame, Unix us
  std::string_view type;        ///< ws::type_name(): text, binary, close, ping, pong, unknown
  /** As the store keeps it: text; close code (2 bytes) and reason; or the data. At most the
   *  capture cap. */
  std::string payload;
  bool truncated = false;
  std::uint64_t wire_bytes = 0;  ///< frame payload bytes relayed (for the session's totalBytes)
};

/** The seed's WebSocketMessage object (`{side, startedAt, endedAt, payload}`) for a stored
 *  message: the one rendering behind GET …/websocket, JSON-RPC and `websocket` events. */
void write_ws_message(json::writer& w, bool from_client, std::optional<std::int64_t> started_us,
                      std::optional<std::int64_t> ended_us, std::string_view type,
                      std::string_view payload);

}  // namespace hark::capture
