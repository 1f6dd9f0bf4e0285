// TLS interception of a CONNECT tunnel (SPEC §3), mitmproxy's eager strategy:
//
//   peek ClientHello (bytes stay in the socket) ─► passthrough? ─yes─► raw relay
//        │ no
//        ▼
//   connect upstream, TLS with the client's SNI and ALPN (h2 / http/1.1 only), verify
//        │ (a verification failure is remembered: every request then gets 502)
//        ▼
//   leaf for SNI + the upstream certificate's names ─► client handshake selecting exactly the
//   upstream's ALPN ─► HTTP/1.1 exchanges over both TLS streams (scheme https)

#include "client_session.hpp"

#include "hark/core/ids.hpp"
#include "hark/tls/client_hello.hpp"
#include "hark/tls/context_cache.hpp"
#include "hark/tls/fingerprint.hpp"
#include "hark/tls/leaf.hpp"
#include "hark/tls/names.hpp"
#include "hark/tls/upstream_context.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>

#include <vector>

namespace hark::layers {

namespace {

/** The DNS names and IP addresses of the certificate's subjectAltName (for the forged leaf,
 *  mitmproxy's `upstream_cert`). */
std::vector<std::string> subject_alt_names(X509* cert) {
  std::vector<std::string> out;
  if (cert == nullptr) {
    return out;
  }
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) {
    return out;
  }
  const int count = sk_GENERAL_NAME_num(names);
  for (int i = 0; i < count && out.size() < 100; ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS) {
      const auto* s = name->d.dNSName;
      out.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                       static_cast<std::size_t>(ASN1_STRING_length(s)));
    } else if (name->type == GEN_IPADD) {
      const auto* s = name->d.iPAddress;
      const auto* bytes = ASN1_STRING_get0_data(s);
      boost::system::error_code ec;
      if (ASN1_STRING_length(s) == 4) {
        asio::ip::address_v4::bytes_type b{};
        std::copy(bytes, bytes + 4, b.begin());
        out.push_back(asio::ip::address_v4(b).to_string());
      } else if (ASN1_STRING_length(s) == 16) {
        asio::ip::address_v6::bytes_type b{};
        std::copy(bytes, bytes + 16, b.begin());
        out.push_back(asio::ip::address_v6(b).to_string());
      }
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

capture::named_u16 named(std::uint16_t value, std::string name) {
  return capture::named_u16{value, std::move(name)};
}

/** Bounds of one connection's log: hellos, certificates and alerts fit with room to spare. */
constexpr std::size_t max_logged_messages = 64;
constexpr std::size_t max_logged_message_bytes = 64 * 1024;

/** The handshake messages the log keeps (RFC 8446 §4): hellos, encrypted extensions,
 *  certificates and certificate requests. Key exchange, Finished and tickets say nothing a
 *  user inspects, and would only grow the log. */
bool is_logged_handshake(std::uint8_t type) {
  return type == 1 || type == 2 || type == 8 || type == 11 || type == 13;
}

/** OpenSSL's message callback (SSL_set_msg_callback): runs inside SSL_read, SSL_write and the
 *  handshake, on the connection's thread, with each whole message. */
void on_tls_message(int write_p, int version, int content_type, const void* buf, std::size_t len,
                    SSL* /*ssl*/, void* arg) {
  const auto* tap = static_cast<const tls_tap*>(arg);
  if (tap == nullptr || tap->log == nullptr || len == 0) {
    return;
  }
  const auto* bytes = static_cast<const char*>(buf);
  const bool alert = content_type == SSL3_RT_ALERT;
  const bool handshake =
      content_type == SSL3_RT_HANDSHAKE && is_logged_handshake(static_cast<std::uint8_t>(bytes[0]));
  auto& messages = tap->log->messages;
  if ((!alert && !handshake) || messages.size() >= max_logged_messages) {
    return;
  }
  capture::tls_message m;
  m.at = std::chrono::system_clock::now();
  m.leg = tap->leg;
  // Hark is the server on the client leg and the client on the upstream leg.
  const bool hark_is_server = tap->leg == capture::tls_leg::client;
  m.side = (write_p != 0) == hark_is_server ? capture::tls_side::server : capture::tls_side::client;
  m.content_type = static_cast<std::uint8_t>(content_type);
  m.version = static_cast<std::uint16_t>(version);
  m.bytes.assign(bytes, std::min(len, max_logged_message_bytes));
  messages.push_back(std::move(m));
}

void attach_tap(SSL* ssl, tls_tap* tap) {
  if (tap->log != nullptr) {
    SSL_set_msg_callback(ssl, on_tls_message);
    SSL_set_msg_callback_arg(ssl, tap);
  }
}

}  // namespace

void client_session::start_tls_log(const tls::client_hello& hello) {
  tls_log_ = std::make_unique<capture::tls_connection_log>();
  tls_log_->connection_id = ids::new_ulid();
  tls_log_->at = std::chrono::system_clock::now();
  tls_log_->client_addr = capture::to_net_address(info_.client);
  tls_log_->sni = hello.sni;
  tls_info_.connection_id = tls_log_->connection_id;
  client_tap_.log = tls_log_.get();
  upstream_tap_.log = tls_log_.get();
}

void client_session::submit_tls_log() {
  if (tls_log_ == nullptr || tls_log_->messages.size() == tls_log_submitted_) {
    return;
  }
  tls_log_->details = tls_info_;
  tls_log_submitted_ = tls_log_->messages.size();
  services_.sink.on_tls_connection(*tls_log_);
}

void client_session::record_tls_failure(proxy_metrics::tls_failure kind, std::string reason,
                                        std::optional<capture::named_u8> alert) {
  services_.metrics.tls_handshake_failures[kind].fetch_add(1, std::memory_order_relaxed);
  spdlog::info("connection {}: TLS with the client for {} failed: {}", info_.id,
               tls_server_name_.empty() ? tunnel_->first : tls_server_name_, reason);
  if (services_.tls == nullptr) {
    return;
  }
  if (tls_log_ != nullptr) {
    tls_log_->failure = reason;
  }
  capture::tls_failure f;
  f.connection_id = tls_info_.connection_id.value_or(info_.id);
  f.at = std::chrono::system_clock::now();
  f.client_addr = capture::to_net_address(info_.client);
  f.sni = tls_server_name_.empty() ? tunnel_->first : tls_server_name_;
  f.reason = std::move(reason);
  f.alert = std::move(alert);
  services_.tls->record_failure(std::move(f));
}

asio::awaitable<std::optional<tls::client_hello>> client_session::peek_client_hello() {
  std::vector<char> peeked(tls::max_client_hello_length + 4 * 1024);
  std::size_t last = 0;
  dog_.reset_fired();
  dog_.arm(services_.cfg.header_timeout, client_);
  asio::steady_timer pause(client_.get_executor());
  for (;;) {
    auto [wec] = co_await client_.async_wait(tcp::socket::wait_read, use_nothrow);
    boost::system::error_code ec;
    const auto n = wec ? 0 : client_.receive(asio::buffer(peeked), tcp::socket::message_peek, ec);
    if (wec || ec || n == 0) {
      dog_.disarm();
      record_tls_failure(proxy_metrics::closed_early,
                         dog_.fired() ? "no complete ClientHello within the header timeout"
                                      : "client closed before its ClientHello was complete");
      co_return std::nullopt;
    }
    auto result = tls::parse_client_hello(std::string_view(peeked.data(), n));
    if (result.status == tls::parse_status::complete) {
      dog_.disarm();
      co_return std::move(result.hello);
    }
    if (result.status != tls::parse_status::need_more || n == peeked.size()) {
      dog_.disarm();
      record_tls_failure(proxy_metrics::invalid_hello,
                         "invalid ClientHello: " +
                             (result.error.empty() ? std::string("too large") : result.error));
      co_return std::nullopt;
    }
    if (n == last) {
      // The rest of the hello has not arrived: peeking again at once would spin.
      pause.expires_after(std::chrono::milliseconds(2));
      co_await pause.async_wait(use_nothrow);
    }
    last = n;
  }
}

asio::awaitable<std::optional<net::upstream_connection>> client_session::connect_tls_upstream() {
  const auto& cfg = services_.cfg;
  auto outcome =
      co_await net::connect_upstream(tunnel_->first, tunnel_->second, cfg.connect_timeout, dog_);
  if (!outcome.connection) {
    tls_upstream_error_ =
        capture::flow_error{std::string(to_string(outcome.error)), outcome.message};
    co_return std::nullopt;
  }
  tls_upstream_dns_ms_ = outcome.dns_ms;
  tls_upstream_connect_ms_ = outcome.connect_ms;
  auto conn = std::move(*outcome.connection);
  SSL* ssl = SSL_new(services_.upstream_tls.get());
  if (ssl == nullptr) {
    throw std::runtime_error("SSL_new failed for an upstream connection");
  }
  attach_tap(ssl, &upstream_tap_);
  try {
    tls::prepare_upstream_ssl(ssl, tls_server_name_, tls_alpn_offer_, !cfg.ssl_insecure);
  } catch (...) {
    SSL_free(ssl);
    throw;
  }
  conn.tls = std::make_unique<net::tls_owning_socket>(std::move(conn.socket), ssl);
  conn.key = tls_pool_key();
  const auto started = std::chrono::steady_clock::now();
  dog_.reset_fired();
  dog_.arm(cfg.connect_timeout, conn.tls->next_layer());
  auto [ec] = co_await conn.tls->async_handshake(asio::ssl::stream_base::client, use_nothrow);
  dog_.disarm();
  tls_upstream_ssl_ms_ =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();
  if (ec) {
    const auto where = net::upstream_key(tunnel_->first, tunnel_->second);
    if (SSL_get_verify_result(conn.tls->native_handle()) != X509_V_OK) {
      tls_upstream_error_ = capture::flow_error{
          std::string(to_string(errc::upstream_cert_invalid)),
          "hark: certificate of " + tls_server_name_ +
              " is not trusted: " + tls::verify_failure_reason(conn.tls->native_handle())};
    } else if (dog_.fired()) {
      tls_upstream_error_ =
          capture::flow_error{std::string(to_string(errc::upstream_timeout)),
                              "hark: " + where + " did not answer within " +
                                  std::to_string(cfg.connect_timeout.count()) + " s"};
    } else {
      tls_upstream_error_ =
          capture::flow_error{std::string(to_string(errc::connect_failed)),
                              "hark: TLS handshake with " + where + " failed: " + ec.message()};
    }
    co_return std::nullopt;
  }
  tls_upstream_error_.reset();
  co_return std::move(conn);
}

asio::awaitable<void> client_session::intercept_tls() {
  if (services_.certificates == nullptr || !services_.upstream_tls) {
    co_await relay_tunnel();
    co_return;
  }
  auto hello = co_await peek_client_hello();
  if (!hello) {
    co_return;
  }
  if (services_.tls != nullptr && (services_.tls->is_passthrough(tunnel_->first) ||
                                   (hello->sni && services_.tls->is_passthrough(*hello->sni)))) {
    co_await relay_tunnel();
    co_return;
  }
  tls_server_name_ = hello->sni.value_or(tunnel_->first);
  start_tls_log(*hello);
  // Until HTTP/2 is relayed, only http/1.1 is offered upstream (h2 clients fall back to it).
  tls_alpn_offer_.clear();
  for (const auto& protocol : hello->alpn) {
    if (protocol == "http/1.1") {
      tls_alpn_offer_.push_back(protocol);
    }
  }
  // A pooled connection made for the same origin, SNI and ALPN offer saves the upstream
  // handshake (the dominant cost of a client that opens a connection per request); otherwise
  // connect now, eagerly, to learn the origin's certificate and ALPN choice.
  auto upstream = worker_.pool.take(tls_pool_key());
  if (upstream) {
    attach_tap(upstream->tls->native_handle(), &upstream_tap_);
  } else {
    upstream = co_await connect_tls_upstream();
  }
  std::vector<std::string> names{tls_server_name_};
  std::optional<std::string> alpn;
  if (upstream) {
    SSL* ssl = upstream->tls->native_handle();
    for (auto& name : subject_alt_names(SSL_get0_peer_certificate(ssl))) {
      if (tls::is_certificate_name(name)) {  // a malformed SAN must not stop interception
        names.push_back(std::move(name));
      }
    }
    const unsigned char* selected = nullptr;
    unsigned int length = 0;
    SSL_get0_alpn_selected(ssl, &selected, &length);
    if (length > 0) {
      alpn.emplace(reinterpret_cast<const char*>(selected), length);
    }
  } else if (!tls_alpn_offer_.empty()) {
    alpn = tls_alpn_offer_.front();  // no upstream: Hark answers the client itself (502)
  }
  co_await handshake_with_client(*hello, names, alpn);
  submit_tls_log();
  if (!client_tls_) {
    co_return;
  }
  tls_upstream_ = std::move(upstream);
  co_await serve_requests(false);
  submit_tls_log();  // the alerts of the connection's end (close_notify), later upstreams
  pool_tls_upstream();
}

std::string client_session::tls_pool_key() const {
  return net::tls_upstream_key(tunnel_->first, tunnel_->second, tls_server_name_, tls_alpn_offer_);
}

void client_session::pool_tls_upstream() {
  // Set only when the last exchange left it idle and reusable (http1_exchange.cpp).
  if (!tls_upstream_ || !tls_upstream_->tls) {
    return;
  }
  SSL* ssl = tls_upstream_->tls->native_handle();
  SSL_set_msg_callback(ssl, nullptr);  // the tap points into this session
  SSL_set_msg_callback_arg(ssl, nullptr);
  worker_.pool.give_back(std::move(*tls_upstream_));
  tls_upstream_.reset();
}

asio::awaitable<void> client_session::handshake_with_client(const tls::client_hello& hello,
                                                            const std::vector<std::string>& names,
                                                            std::optional<std::string> alpn) {
  std::shared_ptr<SSL_CTX> ctx;
  try {
    ctx = services_.certificates->get(names);
  } catch (const std::exception& e) {
    spdlog::warn("connection {}: no certificate for {}: {}", info_.id, tls_server_name_, e.what());
    co_return;
  }
  SSL* ssl = SSL_new(ctx.get());
  if (ssl == nullptr) {
    co_return;
  }
  attach_tap(ssl, &client_tap_);
  if (tls_log_ != nullptr) {
    tls_log_->alpn = alpn;
  }
  tls::set_alpn_choice(ssl, std::move(alpn));
  auto stream = std::make_unique<net::tls_over_socket>(client_, ssl);
  dog_.reset_fired();
  dog_.arm(services_.cfg.header_timeout, client_);
  auto [ec] = co_await stream->async_handshake(asio::ssl::stream_base::server, use_nothrow);
  dog_.disarm();
  if (ec) {
    // Typically the client does not trust Hark's CA (or pins its certificates): its alert
    // says so (unknown_ca, bad_certificate, …).
    std::optional<capture::named_u8> alert;
    if (ec.category() == boost::asio::error::get_ssl_category()) {
      const int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
      if (reason > SSL_AD_REASON_OFFSET && reason < SSL_AD_REASON_OFFSET + 256) {
        const auto code = static_cast<std::uint8_t>(reason - SSL_AD_REASON_OFFSET);
        alert = capture::named_u8{code, tls::alert_name(code)};
      }
    }
    const auto kind = alert ? proxy_metrics::client_alert : proxy_metrics::handshake_error;
    record_tls_failure(kind, dog_.fired() ? "handshake timed out" : ec.message(), std::move(alert));
    co_return;
  }
  SSL* s = stream->native_handle();
  const auto version = static_cast<std::uint16_t>(SSL_version(s));
  tls_info_.tls_version = named(version, tls::version_name(version));
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(s)) {
    const auto id = static_cast<std::uint16_t>(SSL_CIPHER_get_protocol_id(cipher));
    tls_info_.cipher_suite = named(id, tls::cipher_suite_name(id));
  }
  const auto j3 = tls::ja3(hello);
  tls_info_.ja3 = capture::ja3_fingerprint{j3.string, j3.hash};
  const auto j4 = tls::ja4(hello);
  tls_info_.ja4 = capture::ja4_fingerprint{j4.raw, j4.hashed};
  client_tls_ = std::move(stream);
}

}  // namespace hark::layers
