#pragma once
// Counters the proxy keeps for GET /metrics (Prometheus text exposition). Written by the proxy
// workers with relaxed atomics, read by the API thread.

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

namespace hark {

struct proxy_metrics {
  /** Request outcome classes: by the status class of the response, or failed (no response,
   *  or an error after it started). */
  enum outcome { status_1xx, status_2xx, status_3xx, status_4xx, status_5xx, failed, outcomes };
  /** Protocols as the client spoke them. */
  enum protocol { http1, https1, http2, https2, protocols };
  /** Why a TLS handshake with a client did not complete. */
  enum tls_failure { client_alert, invalid_hello, closed_early, handshake_error, tls_failures };

  std::atomic<std::uint64_t> connections_open{0};
  std::atomic<std::uint64_t> connections_total{0};
  std::atomic<std::uint64_t> connections_refused{0};  ///< over --max-connections, closed at once
  std::atomic<std::uint64_t> accept_pauses{0};    ///< accept loop paused: no descriptor or memory
  std::atomic<std::uint64_t> tunnels_relayed{0};  ///< CONNECT tunnels relayed without capture
  std::array<std::array<std::atomic<std::uint64_t>, outcomes>, protocols> requests{};
  std::atomic<std::uint64_t> request_body_bytes{0};   ///< client → upstream, after framing
  std::atomic<std::uint64_t> response_body_bytes{0};  ///< upstream → client, after framing
  std::array<std::atomic<std::uint64_t>, tls_failures> tls_handshake_failures{};

  void count_request(protocol p, int status, bool failed_exchange) noexcept {
    const auto o = failed_exchange || status < 100 || status > 599
                       ? failed
                       : static_cast<outcome>(status / 100 - 1);
    requests[p][o].fetch_add(1, std::memory_order_relaxed);
  }
};

}  // namespace hark
