#pragma once
// Flow events: what the protocol layers tell capture about each exchange. Layers know nothing of
// SQLite or the API; they describe what went over the wire to a flow_sink.

#include "hark/capture/entry_record.hpp"
#include "hark/capture/h2_frame_log.hpp"
#include "hark/capture/tls_log.hpp"
#include "hark/ws/message.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace hark::capture {

/** One client connection as accepted by the proxy. Lives as long as the connection. */
struct connection_info {
  std::string id;  ///< ULID
  boost::asio::ip::tcp::endpoint client;
  boost::asio::ip::tcp::endpoint local;  ///< the proxy address the client connected to
  std::shared_future<std::optional<process_info>> process;
};

/** A request or response head exactly as received (fields in order and letter case). */
struct http_head {
  std::string method;  ///< requests only
  std::string target;  ///< requests only: as on the request line
  int status = 0;      ///< responses only
  std::string reason;  ///< responses only
  unsigned version = 11;
  header_list fields;
};

/** `HTTP/1.0`, `HTTP/1.1`, `HTTP/2` for 10, 11, 20. */
std::string http_version_string(unsigned version);

/** The address of `ep` as the API shows it (IPv4-mapped IPv6 shown as IPv4). */
net_address to_net_address(const boost::asio::ip::tcp::endpoint& ep);

/** Opaque per-flow state of a sink (the recorder keeps the entry it is building here). */
struct flow_state {
  virtual ~flow_state() = default;
};

/** One exchange (request + response) as the layers see it. Owned by the layer driving it. */
struct flow {
  const connection_info* connection = nullptr;
  std::string scheme = "http";  ///< as the client used it: http, https, ws, wss
  std::string host;             ///< upstream host (lowercase)
  std::uint16_t port = 80;
  std::string url;  ///< absolute URL as the client meant it
  timing_record timings;
  std::chrono::steady_clock::time_point started{};  ///< monotonic start, for durations
  std::optional<net_address> remote_addr;           ///< the upstream socket actually used
  std::optional<std::string> upstream_http_version;
  std::optional<http2_ref> http2;           ///< the client-side HTTP/2 stream
  std::optional<http2_ref> upstream_http2;  ///< the upstream HTTP/2 stream, when there is one
  bool is_websocket = false;
  /** A response the origin pushed (PUSH_PROMISE): its entry's transactionType is push_promise. */
  bool pushed = false;
  tls_details tls;
  std::unique_ptr<flow_state> sink_state;  ///< owned by the sink; layers never touch it
};

struct flow_outcome {
  std::optional<flow_error> error;  ///< nullopt: completed
};

/** Receives every exchange's events, in order, on the connection's thread. Implementations
 *  must not block (the recorder copies at most the capture cap and hands records off). */
class flow_sink {
 public:
  virtual ~flow_sink() = default;
  /** The client's request head; called first, once per flow. */
  virtual void on_request_head(flow& f, const http_head& head) = 0;
  /** A piece of the request body after chunked framing is removed. */
  virtual void on_request_body(flow& f, std::string_view bytes) = 0;
  /** The request body is complete; `trailers` holds chunked trailer fields if any. */
  virtual void on_request_end(flow& f, const header_list& trailers) = 0;
  /** The final (non-1xx) response head as the origin sent it. Not called when Hark answers
   *  itself (synthetic 502/504): such flows end with an error and no response. */
  virtual void on_response_head(flow& f, const http_head& head) = 0;
  virtual void on_response_body(flow& f, std::string_view bytes) = 0;
  /** Whether the sink still wants to see response body bytes. When it does not, a layer may
   *  relay the rest without looking at it and report only its length with
   *  on_response_body_skipped(). */
  virtual bool wants_response_body(const flow& /*f*/) const { return true; }
  /** `count` response body bytes were relayed without being shown to the sink. */
  virtual void on_response_body_skipped(flow& /*f*/, std::uint64_t /*count*/) {}
  virtual void on_response_end(flow& f, const header_list& trailers) = 0;
  /** Last event of a flow: completed, or failed with an error. */
  virtual void on_flow_end(flow& f, const flow_outcome& outcome) = 0;
  /** The TLS connection log of an intercepted connection: after the client handshake (or its
   *  failure), and again when the connection ends if messages (alerts) were added since.
   *  The sink keeps a copy, and sets `log.session_id` to the session it went to the first
   *  time, so that updates follow it there; a sink that does not record ignores the log. */
  virtual void on_tls_connection(tls_connection_log& /*log*/) {}
  /** A WebSocket message of an upgraded flow completed (SPEC §5). Called after on_flow_end of
   *  the upgrade exchange (whose entry is then complete: request and 101), once per message in
   *  the order they completed, while the relay runs; `f` is the same flow object. The sink may
   *  move from `m` and must not keep it: messages are never gathered per connection. */
  virtual void on_ws_message(flow& /*f*/, ws::message&& /*m*/) {}
  /** A batch of an HTTP/2 connection's frame log (h2::frame_tap): when the batch is full, and
   *  at the connection's end. The sink may move `batch.records` out (the tap starts a new
   *  batch after the call), and sets `batch.session_id` to the session the connection's log
   *  goes to the first time, so that its later batches follow it there; a sink that does not
   *  record ignores the batch. */
  virtual void on_h2_frames(h2_frame_batch& /*batch*/) {}
};

}  // namespace hark::capture
