#include "client_session.hpp"

#include "hark/core/ids.hpp"
#include "hark/layers/onboarding.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/write.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <array>
#include <charconv>

namespace hark::layers {

using namespace boost::asio::experimental::awaitable_operators;

namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/** Splits `host:port` / `[v6]:port` (CONNECT's authority-form, RFC 9110 §9.3.6). */
std::optional<std::pair<std::string, std::uint16_t>> parse_authority(std::string_view a) {
  const auto colon = a.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return std::nullopt;
  }
  auto host = a.substr(0, colon);
  if (host.front() == '[') {
    if (host.size() < 3 || host.back() != ']') {
      return std::nullopt;
    }
    host = host.substr(1, host.size() - 2);
  }
  unsigned port = 0;
  const auto digits = a.substr(colon + 1);
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc{} || p != digits.data() + digits.size() || port == 0 || port > 65535) {
    return std::nullopt;
  }
  return std::pair{lowercase(host), static_cast<std::uint16_t>(port)};
}

bool is_magic_host(std::string_view host) {
  return host == "hark.local";
}

/** `http://host[:port]` with the port only when it is not the scheme's default. */
std::string origin_of(const std::string& scheme, const std::string& host, std::uint16_t port) {
  const bool v6 = host.find(':') != std::string::npos;
  std::string out = scheme + "://" + (v6 ? "[" + host + "]" : host);
  if (!((scheme == "http" && port == 80) || (scheme == "https" && port == 443))) {
    out += ":" + std::to_string(port);
  }
  return out;
}

}  // namespace

client_session::client_session(tcp::socket socket, worker_state& worker)
    : client_(std::move(socket)),
      worker_(worker),
      services_(worker.services),
      dog_(client_.get_executor()) {
  boost::system::error_code ec;
  info_.id = ids::new_ulid();
  info_.client = client_.remote_endpoint(ec);
  info_.local = client_.local_endpoint(ec);
  client_.set_option(tcp::no_delay(true), ec);
  if (services_.processes != nullptr) {
    info_.process = services_.processes->resolve(info_.client, info_.local);
  }
}

asio::awaitable<void> client_session::run() {
  ++services_.metrics.connections_open;
  ++services_.metrics.connections_total;
  try {
    co_await (serve() || dog_.run());
  } catch (const std::exception& e) {
    // Unexpected failures end this connection only (STYLE.md: caught once per connection).
    spdlog::error("connection {} from {}: {}", info_.id, info_.client.address().to_string(),
                  e.what());
  }
  --services_.metrics.connections_open;
}

asio::awaitable<void> client_session::serve() {
  co_await serve_requests(true);
  boost::system::error_code ignored;
  client_.shutdown(tcp::socket::shutdown_send, ignored);
  client_.close(ignored);
}

asio::awaitable<void> client_session::serve_requests(bool first) {
  for (;;) {
    http1::request_parser parser;
    const auto status = co_await read_request_head(parser, first);
    first = false;
    switch (status) {
      case head_status::ok:
        break;
      case head_status::closed:
      case head_status::timeout:
        co_return;
      case head_status::too_large:
        co_await write_client(
            http1::make_synthetic(431, "Request Header Fields Too Large", errc::header_too_large,
                                  "hark: request header section exceeds 64 KiB\n", true)
                .wire);
        co_return;
      case head_status::malformed:
        co_await write_client(http1::make_synthetic(400, "Bad Request", errc::client_protocol,
                                                    "hark: malformed request\n", true)
                                  .wire);
        co_return;
    }
    auto& head = parser.head();
    if (!tunnel_ && http1::iequals(head.method, "CONNECT")) {
      co_await handle_connect(parser);
      co_return;
    }
    exchange_target target;
    if (!resolve_target(head, target)) {
      co_await write_client(http1::make_synthetic(400, "Bad Request", errc::client_protocol,
                                                  "hark: invalid request target\n", true)
                                .wire);
      co_return;
    }
    const bool keep =
        target.local ? co_await serve_local(parser, target) : co_await exchange(parser, target);
    if (!keep) {
      co_return;
    }
  }
}

asio::awaitable<head_status> client_session::read_request_head(http1::request_parser& p,
                                                               bool first) {
  const auto& cfg = services_.cfg;
  dog_.reset_fired();
  dog_.arm(first || !client_buf_.empty() ? cfg.header_timeout : cfg.idle_timeout, client_);
  bool waiting_for_first_byte = client_buf_.empty();
  for (;;) {
    if (!client_buf_.empty()) {
      if (waiting_for_first_byte) {
        dog_.arm(cfg.header_timeout, client_);
        waiting_for_first_byte = false;
      }
      boost::system::error_code ec;
      const auto n = p.put(client_buf_.data(), ec);
      client_buf_.consume(n);
      if (p.head_done()) {
        dog_.disarm();
        co_return head_status::ok;
      }
      if (ec == boost::beast::http::error::header_limit) {
        co_return head_status::too_large;
      }
      if (ec && ec != boost::beast::http::error::need_more) {
        spdlog::debug("connection {}: malformed request: {}", info_.id, ec.message());
        co_return head_status::malformed;
      }
    }
    auto* space = client_buf_.prepare(16 * 1024);
    auto [ec, n] = co_await client_io().read_some(asio::buffer(space, client_buf_.free_space()));
    if (ec) {
      dog_.disarm();
      if (dog_.fired()) {
        co_return head_status::timeout;
      }
      co_return client_buf_.empty() ? head_status::closed : head_status::malformed;
    }
    client_buf_.commit(n);
  }
}

bool client_session::resolve_target(const capture::http_head& head, exchange_target& t) const {
  const auto& target = head.target;
  if (!target.empty() && target.front() == '/') {
    if (!tunnel_) {
      t.local = true;  // origin-form straight to the proxy: Hark's own page
      t.origin_form = target;
      return true;
    }
    t.scheme = client_tls_ ? "https" : "http";
    t.host = tunnel_->first;
    t.port = tunnel_->second;
    t.origin_form = target;
    t.url = origin_of(t.scheme, t.host, t.port) + target;
    t.local = is_magic_host(t.host);
    return true;
  }
  auto parsed = boost::urls::parse_absolute_uri(target);
  if (!parsed || parsed->scheme_id() != boost::urls::scheme::http || !parsed->has_authority() ||
      parsed->encoded_host().empty()) {
    return false;
  }
  const auto& u = *parsed;
  t.host = lowercase(u.host_address());
  t.port = u.has_port() ? u.port_number() : 80;
  if (u.has_port() && t.port == 0) {
    return false;
  }
  t.origin_form = u.encoded_target().empty() ? "/" : std::string(u.encoded_target());
  if (t.origin_form.front() != '/') {
    t.origin_form.insert(0, "/");
  }
  t.url = target;
  t.local = is_magic_host(t.host);
  return true;
}

asio::awaitable<void> client_session::handle_connect(http1::request_parser& p) {
  auto authority = parse_authority(p.head().target);
  if (!authority) {
    co_await write_client(http1::make_synthetic(400, "Bad Request", errc::client_protocol,
                                                "hark: invalid CONNECT target\n", true)
                              .wire);
    co_return;
  }
  if (!co_await write_client("HTTP/1.1 200 Connection established\r\n\r\n")) {
    co_return;
  }
  tunnel_ = std::move(*authority);
  const auto kind = co_await peek_tunnel();
  switch (kind) {
    case tunnel_kind::closed:
      co_return;
    case tunnel_kind::http1:
      co_await serve_requests(false);
      co_return;
    case tunnel_kind::tls:
      co_await intercept_tls();
      co_return;
    case tunnel_kind::other:
      break;
  }
  co_await relay_tunnel();
}

asio::awaitable<tunnel_kind> client_session::peek_tunnel() {
  // Look at the first bytes without consuming them when they are not HTTP/1.x, so that a TLS
  // ClientHello is still in the socket when OpenSSL reads it (SPEC §2).
  dog_.reset_fired();
  dog_.arm(services_.cfg.idle_timeout, client_);
  char first = 0;
  if (!client_buf_.empty()) {
    first = client_buf_.data().front();  // sent right behind the CONNECT head: already read
  } else {
    auto [wec] = co_await client_.async_wait(tcp::socket::wait_read, use_nothrow);
    boost::system::error_code ec;
    const auto n =
        wec ? 0 : client_.receive(asio::buffer(&first, 1), tcp::socket::message_peek, ec);
    if (wec || ec || n == 0) {
      dog_.disarm();
      co_return tunnel_kind::closed;
    }
  }
  if (first == 0x16) {
    dog_.disarm();
    // A ClientHello already in client_buf_ was consumed from the socket: relay it untouched.
    co_return client_buf_.empty() ? tunnel_kind::tls : tunnel_kind::other;
  }
  if (first < 'A' || first > 'Z') {
    dog_.disarm();
    co_return tunnel_kind::other;
  }
  // An upper-case letter: an HTTP/1.x method, or the HTTP/2 preface `PRI * HTTP/2.0`.
  while (client_buf_.size() < 4) {
    auto* space = client_buf_.prepare(16 * 1024);
    auto [ec, n] = co_await client_.async_read_some(asio::buffer(space, client_buf_.free_space()),
                                                    use_nothrow);
    if (ec) {
      dog_.disarm();
      co_return tunnel_kind::closed;
    }
    client_buf_.commit(n);
  }
  dog_.disarm();
  co_return client_buf_.data().substr(0, 4) == "PRI " ? tunnel_kind::other : tunnel_kind::http1;
}

asio::awaitable<void> client_session::relay_tunnel() {
  // h2c prior knowledge, unknown protocols and (until interception) TLS: relayed untouched.
  auto outcome = co_await net::connect_upstream(tunnel_->first, tunnel_->second,
                                                services_.cfg.connect_timeout, dog_);
  if (!outcome.connection) {
    spdlog::debug("connection {}: tunnel to {}:{} failed: {}", info_.id, tunnel_->first,
                  tunnel_->second, outcome.message);
    co_return;
  }
  ++services_.metrics.tunnels_relayed;
  // Bytes an earlier exchange's upstream sent past its response belong to that connection,
  // not to this tunnel.
  upstream_buf_.clear();
  co_await relay_raw(std::move(*outcome.connection));
}

asio::awaitable<bool> client_session::serve_local(http1::request_parser& p,
                                                  const exchange_target& t) {
  std::string_view path = t.origin_form;
  path = path.substr(0, path.find('?'));
  http1::synthetic_response r;
  const bool close = !p.keep_alive() || !p.is_done();
  if (path == "/ca.pem" && !services_.ca_pem.empty()) {
    r = http1::make_synthetic(200, "OK", errc::ok, services_.ca_pem, close,
                              "application/x-pem-file");
  } else if (path == "/ca.der" && !services_.ca_der.empty()) {
    r = http1::make_synthetic(200, "OK", errc::ok, services_.ca_der, close,
                              "application/x-x509-ca-cert");
  } else if (path == "/" || path == "/index.html") {
    r = http1::make_synthetic(200, "OK", errc::ok, onboarding_page(services_.proxy_address), close,
                              "text/html; charset=utf-8");
  } else {
    r = http1::make_synthetic(404, "Not Found", errc::ok, "hark: no such page\n", close);
  }
  const bool ok = co_await write_client(r.wire);
  co_return ok && !close;
}

asio::awaitable<bool> client_session::write_client(std::string_view bytes) {
  auto [ec, n] = co_await client_io().write(asio::buffer(bytes));
  co_return !ec;
}

asio::awaitable<void> copy_stream(net::duplex from, net::byte_buffer& pending, net::duplex to) {
  boost::system::error_code ec;
  if (!pending.empty()) {
    std::tie(ec, std::ignore) = co_await to.write(asio::buffer(pending.data()));
    pending.clear();
  }
  while (!ec) {
    auto* space = pending.prepare(16 * 1024);
    auto [rec, n] = co_await from.read_some(asio::buffer(space, pending.free_space()));
    if (rec) {
      if (rec == asio::error::eof || rec == asio::ssl::error::stream_truncated) {
        to.socket().shutdown(tcp::socket::shutdown_send, ec);
        co_return;
      }
      break;
    }
    std::tie(ec, std::ignore) = co_await to.write(asio::buffer(space, n));
  }
  // An error on either side ends both directions.
  boost::system::error_code ignored;
  from.socket().close(ignored);
  to.socket().close(ignored);
}

asio::awaitable<void> client_session::relay_raw(net::upstream_connection upstream) {
  const auto up = upstream.io();
  co_await (copy_stream(client_io(), client_buf_, up) &&
            copy_stream(up, upstream_buf_, client_io()));
}

asio::awaitable<void> serve_client(tcp::socket socket, worker_state& worker) {
  client_session session(std::move(socket), worker);
  co_await session.run();
}

}  // namespace hark::layers
