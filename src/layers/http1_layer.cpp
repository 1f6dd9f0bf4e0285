#include "http1_layer.hpp"

#include "http1_exchange.hpp"

#include "hark/layers/http1_codec.hpp"
#include "hark/layers/onboarding.hpp"

#include <spdlog/spdlog.h>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <charconv>

namespace hark::layers {

namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/** Splits `host:port` / `[v6]:port` (CONNECT's authority-form, RFC 9110 §9.3.6). */
std::optional<authority> parse_authority(std::string_view a) {
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
  return authority{lowercase(host), static_cast<std::uint16_t>(port)};
}

bool is_magic_host(std::string_view host) {
  return host == "hark.local";
}

/** `ws`/`wss` for a WebSocket upgrade request, else `http`/`https` (SPEC §6.2: the entry's
 *  URL uses the scheme the client used). */
std::string scheme_of(http1::request_parser& p, bool tls) {
  const bool websocket =
      p.upgrade() && http1::has_token(http1::field_value(p.head().fields, "upgrade"), "websocket");
  if (websocket) {
    return tls ? "wss" : "ws";
  }
  return tls ? "https" : "http";
}

}  // namespace

asio::awaitable<void> http1_layer::run(connection_facts& facts) {
  bool first = facts.last == step::accepted;
  for (;;) {
    http1::request_parser parser;
    const auto status = co_await read_request_head(parser, first);
    first = false;
    if (status != head_status::ok) {
      co_await answer_bad_head(status);
      break;
    }
    auto& head = parser.head();
    if (!c_.tunnel && http1::iequals(head.method, "CONNECT")) {
      if (co_await start_tunnel(head)) {
        facts.last = step::connect_requested;
        co_return;
      }
      break;
    }
    exchange_target target;
    if (!resolve_target(head, target)) {
      co_await c_.write(http1::make_synthetic(400, "Bad Request", errc::client_protocol,
                                              "hark: invalid request target\n", true)
                            .wire);
      break;
    }
    target.scheme = scheme_of(parser, c_.tls != nullptr);
    if (target.scheme.starts_with("ws") && target.url.starts_with("http")) {
      target.url.replace(0, 4, "ws");  // http://… → ws://…, https://… → wss://…
    }
    if (target.local) {
      if (!co_await serve_local(parser, target)) {
        break;
      }
      continue;
    }
    const auto next = co_await run_http1_exchange(c_, parser, target);
    if (next == http1_next::close) {
      break;
    }
    if (next != http1_next::keep_alive) {
      facts.last = step::upgraded;
      facts.upgrade =
          next == http1_next::upgraded_websocket ? upgrade_kind::websocket : upgrade_kind::other;
      co_return;
    }
  }
  facts.last = step::ended;
  co_return;
}

asio::awaitable<http1_layer::head_status> http1_layer::read_request_head(http1::request_parser& p,
                                                                         bool first) {
  const auto& cfg = c_.services.cfg;
  auto& dog = c_.dog;
  dog.reset_fired();
  dog.arm(first || !c_.buf.empty() ? cfg.header_timeout : cfg.idle_timeout, c_.socket);
  bool waiting_for_first_byte = c_.buf.empty();
  for (;;) {
    if (!c_.buf.empty()) {
      if (waiting_for_first_byte) {
        dog.arm(cfg.header_timeout, c_.socket);
        waiting_for_first_byte = false;
      }
      boost::system::error_code ec;
      const auto n = p.put(c_.buf.data(), ec);
      c_.buf.consume(n);
      if (p.head_done()) {
        dog.disarm();
        co_return head_status::ok;
      }
      if (ec == boost::beast::http::error::header_limit) {
        co_return head_status::too_large;
      }
      if (ec && ec != boost::beast::http::error::need_more) {
        spdlog::debug("connection {}: malformed request: {}", c_.info.id, ec.message());
        co_return head_status::malformed;
      }
    }
    if (!co_await c_.read_more()) {
      dog.disarm();
      if (dog.fired()) {
        co_return head_status::timeout;
      }
      co_return c_.buf.empty() ? head_status::closed : head_status::malformed;
    }
  }
}

asio::awaitable<void> http1_layer::answer_bad_head(head_status s) {
  switch (s) {
    case head_status::too_large:
      co_await c_.write(http1::make_synthetic(431, "Request Header Fields Too Large",
                                              errc::header_too_large,
                                              "hark: request header section exceeds 64 KiB\n", true)
                            .wire);
      break;
    case head_status::malformed:
      co_await c_.write(http1::make_synthetic(400, "Bad Request", errc::client_protocol,
                                              "hark: malformed request\n", true)
                            .wire);
      break;
    case head_status::ok:
    case head_status::closed:
    case head_status::timeout:
      break;
  }
}

asio::awaitable<bool> http1_layer::start_tunnel(const capture::http_head& head) {
  auto target = parse_authority(head.target);
  if (!target) {
    co_await c_.write(http1::make_synthetic(400, "Bad Request", errc::client_protocol,
                                            "hark: invalid CONNECT target\n", true)
                          .wire);
    co_return false;
  }
  c_.tunnel = std::move(target);
  co_return true;
}

bool http1_layer::resolve_target(const capture::http_head& head, exchange_target& t) const {
  const auto& target = head.target;
  if (!target.empty() && target.front() == '/') {
    if (!c_.tunnel) {
      t.local = true;  // origin-form straight to the proxy: Hark's own page
      t.origin_form = target;
      return true;
    }
    t.host = c_.tunnel->host;
    t.port = c_.tunnel->port;
    t.origin_form = target;
    t.url = origin_of(c_.tls ? "https" : "http", t.host, t.port) + target;
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

asio::awaitable<bool> http1_layer::serve_local(http1::request_parser& p, const exchange_target& t) {
  std::string_view path = t.origin_form;
  path = path.substr(0, path.find('?'));
  const auto& s = c_.services;
  http1::synthetic_response r;
  const bool close = !p.keep_alive() || !p.is_done();
  if (path == "/ca.pem" && !s.ca_pem.empty()) {
    r = http1::make_synthetic(200, "OK", errc::ok, s.ca_pem, close, "application/x-pem-file");
  } else if (path == "/ca.der" && !s.ca_der.empty()) {
    r = http1::make_synthetic(200, "OK", errc::ok, s.ca_der, close, "application/x-x509-ca-cert");
  } else if (path == "/" || path == "/index.html") {
    r = http1::make_synthetic(200, "OK", errc::ok, onboarding_page(s.proxy_address), close,
                              "text/html; charset=utf-8");
  } else {
    r = http1::make_synthetic(404, "Not Found", errc::ok, "hark: no such page\n", close);
  }
  const bool ok = co_await c_.write(r.wire);
  co_return ok && !close;
}

}  // namespace hark::layers
