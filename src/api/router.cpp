// api::handle: Host guard, token check, then a table of routes (method + path pattern) to the
// resource handlers. Every response leaves here finished: version, keep-alive, Content-Length.

#include "hark/api/router.hpp"

#include "access.hpp"
#include "reply.hpp"
#include "rpc.hpp"

#include <spdlog/spdlog.h>
#include <boost/url/parse.hpp>

#include <array>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hark::api {
namespace {

using handler_fn = response (*)(call&);

/** One route: `*` in the pattern matches any one segment (a path parameter). */
struct route {
  http::verb method;
  std::array<std::string_view, 6> pattern;
  std::size_t length;
  handler_fn handler;
};

template <class... Segments>
constexpr route make_route(http::verb method, handler_fn handler, Segments... segments) {
  return route{method, {segments...}, sizeof...(Segments), handler};
}

using http::verb;

// Order matters where a literal and a parameter overlap: `sessions/active` before
// `sessions/*`, as in the seed's reference (PATCH /api/sessions/active is then id `active`).
constexpr std::array routes{
    make_route(verb::get, get_health, "health"),
    make_route(verb::get, get_ca_pem, "ca.pem"),
    make_route(verb::get, get_ca_der, "ca.der"),
    make_route(verb::get, list_sessions, "sessions"),
    make_route(verb::post, create_session, "sessions"),
    make_route(verb::get, get_active_session, "sessions", "active"),
    make_route(verb::get, get_session, "sessions", "*"),
    make_route(verb::patch, update_session, "sessions", "*"),
    make_route(verb::delete_, delete_session, "sessions", "*"),
    make_route(verb::post, activate_session, "sessions", "*", "activate"),
    make_route(verb::get, list_entries, "sessions", "*", "entries"),
    make_route(verb::delete_, delete_entries, "sessions", "*", "entries"),
    make_route(verb::get, get_entry, "sessions", "*", "entries", "*"),
    make_route(verb::delete_, delete_entry, "sessions", "*", "entries", "*"),
    make_route(verb::get, get_request_body, "sessions", "*", "entries", "*", "request", "body"),
    make_route(verb::get, get_response_body, "sessions", "*", "entries", "*", "response", "body"),
    make_route(verb::get, get_websocket_messages, "sessions", "*", "entries", "*", "websocket"),
    make_route(verb::get, get_stats, "sessions", "*", "stats"),
    make_route(verb::post, post_rpc, "rpc"),
    make_route(verb::get, get_events, "events"),
    make_route(verb::get, export_session_har, "har", "export", "*"),
    make_route(verb::post, export_entries_har, "har", "export"),
    make_route(verb::post, import_har, "har", "import"),
    make_route(verb::get, get_tls_failures, "tls", "failures"),
    make_route(verb::get, get_tls_connection, "tls", "*"),
    make_route(verb::get, get_http2_connection, "http2", "*"),
    make_route(verb::get, get_http2_stream, "http2", "*", "streams", "*"),
    make_route(verb::get, list_passthrough, "passthrough"),
    make_route(verb::post, add_passthrough, "passthrough"),
    make_route(verb::delete_, delete_passthrough, "passthrough", "*"),
};

/** The one route outside /api (SPEC §6.6). */
constexpr std::string_view metrics_path = "/metrics";

bool matches(const route& r, const std::vector<std::string>& segments) {
  if (r.length != segments.size()) {
    return false;
  }
  for (std::size_t i = 0; i < r.length; ++i) {
    if (r.pattern[i] != "*" && r.pattern[i] != segments[i]) {
      return false;
    }
  }
  return true;
}

/** Runs the route for the call's method and path: 404 when no pattern matches the path, 405
 *  with `Allow` when some do but not for this method. */
response dispatch(call& c) {
  std::string allow;
  for (const auto& r : routes) {
    if (!matches(r, c.segments)) {
      continue;
    }
    if (r.method == c.req.method()) {
      return r.handler(c);
    }
    if (allow.find(http::to_string(r.method)) == std::string::npos) {
      allow += allow.empty() ? "" : ", ";
      allow += http::to_string(r.method);
    }
  }
  if (allow.empty()) {
    return error_reply(http::status::not_found, "Not found");
  }
  auto res = error_reply(http::status::method_not_allowed, "Method not allowed");
  res.set(http::field::allow, allow);
  return res;
}

/** The percent-decoded segments after `/api`; nullopt for paths outside /api. A trailing slash
 *  is ignored (`/api/sessions/` is `/api/sessions`). */
std::optional<std::vector<std::string>> api_segments(const boost::urls::url_view& target) {
  std::vector<std::string> segments;
  for (auto segment : target.segments()) {
    segments.push_back(std::move(segment));
  }
  if (!segments.empty() && segments.back().empty()) {
    segments.pop_back();
  }
  if (segments.empty() || segments.front() != "api") {
    return std::nullopt;
  }
  segments.erase(segments.begin());
  return segments;
}

/** Health and the CA certificate are reachable without the token (SPEC §6.6). */
bool needs_token(const std::vector<std::string>& segments) {
  return !(segments.size() == 1 &&
           (segments[0] == "health" || segments[0] == "ca.pem" || segments[0] == "ca.der"));
}

reply route_request(context& ctx, const request& req) {
  const auto host = req[http::field::host];
  if (!is_allowed_host(std::string_view(host.data(), host.size()), ctx.allowed_hosts)) {
    return error_reply(http::status::forbidden, "Forbidden: invalid Host header");
  }
  const auto target = req.target();
  const auto url =
      boost::urls::parse_origin_form(boost::urls::string_view(target.data(), target.size()));
  if (!url) {
    return error_reply(http::status::bad_request, "Invalid request target");
  }
  if (url->path() == metrics_path) {  // outside /api: no token, like health (SPEC §6.6)
    if (req.method() != http::verb::get) {
      auto res = error_reply(http::status::method_not_allowed, "Method not allowed");
      res.set(http::field::allow, "GET");
      return res;
    }
    return get_metrics(ctx);
  }
  auto segments = api_segments(*url);
  if (!segments) {
    return error_reply(http::status::not_found, "Not found");
  }
  if (!ctx.api_token.empty() && needs_token(*segments)) {
    const auto auth = req[http::field::authorization];
    if (!bearer_token_matches(std::string_view(auth.data(), auth.size()), ctx.api_token)) {
      auto res = error_reply(http::status::unauthorized, "Unauthorized");
      res.set(http::field::www_authenticate, "Bearer");
      return res;
    }
  }
  call c{ctx, req, std::move(*segments), url->params()};
  auto res = dispatch(c);
  return reply{std::move(res), std::move(c.stream)};
}

}  // namespace

reply serve(context& ctx, const request& req) {
  reply out;
  auto& res = out.head;
  try {
    out = route_request(ctx, req);
  } catch (const std::exception& e) {
    spdlog::error("api: {} {}: {}", std::string_view(req.method_string()),
                  std::string_view(req.target()), e.what());
    out = reply{error_reply(http::status::internal_server_error, e.what()), nullptr};
  } catch (...) {
    out = reply{error_reply(http::status::internal_server_error, "Internal error"), nullptr};
  }
  res.version(req.version());
  res.keep_alive(req.keep_alive());
  if (out.body) {
    res.chunked(true);  // the length is unknown until the stream ends
  } else if (res.result() == http::status::no_content) {
    res.erase(http::field::content_length);  // RFC 9110 §8.6: never on a 204
  } else {
    res.prepare_payload();
  }
  return out;
}

response handle(context& ctx, const request& req) {
  return serve(ctx, req).head;
}

std::vector<std::pair<std::string, std::string>> route_patterns() {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(routes.size() + 1);
  for (const auto& r : routes) {
    std::string path = "/api";
    for (std::size_t i = 0; i < r.length; ++i) {
      path += '/';
      path += r.pattern[i];
    }
    const auto method = http::to_string(r.method);
    out.emplace_back(std::string(method.data(), method.size()), std::move(path));
  }
  out.emplace_back("GET", std::string(metrics_path));
  return out;
}

}  // namespace hark::api
