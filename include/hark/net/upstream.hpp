#pragma once
// Upstream connections: connect with measured DNS/connect phases, and a per-worker pool of idle
// keep-alive connections keyed by (host, port), or for TLS by origin, SNI, ALPN offer and
// verification. Idle connections are swept on a timer, so descriptors never accumulate.

#include "hark/core/errc.hpp"
#include "hark/net/duplex.hpp"
#include "hark/net/watchdog.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace hark::net {

struct upstream_connection {
  boost::asio::ip::tcp::socket socket;  ///< moved into `tls` when the connection is TLS
  std::string key;  ///< pool key: `host:port`, or tls_upstream_key() for TLS connections
  boost::asio::ip::tcp::endpoint remote;
  bool reused = false;  ///< taken from the pool (may have been closed by the peer meanwhile)
  std::unique_ptr<tls_owning_socket> tls;

  /** The connection's byte stream (TLS when established). */
  duplex io() { return tls ? duplex(*tls) : duplex(socket); }
};

/** An upstream connection that carries many exchanges at once (HTTP/2), lent by the pool by
 *  stream rather than exclusively. Implemented by the HTTP/2 layer. */
class shared_upstream {
 public:
  virtual ~shared_upstream() = default;
  /** Whether another stream may start now (below the peer's MAX_CONCURRENT_STREAMS). */
  virtual bool has_capacity() const = 0;
  /** GOAWAY received or sent, or the connection closed: never lent again. */
  virtual bool retired() const = 0;
  /** Carrying no stream now. */
  virtual bool idle() const = 0;
  /** Ends the connection (GOAWAY, then close). */
  virtual void close() = 0;
  /** The connection itself (its TLS state: peer certificate, ALPN). */
  virtual upstream_connection& connection() = 0;
};

struct connect_outcome {
  std::optional<upstream_connection> connection;
  errc error = errc::ok;
  std::string message;  ///< the user-facing text for the synthetic response
  std::optional<double> dns_ms;
  std::optional<double> connect_ms;
};

/** The pool key of an upstream. */
std::string upstream_key(const std::string& host, std::uint16_t port);

/** The pool key of a TLS upstream: the address, the SNI sent and the ALPN list offered, since
 *  a connection made for one of these cannot serve a client that asked for another. */
std::string tls_upstream_key(const std::string& host, std::uint16_t port, const std::string& sni,
                             const std::vector<std::string>& alpn);

/** Resolves `host` (skipped for IP literals) and connects to the first address that answers,
 *  within `timeout` enforced by `deadline` (armed on the new socket). Never throws for network
 *  conditions: they come back as errc values with SPEC §2's messages. */
boost::asio::awaitable<connect_outcome> connect_upstream(std::string host, std::uint16_t port,
                                                         std::chrono::seconds timeout,
                                                         watchdog::deadline& deadline);

/** Idle upstream connections of one worker thread (not thread-safe by design: every connection
 *  of a worker runs on that worker's single thread).
 *
 *  The first connection given back starts a sweeper on that connection's executor (the
 *  worker's): every `idle_ttl / 2` it closes the connections idle for longer than `idle_ttl`
 *  or closed by their peer, and it stops while the pool is empty. */
class upstream_pool {
 public:
  explicit upstream_pool(std::size_t max_idle_per_key = 64,
                         std::chrono::seconds idle_ttl = std::chrono::seconds(30));
  ~upstream_pool();
  upstream_pool(const upstream_pool&) = delete;
  upstream_pool& operator=(const upstream_pool&) = delete;

  /** An idle connection for `key` that still looks open, or nullopt. */
  std::optional<upstream_connection> take(const std::string& key);

  /** Keeps `conn` for reuse (closed instead when the key already has enough idle ones). */
  void give_back(upstream_connection&& conn);

  /** A shared connection for `key` with room for another stream, or null. */
  std::shared_ptr<shared_upstream> lend_shared(const std::string& key);

  /** Adds a shared connection for `key`; it stays until it retires or idles past the TTL. */
  void add_shared(const std::string& key, std::shared_ptr<shared_upstream> conn,
                  const boost::asio::any_io_executor& ex);

  /** Closes every idle connection that expired or that its peer closed, and drops shared
   *  connections that retired or stayed idle past the TTL. Returns how many went. */
  std::size_t sweep();

  /** Idle exclusive connections plus shared connections held. */
  std::size_t idle_count() const;

  struct sweeper;  ///< the sweeping coroutine's state (upstream.cpp)

 private:
  struct idle {
    upstream_connection connection;
    std::chrono::steady_clock::time_point since;
  };
  void start_sweeper(const boost::asio::any_io_executor& ex);

  std::size_t max_idle_per_key_;
  std::chrono::seconds idle_ttl_;
  struct shared_entry {
    std::shared_ptr<shared_upstream> connection;
    std::chrono::steady_clock::time_point idle_since;
  };
  std::size_t sweep_shared(std::chrono::steady_clock::time_point now);

  std::unordered_map<std::string, std::vector<idle>> idle_;
  std::unordered_map<std::string, std::vector<shared_entry>> shared_;
  std::shared_ptr<sweeper> sweeper_;  ///< shared with the sweeping coroutine, which outlives us
};

}  // namespace hark::net
