// The seed's WebSocketMessage objects (seed 002), for GET …/websocket and JSON-RPC's
// sessions/get_websocket_messages: one rendering for both (and for `websocket` events), in
// capture::write_ws_message.

#include "reply.hpp"

#include "hark/capture/ws_record.hpp"
#include "hark/core/json_writer.hpp"

namespace hark::api {

std::string websocket_messages_json(const std::vector<store::websocket_message>& messages) {
  std::string out;
  json::writer w(out);
  w.begin_array();
  for (const auto& m : messages) {
    capture::write_ws_message(w, m.from_client, m.started_us, m.ended_us, m.type, m.payload);
  }
  w.end_array();
  return out;
}

}  // namespace hark::api
