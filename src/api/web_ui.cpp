// GET / and /ui/…: the web UI, served from the files embedded at build time (web/, see
// cmake/HarkWebAssets.cmake). The page holds no data of its own: it reads the API like any
// client, with the token the user gives it, so these routes need no token. The Host guard
// applies as for the API (router.cpp), which is what keeps a DNS-rebinding page from loading
// the UI under its own origin.

#include "reply.hpp"

#include "hark/api/web_assets.hpp"

#include <algorithm>
#include <array>
#include <utility>

namespace hark::api {
namespace {

// Scripts, styles and API calls only from the page's own origin; no inline script or style,
// no eval, no plugins, no framing. Images may be blob: URLs: a captured image is fetched with
// the token and shown from a blob, since an <img> cannot send an Authorization header.
constexpr std::string_view content_security_policy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'";

constexpr std::array<std::pair<std::string_view, std::string_view>, 7> content_types{{
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".txt", "text/plain; charset=utf-8"},
    {".json", "application/json; charset=utf-8"},
}};

const web_asset* find_asset(std::string_view path) {
  const auto assets = web_assets();
  const auto it = std::find_if(assets.begin(), assets.end(),
                               [&](const web_asset& a) { return a.path == path; });
  return it == assets.end() ? nullptr : &*it;
}

/** Whether If-None-Match `header` names `etag` or is `*`. Weak comparison (RFC 9110 §13.1.2):
 *  a `W/` prefix is ignored, as the RFC asks for If-None-Match. */
bool etag_matches(std::string_view header, std::string_view etag) {
  while (!header.empty()) {
    const auto comma = header.find(',');
    auto item = header.substr(0, comma);
    header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
      item.remove_prefix(1);
    }
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
      item.remove_suffix(1);
    }
    if (item.starts_with("W/")) {
      item.remove_prefix(2);
    }
    if (item == "*" || item == etag) {
      return true;
    }
  }
  return false;
}

/** The headers every UI response carries, 200 and 304 alike. */
void set_ui_headers(response& res, const web_asset& asset) {
  res.set("Content-Security-Policy", content_security_policy);
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Referrer-Policy", "no-referrer");
  res.set("Cross-Origin-Opener-Policy", "same-origin");
  res.set("Cross-Origin-Resource-Policy", "same-origin");
  // The file names carry no version, so every use revalidates: a 304 on loopback costs
  // nothing, and a new build of Hark is never mixed with cached files of an older one.
  res.set(http::field::cache_control, "no-cache");
  res.set(http::field::etag, asset.etag);
}

}  // namespace

std::string_view web_content_type(std::string_view path) {
  for (const auto& [extension, type] : content_types) {
    if (path.ends_with(extension)) {
      return type;
    }
  }
  return "application/octet-stream";
}

bool is_web_ui_path(std::string_view path) {
  return path == "/" || path == "/ui" || path.starts_with("/ui/");
}

response get_web_ui(const request& req, std::string_view path) {
  if (req.method() != http::verb::get) {
    auto res = error_reply(http::status::method_not_allowed, "Method not allowed");
    res.set(http::field::allow, "GET");
    return res;
  }
  const web_asset* asset = path == "/"                ? find_asset("index.html")
                           : path.starts_with("/ui/") ? find_asset(path.substr(4))
                                                      : nullptr;
  if (asset == nullptr) {
    return error_reply(http::status::not_found, "Not found");
  }
  const auto if_none_match = req[http::field::if_none_match];
  if (etag_matches(std::string_view(if_none_match.data(), if_none_match.size()), asset->etag)) {
    response res{http::status::not_modified, 11};
    set_ui_headers(res, *asset);
    return res;
  }
  response res{http::status::ok, 11};
  res.set(http::field::content_type, web_content_type(asset->path));
  set_ui_headers(res, *asset);
  res.body().assign(asset->bytes.data(), asset->bytes.size());
  return res;
}

}  // namespace hark::api
