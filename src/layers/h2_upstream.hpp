#pragma once
// h2_upstream: one HTTP/2 connection to an origin (private to src/layers), shared by the streams
// of any client connection of its worker: the pool lends it by stream (ARCHITECTURE.md). It runs
// its own reader and writer coroutines on the worker and lives while the pool or a stream holds
// it. Each stream has a handler (the client-side stream relaying it) that receives its events on
// the worker's thread.
//
//   open ──GOAWAY received / sent, or the socket closed──► retired (no new streams)
//     │                                                        │ streams done
//     └────────────────────────────────────────────────────────┴──► closed

#include "connection.hpp"
#include "h2_pump.hpp"

#include "hark/h2/frame_tap.hpp"
#include "hark/h2/session.hpp"

#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <unordered_map>

namespace hark::layers {

class h2_upstream final : public net::shared_upstream,
                          public std::enable_shared_from_this<h2_upstream> {
 public:
  /** The events of one upstream stream. */
  class handler {
   public:
    /** A response head (also 1xx) or trailers. */
    virtual void on_upstream_headers(h2::headers_event& e) = 0;
    /** DATA; the handler calls consume() once it passed the bytes on. */
    virtual void on_upstream_data(h2::data_event& e) = 0;
    /** The stream ended: `error_code` 0 when it completed, `reset_by_peer` for RST_STREAM or a
     *  GOAWAY that did not include it, else the connection failed. The handler is detached. */
    virtual void on_upstream_closed(std::uint32_t error_code, bool reset_by_peer) = 0;
    /** Bytes queued on the stream went out: a held-back request body may continue. */
    virtual void on_upstream_writable() = 0;

   protected:
    ~handler() = default;
  };

  /** What Hark advertises to origins. Push is enabled: an upstream connection is shared by
   *  clients that allow push and clients that do not, and what an origin pushes is recorded
   *  either way (forwarded only to the first; docs/decisions.md). */
  static h2::settings settings();

  /** Takes over `conn` (TLS, ALPN h2); its frame log goes to `sink`, which must outlive it. */
  h2_upstream(net::upstream_connection&& conn, const h2::settings& s, capture::flow_sink& sink);
  ~h2_upstream() override;

  /** Starts the reader and writer of `self` on its socket's executor. */
  static void start(const std::shared_ptr<h2_upstream>& self);

  /** Opens a stream with the request head `fields`; its events go to `h`. Negative when the
   *  connection refused it (retired, no stream ids left). */
  std::int32_t open_stream(const capture::header_list& fields, bool end_stream, handler* h);
  bool send_data(std::int32_t id, std::string_view bytes, bool end_stream);
  bool send_trailers(std::int32_t id, const capture::header_list& fields);
  void reset(std::int32_t id, std::uint32_t code);
  void consume(std::int32_t id, std::size_t n);
  std::size_t queued(std::int32_t id) const { return session_.queued(id); }
  /** The events of `promised`, a stream the origin reserved with PUSH_PROMISE (on_upstream_headers
   *  with head_kind::push_promise), go to `h` from now on. */
  void adopt_push(std::int32_t promised, handler* h) { handlers_[promised] = h; }
  /** The handler goes away: no more events for `id`, which is reset (CANCEL) if still open. */
  void detach(std::int32_t id);

  const std::string& connection_id() const noexcept { return id_; }
  const tcp::endpoint& remote() const noexcept { return conn_.remote; }

  /** Waits until the origin's first SETTINGS arrived, the connection ended or `limit` passed,
   *  whichever comes first (any number of client connections may wait). */
  asio::awaitable<void> wait_settings(std::chrono::steady_clock::duration limit);
  /** Whether the origin accepts extended CONNECT (RFC 8441 §3: it sent
   *  SETTINGS_ENABLE_CONNECT_PROTOCOL = 1). */
  bool accepts_extended_connect() const {
    return session_.remote_setting(NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL) == 1;
  }

  bool has_capacity() const override;
  bool retired() const override { return retired_; }
  bool idle() const override { return handlers_.empty(); }
  void close() override;
  net::upstream_connection& connection() override { return conn_; }

 private:
  static asio::awaitable<void> run(std::shared_ptr<h2_upstream> self);
  asio::awaitable<void> read_loop();
  asio::awaitable<void> write_loop();
  void dispatch();
  void notify_writable();
  void on_closed(std::int32_t id, std::uint32_t code, bool by_peer);
  void on_goaway(const h2::goaway_event& e);
  void fail_all(std::uint32_t code);
  void wake() { pump_.wake(); }

  net::upstream_connection conn_;
  h2::session session_;
  std::unordered_map<std::int32_t, handler*> handlers_;
  std::string id_;     ///< ULID: the upstreamHttp2 connection id of its entries
  h2::frame_tap tap_;  ///< the connection's frame log (SPEC §4)
  h2_pump pump_;
  std::vector<std::int32_t> writable_;  ///< scratch of notify_writable()
  asio::steady_timer settings_wait_;    ///< never expires: cancelled when SETTINGS arrive
  bool settings_received_ = false;
  bool retired_ = false;
};

}  // namespace hark::layers
