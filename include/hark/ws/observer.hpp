#pragma once
// ws::observer: what Hark sees of one WebSocket connection — a parser per direction, each with
// its own inflater — fed with the bytes as they pass. It knows no socket: the HTTP/1.1 relay
// (after a 101) and an HTTP/2 extended CONNECT stream (RFC 8441, the stream's DATA) feed it
// alike.

#include "hark/ws/deflate.hpp"
#include "hark/ws/message.hpp"
#include "hark/ws/parser.hpp"

#include <cstdint>
#include <string_view>

namespace hark::ws {

class observer {
 public:
  using clock = message::clock;

  /** `deflate`: negotiated_deflate() of the 101 response (or of the extended CONNECT's 200).
   *  `max_capture`: payload bytes kept per message. `sink` receives the messages of both
   *  directions and must outlive the observer. */
  observer(const deflate_params& deflate, std::uint64_t max_capture, message_sink& sink);

  /** Bytes the client sent, as relayed (any split). */
  void client_bytes(std::string_view bytes, clock::time_point now = clock::now()) {
    client_.feed(bytes, now);
  }
  /** Bytes the server sent, as relayed (any split). */
  void server_bytes(std::string_view bytes, clock::time_point now = clock::now()) {
    server_.feed(bytes, now);
  }
  /** One direction ended: its message in progress, if any, is handed over truncated. */
  void client_finished(clock::time_point now = clock::now()) { client_.finish(now); }
  void server_finished(clock::time_point now = clock::now()) { server_.finish(now); }

 private:
  parser client_;
  parser server_;
};

}  // namespace hark::ws
