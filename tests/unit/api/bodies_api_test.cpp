// GET …/request/body and …/response/body: captured Content-Type, decoding, raw, failures.

#include "api_fixture.hpp"
#include "compress.hpp"

namespace hark::api::test {
namespace {

using namespace std::chrono_literals;

class api_bodies : public api_fixture {
 protected:
  api_bodies() { sid_ = create_session("bodies")["id"].get<std::string>(); }

  /** Inserts an entry whose response body is `body` with the given headers; returns its id. */
  std::string with_response_body(std::string body, capture::header_list headers,
                                 bool truncated = false) {
    auto record = make_entry(sid_, "example.com", std::chrono::milliseconds(next_++));
    record.response->headers = std::move(headers);
    record.response->body_size = body.size();
    record.response->body_truncated = truncated;
    record.response_body = std::move(body);
    auto id = record.id;
    insert(std::move(record));
    return id;
  }

  std::string body_path(const std::string& eid, const std::string& kind = "response") const {
    return "/api/sessions/" + sid_ + "/entries/" + eid + "/" + kind + "/body";
  }

  std::string sid_;
  int next_ = 0;
};

constexpr std::string_view page = "<!doctype html><title>hello</title><p>captured page</p>";

TEST_F(api_bodies, decodes_each_content_encoding) {
  const std::pair<std::string, std::string> cases[] = {
      {"gzip", gzip(page)},
      {"deflate", zlib_wrapped(page)},
      {"deflate", raw_deflate(page)},
      {"br", brotli(page)},
      {"zstd", zstd(page)},
      {"gzip, br", brotli(gzip(page))},
      {"identity", std::string(page)},
  };
  for (const auto& [coding, body] : cases) {
    const auto id = with_response_body(
        body, {{"Content-Type", "text/html; charset=utf-8"}, {"Content-Encoding", coding}});
    const auto res = get(body_path(id));
    ASSERT_EQ(res.result(), http::status::ok) << coding << ": " << res.body();
    EXPECT_EQ(res.body(), page) << coding;
    EXPECT_EQ(res[http::field::content_type], "text/html; charset=utf-8") << coding;
    EXPECT_EQ(res.count("X-Hark-Decode-Error"), 0u) << coding;
    EXPECT_EQ(res.count("X-Hark-Body-Truncated"), 0u) << coding;
    EXPECT_EQ(res[http::field::content_length], std::to_string(page.size()));
  }
}

TEST_F(api_bodies, raw_returns_the_bytes_as_transferred) {
  const auto compressed = gzip(page);
  const auto id =
      with_response_body(compressed, {{"content-type", "text/html"}, {"content-encoding", "gzip"}});
  for (const std::string raw : {"1", "true"}) {
    const auto res = get(body_path(id) + "?raw=" + raw);
    ASSERT_EQ(res.result(), http::status::ok);
    EXPECT_EQ(res.body(), compressed);
    EXPECT_EQ(res[http::field::content_type], "text/html");
    EXPECT_EQ(res["X-Hark-Content-Encoding"], "gzip");
    // Never a Content-Encoding header: clients would decode the "raw" bytes.
    EXPECT_EQ(res.count(http::field::content_encoding), 0u);
  }
  EXPECT_EQ(get(body_path(id) + "?raw=0").body(), page);
  const auto bad = get(body_path(id) + "?raw=maybe");
  EXPECT_EQ(bad.result(), http::status::bad_request);
  EXPECT_NE(error_of(bad).find("raw"), std::string::npos);
}

TEST_F(api_bodies, body_is_sandboxed_and_typed) {
  const auto id = with_response_body("\x01\x02\x03", {});
  const auto res = get(body_path(id));
  ASSERT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "\x01\x02\x03");
  EXPECT_EQ(res[http::field::content_type], "application/octet-stream");
  EXPECT_EQ(res["X-Content-Type-Options"], "nosniff");
  EXPECT_EQ(res["Content-Security-Policy"], "sandbox");
}

TEST_F(api_bodies, decode_failure_returns_raw_bytes_with_a_reason) {
  const std::string broken = "\x1f\x8b not really gzip";
  const auto id = with_response_body(broken, {{"Content-Encoding", "gzip"}});
  auto res = get(body_path(id));
  ASSERT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), broken);
  EXPECT_EQ(std::string(res["X-Hark-Decode-Error"]).rfind("gzip: ", 0), 0u)
      << res["X-Hark-Decode-Error"];

  const auto unknown = with_response_body("abc", {{"Content-Encoding", "compress"}});
  res = get(body_path(unknown));
  EXPECT_EQ(res.body(), "abc");
  EXPECT_EQ(res["X-Hark-Decode-Error"], "unsupported content-encoding: compress");
}

TEST_F(api_bodies, truncated_body_is_flagged_and_partially_decoded) {
  std::string text;
  while (text.size() < 200'000) {
    text += "some repeated text " + std::to_string(text.size()) + "\n";
  }
  const auto compressed = gzip(text);
  const auto id = with_response_body(compressed.substr(0, compressed.size() / 2),
                                     {{"Content-Encoding", "gzip"}}, true);
  const auto res = get(body_path(id));
  ASSERT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res["X-Hark-Body-Truncated"], "true");
  EXPECT_EQ(res.count("X-Hark-Decode-Error"), 0u);
  EXPECT_FALSE(res.body().empty());
  EXPECT_EQ(text.compare(0, res.body().size(), res.body()), 0);
}

TEST_F(api_bodies, request_body_uses_request_headers) {
  auto record = make_entry(sid_, "example.com", 0ms);
  record.request.method = "POST";
  record.request.headers = {{"Content-Type", "application/json"}, {"Content-Encoding", "zstd"}};
  record.request_body = zstd(R"({"a":1})");
  record.request.body_size = record.request_body.size();
  const auto id = record.id;
  insert(std::move(record));
  const auto res = get(body_path(id, "request"));
  ASSERT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), R"({"a":1})");
  EXPECT_EQ(res[http::field::content_type], "application/json");
  // No response body was captured for it.
  const auto none = get(body_path(id, "response"));
  EXPECT_EQ(none.result(), http::status::not_found);
  EXPECT_EQ(error_of(none), "Body not found");
}

TEST_F(api_bodies, missing_body_entry_and_session) {
  const auto id = with_response_body("", {});
  auto res = get(body_path(id));
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(body_json(res), json::parse(R"({"error":"Body not found"})"));
  EXPECT_EQ(get(body_path(id, "request")).result(), http::status::not_found);

  res = get(body_path("01ARZ3NDEKTSV4RRFFQ69G5FAV"));
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(error_of(res), "Entry not found");
  res = get("/api/sessions/unknown/entries/" + id + "/response/body");
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(error_of(res), "Session not found");
}

TEST_F(api_bodies, latest_and_active_aliases) {
  with_response_body("older", {});
  with_response_body("newest", {});
  call(http::verb::post, "/api/sessions/" + sid_ + "/activate");
  const auto res = get("/api/sessions/active/entries/latest/response/body");
  ASSERT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res.body(), "newest");
}

}  // namespace
}  // namespace hark::api::test
