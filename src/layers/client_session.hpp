#pragma once
// client_session: the state of one client connection (private to src/layers).
//
//            ┌──────────── keep-alive ────────────┐
//            ▼                                    │
//   wait_request_head ──absolute-form──► exchange ┘──close──► done
//        │   │                              ▲
//        │   └─CONNECT─► 200 ─► peek ─HTTP──┘ (origin-form, tunnel target)
//        │                        └─TLS / h2 / other──► raw relay ──► done
//        └─origin-form / hark.local──► local page (onboarding, CA)

#include "hark/layers/http1_codec.hpp"
#include "hark/layers/http1_parser.hpp"
#include "hark/layers/proxy_session.hpp"
#include "hark/net/byte_buffer.hpp"
#include "hark/net/duplex.hpp"
#include "hark/net/watchdog.hpp"
#include "hark/tls/client_hello.hpp"
#include "hark/ws/deflate.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <optional>
#include <string>

namespace hark::layers {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
inline constexpr auto use_nothrow = asio::as_tuple(asio::use_awaitable);

/** Where an exchange goes. */
struct exchange_target {
  std::string scheme = "http";
  std::string host;  ///< lowercase; IPv6 without brackets
  std::uint16_t port = 80;
  std::string origin_form;  ///< request target sent upstream (path and query)
  std::string url;          ///< as the client meant it
  bool local = false;       ///< for Hark itself (onboarding page, CA download)
};

enum class head_status { ok, closed, timeout, too_large, malformed };

/** What the client speaks inside a CONNECT tunnel (decided from its first bytes). */
enum class tunnel_kind { closed, http1, tls, other };

/** How a body pump ended. */
enum class pump_status {
  done,
  handed_off,  ///< stopped early at the caller's request (the rest is spliced)
  spliced,     ///< the rest of the body went through splice(2)
  source_closed,
  source_error,
  sink_error,
  protocol_error,
  timeout
};

struct response_outcome {
  bool keep_client = false;  ///< the client connection may carry another request
  bool reuse_upstream = false;
  bool retryable = false;         ///< failed before any response byte on a reused connection
  bool upgraded = false;          ///< 101: both sockets now form a raw tunnel
  int status = 0;                 ///< of the final response head, 0 when none arrived
  ws::deflate_params ws_deflate;  ///< upgraded: permessage-deflate as the 101 negotiated it
  std::optional<capture::flow_error> error;
};

/** Where OpenSSL's message callback of one TLS leg appends (tls_intercept.cpp). */
struct tls_tap {
  capture::tls_connection_log* log = nullptr;
  capture::tls_leg leg = capture::tls_leg::client;
};

class client_session {
 public:
  client_session(tcp::socket socket, worker_state& worker);
  asio::awaitable<void> run();

 private:
  // client_session.cpp: modes
  asio::awaitable<void> serve();
  asio::awaitable<void> serve_requests(bool first);
  asio::awaitable<head_status> read_request_head(http1::request_parser& p, bool first);
  asio::awaitable<void> handle_connect(http1::request_parser& p);
  asio::awaitable<tunnel_kind> peek_tunnel();
  asio::awaitable<void> relay_tunnel();
  // tls_intercept.cpp: TLS interception of a tunnel
  asio::awaitable<void> intercept_tls();
  asio::awaitable<std::optional<tls::client_hello>> peek_client_hello();
  asio::awaitable<std::optional<net::upstream_connection>> connect_tls_upstream();
  asio::awaitable<void> handshake_with_client(const tls::client_hello& hello,
                                              const std::vector<std::string>& names,
                                              std::optional<std::string> alpn);
  void record_tls_failure(proxy_metrics::tls_failure kind, std::string reason,
                          std::optional<capture::named_u8> alert = {});
  void start_tls_log(const tls::client_hello& hello);
  std::string tls_pool_key() const;
  void pool_tls_upstream();
  void submit_tls_log();
  asio::awaitable<bool> serve_local(http1::request_parser& p, const exchange_target& t);
  asio::awaitable<void> relay_raw(net::upstream_connection upstream);
  asio::awaitable<bool> write_client(std::string_view bytes);
  bool resolve_target(const capture::http_head& head, exchange_target& t) const;

  // http1_exchange.cpp: one request/response exchange
  asio::awaitable<bool> exchange(http1::request_parser& p, const exchange_target& t);
  asio::awaitable<response_outcome> relay_response(capture::flow& f, net::upstream_connection& up,
                                                   http1::request_parser& p);
  asio::awaitable<pump_status> pump_request_body(capture::flow& f, http1::request_parser& p,
                                                 net::duplex upstream);
  asio::awaitable<bool> fail_exchange(capture::flow& f, http1::request_parser& p, errc code,
                                      const std::string& message);

  /** The client's byte stream: TLS once intercepted, else the socket. */
  net::duplex client_io() { return client_tls_ ? net::duplex(*client_tls_) : net::duplex(client_); }

  tcp::socket client_;
  // Declared before the TLS streams so that it outlives their message callbacks.
  std::unique_ptr<capture::tls_connection_log> tls_log_;
  std::size_t tls_log_submitted_ = 0;  ///< messages in the log when it was last submitted
  tls_tap client_tap_;
  tls_tap upstream_tap_{nullptr, capture::tls_leg::upstream};
  std::unique_ptr<net::tls_over_socket> client_tls_;
  worker_state& worker_;
  proxy_services& services_;
  capture::connection_info info_;
  net::watchdog dog_;
  net::byte_buffer client_buf_;
  net::byte_buffer upstream_buf_;
  std::string head_out_;
  std::optional<std::pair<std::string, std::uint16_t>> tunnel_;  ///< CONNECT authority
  // Interception state (tls_intercept.cpp): the upstream of this client connection, or why
  // there is none; the TLS details every entry of the connection carries.
  std::optional<net::upstream_connection> tls_upstream_;
  std::optional<capture::flow_error> tls_upstream_error_;
  capture::tls_details tls_info_;
  std::string tls_server_name_;
  std::vector<std::string> tls_alpn_offer_;
  std::optional<double> tls_upstream_ssl_ms_;  ///< phases of the latest upstream connect,
  std::optional<double> tls_upstream_dns_ms_;  ///< reported by the first exchange that uses it
  std::optional<double> tls_upstream_connect_ms_;
};

/** Copies bytes `from` → `to` until EOF or error; shuts down `to`'s sending side at EOF. */
asio::awaitable<void> copy_stream(net::duplex from, net::byte_buffer& pending, net::duplex to);

}  // namespace hark::layers
