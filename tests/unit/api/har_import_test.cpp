// POST /api/har/import: validation, partial imports, target sessions, complete entries, and
// the round trip export → import → export.

#include "har_fixture.hpp"

namespace hark::api::test {
namespace {

using namespace std::chrono_literals;

/** A HAR entry as browsers write them, with the members the tests change. */
json browser_entry(const std::string& url = "https://shop.example/cart?id=7") {
  return json::parse(R"({
    "startedDateTime": "2026-03-02T08:41:07.123+01:00",
    "time": 42.5,
    "request": {"method": "POST", "url": ")" +
                     url + R"(", "httpVersion": "h2",
      "cookies": [], "headers": [{"name": ":method", "value": "POST"},
                                 {"name": "content-type", "value": "text/plain"},
                                 {"name": "Accept", "value": "*/*"}],
      "queryString": [], "postData": {"mimeType": "text/plain", "text": "hello"},
      "headersSize": -1, "bodySize": 5},
    "response": {"status": 201, "statusText": "Created", "httpVersion": "h2", "cookies": [],
      "headers": [{"name": "content-type", "value": "application/octet-stream"},
                  {"name": "content-encoding", "value": "gzip"}],
      "content": {"size": 3, "mimeType": "application/octet-stream", "text": "AAEC",
                  "encoding": "base64"},
      "redirectURL": "", "headersSize": -1, "bodySize": 23},
    "cache": {},
    "timings": {"blocked": 1, "dns": -1, "connect": 8, "ssl": 5, "send": 0.5, "wait": 30,
                "receive": 3},
    "serverIPAddress": "192.0.2.7"
  })");
}

json har_of(std::vector<json> entries) {
  return json{{"log",
               {{"version", "1.2"},
                {"creator", {{"name", "Firefox"}, {"version", "124.0"}}},
                {"entries", std::move(entries)}}}};
}

class har_import : public har_fixture {
 protected:
  response import(const json& har, const std::string& query = "") {
    return post("/api/har/import" + query, har.dump());
  }

  json entries_of(const std::string& sid) {
    return body_json(get("/api/sessions/" + sid + "/entries?limit=1000"))["entries"];
  }
};

TEST_F(har_import, invalid_documents_are_400_with_the_reason) {
  const std::pair<std::string, std::string> cases[] = {
      {"{not json", "Invalid HAR: the body is not valid JSON"},
      {"", "Invalid HAR: the body is not valid JSON"},
      {"[]", "Invalid HAR: the document must be a JSON object"},
      {"{}", "Invalid HAR: missing 'log' object"},
      {R"({"log": []})", "Invalid HAR: missing 'log' object"},
      {R"({"log": {}})", "Invalid HAR: 'log.entries' must be an array"},
      {R"({"log": {"entries": {}}})", "Invalid HAR: 'log.entries' must be an array"},
  };
  for (const auto& [body, message] : cases) {
    const auto res = post("/api/har/import", body);
    EXPECT_EQ(res.result(), http::status::bad_request) << body;
    EXPECT_EQ(error_of(res), message) << body;
  }
  EXPECT_EQ(body_json(get("/api/sessions"))["sessions"].size(), 0u);  // nothing created
}

TEST_F(har_import, new_session_named_after_the_creator) {
  const auto res = import(har_of({browser_entry()}));
  ASSERT_EQ(res.result(), http::status::ok) << res.body();
  const auto summary = body_json(res);
  EXPECT_EQ(summary["success"], true);
  EXPECT_EQ(summary["imported"], 1);
  EXPECT_EQ(summary["total"], 1);
  EXPECT_EQ(summary["errors"], json::array());
  const auto name = summary["sessionName"].get<std::string>();
  EXPECT_EQ(name.rfind("HAR import (Firefox 124.0) ", 0), 0u) << name;
  const auto session = body_json(get("/api/sessions/" + summary["sessionId"].get<std::string>()));
  EXPECT_EQ(session["name"], name);
  EXPECT_EQ(session["isActive"], false);
  EXPECT_EQ(session["isRecording"], false);
  EXPECT_EQ(session["trafficCount"], 1);
  EXPECT_EQ(session["totalBytes"], 5 + 23);

  const auto named = body_json(import(har_of({browser_entry()}), "?name=checkout.har"));
  EXPECT_EQ(named["sessionName"], "checkout.har");
}

TEST_F(har_import, imported_entry_is_a_complete_session_entry) {
  const auto summary = body_json(import(har_of({browser_entry()})));
  const auto sid = summary["sessionId"].get<std::string>();
  const auto entries = entries_of(sid);
  ASSERT_EQ(entries.size(), 1u);
  const auto& e = entries[0];
  EXPECT_EQ(e["id"].get<std::string>().size(), 26u);
  EXPECT_EQ(e["sessionId"], sid);
  EXPECT_EQ(e["url"], "https://shop.example/cart?id=7");
  EXPECT_EQ(e["httpVersion"], "HTTP/2");
  EXPECT_EQ(e["request"]["method"], "POST");
  EXPECT_EQ(e["request"]["path"], "/cart?id=7");
  EXPECT_EQ(e["request"]["headers"],
            json::parse(R"([[":method","POST"],["content-type","text/plain"],["Accept","*/*"]])"));
  EXPECT_EQ(e["request"]["bodySize"], 5);
  EXPECT_EQ(e["response"]["statusCode"], 201);
  EXPECT_EQ(e["response"]["httpVersion"], "HTTP/2");
  EXPECT_EQ(e["response"]["bodySize"], 23);
  EXPECT_EQ(e["remoteAddr"], (json{{"ip", "192.0.2.7"}, {"port", nullptr}}));
  EXPECT_EQ(e["timings"]["startedAt"], "2026-03-02T07:41:07.123Z");
  EXPECT_EQ(e["timings"]["blocked"], 1);
  EXPECT_TRUE(e["timings"]["dns"].is_null());
  EXPECT_EQ(e["timings"]["connect"], 3);  // HAR's 8 includes the 5 of TLS
  EXPECT_EQ(e["timings"]["ssl"], 5);
  EXPECT_EQ(e["duration"], 42.5);
  EXPECT_TRUE(e["error"].is_null());

  // Filters and bodies work on it like on a captured entry.
  const auto filtered =
      body_json(get("/api/sessions/" + sid + "/entries?host=shop.example&status=2xx"));
  EXPECT_EQ(filtered["total"], 1);
  const auto base = "/api/sessions/" + sid + "/entries/" + e["id"].get<std::string>();
  EXPECT_EQ(get(base + "/request/body").body(), "hello");
  // The HAR carries decoded content: served as it is, though the headers still name gzip.
  const auto body = get(base + "/response/body");
  EXPECT_EQ(body.body(), std::string("\x00\x01\x02", 3));
  EXPECT_EQ(body.count("X-Hark-Decode-Error"), 0u);
}

TEST_F(har_import, partial_import_reports_each_bad_entry) {
  auto no_url = browser_entry();
  no_url["request"].erase("url");
  auto bad_date = browser_entry();
  bad_date["startedDateTime"] = "yesterday";
  auto bad_base64 = browser_entry();
  bad_base64["response"]["content"]["text"] = "***";
  auto bad_header = browser_entry();
  bad_header["request"]["headers"][1] = json{{"name", "x"}};
  auto relative = browser_entry("/cart");
  const auto res = import(har_of(
      {browser_entry(), no_url, bad_date, 7, bad_base64, bad_header, relative, browser_entry()}));
  ASSERT_EQ(res.result(), http::status::ok) << res.body();
  const auto summary = body_json(res);
  EXPECT_EQ(summary["imported"], 2);
  EXPECT_EQ(summary["total"], 8);
  EXPECT_EQ(summary["errors"], json::parse(R"([
    {"index": 1, "error": "request.url must be a string"},
    {"index": 2, "error": "startedDateTime must be an ISO 8601 date and time"},
    {"index": 3, "error": "an entry must be an object"},
    {"index": 4, "error": "response.content.text is not valid base64"},
    {"index": 5, "error": "request.headers[1] must be {name, value} with string members"},
    {"index": 6, "error": "request.url must be an absolute URL with a host"}])"));
  const auto sid = summary["sessionId"].get<std::string>();
  EXPECT_EQ(entries_of(sid).size(), 2u);
  EXPECT_EQ(body_json(get("/api/sessions/" + sid))["trafficCount"], 2);
}

TEST_F(har_import, nothing_importable_is_400_and_creates_no_session) {
  auto bad = browser_entry();
  bad.erase("request");
  const auto res = import(har_of({bad}));
  EXPECT_EQ(res.result(), http::status::bad_request);
  const auto body = body_json(res);
  EXPECT_EQ(body["error"], "Invalid HAR: no entry could be imported");
  EXPECT_EQ(body["errors"][0]["error"], "request must be an object");
  EXPECT_EQ(body_json(get("/api/sessions"))["sessions"].size(), 0u);
}

TEST_F(har_import, empty_log_creates_an_empty_session) {
  const auto summary = body_json(import(har_of({})));
  EXPECT_EQ(summary["imported"], 0);
  EXPECT_EQ(summary["total"], 0);
  EXPECT_EQ(entries_of(summary["sessionId"]).size(), 0u);
}

TEST_F(har_import, into_an_existing_session) {
  const auto sid = create_session("existing")["id"].get<std::string>();
  insert(make_entry(sid, "example.com", 0ms));
  const auto summary = body_json(import(har_of({browser_entry()}), "?sessionId=" + sid));
  EXPECT_EQ(summary["sessionId"], sid);
  EXPECT_EQ(summary["sessionName"], "existing");
  const auto session = body_json(get("/api/sessions/" + sid));
  EXPECT_EQ(session["trafficCount"], 2);
  EXPECT_EQ(session["totalBytes"], 28);
  EXPECT_EQ(entries_of(sid).size(), 2u);

  auto res = import(har_of({browser_entry()}), "?sessionId=unknown");
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(error_of(res), "Session not found");
  res = import(har_of({browser_entry()}), "?sessionId=active");
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(error_of(res), "No active session");
}

TEST_F(har_import, browser_conventions_are_understood) {
  auto failed = browser_entry("http://down.example/");
  failed["response"] = json::parse(R"({"status": 0, "statusText": "", "httpVersion": "",
      "cookies": [], "headers": [], "content": {"size": 0, "mimeType": "x-unknown"},
      "redirectURL": "", "headersSize": -1, "bodySize": -1, "_error": "net::ERR_FAILED"})");
  failed["_error"] = "net::ERR_CONNECTION_REFUSED";
  failed["request"]["httpVersion"] = "http/1.1";
  failed["request"]["postData"] = json::parse(
      R"({"mimeType": "application/x-www-form-urlencoded",
          "params": [{"name": "a b", "value": "1&2"}, {"name": "c", "value": ""}]})");
  failed["request"]["bodySize"] = -1;
  const auto summary = body_json(import(har_of({failed})));
  const auto e = entries_of(summary["sessionId"])[0];
  EXPECT_TRUE(e["response"].is_null());
  EXPECT_EQ(e["error"], (json{{"code", "imported"}, {"message", "net::ERR_CONNECTION_REFUSED"}}));
  EXPECT_EQ(e["httpVersion"], "HTTP/1.1");
  EXPECT_EQ(e["request"]["bodySize"], 14);
  const auto body = get("/api/sessions/" + summary["sessionId"].get<std::string>() + "/entries/" +
                        e["id"].get<std::string>() + "/request/body");
  EXPECT_EQ(body.body(), "a%20b=1%262&c=");
}

TEST_F(har_import, round_trip_export_import_export_keeps_every_entry) {
  const auto sid = create_session("original")["id"].get<std::string>();
  insert(post_json(sid, 0ms));
  insert(binary_download(sid, 1ms));
  auto failed = make_entry(sid, "down.test", 2ms);
  failed.response.reset();
  failed.error = capture::flow_error{"connect_failed", "hark: cannot connect to down.test:80"};
  insert(std::move(failed));
  auto tls = make_entry(sid, "secure.example", 3ms);
  tls.url = "https://secure.example/path";
  tls.tls.connection_id = "01HQ0000000000000000000001";
  tls.tls.tls_version = capture::named_u16{772, "TLSv1.3"};
  tls.tls.ja3 = capture::ja3_fingerprint{"771,4865,0", "abc"};
  tls.upstream_http_version = "HTTP/1.1";
  tls.request.trailers = {{"x-checksum", "1"}};
  insert(std::move(tls));

  auto first = export_session(sid);
  // A WebSocket entry with messages, which capture does not store yet: import it first.
  auto ws = browser_entry("wss://chat.example/socket");
  ws["_resourceType"] = "websocket";
  ws["response"]["status"] = 101;
  ws["response"].erase("content");
  ws["_webSocketMessages"] = json::parse(R"([
      {"type": "send", "time": 1772437267.5, "opcode": 1, "data": "hi"},
      {"type": "receive", "time": 1772437267.625, "opcode": 2, "data": "AAE=", "_endTime": 1772437267.75},
      {"type": "receive", "time": 1772437268, "opcode": 8, "data": "bye", "_closeCode": 1000}])");
  const auto seeded = body_json(import(har_of({ws}), "?sessionId=" + sid));
  ASSERT_EQ(seeded["imported"], 1);
  first = export_session(sid);
  ASSERT_EQ(first["log"]["entries"].size(), 5u);

  const auto summary = body_json(import(first));
  EXPECT_EQ(summary["imported"], 5);
  auto second = export_session(summary["sessionId"].get<std::string>());
  auto& a = first["log"]["entries"];
  auto& b = second["log"]["entries"];
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_NE(a[i]["_harkEntryId"], b[i]["_harkEntryId"]);  // new ids
    a[i].erase("_harkEntryId");
    b[i].erase("_harkEntryId");
    EXPECT_EQ(a[i], b[i]) << i << "\n" << a[i].dump(1) << "\n" << b[i].dump(1);
  }
  const auto& messages = b[4]["_webSocketMessages"];
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(b[4]["_resourceType"], "websocket");
  EXPECT_EQ(messages[1], json::parse(R"({"type": "receive", "time": 1772437267.625, "opcode": 2,
      "data": "AAE=", "_endTime": 1772437267.75})"));
  EXPECT_EQ(messages[2]["_closeCode"], 1000);
}

}  // namespace
}  // namespace hark::api::test

namespace hark::api::test {
namespace {

TEST_F(har_import, websocket_messages_show_in_rest_and_rpc) {
  auto ws = browser_entry("wss://chat.example/socket");
  ws["_resourceType"] = "websocket";
  ws["_webSocketMessages"] = json::parse(R"([
      {"type": "send", "time": 1772437267.5, "opcode": 1, "data": "hi"},
      {"type": "receive", "time": 1772437267.625, "opcode": 2, "data": "AAE=",
       "_endTime": 1772437267.75},
      {"type": "receive", "time": 1772437268, "opcode": 8, "data": "bye", "_closeCode": 1000},
      {"type": "send", "time": 1772437268.5, "opcode": 8, "data": ""}])");
  const auto summary = body_json(import(har_of({ws})));
  const auto sid = summary["sessionId"].get<std::string>();
  const auto entry = entries_of(sid)[0];
  EXPECT_EQ(entry["isWebSocket"], true);
  const auto eid = entry["id"].get<std::string>();
  const auto expected = json::parse(R"([
      {"side": "client", "startedAt": "2026-03-02T07:41:07.500Z",
       "endedAt": null, "payload": {"type": "text", "text": "hi"}},
      {"side": "server", "startedAt": "2026-03-02T07:41:07.625Z",
       "endedAt": "2026-03-02T07:41:07.750Z", "payload": {"type": "binary", "data": "AAE="}},
      {"side": "server", "startedAt": "2026-03-02T07:41:08.000Z", "endedAt": null,
       "payload": {"type": "close", "code": 1000, "reason": "bye"}},
      {"side": "client", "startedAt": "2026-03-02T07:41:08.500Z", "endedAt": null,
       "payload": {"type": "close", "code": 1005, "reason": ""}}])");
  const auto rest = get("/api/sessions/" + sid + "/entries/" + eid + "/websocket");
  ASSERT_EQ(rest.result(), http::status::ok);
  EXPECT_EQ(body_json(rest), (json{{"messages", expected}}));
  const auto rpc =
      body_json(post("/api/rpc", json{{"jsonrpc", "2.0"},
                                      {"id", 1},
                                      {"method", "sessions/get_websocket_messages"},
                                      {"params", {{"sessionId", sid}, {"entryId", eid}}}}
                                     .dump()));
  EXPECT_EQ(rpc["result"], expected);
}

}  // namespace
}  // namespace hark::api::test
