// POST /api/rpc (SPEC §6.3): every method found and not found, body encodings, JSON-RPC 2.0
// envelopes, error codes, notifications and batches — through api::handle on a real store.

#include "api_fixture.hpp"
#include "compress.hpp"

#include <string>
#include <vector>

namespace hark::api::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* unknown_ulid = "01ARZ3NDEKTSV4RRFFQ69G5FAV";

class api_rpc : public api_fixture {
 protected:
  api_rpc() { sid_ = create_session("rpc")["id"].get<std::string>(); }

  response post(const std::string& body) { return call(http::verb::post, "/api/rpc", body); }

  /** Posts `body`; expects 200 with JSON and returns it. */
  json rpc(const std::string& body) {
    const auto res = post(body);
    EXPECT_EQ(res.result(), http::status::ok) << body;
    EXPECT_EQ(res[http::field::content_type], "application/json; charset=utf-8");
    return body_json(res);
  }

  /** `{"jsonrpc":"2.0","id":1,"method":…,"params":…}`; params omitted when null. */
  static json rpc_request(const std::string& method, const json& params = nullptr, json id = 1) {
    json req{{"jsonrpc", "2.0"}, {"id", std::move(id)}, {"method", method}};
    if (!params.is_null()) {
      req["params"] = params;
    }
    return req;
  }

  /** The result of a call that must succeed. */
  json result(const std::string& method, const json& params = nullptr) {
    const auto res = rpc(rpc_request(method, params).dump());
    EXPECT_EQ(res.value("jsonrpc", ""), "2.0");
    EXPECT_EQ(res.value("id", json()), 1);
    EXPECT_FALSE(res.contains("error")) << method << " " << params << ": " << res;
    return res.contains("result") ? res["result"] : json("<no result>");
  }

  /** The error object of a call that must fail. */
  json error(const std::string& method, const json& params = nullptr) {
    const auto res = rpc(rpc_request(method, params).dump());
    EXPECT_FALSE(res.contains("result")) << res;
    EXPECT_EQ(res.value("id", json()), 1) << res;
    return res.contains("error") ? res["error"] : json::object();
  }

  /** Expects `error` to be `code` with `message`, and its data to contain `data`. */
  static void expect_error(const json& err, int code, const std::string& message,
                           const std::string& data = {}) {
    EXPECT_EQ(err.value("code", 0), code) << err;
    EXPECT_EQ(err.value("message", ""), message) << err;
    if (!data.empty()) {
      EXPECT_NE(err.value("data", "").find(data), std::string::npos)
          << "data should mention " << data << ": " << err;
    }
  }

  capture::entry_record entry(std::chrono::milliseconds offset) {
    return make_entry(sid_, "example.com", offset);
  }

  std::string add(capture::entry_record record) {
    auto id = record.id;
    insert(std::move(record));
    return id;
  }

  /** An entry whose response body is `body` with `Content-Encoding: coding` (if any). */
  std::string with_response_body(std::string body, const std::string& coding = {}) {
    auto record = entry(std::chrono::milliseconds(next_++));
    if (!coding.empty()) {
      record.response->headers.emplace_back("Content-Encoding", coding);
    }
    record.response->body_size = body.size();
    record.response_body = std::move(body);
    return add(std::move(record));
  }

  json ids(const std::string& sid, const std::string& eid) const {
    return json{{"sessionId", sid}, {"entryId", eid}};
  }
  json body_params(const std::string& eid, const std::string& encoding) const {
    return json{{"sessionId", sid_}, {"entryId", eid}, {"encoding", encoding}};
  }

  std::string sid_;
  int next_ = 0;
};

// ---- methods -------------------------------------------------------------------------------

TEST_F(api_rpc, sessions_list_is_id_and_name_newest_first_like_rest) {
  create_session("second");
  create_session("third");
  json expected = json::array();
  const auto rest = body_json(get("/api/sessions"));
  for (const auto& s : rest["sessions"]) {
    expected.push_back({{"id", s["id"]}, {"name", s["name"]}});
  }
  ASSERT_EQ(expected.size(), 3u);
  EXPECT_EQ(result("sessions/list"), expected);
  EXPECT_EQ(result("sessions/list", json::object()), expected);
  EXPECT_EQ(result("sessions/list", json::array()), expected);
  // Members a method does not take are ignored.
  EXPECT_EQ(result("sessions/list", {{"verbose", true}}), expected);
  // Exactly the two seed fields.
  EXPECT_EQ(result("sessions/list")[0].size(), 2u);
}

TEST_F(api_rpc, get_entry_ids_in_time_order_and_null_for_unknown) {
  EXPECT_EQ(result("sessions/get_entry_ids", {{"sessionId", sid_}}), json::array());
  // Inserted out of order: listed by start time, oldest first.
  const auto late = add(entry(2s));
  const auto early = add(entry(0s));
  const auto middle = add(entry(1s));
  EXPECT_EQ(result("sessions/get_entry_ids", {{"sessionId", sid_}}),
            json::array({early, middle, late}));
  EXPECT_EQ(result("sessions/get_entry_ids", {{"sessionId", "no-such-session"}}), nullptr);
}

TEST_F(api_rpc, get_entry_ids_pages_through_large_sessions) {
  // More than one catalog page (1000): the ids are read page by page.
  std::vector<std::string> expected;
  expected.push_back(add(entry(0ms)));
  for (int i = 1; i < 1203; ++i) {
    auto record = entry(std::chrono::milliseconds(i));
    expected.push_back(record.id);
    writer_->submit(std::move(record));
  }
  writer_->flush();
  const auto got = result("sessions/get_entry_ids", {{"sessionId", sid_}});
  ASSERT_TRUE(got.is_array());
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_EQ(got, json(expected));
}

TEST_F(api_rpc, session_ids_only_no_active_alias) {
  call(http::verb::post, "/api/sessions/" + sid_ + "/activate");
  const auto id = add(entry(0s));
  ASSERT_EQ(get("/api/sessions/active/entries/" + id).result(), http::status::ok);
  EXPECT_EQ(result("sessions/get_entry_ids", {{"sessionId", "active"}}), nullptr);
  EXPECT_EQ(result("sessions/get_entry", ids("active", id)), nullptr);
  // Nor `latest` for entries: the seed's params are ids.
  ASSERT_EQ(get("/api/sessions/" + sid_ + "/entries/latest").result(), http::status::ok);
  EXPECT_EQ(result("sessions/get_entry", ids(sid_, "latest")), nullptr);
  EXPECT_EQ(result("sessions/get_response_body", body_params("latest", "text")), nullptr);
  EXPECT_EQ(result("sessions/get_websocket_messages", ids(sid_, "latest")), nullptr);
}

TEST_F(api_rpc, get_entry_is_the_rest_session_entry) {
  auto record = entry(0s);
  record.request.headers.emplace_back("X-Trace", "caf\xc3\xa9");
  const auto id = add(std::move(record));
  const auto rest = get("/api/sessions/" + sid_ + "/entries/" + id);
  ASSERT_EQ(rest.result(), http::status::ok);
  const auto got = result("sessions/get_entry", ids(sid_, id));
  EXPECT_EQ(got, body_json(rest));
  EXPECT_EQ(got["id"], id);
  EXPECT_EQ(got["request"]["headers"][2], json::array({"X-Trace", "café"}));

  EXPECT_EQ(result("sessions/get_entry", ids(sid_, unknown_ulid)), nullptr);
  EXPECT_EQ(result("sessions/get_entry", ids("no-such-session", id)), nullptr);
  // An entry is found only in its own session.
  const auto other = create_session("other")["id"].get<std::string>();
  EXPECT_EQ(result("sessions/get_entry", ids(other, id)), nullptr);
}

TEST_F(api_rpc, bodies_are_content_decoded_text_or_base64) {
  const std::string page = R"({"greeting":"hello, gzip ✓"})";
  const auto gz = with_response_body(gzip(page), "gzip");
  EXPECT_EQ(result("sessions/get_response_body", body_params(gz, "text")), page);
  EXPECT_EQ(result("sessions/get_response_body", body_params(gz, "base64")),
            "eyJncmVldGluZyI6ImhlbGxvLCBnemlwIOKckyJ9");
  // Same bytes as the REST body.
  EXPECT_EQ(get("/api/sessions/" + sid_ + "/entries/" + gz + "/response/body").body(), page);

  const auto br = with_response_body(brotli(page), "br");
  EXPECT_EQ(result("sessions/get_response_body", body_params(br, "text")), page);
}

TEST_F(api_rpc, text_replaces_invalid_utf8_and_base64_keeps_every_byte) {
  const auto id = with_response_body(std::string("ok \xff\xfe end \xc3", 11));
  const auto res = post(rpc_request("sessions/get_response_body", body_params(id, "text")).dump());
  // The response itself stays valid JSON (and UTF-8): each bad byte is U+FFFD.
  EXPECT_EQ(body_json(res)["result"], "ok \xEF\xBF\xBD\xEF\xBF\xBD end \xEF\xBF\xBD");
  EXPECT_EQ(result("sessions/get_response_body", body_params(id, "base64")), "b2sg//4gZW5kIMM=");
}

TEST_F(api_rpc, undecodable_body_falls_back_to_the_raw_bytes) {
  const auto broken = with_response_body("\x1f\x8b not gzip", "gzip");
  EXPECT_EQ(result("sessions/get_response_body", body_params(broken, "base64")),
            "H4sgbm90IGd6aXA=");
  const auto unknown = with_response_body("abc", "compress");
  EXPECT_EQ(result("sessions/get_response_body", body_params(unknown, "text")), "abc");
}

TEST_F(api_rpc, request_body_and_missing_bodies) {
  auto record = entry(0s);
  record.request.method = "POST";
  record.request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                            {"Content-Encoding", "zstd"}};
  record.request_body = zstd("name=a&b=\xe9");
  record.request.body_size = record.request_body.size();
  const auto id = add(std::move(record));
  EXPECT_EQ(result("sessions/get_request_body", body_params(id, "base64")), "bmFtZT1hJmI96Q==");
  EXPECT_EQ(result("sessions/get_request_body", body_params(id, "text")), "name=a&b=\xEF\xBF\xBD");
  // The entry exists but has no response body: "", not null.
  EXPECT_EQ(result("sessions/get_response_body", body_params(id, "text")), "");
  EXPECT_EQ(result("sessions/get_response_body", body_params(id, "base64")), "");

  for (const std::string method : {"sessions/get_request_body", "sessions/get_response_body"}) {
    EXPECT_EQ(result(method, body_params(unknown_ulid, "text")), nullptr) << method;
    auto params = body_params(id, "base64");
    params["sessionId"] = "no-such-session";
    EXPECT_EQ(result(method, params), nullptr) << method;
  }
}

TEST_F(api_rpc, websocket_messages_only_for_websocket_entries) {
  auto ws = entry(0s);
  ws.is_websocket = true;
  ws.url = "ws://example.com/socket";
  ws.response->status_code = 101;
  const auto ws_id = add(std::move(ws));
  const auto plain = add(entry(1s));
  EXPECT_EQ(result("sessions/get_websocket_messages", ids(sid_, ws_id)), json::array());
  EXPECT_EQ(result("sessions/get_websocket_messages", ids(sid_, plain)), nullptr);
  EXPECT_EQ(result("sessions/get_websocket_messages", ids(sid_, unknown_ulid)), nullptr);
  EXPECT_EQ(result("sessions/get_websocket_messages", ids("no-such-session", ws_id)), nullptr);
}

TEST_F(api_rpc, unknown_tls_and_http2_connections_are_null) {
  const auto conn = json{{"connectionId", unknown_ulid}};
  EXPECT_EQ(result("tls/get_connection", conn), nullptr);
  EXPECT_EQ(result("http2/get_stream_ids", conn), nullptr);
  EXPECT_EQ(result("http2/get_stream", {{"connectionId", unknown_ulid}, {"streamId", 0}}), nullptr);
  EXPECT_EQ(result("http2/get_stream", {{"connectionId", unknown_ulid}, {"streamId", 2147483647}}),
            nullptr);
}

// ---- errors --------------------------------------------------------------------------------

TEST_F(api_rpc, invalid_params_name_the_param) {
  const struct {
    std::string method;
    json params;
    std::string data;
  } cases[] = {
      {"sessions/get_entry_ids", nullptr, "missing param 'sessionId' (a string)"},
      {"sessions/get_entry_ids", {{"sessionId", 7}}, "param 'sessionId' must be a string"},
      {"sessions/get_entry", {{"sessionId", "s"}}, "missing param 'entryId'"},
      {"sessions/get_entry", {{"sessionId", "s"}, {"entryId", 1}}, "param 'entryId' must be"},
      {"sessions/get_entry", {{"sessionId", "s"}, {"entryId", nullptr}}, "'entryId' must be"},
      {"sessions/get_response_body",
       {{"sessionId", "s"}, {"entryId", "e"}},
       R"(missing param 'encoding' ("text" or "base64"))"},
      {"sessions/get_request_body",
       {{"sessionId", "s"}, {"entryId", "e"}, {"encoding", "hex"}},
       R"(param 'encoding' must be "text" or "base64")"},
      {"sessions/get_request_body",
       {{"sessionId", "s"}, {"entryId", "e"}, {"encoding", 1}},
       R"(param 'encoding' must be "text" or "base64")"},
      {"sessions/get_websocket_messages", {{"entryId", "e"}}, "missing param 'sessionId'"},
      {"tls/get_connection", json::object(), "missing param 'connectionId'"},
      {"http2/get_stream_ids", {{"connectionId", 3}}, "param 'connectionId' must be a string"},
      {"http2/get_stream", {{"connectionId", "c"}}, "missing param 'streamId' (an integer)"},
      {"http2/get_stream", {{"connectionId", "c"}, {"streamId", -1}}, "streamId"},
      {"http2/get_stream", {{"connectionId", "c"}, {"streamId", 1.5}}, "streamId"},
      {"http2/get_stream", {{"connectionId", "c"}, {"streamId", "1"}}, "streamId"},
      {"http2/get_stream",
       {{"connectionId", "c"}, {"streamId", 2147483648u}},
       "param 'streamId' must be an integer from 0 to 2147483647"},
      // Positional params are not supported (every method takes named ones).
      {"sessions/get_entry", json::array({"s", "e"}), "params must be an object"},
      {"sessions/list", json::array({1}), "params must be an object"},
  };
  for (const auto& c : cases) {
    expect_error(error(c.method, c.params), -32602, "Invalid params", c.data);
  }
}

TEST_F(api_rpc, unknown_method) {
  for (const std::string method : {"sessions/nope", "", "rpc.discover", "Sessions/List"}) {
    expect_error(error(method), -32601, "Method not found", "unknown method '" + method + "'");
  }
}

TEST_F(api_rpc, parse_errors_have_a_null_id) {
  const std::string bodies[] = {
      "",  // no body at all
      "not json",
      R"({"jsonrpc":"2.0","id":1,"method":"sessions/list")",  // cut short
      R"({"jsonrpc":"2.0","id":1,"method":"sessions/list"} x)",
      // Not UTF-8: a raw 0xff inside a string, an overlong encoding, a lone surrogate escape.
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"sessions/\xff\"}",
      "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"\xc0\xaf\"}",
      R"({"jsonrpc":"2.0","id":"\ud800","method":"sessions/list"})",
      R"([{"jsonrpc":"2.0","id":1,"method":"sessions/list"},])",
      // A number beyond a double's range is nlohmann's out_of_range.406, not a parse_error.
      R"({"jsonrpc":"2.0","id":45e493,"method":"sessions/list"})",
  };
  for (const auto& body : bodies) {
    const auto res = rpc(body);
    EXPECT_EQ(res["jsonrpc"], "2.0") << body;
    ASSERT_TRUE(res.contains("id")) << body;
    EXPECT_EQ(res["id"], nullptr) << body;
    expect_error(res["error"], -32700, "Parse error");
    EXPECT_FALSE(res["error"].value("data", "").empty()) << body;
  }
  // data says where, without nlohmann's exception tag.
  EXPECT_EQ(rpc("not json")["error"]["data"].get<std::string>().rfind("parse error at line 1", 0),
            0u);
}

TEST_F(api_rpc, invalid_requests) {
  const struct {
    std::string body;
    json id;  // the id the error must carry
    std::string data;
  } cases[] = {
      {"1", nullptr, "request must be an object"},
      {R"("sessions/list")", nullptr, "request must be an object"},
      {"null", nullptr, "request must be an object"},
      {"{}", nullptr, "jsonrpc"},
      {R"({"id":1,"method":"sessions/list"})", 1, R"(member 'jsonrpc' must be "2.0")"},
      {R"({"jsonrpc":"1.0","id":"a","method":"sessions/list"})", "a", "jsonrpc"},
      {R"({"jsonrpc":2.0,"id":1,"method":"sessions/list"})", 1, "jsonrpc"},
      {R"({"jsonrpc":"2.0","id":1})", 1, "member 'method' must be a string"},
      {R"({"jsonrpc":"2.0","id":1,"method":1,"params":"bar"})", 1, "method"},
      {R"({"jsonrpc":"2.0","id":1,"method":"sessions/list","params":"bar"})", 1,
       "member 'params' must be an object or an array"},
      {R"({"jsonrpc":"2.0","id":1,"method":"sessions/list","params":null})", 1, "params"},
      {R"({"jsonrpc":"2.0","id":2,"method":"sessions/list","params":5})", 2, "params"},
      // An id of the wrong type cannot be echoed.
      {R"({"jsonrpc":"2.0","id":{"a":1},"method":"sessions/list"})", nullptr,
       "member 'id' must be a string, a number or null"},
      {R"({"jsonrpc":"2.0","id":[1],"method":"sessions/list"})", nullptr, "id"},
      {R"({"jsonrpc":"2.0","id":true,"method":"sessions/list"})", nullptr, "id"},
      // Without an id but invalid: not a valid notification, so it is answered.
      {R"({"jsonrpc":"2.0","method":1})", nullptr, "method"},
      {R"({"method":"sessions/list"})", nullptr, "jsonrpc"},
  };
  for (const auto& c : cases) {
    const auto res = rpc(c.body);
    EXPECT_EQ(res["jsonrpc"], "2.0") << c.body;
    ASSERT_TRUE(res.contains("id")) << c.body;
    EXPECT_EQ(res["id"], c.id) << c.body;
    EXPECT_FALSE(res.contains("result")) << c.body;
    expect_error(res["error"], -32600, "Invalid Request", c.data);
  }
}

TEST_F(api_rpc, ids_are_echoed_with_their_type) {
  for (const json& id : {json("abc"), json(""), json("1"), json(0), json(-5), json(42), json(1.5),
                         json(18446744073709551615u), json(nullptr)}) {
    const auto res = rpc(rpc_request("sessions/list", nullptr, id).dump());
    ASSERT_TRUE(res.contains("id")) << id;
    EXPECT_EQ(res["id"], id);
    EXPECT_EQ(res["id"].is_string(), id.is_string()) << id;
    EXPECT_TRUE(res["result"].is_array()) << res;
  }
  // Member order as in the specification's examples.
  EXPECT_EQ(post(R"({"jsonrpc":"2.0","method":"sessions/list","id":"x"})").body(),
            R"({"jsonrpc":"2.0","result":[{"id":")" + sid_ + R"(","name":"rpc"}],"id":"x"})");
  EXPECT_EQ(post(R"({"jsonrpc":"2.0","method":"nope","id":7})").body(),
            R"({"jsonrpc":"2.0","error":{"code":-32601,"message":"Method not found",)"
            R"("data":"unknown method 'nope'"},"id":7})");
}

TEST_F(api_rpc, store_failure_is_an_internal_error_for_that_call_only) {
  const auto id = add(entry(0s));
  db_->exec("DROP TABLE bodies");
  const auto res =
      rpc(json::array({rpc_request("sessions/get_response_body", body_params(id, "text"), "body"),
                       rpc_request("sessions/get_entry", ids(sid_, id), "entry")})
              .dump());
  ASSERT_EQ(res.size(), 2u) << res;
  EXPECT_EQ(res[0]["id"], "body");
  expect_error(res[0]["error"], -32603, "Internal error", "bodies");
  EXPECT_EQ(res[1]["id"], "entry");
  EXPECT_EQ(res[1]["result"]["id"], id);
}

// ---- notifications and batches -------------------------------------------------------------

TEST_F(api_rpc, notifications_get_no_response) {
  for (const std::string body : {
           R"({"jsonrpc":"2.0","method":"sessions/list"})",
           R"({"jsonrpc":"2.0","method":"sessions/list","params":{}})",
           // Not answered even when the call itself would fail.
           R"({"jsonrpc":"2.0","method":"no/such_method"})",
           R"({"jsonrpc":"2.0","method":"sessions/get_entry","params":{"entryId":5}})",
       }) {
    const auto res = post(body);
    EXPECT_EQ(res.result(), http::status::no_content) << body;
    EXPECT_TRUE(res.body().empty()) << body;
    EXPECT_EQ(res.count(http::field::content_type), 0u) << body;
  }
}

TEST_F(api_rpc, batch_answers_in_request_order_without_notifications) {
  const auto id = add(entry(0s));
  const auto batch = json::array({
      rpc_request("sessions/get_entry", ids(sid_, id), "first"),
      json{{"jsonrpc", "2.0"}, {"method", "sessions/list"}},  // notification
      rpc_request("sessions/nope", nullptr, 2),
      1,
      rpc_request("sessions/get_entry", json::array({1}), 3),
      json{{"jsonrpc", "1.0"}, {"id", 4}, {"method", "sessions/list"}},
      rpc_request("sessions/get_entry_ids", {{"sessionId", sid_}}, "last"),
  });
  const auto res = rpc(batch.dump());
  ASSERT_TRUE(res.is_array()) << res;
  ASSERT_EQ(res.size(), 6u) << res;
  EXPECT_EQ(res[0]["id"], "first");
  EXPECT_EQ(res[0]["result"]["id"], id);
  EXPECT_EQ(res[1]["id"], 2);
  EXPECT_EQ(res[1]["error"]["code"], -32601);
  EXPECT_EQ(res[2]["id"], nullptr);
  EXPECT_EQ(res[2]["error"]["code"], -32600);
  EXPECT_EQ(res[3]["id"], 3);
  EXPECT_EQ(res[3]["error"]["code"], -32602);
  EXPECT_EQ(res[4]["id"], 4);
  EXPECT_EQ(res[4]["error"]["code"], -32600);
  EXPECT_EQ(res[5]["id"], "last");
  EXPECT_EQ(res[5]["result"], json::array({id}));
  for (const auto& r : res) {
    EXPECT_EQ(r["jsonrpc"], "2.0");
  }
}

TEST_F(api_rpc, batch_of_non_objects_answers_each) {
  const auto res = rpc("[1,2,3]");
  ASSERT_TRUE(res.is_array());
  ASSERT_EQ(res.size(), 3u);
  for (const auto& r : res) {
    EXPECT_EQ(r["id"], nullptr);
    expect_error(r["error"], -32600, "Invalid Request", "request must be an object");
  }
}

TEST_F(api_rpc, batch_of_only_notifications_is_204) {
  const auto res = post(json::array({json{{"jsonrpc", "2.0"}, {"method", "sessions/list"}},
                                     json{{"jsonrpc", "2.0"}, {"method", "nope"}}})
                            .dump());
  EXPECT_EQ(res.result(), http::status::no_content);
  EXPECT_TRUE(res.body().empty());
}

TEST_F(api_rpc, empty_batch_is_one_invalid_request) {
  for (const std::string body : {"[]", " [ ] "}) {
    const auto res = rpc(body);
    ASSERT_TRUE(res.is_object()) << res;
    EXPECT_EQ(res["id"], nullptr);
    expect_error(res["error"], -32600, "Invalid Request", "empty batch");
  }
}

TEST_F(api_rpc, batch_limit_is_1000) {
  json batch = json::array();
  for (int i = 0; i < 1000; ++i) {
    batch.push_back(rpc_request("tls/get_connection", {{"connectionId", "c"}}, i));
  }
  auto res = rpc(batch.dump());
  ASSERT_TRUE(res.is_array());
  ASSERT_EQ(res.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(res[i]["id"], i);
    EXPECT_EQ(res[i]["result"], nullptr);
  }
  batch.push_back(rpc_request("sessions/list", nullptr, 1000));
  res = rpc(batch.dump());
  ASSERT_TRUE(res.is_object()) << res.dump().substr(0, 200);
  EXPECT_EQ(res["id"], nullptr);
  expect_error(res["error"], -32600, "Invalid Request", "batch larger than 1000");
}

TEST_F(api_rpc, batch_stops_running_calls_past_its_response_budget) {
  // 12 MiB per call and a 32 MiB budget: three calls run (the budget is checked before each),
  // the fourth is refused, and cheap error replies are still given.
  const auto id = with_response_body(std::string(std::size_t{12} << 20, 'x'));
  json batch = json::array();
  for (int i = 0; i < 4; ++i) {
    batch.push_back(rpc_request("sessions/get_response_body", body_params(id, "text"), i));
  }
  batch.push_back(rpc_request("nope", nullptr, 4));
  const auto res = rpc(batch.dump());
  ASSERT_EQ(res.size(), 5u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(res[i]["result"].get_ref<const std::string&>().size(), std::size_t{12} << 20);
  }
  EXPECT_EQ(res[3]["id"], 3);
  expect_error(res[3]["error"], -32000, "Response too large", "send the call again");
  expect_error(res[4]["error"], -32601, "Method not found");
  // Alone, the same call runs: 12 MiB of `xxx` is 16 MiB of `eHh4`.
  const auto alone = result("sessions/get_response_body", body_params(id, "base64"));
  ASSERT_TRUE(alone.is_string());
  EXPECT_EQ(alone.get_ref<const std::string&>().size(), std::size_t{16} << 20);
  EXPECT_EQ(alone.get_ref<const std::string&>().rfind("eHh4eHh4", 0), 0u);
}

// ---- HTTP ----------------------------------------------------------------------------------

TEST_F(api_rpc, http_method_and_token) {
  const auto res = get("/api/rpc");
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  EXPECT_EQ(res[http::field::allow], "POST");

  ctx_->api_token = "s3cret";
  EXPECT_EQ(post(rpc_request("sessions/list").dump()).result(), http::status::unauthorized);
  request req{http::verb::post, "/api/rpc", 11};
  req.set(http::field::host, "localhost");
  req.set(http::field::authorization, "Bearer s3cret");
  req.body() = rpc_request("sessions/list").dump();
  req.prepare_payload();
  const auto ok = handle(*ctx_, req);
  EXPECT_EQ(ok.result(), http::status::ok);
  EXPECT_TRUE(body_json(ok)["result"].is_array());
}

}  // namespace
}  // namespace hark::api::test
