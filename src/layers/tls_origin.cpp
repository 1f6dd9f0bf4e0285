#include "tls_origin.hpp"

#include "tls_tap.hpp"

#include "hark/tls/upstream_context.hpp"

#include <openssl/err.h>
#include <spdlog/spdlog.h>

namespace hark::layers {

namespace {

double ms_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

tls_origin::tls_origin(client_connection& c, std::string server_name,
                       std::vector<std::string> alpn_offer)
    : c_(c), server_name_(std::move(server_name)), alpn_offer_(std::move(alpn_offer)) {}

tls_origin::~tls_origin() = default;

std::string tls_origin::pool_key() const {
  return net::tls_upstream_key(c_.tunnel->host, c_.tunnel->port, server_name_, alpn_offer_);
}

asio::awaitable<void> tls_origin::connect_eagerly() {
  // A pooled connection made for the same origin, SNI and ALPN offer saves the upstream
  // handshake (the dominant cost of a client that opens a connection per request): a shared
  // HTTP/2 one with room first, else an idle HTTP/1.1 one.
  shared_ = c_.worker.pool.lend_shared(pool_key());
  if (shared_) {
    co_return;
  }
  kept_ = c_.worker.pool.take(pool_key());
  if (kept_) {
    attach_tap(kept_->tls->native_handle(), &c_.upstream_tap);
    co_return;
  }
  eager_ = co_await connect(c_.dog.main());
  kept_ = std::move(eager_.connection);
  eager_.connection.reset();
}

asio::awaitable<acquired_upstream> tls_origin::acquire(net::watchdog::deadline& d) {
  acquired_upstream out;
  if (kept_ && kept_->tls && kept_->tls->next_layer().is_open()) {
    out.connection = std::move(kept_);
    kept_.reset();
  } else if (!eager_.error) {
    out = co_await connect(d);
  }
  // The phases of the eager connect (or its error) belong to the first exchange.
  out.dns_ms = out.dns_ms ? out.dns_ms : std::exchange(eager_.dns_ms, std::nullopt);
  out.connect_ms = out.connect_ms ? out.connect_ms : std::exchange(eager_.connect_ms, std::nullopt);
  out.ssl_ms = out.ssl_ms ? out.ssl_ms : std::exchange(eager_.ssl_ms, std::nullopt);
  if (!out.connection) {
    if (!out.error) {
      out.error = eager_.error;
    }
    // A certificate that did not verify is remembered; anything else is transient: the next
    // request tries again.
    const bool untrusted = out.error && out.error->code == to_string(errc::upstream_cert_invalid);
    eager_.error = untrusted ? out.error : std::nullopt;
  }
  co_return out;
}

asio::awaitable<acquired_upstream> tls_origin::connect(net::watchdog::deadline& d) {
  const auto& cfg = c_.services.cfg;
  acquired_upstream out;
  auto connected =
      co_await net::connect_upstream(c_.tunnel->host, c_.tunnel->port, cfg.connect_timeout, d);
  out.dns_ms = connected.dns_ms;
  out.connect_ms = connected.connect_ms;
  if (!connected.connection) {
    out.error = make_error(connected.error, std::move(connected.message));
    co_return out;
  }
  auto conn = std::move(*connected.connection);
  SSL* ssl = SSL_new(c_.services.upstream_tls.get());
  if (ssl == nullptr) {
    throw std::runtime_error("SSL_new failed for an upstream connection");
  }
  conn.tls = std::make_unique<net::tls_owning_socket>(std::move(conn.socket), ssl);
  attach_tap(ssl, &c_.upstream_tap);
  try {
    tls::prepare_upstream_ssl(ssl, server_name_, alpn_offer_, !cfg.ssl_insecure);
  } catch (const std::exception& e) {
    out.error =
        make_error(errc::connect_failed, "hark: cannot start TLS with " +
                                             net::upstream_key(c_.tunnel->host, c_.tunnel->port) +
                                             ": " + e.what());
    co_return out;
  }
  conn.key = pool_key();
  if (co_await handshake(conn, d, out)) {
    out.connection = std::move(conn);
  }
  co_return out;
}

asio::awaitable<bool> tls_origin::handshake(net::upstream_connection& conn,
                                            net::watchdog::deadline& d, acquired_upstream& out) {
  const auto& cfg = c_.services.cfg;
  const auto started = std::chrono::steady_clock::now();
  d.reset_fired();
  d.arm(cfg.connect_timeout, conn.tls->next_layer());
  auto [ec] = co_await conn.tls->async_handshake(asio::ssl::stream_base::client, use_nothrow);
  d.disarm();
  out.ssl_ms = ms_since(started);
  if (!ec) {
    co_return true;
  }
  const auto where = net::upstream_key(c_.tunnel->host, c_.tunnel->port);
  if (SSL_get_verify_result(conn.tls->native_handle()) != X509_V_OK) {
    out.error = make_error(errc::upstream_cert_invalid,
                           "hark: certificate of " + server_name_ + " is not trusted: " +
                               tls::verify_failure_reason(conn.tls->native_handle()));
  } else if (ERR_GET_REASON(static_cast<unsigned long>(ec.value())) ==
             SSL_R_TLSV1_ALERT_NO_APPLICATION_PROTOCOL) {
    out.error = make_error(errc::alpn_mismatch, "hark: " + where +
                                                    " accepts none of the protocols the client "
                                                    "offered (" +
                                                    join_offer() + ")");
  } else if (d.fired()) {
    out.error =
        make_error(errc::upstream_timeout, "hark: " + where + " did not answer within " +
                                               std::to_string(cfg.connect_timeout.count()) + " s");
  } else {
    out.error = make_error(errc::connect_failed,
                           "hark: TLS handshake with " + where + " failed: " + ec.message());
  }
  co_return false;
}

std::string tls_origin::join_offer() const {
  std::string out;
  for (const auto& protocol : alpn_offer_) {
    out += out.empty() ? protocol : ", " + protocol;
  }
  return out.empty() ? "none" : out;
}

void tls_origin::keep(net::upstream_connection&& up) {
  kept_ = std::move(up);
}

void tls_origin::release_to_pool() {
  if (!kept_ || !kept_->tls) {
    return;
  }
  detach_tap(kept_->tls->native_handle());  // the tap points into this connection
  kept_->reused = true;
  c_.worker.pool.give_back(std::move(*kept_));
  kept_.reset();
}

}  // namespace hark::layers
