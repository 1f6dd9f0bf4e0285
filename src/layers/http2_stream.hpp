#pragma once
// http2_stream: one client HTTP/2 stream, one exchange (private to src/layers). Relays the
// request to its upstream and the response back, with back-pressure both ways: received DATA
// is consume()d on one side only once the other side's queue for the stream is short, so a slow
// reader slows its own stream and memory stays bounded.
//
//   request head ─► upstream chosen ─┬─ h2_upstream stream (events through the handler)
//                                    └─ HTTP/1.1 connection (relay_h1, a coroutine of its own)
//   either side's end / reset / failure ─► exchange finished ─► the layer drops the stream
//
// An extended CONNECT for WebSocket (RFC 8441) is an exchange until the origin's 2xx: then its
// entry is complete (isWebSocket) and the stream's DATA, relayed as before, goes to a
// ws::observer in place of the bodies, as the bytes after a 101 do over HTTP/1.1.

#include "exchange.hpp"
#include "h2_upstream.hpp"
#include "http2_heads.hpp"
#include "websocket_relay.hpp"

#include "hark/layers/http1_parser.hpp"

#include <boost/asio/steady_timer.hpp>

namespace hark::layers {

class http2_layer;

class http2_stream final : public h2_upstream::handler {
 public:
  /** A stream's queue on the other side beyond which received DATA is not consumed yet. */
  static constexpr std::size_t backlog_limit = 1 << 20;

  http2_stream(http2_layer& layer, std::int32_t id, const exchange_target& t, h2_request request,
               capture::header_list fields, bool end_stream);
  ~http2_stream();
  http2_stream(const http2_stream&) = delete;
  http2_stream& operator=(const http2_stream&) = delete;

  /** Picks the upstream and starts relaying. */
  void start();
  /** Instead of start(): the stream relays a response `up` pushes on its stream `promised`.
   *  The client's stream is the one Hark promised it, or none (id 0) when the client does not
   *  allow push: then the response is only recorded. */
  void adopt_push(const std::shared_ptr<h2_upstream>& up, std::int32_t promised);

  // ---- client-side events (from the layer) ----
  void on_client_data(h2::data_event& e);
  void on_client_trailers(h2::headers_event& e);
  void on_client_closed(std::uint32_t code);
  /** The client session sent what it had queued: held-back upstream DATA may be consumed. */
  void on_client_writable();
  /** The connection ends: stop relaying. */
  void cancel();
  /** An exception ended the connection: the exchange is recorded as internal_error. */
  void fail_unexpected(const std::string& message) {
    if (!ex_.finished()) {
      ex_.finish(make_error(errc::internal_error, message));
    }
  }
  /** The client stream closed (or there is none) and nothing of this stream runs any more. */
  bool finished() const noexcept { return client_closed_ && !task_running_ && !up_; }

  // ---- h2_upstream::handler ----
  void on_upstream_headers(h2::headers_event& e) override;
  void on_upstream_data(h2::data_event& e) override;
  void on_upstream_closed(std::uint32_t error_code, bool reset_by_peer) override;
  void on_upstream_writable() override;

 private:
  static asio::awaitable<void> relay_h1(http2_stream* self);
  asio::awaitable<void> run_h1();
  asio::awaitable<void> send_h1_body(net::upstream_connection& up, bool chunked);
  asio::awaitable<void> relay_h1_response(net::upstream_connection& up);
  asio::awaitable<bool> read_h1_head(net::upstream_connection& up,
                                     std::optional<http1::response_parser>& rp);
  asio::awaitable<bool> relay_h1_body(net::upstream_connection& up, http1::response_parser& rp);
  asio::awaitable<void> wait();
  void open_h2(const std::shared_ptr<h2_upstream>& up);
  void respond_failure(errc code, const std::string& message);
  void arm_response_stall();
  void arm_request_stall();
  void on_stalled(errc code, const std::string& message);
  void release_client_window();
  void release_upstream_window(bool all);
  void wake_task() { wake_.cancel(); }
  bool is_websocket_request() const noexcept {
    return request_.method == "CONNECT" && request_.protocol == "websocket";
  }
  /** RST_STREAM to the client, when the stream has a client side. */
  void reset_client(std::uint32_t code);
  void start_websocket(const capture::header_list& response_fields);
  void end_websocket();

  http2_layer& layer_;
  std::int32_t id_;
  exchange ex_;
  h2_request request_;
  capture::header_list fields_;
  bool request_ended_;
  bool client_closed_ = false;
  bool response_ended_ = false;  ///< END_STREAM (or trailers) passed on to the client
  bool task_running_ = false;
  bool cancelled_ = false;
  bool pushed_ = false;              ///< relays a pushed response (adopt_push)
  std::shared_ptr<h2_upstream> up_;  ///< the HTTP/2 upstream while its stream is open
  std::int32_t up_id_ = 0;
  // Where owed_upstream_ is consumed: every received byte must be, also after the stream
  // closed, or the shared connection's window shrinks for good.
  std::shared_ptr<h2_upstream> owed_to_;
  std::int32_t owed_id_ = 0;
  std::size_t owed_client_ = 0;    ///< received client DATA not consume()d yet
  std::size_t owed_upstream_ = 0;  ///< received upstream DATA not consume()d yet
  // The HTTP/1.1 path: the request body waiting to be written upstream.
  std::string body_queue_;
  capture::header_list request_trailers_;
  net::watchdog::deadline upstream_deadline_;  ///< HTTP/1.1 path: reads of the upstream
  // HTTP/2 path: the origin's silence (--upstream-timeout) and the client's within its request
  // body (--idle-timeout), re-armed by every DATA (SPEC §2: deadlines between body chunks).
  net::watchdog::deadline response_stall_;
  net::watchdog::deadline request_stall_;
  // After a 2xx to an extended CONNECT for WebSocket: the messages of the stream's DATA.
  std::unique_ptr<flow_message_sink> ws_messages_;
  std::unique_ptr<ws::observer> ws_observer_;
  bool ws_client_done_ = false;
  bool ws_server_done_ = false;
  net::upstream_connection* h1_ = nullptr;  ///< the HTTP/1.1 upstream while relay_h1 runs
  net::byte_buffer h1_buf_;                 ///< its bytes read and not parsed yet
  asio::steady_timer wake_;
};

}  // namespace hark::layers
