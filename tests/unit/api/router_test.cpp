// api::handle as a whole: Host guard, token, routing (404/405), response framing, health, CA,
// and the 500 path.

#include "api_fixture.hpp"

#include "hark/core/version.hpp"

namespace hark::api::test {
namespace {

using api_router = api_fixture;

TEST_F(api_router, loopback_hosts_are_accepted) {
  for (const std::string host : {"localhost:8889", "localhost", "LOCALHOST:8889", "127.0.0.1",
                                 "127.0.0.1:8889", "127.1.2.3:80", "[::1]", "[::1]:8889", "::1"}) {
    const auto res = call(http::verb::get, "/api/sessions", {}, host);
    EXPECT_EQ(res.result(), http::status::ok) << host;
  }
}

TEST_F(api_router, other_hosts_are_forbidden) {
  for (const std::string host :
       {"evil.example", "evil.example:8889", "localhost.evil.example", "127.0.0.1.nip.io",
        "user@localhost", "192.168.1.10:8889", "[::2]:8889", "0.0.0.0:8889", "localhost:88:89"}) {
    const auto res = call(http::verb::get, "/api/sessions", {}, host);
    EXPECT_EQ(res.result(), http::status::forbidden) << host;
    EXPECT_EQ(body_json(res), json::parse(R"({"error":"Forbidden: invalid Host header"})"));
  }
  // No Host at all, and the guard applies to every path, health included.
  EXPECT_EQ(call(http::verb::get, "/api/sessions", {}, "").result(), http::status::forbidden);
  EXPECT_EQ(call(http::verb::get, "/api/health", {}, "evil.example").result(),
            http::status::forbidden);
  EXPECT_EQ(call(http::verb::get, "/", {}, "evil.example").result(), http::status::forbidden);
}

TEST_F(api_router, allowed_hosts_extend_the_guard) {
  ctx_->allowed_hosts = {"192.168.1.10:8889", "Hark.LAN"};
  EXPECT_EQ(call(http::verb::get, "/api/sessions", {}, "192.168.1.10:8889").result(),
            http::status::ok);
  EXPECT_EQ(call(http::verb::get, "/api/sessions", {}, "192.168.1.10:9999").result(),
            http::status::forbidden);
  EXPECT_EQ(call(http::verb::get, "/api/sessions", {}, "hark.lan:8889").result(), http::status::ok);
  EXPECT_EQ(call(http::verb::get, "/api/sessions", {}, "evil.example").result(),
            http::status::forbidden);
}

TEST_F(api_router, token_is_required_except_for_health_and_ca) {
  ctx_->api_token = "s3cret-token";
  const auto with_auth = [&](const std::string& target, const std::string& authorization) {
    request req{http::verb::get, target, 11};
    req.set(http::field::host, "localhost:8889");
    if (!authorization.empty()) {
      req.set(http::field::authorization, authorization);
    }
    return handle(*ctx_, req);
  };
  for (const std::string auth : {"", "Bearer wrong", "Bearer s3cret-token2", "Bearer s3cret-toke",
                                 "Basic s3cret-token", "s3cret-token", "Bearer"}) {
    const auto res = with_auth("/api/sessions", auth);
    EXPECT_EQ(res.result(), http::status::unauthorized) << auth;
    EXPECT_EQ(body_json(res), json::parse(R"({"error":"Unauthorized"})"));
    EXPECT_EQ(res[http::field::www_authenticate], "Bearer");
  }
  EXPECT_EQ(with_auth("/api/sessions", "Bearer s3cret-token").result(), http::status::ok);
  EXPECT_EQ(with_auth("/api/sessions", "bearer s3cret-token").result(), http::status::ok);
  // Unknown /api paths do not reveal themselves without the token.
  EXPECT_EQ(with_auth("/api/nope", "").result(), http::status::unauthorized);
  EXPECT_EQ(with_auth("/api/health", "").result(), http::status::ok);
  EXPECT_EQ(with_auth("/api/ca.pem", "").result(), http::status::not_found);  // no CA set
  EXPECT_EQ(with_auth("/api/ca.der", "").result(), http::status::not_found);
}

TEST_F(api_router, unknown_paths_are_404) {
  // `/` is the web UI's page (web_ui_test.cpp).
  for (const std::string path : {"/api", "/api/", "/api/nope", "/api/sessions/a/b/c/d/e/f/g",
                                 "/apix/sessions", "/other", "/api/sessions/x/entries/y/body"}) {
    const auto res = get(path);
    EXPECT_EQ(res.result(), http::status::not_found) << path;
    EXPECT_EQ(body_json(res), json::parse(R"({"error":"Not found"})")) << path;
  }
  const auto bad = get("/api/sessions?x=%zz");
  EXPECT_EQ(bad.result(), http::status::bad_request);
}

TEST_F(api_router, wrong_method_is_405_with_allow) {
  auto res = call(http::verb::post, "/api/health");
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  EXPECT_EQ(res[http::field::allow], "GET");
  EXPECT_EQ(body_json(res), json::parse(R"({"error":"Method not allowed"})"));
  res = call(http::verb::options, "/api/sessions");
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  EXPECT_EQ(res[http::field::allow], "GET, POST");
}

TEST_F(api_router, paths_are_percent_decoded_and_trailing_slash_ignored) {
  const auto id = create_session("pct")["id"].get<std::string>();
  std::string encoded = id;
  encoded.replace(encoded.find('-'), 1, "%2D");
  auto res = get("/api/sessions/" + encoded);
  ASSERT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(body_json(res)["id"], id);
  res = get("/api/sessions/");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(body_json(res)["sessions"].size(), 1u);
  // `%61ctive` is `active` once decoded.
  call(http::verb::post, "/api/sessions/" + id + "/activate");
  EXPECT_EQ(body_json(get("/api/sessions/%61ctive"))["id"], id);
}

TEST_F(api_router, responses_are_framed_json_without_cors) {
  for (const auto& res :
       {get("/api/sessions"), get("/api/nope"), call(http::verb::post, "/api/sessions", "{")}) {
    EXPECT_EQ(res[http::field::content_type], "application/json; charset=utf-8");
    EXPECT_EQ(res[http::field::content_length], std::to_string(res.body().size()));
    EXPECT_EQ(res.count(http::field::access_control_allow_origin), 0u);
    EXPECT_EQ(res.version(), 11);
    EXPECT_TRUE(res.keep_alive());
  }
  request req{http::verb::get, "/api/sessions", 11};
  req.set(http::field::host, "localhost");
  req.set(http::field::connection, "close");
  EXPECT_FALSE(handle(*ctx_, req).keep_alive());
  request old{http::verb::get, "/api/sessions", 10};
  old.set(http::field::host, "localhost");
  const auto res = handle(*ctx_, old);
  EXPECT_FALSE(res.keep_alive());
  EXPECT_EQ(res.version(), 10);
}

TEST_F(api_router, health_reports_version_recording_and_store) {
  // Uptime counts from started_at in milliseconds: a start 3 s ago reads 3000 and a bit, which a
  // unit mix-up (seconds, microseconds) or a fixed value would not.
  ctx_->started_at = std::chrono::steady_clock::now() - std::chrono::seconds(3);
  auto res = get("/api/health");
  ASSERT_EQ(res.result(), http::status::ok);
  auto health = body_json(res);
  EXPECT_EQ(health["status"], "ok");
  EXPECT_EQ(health["version"], hark::version);
  EXPECT_GE(health["uptimeMs"].get<std::int64_t>(), 3000);
  EXPECT_LT(health["uptimeMs"].get<std::int64_t>(), 3000 + 60'000);
  EXPECT_TRUE(health["recording"]["sessionId"].is_null());
  EXPECT_EQ(health["recording"]["isRecording"], false);
  EXPECT_EQ(health["store"], json::parse(R"({"ok":true,"lastError":null})"));

  const auto id = create_session("rec")["id"].get<std::string>();
  call(http::verb::post, "/api/sessions/" + id + "/activate");
  store::writer_stats stats;
  stats.ok = false;
  stats.last_error = "database or disk is full";
  ctx_->writer_stats = &stats;
  ctx_->started_at -= std::chrono::seconds(5);
  health = body_json(get("/api/health"));
  EXPECT_EQ(health["recording"]["sessionId"], id);
  EXPECT_EQ(health["recording"]["isRecording"], true);
  EXPECT_EQ(health["store"]["ok"], false);
  EXPECT_EQ(health["store"]["lastError"], "database or disk is full");
  EXPECT_GE(health["uptimeMs"].get<std::int64_t>(), 8000);
  EXPECT_LT(health["uptimeMs"].get<std::int64_t>(), 8000 + 60'000);
  ctx_->writer_stats = nullptr;
}

TEST_F(api_router, ca_certificate_downloads) {
  auto res = get("/api/ca.pem");
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(error_of(res), "CA not available");
  ctx_->ca_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  ctx_->ca_der = std::string("\x30\x82\x01\x00", 4);
  res = get("/api/ca.pem");
  ASSERT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), ctx_->ca_pem);
  EXPECT_EQ(res[http::field::content_type], "application/x-pem-file");
  res = get("/api/ca.der");
  ASSERT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), ctx_->ca_der);
  EXPECT_EQ(res[http::field::content_type], "application/x-x509-ca-cert");
}

TEST_F(api_router, store_failures_become_500_not_exceptions) {
  create_session("before");
  db_->exec("ALTER TABLE sessions RENAME TO sessions_moved");
  response res;
  EXPECT_NO_THROW(res = get("/api/sessions"));
  EXPECT_EQ(res.result(), http::status::internal_server_error);
  EXPECT_FALSE(error_of(res).empty());
  EXPECT_EQ(res[http::field::content_type], "application/json; charset=utf-8");
}

}  // namespace
}  // namespace hark::api::test
