#pragma once
// http2_layer: HTTP/2 with a client (private to src/layers) — after interception when the client
// and the origin agreed on h2 (ALPN), and h2c prior knowledge inside a tunnel. One coroutine reads
// the client and feeds the sans-I/O session (h2::session, server role), one writes what the
// session has to send; every client stream is an http2_stream relaying one exchange to its
// upstream: a stream of a shared HTTP/2 connection (h2_upstream), or an HTTP/1.1 connection of
// its own where the origin speaks HTTP/1.1 (h2c, translated).
//
//   read_loop ──bytes──► session.receive ──events──► dispatch ──► http2_stream (one per stream)
//   write_loop ◄──────── session.pending_output ◄── submits ◄─────────┘ ▲
//                                                   upstream events ────┘

#include "connection.hpp"
#include "exchange.hpp"
#include "h2_pump.hpp"
#include "http2_heads.hpp"

#include "hark/h2/frame_tap.hpp"
#include "hark/h2/session.hpp"

#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

namespace hark::layers {

class http2_stream;
class h2_upstream;

/** Whether the TLS connection `conn` agreed on h2 (ALPN). */
bool negotiated_h2(net::upstream_connection& conn);

class http2_layer {
 public:
  explicit http2_layer(client_connection& c);
  ~http2_layer();
  http2_layer(const http2_layer&) = delete;
  http2_layer& operator=(const http2_layer&) = delete;

  /** Serves the connection's streams until both sides are done; always ends the connection. */
  asio::awaitable<void> run(connection_facts& facts);

  // ---- for the streams ----
  client_connection& connection() noexcept { return c_; }
  h2::session& client() noexcept { return *session_; }
  const std::string& connection_id() const noexcept { return id_; }
  /** The session has something to send. */
  void wake() { pump_.wake(); }
  /** An HTTP/2 upstream with room for a stream for this connection's origin, or null when the
   *  origin is reached over HTTP/1.1 (h2c) or no shared connection exists. */
  std::shared_ptr<h2_upstream> shared_upstream();
  /** Makes `conn` (TLS, ALPN h2) a shared HTTP/2 upstream of this origin in the pool. */
  std::shared_ptr<h2_upstream> share_upstream(net::upstream_connection&& conn);
  /** The origin promised a push on `up`'s stream relaying client stream `parent` (`e`: the
   *  PUSH_PROMISE). The pushed response is recorded as its own exchange, and forwarded with a
   *  PUSH_PROMISE of Hark's when the client allows push (RFC 9113 §8.4). */
  void on_push(std::int32_t parent, const std::shared_ptr<h2_upstream>& up, h2::headers_event& e);
  /** A stream's own coroutine started / ended (the layer waits for them before it ends). */
  void task_started() noexcept { ++tasks_; }
  void task_ended() noexcept;

 private:
  asio::awaitable<void> read_loop();
  asio::awaitable<void> write_loop();
  void dispatch();
  void on_written();
  void on_headers(h2::headers_event& e);
  void on_closed(std::int32_t id, std::uint32_t code);
  void collect_finished();
  exchange_target target_for(const h2_request& r) const;
  void adopt_eager_upstream();
  asio::awaitable<bool> relays_extended_connect();
  asio::awaitable<void> end_streams();

  client_connection& c_;
  /** Made once the origin's SETTINGS are known: what Hark advertises depends on them. */
  std::optional<h2::session> session_;
  asio::steady_timer tasks_ended_;  ///< cancelled when a stream's own coroutine ends
  std::string id_;     ///< ULID of the client-side connection (entries' http2.connectionId)
  h2::frame_tap tap_;  ///< the connection's frame log (SPEC §4)
  h2_pump pump_;
  std::unordered_map<std::int32_t, std::unique_ptr<http2_stream>> streams_;
  /** Pushed responses the client did not allow: recorded, not forwarded (no client stream). */
  std::vector<std::unique_ptr<http2_stream>> unforwarded_pushes_;
  std::string upstream_key_;  ///< pool key of the origin's HTTP/2 connections (intercepted only)
  std::size_t tasks_ = 0;
};

}  // namespace hark::layers
