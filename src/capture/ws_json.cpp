// The seed's WebSocketMessage objects (seed 002): for GET …/websocket, JSON-RPC's
// sessions/get_websocket_messages and the `websocket` events alike.

#include "hark/capture/ws_record.hpp"

#include "hark/core/base64.hpp"
#include "hark/core/json_writer.hpp"
#include "hark/core/time.hpp"

namespace hark::capture {
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
void write_payload(json::writer& w, std::string_view type, std::string_view payload) {
  w.begin_object().key("type").value(type);
  if (type == "text") {
    w.key("text").value(payload);
  } else if (type == "close") {
    const bool coded = payload.size() >= 2;
    const unsigned code = coded ? (static_cast<unsigned char>(payload[0]) << 8) |
                                      static_cast<unsigned char>(payload[1])
                                : no_status_code;
    w.key("code").value(code);
    w.key("reason").value(coded ? payload.substr(2) : std::string_view());
  } else {
    w.key("data").value(base64::encode(payload));
  }
  w.end_object();
}

}  // namespace

void write_ws_message(json::writer& w, bool from_client, std::optional<std::int64_t> started_us,
                      std::optional<std::int64_t> ended_us, std::string_view type,
                      std::string_view payload) {
  w.begin_object();
  w.key("side").value(from_client ? "client" : "server");
  write_time(w, "startedAt", started_us);
  write_time(w, "endedAt", ended_us);
  w.key("payload");
  write_payload(w, type, payload);
  w.end_object();
}

}  // namespace hark::capture
