// The web UI's routes (src/api/web_ui.cpp) as functions: the embedded files with their
// Content-Type, the Content-Security-Policy, ETag revalidation, 404 for unknown files, the Host
// guard, and the token rule: the page loads without the token, the API behind it does not.

#include "api_fixture.hpp"

#include "hark/api/web_assets.hpp"

#include <algorithm>
#include <string>
#include <string_view>

namespace hark::api::test {
namespace {

class web_ui : public api_fixture {
 protected:
  response get_with(const std::string& target, http::field field, const std::string& value) {
    request req{http::verb::get, target, 11};
    req.set(http::field::host, "127.0.0.1:8889");
    req.set(field, value);
    return handle(*ctx_, req);
  }

  static std::string header(const response& res, http::field field) {
    const auto value = res[field];
    return std::string(value.data(), value.size());
  }
  static std::string header(const response& res, std::string_view name) {
    const auto value = res[boost::beast::string_view(name.data(), name.size())];
    return std::string(value.data(), value.size());
  }
};

std::string_view embedded(std::string_view path) {
  for (const auto& asset : web_assets()) {
    if (asset.path == path) {
      return asset.bytes;
    }
  }
  ADD_FAILURE() << path << " is not embedded";
  return {};
}

TEST_F(web_ui, root_is_the_page_with_a_strict_policy) {
  const auto res = get("/");
  ASSERT_EQ(res.result(), http::status::ok) << res.body();
  EXPECT_EQ(header(res, http::field::content_type), "text/html; charset=utf-8");
  EXPECT_EQ(res.body(), embedded("index.html"));
  EXPECT_NE(res.body().find("<script type=\"module\" src=\"/ui/js/main.js\">"), std::string::npos);
  const auto csp = header(res, "Content-Security-Policy");
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("script-src 'self';"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos) << csp;
  EXPECT_EQ(header(res, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(header(res, http::field::cache_control), "no-cache");
  EXPECT_EQ(header(res, http::field::content_length), std::to_string(res.body().size()));
}

TEST_F(web_ui, the_page_has_no_inline_script_or_style) {
  const auto page = embedded("index.html");
  // Every <script> has a src; no style attribute or <style> element (the CSP would block them).
  for (auto at = page.find("<script"); at != std::string_view::npos;
       at = page.find("<script", at + 1)) {
    const auto end = page.find('>', at);
    EXPECT_NE(page.substr(at, end - at).find("src="), std::string_view::npos);
  }
  EXPECT_EQ(page.find("<style"), std::string_view::npos);
  EXPECT_EQ(page.find("style="), std::string_view::npos);
}

TEST_F(web_ui, the_page_preloads_every_module) {
  const auto page = embedded("index.html");
  for (const auto& asset : web_assets()) {
    if (asset.path.ends_with(".js")) {
      const auto link = "<link rel=\"modulepreload\" href=\"/ui/" + std::string(asset.path) + "\">";
      EXPECT_NE(page.find(link), std::string_view::npos) << link;
    }
  }
}

TEST_F(web_ui, files_have_their_content_types) {
  struct expectation {
    const char* target;
    const char* type;
  };
  for (const auto& [target, type] : {
           expectation{"/ui/js/main.js", "text/javascript; charset=utf-8"},
           expectation{"/ui/vendor/preact.module.js", "text/javascript; charset=utf-8"},
           expectation{"/ui/app.css", "text/css; charset=utf-8"},
           expectation{"/ui/icon.svg", "image/svg+xml"},
           expectation{"/ui/vendor/preact.LICENSE.txt", "text/plain; charset=utf-8"},
       }) {
    const auto res = get(target);
    ASSERT_EQ(res.result(), http::status::ok) << target;
    EXPECT_EQ(header(res, http::field::content_type), type) << target;
    EXPECT_EQ(res.body(), embedded(std::string_view(target).substr(4))) << target;
    EXPECT_FALSE(header(res, "Content-Security-Policy").empty()) << target;
  }
  EXPECT_EQ(web_content_type("x.png"), "image/png");
  EXPECT_EQ(web_content_type("README"), "application/octet-stream");
}

TEST_F(web_ui, every_embedded_file_is_served) {
  ASSERT_GE(web_assets().size(), 10U);
  for (const auto& asset : web_assets()) {
    const auto res = get("/ui/" + std::string(asset.path));
    EXPECT_EQ(res.result(), http::status::ok) << asset.path;
    EXPECT_EQ(res.body(), asset.bytes) << asset.path;
    EXPECT_NE(web_content_type(asset.path), "application/octet-stream") << asset.path;
  }
}

TEST_F(web_ui, unknown_files_are_404_and_paths_do_not_escape) {
  for (const char* target :
       {"/ui/nope.js", "/ui/", "/ui", "/ui/js", "/ui/../index.html", "/ui/%2e%2e/CMakeLists.txt",
        "/ui/js/../../README.md", "/index.html", "/favicon.ico", "/ui/vendor/README.md"}) {
    const auto res = get(target);
    EXPECT_EQ(res.result(), http::status::not_found) << target;
    EXPECT_EQ(error_of(res), "Not found") << target;
  }
}

TEST_F(web_ui, only_get_is_allowed) {
  const auto res = call(http::verb::post, "/", "{}");
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  EXPECT_EQ(header(res, http::field::allow), "GET");
  EXPECT_EQ(call(http::verb::delete_, "/ui/app.css").result(), http::status::method_not_allowed);
}

TEST_F(web_ui, etag_revalidation_answers_304_without_a_body) {
  const auto first = get("/ui/app.css");
  const auto etag = header(first, http::field::etag);
  ASSERT_EQ(etag.size(), 22U) << etag;  // a quoted 20-digit prefix of the SHA-256
  EXPECT_EQ(etag.front(), '"');
  EXPECT_NE(etag, header(get("/ui/js/main.js"), http::field::etag));

  auto res = get_with("/ui/app.css", http::field::if_none_match, etag);
  EXPECT_EQ(res.result(), http::status::not_modified);
  EXPECT_TRUE(res.body().empty());
  EXPECT_EQ(header(res, http::field::etag), etag);
  EXPECT_FALSE(res.has_content_length());
  res = get_with("/ui/app.css", http::field::if_none_match, "\"other\", W/" + etag);
  EXPECT_EQ(res.result(), http::status::not_modified);
  res = get_with("/ui/app.css", http::field::if_none_match, "*");
  EXPECT_EQ(res.result(), http::status::not_modified);
  res = get_with("/ui/app.css", http::field::if_none_match, "\"stale\"");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_FALSE(res.body().empty());
}

TEST_F(web_ui, host_guard_applies_to_the_page) {
  EXPECT_EQ(call(http::verb::get, "/", {}, "evil.example:8889").result(), http::status::forbidden);
  EXPECT_EQ(call(http::verb::get, "/ui/js/main.js", {}, "evil.example").result(),
            http::status::forbidden);
  EXPECT_EQ(call(http::verb::get, "/", {}, "[::1]:8889").result(), http::status::ok);
}

TEST_F(web_ui, the_page_needs_no_token_but_the_api_does) {
  ctx_->api_token = "s3cret";
  EXPECT_EQ(get("/").result(), http::status::ok);
  EXPECT_EQ(get("/ui/js/api.js").result(), http::status::ok);
  EXPECT_EQ(get("/api/sessions").result(), http::status::unauthorized);
  EXPECT_EQ(get_with("/api/sessions", http::field::authorization, "Bearer s3cret").result(),
            http::status::ok);
  // A token in the query string is no token.
  EXPECT_EQ(get("/api/sessions?token=s3cret").result(), http::status::unauthorized);
  auto health = body_json(get("/api/health"));
  EXPECT_EQ(health["auth"]["tokenRequired"], true);
  ctx_->api_token.clear();
  health = body_json(get("/api/health"));
  EXPECT_EQ(health["auth"]["tokenRequired"], false);
}

TEST_F(web_ui, health_tells_the_proxy_address_for_the_setup_page) {
  auto health = body_json(get("/api/health"));
  EXPECT_TRUE(health["proxy"]["address"].is_null());
  EXPECT_EQ(health["proxy"]["caPem"], "/api/ca.pem");
  EXPECT_EQ(health["proxy"]["caDer"], "/api/ca.der");
  ctx_->proxy_address = "127.0.0.1:8080";
  health = body_json(get("/api/health"));
  EXPECT_EQ(health["proxy"]["address"], "127.0.0.1:8080");
}

TEST_F(web_ui, assets_are_sorted_and_unique) {
  const auto assets = web_assets();
  EXPECT_TRUE(std::is_sorted(assets.begin(), assets.end(),
                             [](const auto& a, const auto& b) { return a.path < b.path; }));
  EXPECT_EQ(std::adjacent_find(assets.begin(), assets.end(),
                               [](const auto& a, const auto& b) { return a.path == b.path; }),
            assets.end());
}

}  // namespace
}  // namespace hark::api::test
