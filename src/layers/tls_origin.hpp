#pragma once
// tls_origin: the origin side of an intercepted TLS connection (private to src/layers), SPEC §3's
// eager strategy. Before the client handshake Hark takes a pooled upstream TLS connection with
// the same origin, SNI and ALPN offer, or connects one, to learn the certificate's names and the
// origin's ALPN choice. Exchanges then use it in turn; when the origin closed it, the next
// exchange connects again with the same SNI and ALPN; when the client leaves, an idle one goes
// back to the worker's pool.

#include "connection.hpp"
#include "exchange.hpp"

#include <optional>
#include <string>
#include <vector>

namespace hark::layers {

class tls_origin {
 public:
  /** For the tunnel of `c`, sending `server_name` as SNI and offering `alpn_offer`. */
  tls_origin(client_connection& c, std::string server_name, std::vector<std::string> alpn_offer);
  ~tls_origin();
  tls_origin(const tls_origin&) = delete;
  tls_origin& operator=(const tls_origin&) = delete;

  /** The first connection, before the client handshake: pooled, else new (its phases are
   *  reported by the first exchange). Afterwards connection() or error() says how it went. */
  asio::awaitable<void> connect_eagerly();

  /** The connection for the next exchange: the one kept, else a new one — or the error to
   *  answer with. A certificate that did not verify is remembered: every exchange gets it. */
  asio::awaitable<acquired_upstream> acquire(net::watchdog::deadline& d);

  /** Keeps `up` for the next exchange. */
  void keep(net::upstream_connection&& up);

  /** When the client connection ends: the kept connection goes to the worker's pool. */
  void release_to_pool();

  /** Takes the connection kept (an HTTP/2 one becomes shared). */
  net::upstream_connection take_connection() {
    auto conn = std::move(*kept_);
    kept_.reset();
    return conn;
  }

  /** The pool key of this origin, SNI and ALPN offer. */
  std::string pool_key() const;

  /** The connection kept (after connect_eagerly(): the eager one, or a shared HTTP/2 one of
   *  the same origin), or null. */
  net::upstream_connection* connection() {
    return kept_ ? &*kept_ : shared_ ? &shared_->connection() : nullptr;
  }
  /** Whether the eager connection is a shared HTTP/2 one already in the pool. */
  bool shares() const noexcept { return shared_ != nullptr; }
  const std::optional<capture::flow_error>& error() const { return eager_.error; }
  const std::vector<std::string>& alpn_offer() const { return alpn_offer_; }

 private:
  asio::awaitable<acquired_upstream> connect(net::watchdog::deadline& d);
  asio::awaitable<bool> handshake(net::upstream_connection& conn, net::watchdog::deadline& d,
                                  acquired_upstream& out);
  std::string join_offer() const;

  client_connection& c_;
  std::string server_name_;
  std::vector<std::string> alpn_offer_;
  std::optional<net::upstream_connection> kept_;
  std::shared_ptr<net::shared_upstream> shared_;
  acquired_upstream eager_;  ///< phases (and error) of the eager connect, for the first exchange
};

}  // namespace hark::layers
