#pragma once
// The WebSocket layer (SPEC §5): after a 101, the two streams are relayed byte for byte as they
// arrive — never re-framed, never held back for a whole message — while a ws::observer reads a
// copy of every chunk and hands the messages it completes to capture.
//
//   client ──read──► write upstream ──► observer.client_bytes()  ┐
//                                                               ├─► flow_sink::on_ws_message
//   upstream ──read──► write client ──► observer.server_bytes()  ┘
//
// Each direction ends on EOF (half-closed towards the other peer, as the raw relay does) or on
// an error (both sockets closed); the observer then hands over a message cut short.

#include "hark/capture/flow.hpp"
#include "hark/net/byte_buffer.hpp"
#include "hark/net/duplex.hpp"
#include "hark/ws/deflate.hpp"
#include "hark/ws/observer.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstdint>

namespace hark::layers {

/** Hands the observer's messages to the flow's sink (flow_sink::on_ws_message). */
class flow_message_sink final : public ws::message_sink {
 public:
  /** `sink` and `f` must outlive this object. */
  flow_message_sink(capture::flow_sink& sink, capture::flow& f) : sink_(sink), f_(f) {}
  void on_message(ws::message&& m) override { sink_.on_ws_message(f_, std::move(m)); }

 private:
  capture::flow_sink& sink_;
  capture::flow& f_;
};

/** Whether `request_fields` ask to upgrade to WebSocket (`Upgrade: websocket`, RFC 6455 §4.1). */
bool is_websocket_upgrade(const capture::header_list& request_fields);

/** Makes the flow's scheme and URL those of a WebSocket: `http` → `ws`, `https` → `wss`
 *  (SPEC §6.2: the scheme the client used). Call before on_request_head. */
void use_websocket_scheme(capture::flow& f);

/** Relays an upgraded connection until both directions have ended, showing every chunk to
 *  `observer` right after it is forwarded. `client_pending` / `upstream_pending`: bytes already
 *  read from each side past the handshake (frames sent early); they are forwarded and observed
 *  first, and the buffers are used for reading afterwards. Everything passed must outlive the
 *  coroutine. Never throws for network conditions. */
boost::asio::awaitable<void> relay_websocket(net::duplex client, net::byte_buffer& client_pending,
                                             net::duplex upstream,
                                             net::byte_buffer& upstream_pending,
                                             ws::observer& observer);

/** relay_websocket() for a flow upgraded by a 101 response whose `Sec-WebSocket-Extensions`
 *  negotiated `deflate`: messages go to `sink.on_ws_message(f, …)`, each payload kept up to
 *  `max_capture` bytes. */
boost::asio::awaitable<void> relay_websocket(net::duplex client, net::byte_buffer& client_pending,
                                             net::duplex upstream,
                                             net::byte_buffer& upstream_pending,
                                             capture::flow_sink& sink, capture::flow& f,
                                             ws::deflate_params deflate, std::uint64_t max_capture);

}  // namespace hark::layers
