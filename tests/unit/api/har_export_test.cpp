// GET /api/har/export/:sid and POST /api/har/export: the HAR 1.2 rendering of captured
// entries, the streamed response and its pieces, and the errors.

#include "har_fixture.hpp"

#include "hark/core/version.hpp"

namespace hark::api::test {
namespace {

using namespace std::chrono_literals;

class har_export : public har_fixture {
 protected:
  har_export() { sid_ = create_session("capture")["id"].get<std::string>(); }

  /** The only entry of an export of the session after inserting `record`. */
  json export_one(capture::entry_record record) {
    insert(std::move(record));
    const auto doc = export_session(sid_);
    EXPECT_EQ(doc["log"]["entries"].size(), 1u);
    return doc["log"]["entries"][0];
  }

  std::string sid_;
};

json pair(const std::string& name, const std::string& value) {
  return json{{"name", name}, {"value", value}};
}

TEST_F(har_export, document_head_and_streamed_response) {
  insert(make_entry(sid_, "example.com", 0ms));
  const auto res = serve_streamed(http::verb::get, "/api/har/export/" + sid_);
  ASSERT_EQ(res.head.result(), http::status::ok);
  EXPECT_TRUE(res.is_streamed);
  EXPECT_TRUE(res.head.chunked());
  EXPECT_EQ(res.head[http::field::content_type], "application/json; charset=utf-8");
  EXPECT_EQ(res.head[http::field::content_disposition], "attachment; filename=\"capture.har\"");
  const auto doc = json::parse(res.body);
  const auto& log = doc["log"];
  EXPECT_EQ(log["version"], "1.2");
  EXPECT_EQ(log["creator"], (json{{"name", "Hark"}, {"version", hark::version}}));
  EXPECT_EQ(log["pages"], json::array());
  ASSERT_EQ(log["entries"].size(), 1u);
}

TEST_F(har_export, plain_get_has_every_required_member) {
  const auto e = export_one(make_entry(sid_, "example.com", 0ms));
  EXPECT_EQ(e["startedDateTime"], "2026-02-02T02:40:00.000Z");
  EXPECT_EQ(e["cache"], json::object());
  for (const char* key : {"method", "url", "httpVersion", "cookies", "headers", "queryString",
                          "headersSize", "bodySize"}) {
    EXPECT_TRUE(e["request"].contains(key)) << key;
  }
  for (const char* key : {"status", "statusText", "httpVersion", "cookies", "headers", "content",
                          "redirectURL", "headersSize", "bodySize"}) {
    EXPECT_TRUE(e["response"].contains(key)) << key;
  }
  EXPECT_EQ(e["request"]["method"], "GET");
  EXPECT_EQ(e["request"]["url"], "http://example.com/path");
  EXPECT_EQ(e["request"]["httpVersion"], "HTTP/1.1");
  EXPECT_EQ(e["request"]["headers"],
            (json{pair("Host", "example.com"), pair("User-Agent", "test")}));
  EXPECT_FALSE(e["request"].contains("postData"));
  // "GET /path HTTP/1.1\r\n" + "Host: example.com\r\n" + "User-Agent: test\r\n" + "\r\n"
  EXPECT_EQ(e["request"]["headersSize"], 20 + 19 + 18 + 2);
  EXPECT_EQ(e["request"]["bodySize"], 0);
  EXPECT_EQ(e["response"]["status"], 200);
  EXPECT_EQ(e["response"]["statusText"], "OK");
  EXPECT_EQ(e["response"]["content"], (json{{"size", 0}, {"mimeType", "text/plain"}}));
  EXPECT_EQ(e["response"]["redirectURL"], "");
  // Nothing measured: every phase -1 (send/wait/receive 0, which HAR requires), time from the
  // measured duration.
  EXPECT_EQ(e["timings"], (json{{"blocked", -1},
                                {"dns", -1},
                                {"connect", -1},
                                {"send", 0},
                                {"wait", 0},
                                {"receive", 0},
                                {"ssl", -1}}));
  EXPECT_EQ(e["time"], 10);
  EXPECT_EQ(e["_harkEntryId"].get<std::string>().size(), 26u);
  EXPECT_FALSE(e.contains("_resourceType"));
  EXPECT_FALSE(e.contains("_error"));
}

TEST_F(har_export, post_with_json_body_cookies_query_and_gzip_response) {
  const auto e = export_one(post_json(sid_, 0ms));
  const auto& req = e["request"];
  EXPECT_EQ(req["method"], "POST");
  EXPECT_EQ(req["postData"],
            (json{{"mimeType", "application/json"}, {"text", R"({"user":"ann","pass":"x"}  )"}}));
  EXPECT_EQ(req["bodySize"], 27);
  EXPECT_EQ(req["cookies"], json::parse(R"([{"name":"sid","value":"abc","httpOnly":false,
      "secure":false},{"name":"theme","value":"dark","httpOnly":false,"secure":false}])"));
  EXPECT_EQ(req["queryString"], (json{pair("next", "/home"), pair("q", "a b"), pair("flag", "")}));
  const auto& res = e["response"];
  const std::string reply = R"({"ok":true,"message":"welcome back, ann"})";
  EXPECT_EQ(res["content"]["text"], reply);
  EXPECT_EQ(res["content"]["size"], reply.size());
  EXPECT_EQ(res["content"]["mimeType"], "application/json; charset=utf-8");
  EXPECT_FALSE(res["content"].contains("encoding"));
  const auto transferred = res["bodySize"].get<std::int64_t>();
  EXPECT_EQ(transferred, static_cast<std::int64_t>(gzip(reply).size()));
  if (static_cast<std::int64_t>(reply.size()) >= transferred) {
    EXPECT_EQ(res["content"]["compression"], static_cast<std::int64_t>(reply.size()) - transferred);
  }
  ASSERT_EQ(res["cookies"].size(), 2u);
  EXPECT_EQ(res["cookies"][0], json::parse(R"({"name":"sid","value":"def","path":"/",
      "expires":"2015-10-21T07:28:00.000Z","httpOnly":true,"secure":true})"));
  // Max-Age counts from the exchange's start (2026-02-02T02:40:00Z) and wins over Expires.
  EXPECT_EQ(res["cookies"][1], json::parse(R"({"name":"seen","value":"1","domain":"example.com",
      "expires":"2026-02-02T02:41:00.000Z","httpOnly":false,"secure":false})"));
  // HAR's connect includes ssl; time is the sum of the phases.
  EXPECT_EQ(e["timings"], (json{{"blocked", 0.5},
                                {"dns", 1.25},
                                {"connect", 5.0},
                                {"send", 0.25},
                                {"wait", 10.0},
                                {"receive", 4.0},
                                {"ssl", 3.0}}));
  EXPECT_DOUBLE_EQ(e["time"].get<double>(), 0.5 + 1.25 + 5.0 + 0.25 + 10.0 + 4.0);
  EXPECT_EQ(e["serverIPAddress"], "10.1.2.3");
  EXPECT_EQ(e["connection"], "50123");
  EXPECT_EQ(e["_clientAddr"], (json{{"ip", "127.0.0.1"}, {"port", 50123}}));
  EXPECT_EQ(e["_remoteAddr"], (json{{"ip", "10.1.2.3"}, {"port", 80}}));
}

TEST_F(har_export, body_that_is_not_utf8_is_base64) {
  auto record = binary_download(sid_, 0ms);
  const auto bytes = record.response_body;
  const auto e = export_one(std::move(record));
  const auto& content = e["response"]["content"];
  EXPECT_EQ(content["encoding"], "base64");
  EXPECT_EQ(content["size"], bytes.size());
  EXPECT_EQ(content["mimeType"], "application/octet-stream");
  std::string text = content["text"];
  EXPECT_EQ(text.substr(0, 8), "AAcOFRwj");  // 0x00 0x07 0x0e 0x15 0x1c 0x23
}

TEST_F(har_export, undecodable_body_is_given_as_transferred_with_the_reason) {
  auto record = make_entry(sid_, "example.com", 0ms);
  record.response->headers = {{"Content-Type", "text/plain"}, {"Content-Encoding", "br"}};
  record.response_body = "not brotli at all";
  record.response->body_size = record.response_body.size();
  const auto e = export_one(std::move(record));
  const auto& content = e["response"]["content"];
  EXPECT_EQ(content["text"], "not brotli at all");
  EXPECT_TRUE(content.contains("_decodeError"));
  EXPECT_FALSE(content.contains("compression"));
}

TEST_F(har_export, failed_exchange_has_status_zero_and_the_error) {
  auto record = make_entry(sid_, "down.test", 0ms);
  record.response.reset();
  record.error = capture::flow_error{"connect_failed", "hark: cannot connect to down.test:80"};
  record.timings.dns = 0.5;
  const auto e = export_one(std::move(record));
  EXPECT_EQ(e["response"]["status"], 0);
  EXPECT_EQ(e["response"]["bodySize"], -1);
  EXPECT_EQ(e["response"]["content"]["size"], 0);
  EXPECT_EQ(e["_error"], (json{{"code", "connect_failed"},
                               {"message", "hark: cannot connect to down.test:80"}}));
  EXPECT_EQ(e["time"], 0.5);
}

TEST_F(har_export, tls_http2_and_redirect_extras) {
  auto record = make_entry(sid_, "example.com", 0ms);
  record.url = "https://example.com/old";
  record.http_version = "HTTP/2";
  record.request.http_version = "HTTP/2";
  record.response->http_version = "HTTP/2";
  record.response->status_code = 301;
  record.response->headers = {{"location", "https://example.com/new"}};
  record.tls.connection_id = "01HQ0000000000000000000001";
  record.tls.tls_version = capture::named_u16{772, "TLSv1.3"};
  record.http2 = capture::http2_ref{"01HQ0000000000000000000002", 3};
  record.upstream_http_version = "HTTP/1.1";
  const auto e = export_one(std::move(record));
  EXPECT_EQ(e["request"]["httpVersion"], "HTTP/2");
  EXPECT_EQ(e["request"]["headersSize"], -1);  // HPACK: not known
  EXPECT_EQ(e["response"]["redirectURL"], "https://example.com/new");
  EXPECT_EQ(e["connection"], "01HQ0000000000000000000001");
  EXPECT_EQ(e["_tls"]["tlsVersion"], (json{{"value", 772}, {"name", "TLSv1.3"}}));
  EXPECT_TRUE(e["_tls"]["ja3"].is_null());
  EXPECT_EQ(e["_http2"], (json{{"connectionId", "01HQ0000000000000000000002"}, {"streamId", 3}}));
  EXPECT_EQ(e["_upstreamHttpVersion"], "HTTP/1.1");
}

TEST_F(har_export, file_name_is_sanitized) {
  const auto sid =
      call(http::verb::post, "/api/sessions", json{{"name", "a\"b/c\\d:e\x01 f"}}.dump()).body();
  const auto id = json::parse(sid)["id"].get<std::string>();
  auto res = serve_streamed(http::verb::get, "/api/har/export/" + id);
  EXPECT_EQ(res.head[http::field::content_disposition],
            "attachment; filename=\"a_b_c_d_e_ f.har\"");

  const auto utf8 = json::parse(
      call(http::verb::post, "/api/sessions", json{{"name", "caf\xC3\xA9 run"}}.dump()).body());
  res = serve_streamed(http::verb::get, "/api/har/export/" + utf8["id"].get<std::string>());
  EXPECT_EQ(res.head[http::field::content_disposition],
            "attachment; filename=\"caf__ run.har\"; filename*=UTF-8''caf%C3%A9%20run.har");

  const auto dotted = json::parse(
      call(http::verb::post, "/api/sessions", json{{"name", "..hidden"}}.dump()).body());
  res = serve_streamed(http::verb::get, "/api/har/export/" + dotted["id"].get<std::string>());
  EXPECT_EQ(res.head[http::field::content_disposition], "attachment; filename=\"_.hidden.har\"");
}

TEST_F(har_export, large_session_is_sent_in_pieces_in_time_order) {
  constexpr int count = 700;  // three pages of 256
  for (int i = 0; i < count; ++i) {
    auto r = make_entry(sid_, "example.com", std::chrono::milliseconds(count - i));
    r.response_body.assign(512, 'x');
    r.response->body_size = 512;
    if (writer_) {
      writer_->submit(std::move(r));
    } else {
      insert(std::move(r));  // starts the writer
    }
  }
  writer_->flush();
  const auto res = serve_streamed(http::verb::get, "/api/har/export/" + sid_);
  ASSERT_GT(res.pieces.size(), 3u);
  for (std::size_t i = 0; i + 1 < res.pieces.size(); ++i) {
    EXPECT_GE(res.pieces[i].size(), 64u * 1024) << i;
    EXPECT_LT(res.pieces[i].size(), 80u * 1024) << i;
  }
  const auto doc = json::parse(res.body);
  const auto& entries = doc["log"]["entries"];
  ASSERT_EQ(entries.size(), static_cast<std::size_t>(count));
  for (std::size_t i = 1; i < entries.size(); ++i) {
    EXPECT_LT(entries[i - 1]["startedDateTime"].get<std::string>(),
              entries[i]["startedDateTime"].get<std::string>());
  }
}

TEST_F(har_export, empty_session_is_an_empty_log) {
  const auto doc = export_session(sid_);
  EXPECT_EQ(doc["log"]["entries"], json::array());
}

TEST_F(har_export, active_alias_and_unknown_sessions) {
  auto res = serve_streamed(http::verb::get, "/api/har/export/active");
  EXPECT_EQ(res.head.result(), http::status::not_found);
  EXPECT_EQ(error_of(res.head), "No active session");
  EXPECT_FALSE(res.is_streamed);
  res = serve_streamed(http::verb::get, "/api/har/export/nope");
  EXPECT_EQ(res.head.result(), http::status::not_found);
  EXPECT_EQ(error_of(res.head), "Session not found");

  insert(make_entry(sid_, "example.com", 0ms));
  call(http::verb::post, "/api/sessions/" + sid_ + "/activate");
  EXPECT_EQ(export_session("active")["log"]["entries"].size(), 1u);
}

TEST_F(har_export, selection_in_the_order_given_without_unknown_or_repeated_ids) {
  const auto other = create_session("other")["id"].get<std::string>();
  auto first = make_entry(sid_, "one.example", 0ms);
  auto second = make_entry(other, "two.example", 1ms);
  const auto first_id = first.id;
  const auto second_id = second.id;
  insert(std::move(first));
  insert(std::move(second));
  const auto res = serve_streamed(
      http::verb::post, "/api/har/export",
      json{{"entryIds", {second_id, "01HQZZZZZZZZZZZZZZZZZZZZZZ", first_id, second_id}}}.dump());
  ASSERT_EQ(res.head.result(), http::status::ok);
  EXPECT_TRUE(res.is_streamed);
  EXPECT_EQ(res.head[http::field::content_disposition],
            "attachment; filename=\"hark-entries.har\"");
  const auto doc = json::parse(res.body);
  const auto& entries = doc["log"]["entries"];
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_EQ(entries[0]["_harkEntryId"], second_id);
  EXPECT_EQ(entries[1]["_harkEntryId"], first_id);
}

TEST_F(har_export, selection_errors_are_precise) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "Field 'entryIds' is required"},
      {"{}", "Field 'entryIds' is required"},
      {"[1]", "Invalid JSON body"},
      {"{nope", "Invalid JSON body"},
      {R"({"entryIds": "01HQ"})", "Field 'entryIds' must be an array of strings"},
      {R"({"entryIds": []})", "Field 'entryIds' must not be empty"},
      {R"({"entryIds": ["a", 2]})", "Field 'entryIds' must be an array of strings (item 1 is not)"},
  };
  for (const auto& [body, message] : cases) {
    const auto res = post("/api/har/export", body);
    EXPECT_EQ(res.result(), http::status::bad_request) << body;
    EXPECT_EQ(error_of(res), message) << body;
  }
}

TEST_F(har_export, routes_answer_405_for_other_methods) {
  const auto res = call(http::verb::delete_, "/api/har/export/" + sid_);
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  EXPECT_EQ(res[http::field::allow], "GET");
  EXPECT_EQ(call(http::verb::get, "/api/har/import").result(), http::status::method_not_allowed);
}

}  // namespace
}  // namespace hark::api::test
