#pragma once
// The proxy side of one client connection: mode detection (absolute-form, CONNECT, origin-form),
// HTTP/1.x exchanges, and raw tunnels.

#include "hark/capture/flow.hpp"
#include "hark/capture/process_resolver.hpp"
#include "hark/capture/tls_registry.hpp"
#include "hark/core/config.hpp"
#include "hark/core/metrics.hpp"
#include "hark/net/upstream.hpp"
#include "hark/tls/context_cache.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <string>

namespace hark::layers {

/** What every proxy connection shares, read-only after start (counters are atomic). */
struct proxy_services {
  const config& cfg;
  capture::flow_sink& sink;
  capture::process_resolver* processes = nullptr;  ///< null: no process lookup
  std::string proxy_address;                       ///< `127.0.0.1:8888`, for the onboarding page
  std::string ca_pem;
  std::string ca_der;
  /** Server contexts for intercepted connections; null: TLS is relayed, not intercepted. */
  tls::context_cache* certificates = nullptr;
  /** Client context for TLS to origins (verification per --ssl-insecure / --upstream-ca). */
  std::shared_ptr<SSL_CTX> upstream_tls;
  /** Passthrough patterns and recorded TLS failures (shared with the API); may be null. */
  capture::tls_registry* tls = nullptr;
  proxy_metrics metrics;
};

/** Per worker thread: the services and this thread's upstream pool. */
struct worker_state {
  explicit worker_state(proxy_services& s) : services(s) {}
  proxy_services& services;
  net::upstream_pool pool;
};

/** Serves one accepted client connection until it closes. Runs on the socket's executor (one
 *  worker thread); `worker` must outlive it. Never throws. */
boost::asio::awaitable<void> serve_client(boost::asio::ip::tcp::socket socket,
                                          worker_state& worker);

}  // namespace hark::layers
