// The seed's WebSocketMessage objects (seed 002), for GET …/websocket and JSON-RPC's
// sessions/get_websocket_messages: one rendering for both.

#include "reply.hpp"

#include "hark/core/base64.hpp"
#include "hark/core/json_writer.hpp"
#include "hark/core/time.hpp"

namespace hark::api {
namespace {

/** RFC 6455 §7.4.1: 1005 stands for "no status code was present". */
constexpr unsigned no_status_code = 1005;

void write_time(json::writer& w, const char* key, const std::optional<std::int64_t>& unix_us) {
  w.key(key);
  if (unix_us) {
    w.value(timefmt::iso8601_from_us(*unix_us));
  } else {
    w.null();
  }
}

/** The typed payload: text as text, a close frame's code and reason, other bytes as base64. */
void write_payload(json::writer& w, const store::websocket_message& m) {
  w.begin_object().key("type").value(m.type);
  if (m.type == "text") {
    w.key("text").value(m.payload);
  } else if (m.type == "close") {
    const bool coded = m.payload.size() >= 2;
    const unsigned code = coded ? (static_cast<unsigned char>(m.payload[0]) << 8) |
                                      static_cast<unsigned char>(m.payload[1])
                                : no_status_code;
    w.key("code").value(code);
    w.key("reason").value(coded ? std::string_view(m.payload).substr(2) : std::string_view());
  } else {
    w.key("data").value(base64::encode(m.payload));
  }
  w.end_object();
}

}  // namespace

std::string websocket_messages_json(const std::vector<store::websocket_message>& messages) {
  std::string out;
  json::writer w(out);
  w.begin_array();
  for (const auto& m : messages) {
    w.begin_object();
    w.key("side").value(m.from_client ? "client" : "server");
    write_time(w, "startedAt", m.started_us);
    write_time(w, "endedAt", m.ended_us);
    w.key("payload");
    write_payload(w, m);
    w.end_object();
  }
  w.end_array();
  return out;
}

}  // namespace hark::api
