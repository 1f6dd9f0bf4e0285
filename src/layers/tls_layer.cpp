#include "tls_layer.hpp"

#include "tls_origin.hpp"
#include "tls_tap.hpp"

#include "hark/core/ids.hpp"
#include "hark/tls/context_cache.hpp"
#include "hark/tls/fingerprint.hpp"
#include "hark/tls/leaf.hpp"
#include "hark/tls/names.hpp"

#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <spdlog/spdlog.h>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>

namespace hark::layers {

namespace {

/** The DNS names and IP addresses of the certificate's subjectAltName (for the forged leaf,
 *  mitmproxy's `upstream_cert`). */
std::vector<std::string> subject_alt_names(X509* cert) {
  std::vector<std::string> out;
  auto* names = cert == nullptr ? nullptr
                                : static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(
                                      cert, NID_subject_alt_name, nullptr, nullptr));
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

/** What Hark offers the origin: the client's own offer, restricted to the protocols Hark
 *  relays (h2, http/1.1), in the client's order (SPEC §3); the origin's choice is then what the
 *  client is given. */
std::vector<std::string> upstream_alpn_offer(const tls::client_hello& hello) {
  std::vector<std::string> offer;
  for (const auto& protocol : hello.alpn) {
    if (protocol == "http/1.1" || protocol == "h2") {
      offer.push_back(protocol);
    }
  }
  return offer;
}

/** The TLS alert a failed server handshake received, when the error carries one. */
std::optional<capture::named_u8> alert_of(const boost::system::error_code& ec) {
  if (ec.category() != boost::asio::error::get_ssl_category()) {
    return std::nullopt;
  }
  const int reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
  if (reason <= SSL_AD_REASON_OFFSET || reason >= SSL_AD_REASON_OFFSET + 256) {
    return std::nullopt;
  }
  const auto code = static_cast<std::uint8_t>(reason - SSL_AD_REASON_OFFSET);
  return capture::named_u8{code, tls::alert_name(code)};
}

}  // namespace

asio::awaitable<void> tls_layer::run(connection_facts& facts) {
  facts.last = step::ended;
  auto hello = co_await peek_client_hello();
  if (!hello) {
    co_return;
  }
  if (is_passthrough(*hello)) {
    facts.last = step::tls_passthrough;
    co_return;
  }
  // An SNI that names no host (empty, `.`, bytes no certificate can carry) is not sent on:
  // the tunnel's host stands in for it.
  server_name_ =
      hello->sni && tls::is_certificate_name(*hello->sni) ? *hello->sni : c_.tunnel->host;
  start_log(*hello);
  c_.origin = std::make_unique<tls_origin>(c_, server_name_, upstream_alpn_offer(*hello));
  co_await c_.origin->connect_eagerly();
  auto* upstream = c_.origin->connection();
  const bool ok =
      co_await handshake_with_client(*hello, certificate_names(upstream), alpn_choice(upstream));
  submit_tls_log(c_);
  if (!ok) {
    co_return;
  }
  facts.last = step::tls_intercepted;
  facts.alpn = c_.tls_log ? c_.tls_log->alpn.value_or("") : "";
  co_return;
}

bool tls_layer::is_passthrough(const tls::client_hello& hello) const {
  const auto* registry = c_.services.tls;
  return registry != nullptr && (registry->is_passthrough(c_.tunnel->host) ||
                                 (hello.sni && registry->is_passthrough(*hello.sni)));
}

std::vector<std::string> tls_layer::certificate_names(net::upstream_connection* upstream) const {
  std::vector<std::string> names{server_name_};
  if (upstream == nullptr) {
    return names;
  }
  for (auto& name : subject_alt_names(SSL_get0_peer_certificate(upstream->tls->native_handle()))) {
    if (tls::is_certificate_name(name)) {  // a malformed SAN must not stop interception
      names.push_back(std::move(name));
    }
  }
  return names;
}

std::optional<std::string> tls_layer::alpn_choice(net::upstream_connection* upstream) const {
  if (upstream == nullptr) {
    const auto& offer = c_.origin->alpn_offer();
    // No upstream: Hark answers the client itself (502) in the protocol it prefers.
    return offer.empty() ? std::nullopt : std::optional(offer.front());
  }
  const unsigned char* selected = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(upstream->tls->native_handle(), &selected, &length);
  if (length == 0) {
    return std::nullopt;
  }
  return std::string(reinterpret_cast<const char*>(selected), length);
}

void tls_layer::start_log(const tls::client_hello& hello) {
  c_.tls_log = std::make_unique<capture::tls_connection_log>();
  c_.tls_log->connection_id = ids::new_ulid();
  c_.tls_log->at = std::chrono::system_clock::now();
  c_.tls_log->client_addr = capture::to_net_address(c_.info.client);
  c_.tls_log->sni = hello.sni;
  c_.tls_details.connection_id = c_.tls_log->connection_id;
  c_.client_tap.log = c_.tls_log.get();
  c_.upstream_tap.log = c_.tls_log.get();
}

void tls_layer::record_failure(proxy_metrics::tls_failure kind, std::string reason,
                               std::optional<capture::named_u8> alert) {
  c_.services.metrics.tls_handshake_failures[kind].fetch_add(1, std::memory_order_relaxed);
  const auto& sni = server_name_.empty() ? c_.tunnel->host : server_name_;
  spdlog::info("connection {}: TLS with the client for {} failed: {}", c_.info.id, sni, reason);
  if (c_.services.tls == nullptr) {
    return;
  }
  if (c_.tls_log != nullptr) {
    c_.tls_log->failure = reason;
  }
  capture::tls_failure f;
  f.connection_id = c_.tls_details.connection_id.value_or(c_.info.id);
  f.at = std::chrono::system_clock::now();
  f.client_addr = capture::to_net_address(c_.info.client);
  f.sni = sni;
  f.reason = std::move(reason);
  f.alert = std::move(alert);
  c_.services.tls->record_failure(std::move(f));
}

asio::awaitable<std::optional<tls::client_hello>> tls_layer::peek_client_hello() {
  std::vector<char> peeked(tls::max_client_hello_length + 4 * 1024);
  std::size_t last = 0;
  auto& dog = c_.dog;
  dog.reset_fired();
  dog.arm(c_.services.cfg.header_timeout, c_.socket);
  asio::steady_timer pause(c_.socket.get_executor());
  for (;;) {
    auto [wec] = co_await c_.socket.async_wait(tcp::socket::wait_read, use_nothrow);
    boost::system::error_code ec;
    const auto n = wec ? 0 : c_.socket.receive(asio::buffer(peeked), tcp::socket::message_peek, ec);
    if (wec || ec || n == 0) {
      dog.disarm();
      record_failure(proxy_metrics::closed_early,
                     dog.fired() ? "no complete ClientHello within the header timeout"
                                 : "client closed before its ClientHello was complete");
      co_return std::nullopt;
    }
    auto result = tls::parse_client_hello(std::string_view(peeked.data(), n));
    if (result.status == tls::parse_status::complete) {
      dog.disarm();
      co_return std::move(result.hello);
    }
    if (result.status != tls::parse_status::need_more || n == peeked.size()) {
      dog.disarm();
      record_failure(proxy_metrics::invalid_hello,
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

asio::awaitable<bool> tls_layer::handshake_with_client(const tls::client_hello& hello,
                                                       const std::vector<std::string>& names,
                                                       std::optional<std::string> alpn) {
  std::shared_ptr<SSL_CTX> ctx;
  try {
    ctx = c_.services.certificates->get(names);
  } catch (const std::exception& e) {
    spdlog::warn("connection {}: no certificate for {}: {}", c_.info.id, server_name_, e.what());
    co_return false;
  }
  SSL* ssl = SSL_new(ctx.get());
  if (ssl == nullptr) {
    co_return false;
  }
  attach_tap(ssl, &c_.client_tap);
  c_.tls_log->alpn = alpn;
  tls::set_alpn_choice(ssl, std::move(alpn));
  auto stream = std::make_unique<net::tls_over_socket>(c_.socket, ssl);
  auto& dog = c_.dog;
  dog.reset_fired();
  dog.arm(c_.services.cfg.header_timeout, c_.socket);
  auto [ec] = co_await stream->async_handshake(asio::ssl::stream_base::server, use_nothrow);
  dog.disarm();
  if (ec) {
    // Typically the client does not trust Hark's CA (or pins its certificates): its alert
    // says so (unknown_ca, bad_certificate, …).
    auto alert = alert_of(ec);
    const auto kind = alert ? proxy_metrics::client_alert : proxy_metrics::handshake_error;
    record_failure(kind, dog.fired() ? "handshake timed out" : ec.message(), std::move(alert));
    co_return false;
  }
  c_.tls = std::move(stream);
  note_client_tls(hello);
  co_return true;
}

void tls_layer::note_client_tls(const tls::client_hello& hello) {
  SSL* s = c_.tls->native_handle();
  auto& d = c_.tls_details;
  const auto version = static_cast<std::uint16_t>(SSL_version(s));
  d.tls_version = named(version, tls::version_name(version));
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(s)) {
    const auto id = static_cast<std::uint16_t>(SSL_CIPHER_get_protocol_id(cipher));
    d.cipher_suite = named(id, tls::cipher_suite_name(id));
  }
  const auto j3 = tls::ja3(hello);
  d.ja3 = capture::ja3_fingerprint{j3.string, j3.hash};
  const auto j4 = tls::ja4(hello);
  d.ja4 = capture::ja4_fingerprint{j4.raw, j4.hashed};
}

}  // namespace hark::layers
