#include "hark/capture/entry_json.hpp"

#include <gtest/gtest.h>

#include <set>

namespace {

using hark::capture::entry_record;
using nlohmann::json;

std::set<std::string> keys(const json& object) {
  std::set<std::string> out;
  for (const auto& item : object.items()) {
    out.insert(item.key());
  }
  return out;
}

/** An HTTPS h2 exchange with every field filled in. */
entry_record full_record() {
  entry_record r;
  r.id = "01HQ0000000000000000000000";
  r.session_id = "2b7c9a3e-1111-4222-8333-444455556666";
  r.url = "https://example.com/api?x=1";
  r.host = "example.com";
  r.client_addr = hark::capture::net_address{"127.0.0.1", 51234};
  r.remote_addr = hark::capture::net_address{"93.184.216.34", 443};
  r.http_version = "HTTP/2";
  r.request.method = "POST";
  r.request.path = "/api?x=1";
  r.request.http_version = "HTTP/2";
  r.request.headers = {
      {":method", "POST"}, {":path", "/api?x=1"}, {"zeta", "1"}, {"alpha", "2"}, {"zeta", "3"}};
  r.request.trailers = {{"grpc-status", "0"}};
  r.request.body_size = 12;
  r.request.body_truncated = true;
  hark::capture::response_record response;
  response.http_version = "HTTP/2";
  response.status_code = 201;
  response.status_text = "Created";
  response.headers = {{":status", "201"}, {"content-type", "application/json"}};
  response.body_size = 34;
  r.response = response;
  r.tls.connection_id = "01HQ0000000000000000000001";
  r.tls.tls_version = hark::capture::named_u16{772, "TLSv1.3"};
  r.tls.cipher_suite = hark::capture::named_u16{4865, "TLS_AES_128_GCM_SHA256"};
  r.tls.ja3 = hark::capture::ja3_fingerprint{"771,4865-4866,0-23,29,0", "abcdef"};
  r.tls.ja4 = hark::capture::ja4_fingerprint{"t13d_raw", "t13d_hashed"};
  r.http2 = hark::capture::http2_ref{"01HQ0000000000000000000002", 3};
  r.upstream_http2 = hark::capture::http2_ref{"01HQ0000000000000000000003", 5};
  r.upstream_http_version = "HTTP/2";
  r.timings.started_at =
      std::chrono::system_clock::time_point(std::chrono::microseconds(1709136000123456));
  r.timings.blocked = 0.5;
  r.timings.dns = 1.0;
  r.timings.connect = 2.0;
  r.timings.ssl = 3.0;
  r.timings.send = 0.25;
  r.timings.wait = 10.0;
  r.timings.receive = 4.0;
  std::promise<std::optional<hark::capture::process_info>> process;
  process.set_value(hark::capture::process_info{1234, "curl"});
  r.process = process.get_future().share();
  r.duration_ms = 20.75;
  return r;
}

TEST(entry_json, has_every_seed_and_extension_field) {
  const auto j = hark::capture::to_json(full_record());
  EXPECT_EQ(keys(j),
            (std::set<std::string>{"id", "url", "clientAddr", "remoteAddr", "httpVersion",
                                   "transactionType", "request", "response", "isWebSocket", "tls",
                                   "http2", "timings", "process", "sessionId", "error",
                                   "upstreamHttpVersion", "upstreamHttp2", "duration"}));
  EXPECT_EQ(keys(j["request"]), (std::set<std::string>{"method", "path", "httpVersion", "headers",
                                                       "bodySize", "bodyTruncated", "trailers"}));
  EXPECT_EQ(keys(j["response"]),
            (std::set<std::string>{"httpVersion", "statusCode", "statusText", "headers", "bodySize",
                                   "bodyTruncated", "trailers"}));
  EXPECT_EQ(keys(j["tls"]),
            (std::set<std::string>{"connectionId", "tlsVersion", "cipherSuite", "ja3", "ja4"}));
  EXPECT_EQ(keys(j["timings"]), (std::set<std::string>{"startedAt", "blocked", "dns", "connect",
                                                       "send", "wait", "receive", "ssl"}));
}

TEST(entry_json, maps_values_as_the_seed_types_them) {
  const auto j = hark::capture::to_json(full_record());
  EXPECT_EQ(j["id"], "01HQ0000000000000000000000");
  EXPECT_EQ(j["sessionId"], "2b7c9a3e-1111-4222-8333-444455556666");
  EXPECT_EQ(j["url"], "https://example.com/api?x=1");
  EXPECT_EQ(j["clientAddr"], (json{{"ip", "127.0.0.1"}, {"port", 51234}}));
  EXPECT_EQ(j["remoteAddr"], (json{{"ip", "93.184.216.34"}, {"port", 443}}));
  EXPECT_EQ(j["httpVersion"], "HTTP/2");
  EXPECT_EQ(j["transactionType"], "request");
  EXPECT_EQ(j["isWebSocket"], false);
  EXPECT_EQ(j["request"]["method"], "POST");
  EXPECT_EQ(j["request"]["path"], "/api?x=1");
  EXPECT_EQ(j["request"]["bodySize"], 12);
  EXPECT_EQ(j["request"]["bodyTruncated"], true);
  EXPECT_EQ(j["request"]["trailers"], json::parse(R"([["grpc-status","0"]])"));
  EXPECT_EQ(j["response"]["statusCode"], 201);
  EXPECT_EQ(j["response"]["statusText"], "Created");
  EXPECT_EQ(j["response"]["bodySize"], 34);
  EXPECT_EQ(j["response"]["bodyTruncated"], false);
  EXPECT_EQ(j["response"]["trailers"], json::array());
  EXPECT_EQ(j["tls"]["connectionId"], "01HQ0000000000000000000001");
  EXPECT_EQ(j["tls"]["tlsVersion"], (json{{"value", 772}, {"name", "TLSv1.3"}}));
  EXPECT_EQ(j["tls"]["cipherSuite"], (json{{"value", 4865}, {"name", "TLS_AES_128_GCM_SHA256"}}));
  EXPECT_EQ(j["tls"]["ja3"], (json{{"string", "771,4865-4866,0-23,29,0"}, {"hash", "abcdef"}}));
  EXPECT_EQ(j["tls"]["ja4"], (json{{"raw", "t13d_raw"}, {"hashed", "t13d_hashed"}}));
  EXPECT_EQ(j["http2"], (json{{"connectionId", "01HQ0000000000000000000002"}, {"streamId", 3}}));
  EXPECT_EQ(j["upstreamHttp2"],
            (json{{"connectionId", "01HQ0000000000000000000003"}, {"streamId", 5}}));
  EXPECT_EQ(j["upstreamHttpVersion"], "HTTP/2");
  EXPECT_EQ(j["timings"]["startedAt"], "2024-02-28T16:00:00.123Z");
  EXPECT_EQ(j["timings"]["blocked"], 0.5);
  EXPECT_EQ(j["timings"]["dns"], 1.0);
  EXPECT_EQ(j["timings"]["connect"], 2.0);
  EXPECT_EQ(j["timings"]["ssl"], 3.0);
  EXPECT_EQ(j["timings"]["send"], 0.25);
  EXPECT_EQ(j["timings"]["wait"], 10.0);
  EXPECT_EQ(j["timings"]["receive"], 4.0);
  EXPECT_EQ(j["process"], (json{{"pid", 1234}, {"name", "curl"}}));
  EXPECT_TRUE(j["error"].is_null());
  EXPECT_EQ(j["duration"], 20.75);
}

TEST(entry_json, headers_are_name_value_pairs_in_received_order) {
  const auto j = hark::capture::to_json(full_record());
  EXPECT_EQ(j["request"]["headers"],
            json::parse(R"([[":method","POST"],[":path","/api?x=1"],["zeta","1"],["alpha","2"],)"
                        R"(["zeta","3"]])"));
  EXPECT_EQ(j["response"]["headers"],
            json::parse(R"([[":status","201"],["content-type","application/json"]])"));
}

TEST(entry_json, plain_failed_exchange_has_null_members) {
  entry_record r;
  r.id = "01HQ0000000000000000000009";
  r.session_id = "s";
  r.url = "http://down.test/";
  r.http_version = "HTTP/1.1";
  r.request.method = "GET";
  r.error = hark::capture::flow_error{"connect_failed", "hark: cannot connect to down.test:80"};
  const auto j = hark::capture::to_json(r);
  EXPECT_TRUE(j["clientAddr"].is_null());
  EXPECT_TRUE(j["remoteAddr"].is_null());
  EXPECT_TRUE(j["response"].is_null());
  EXPECT_TRUE(j["http2"].is_null());
  EXPECT_TRUE(j["upstreamHttp2"].is_null());
  EXPECT_TRUE(j["upstreamHttpVersion"].is_null());
  EXPECT_TRUE(j["process"].is_null());
  EXPECT_TRUE(j["duration"].is_null());
  EXPECT_TRUE(j["request"]["path"].is_null());
  EXPECT_TRUE(j["request"]["bodySize"].is_null());
  EXPECT_EQ(j["request"]["headers"], json::array());
  // The tls object is always there; its members are null for plain HTTP.
  ASSERT_TRUE(j["tls"].is_object());
  for (const char* member : {"connectionId", "tlsVersion", "cipherSuite", "ja3", "ja4"}) {
    EXPECT_TRUE(j["tls"].contains(member)) << member;
    EXPECT_TRUE(j["tls"][member].is_null()) << member;
  }
  for (const char* timing : {"blocked", "dns", "connect", "send", "wait", "receive", "ssl"}) {
    EXPECT_TRUE(j["timings"][timing].is_null()) << timing;
  }
  EXPECT_EQ(j["error"], (json{{"code", "connect_failed"},
                              {"message", "hark: cannot connect to down.test:80"}}));
  EXPECT_EQ(j["timings"]["startedAt"], "1970-01-01T00:00:00.000Z");
}

TEST(entry_json, address_without_port_and_process_without_name) {
  entry_record r;
  r.client_addr = hark::capture::net_address{"::1", std::nullopt};
  std::promise<std::optional<hark::capture::process_info>> process;
  process.set_value(hark::capture::process_info{7, std::nullopt});
  r.process = process.get_future().share();
  const auto j = hark::capture::to_json(r);
  EXPECT_EQ(j["clientAddr"], (json{{"ip", "::1"}, {"port", nullptr}}));
  EXPECT_EQ(j["process"], (json{{"pid", 7}, {"name", nullptr}}));
}

TEST(entry_json, pending_or_unresolved_process_is_null) {
  entry_record r;
  std::promise<std::optional<hark::capture::process_info>> pending;
  r.process = pending.get_future().share();
  EXPECT_TRUE(hark::capture::to_json(r)["process"].is_null());
  pending.set_value(std::nullopt);
  EXPECT_TRUE(hark::capture::to_json(r)["process"].is_null());

  std::optional<std::promise<std::optional<hark::capture::process_info>>> broken;
  broken.emplace();
  r.process = broken->get_future().share();
  broken.reset();  // the resolver went away
  EXPECT_TRUE(hark::capture::to_json(r)["process"].is_null());
}

TEST(entry_json, websocket_and_push_promise_entries) {
  entry_record r;
  r.url = "wss://example.com/socket";
  r.is_websocket = true;
  r.transaction_type = "push_promise";
  const auto j = hark::capture::to_json(r);
  EXPECT_EQ(j["isWebSocket"], true);
  EXPECT_EQ(j["transactionType"], "push_promise");
  EXPECT_EQ(j["url"], "wss://example.com/socket");
}

TEST(entry_json, invalid_utf8_in_headers_serializes_with_replacement) {
  entry_record r;
  r.request.headers = {{"X-Bin", std::string("a\xff\xfe"
                                             "b")}};
  // The stored document is valid JSON whatever bytes the headers held: each invalid byte
  // becomes U+FFFD.
  const auto text = hark::capture::to_json_string(r);
  EXPECT_TRUE(json::accept(text));
  EXPECT_NE(text.find("a\xEF\xBF\xBD\xEF\xBF\xBD"
                      "b"),
            std::string::npos);  // U+FFFD twice
  EXPECT_EQ(hark::capture::to_json(r)["request"]["headers"][0][1], "a\uFFFD\uFFFDb");
}

TEST(entry_json, stored_document_lists_seed_fields_in_seed_order) {
  entry_record r;
  r.id = "01J00000000000000000000000";
  const auto text = hark::capture::to_json_string(r);
  std::size_t last = 0;
  for (const char* key :
       {"\"id\"", "\"url\"", "\"clientAddr\"", "\"remoteAddr\"", "\"httpVersion\"",
        "\"transactionType\"", "\"request\"", "\"response\"", "\"isWebSocket\"", "\"tls\"",
        "\"http2\"", "\"timings\"", "\"process\"", "\"sessionId\""}) {
    const auto at = text.find(key);
    ASSERT_NE(at, std::string::npos) << key;
    EXPECT_GE(at, last) << key;
    last = at;
  }
}

}  // namespace

namespace {

TEST(entry_json_read, reads_back_every_field_it_wrote) {
  const auto original = full_record();
  const auto document = hark::capture::to_json_string(original);
  const auto read = hark::capture::entry_from_json(document);
  // Serializing what was read gives the same document: no field is lost on the way back.
  EXPECT_EQ(hark::capture::to_json_string(read), document);
  EXPECT_EQ(read.request.headers, original.request.headers);
  EXPECT_EQ(read.timings.started_at,
            std::chrono::time_point_cast<std::chrono::milliseconds>(original.timings.started_at));
  ASSERT_TRUE(read.process.valid());
  EXPECT_EQ(read.process.get()->name, "curl");
}

TEST(entry_json_read, failed_exchange_without_response_reads_back) {
  entry_record r;
  r.id = "01HQ0000000000000000000009";
  r.url = "http://down.test/";
  r.request.method = "GET";
  r.error = hark::capture::flow_error{"connect_failed", "hark: cannot connect"};
  const auto read = hark::capture::entry_from_json(hark::capture::to_json_string(r));
  EXPECT_FALSE(read.response);
  EXPECT_FALSE(read.client_addr);
  EXPECT_FALSE(read.process.valid());
  ASSERT_TRUE(read.error);
  EXPECT_EQ(read.error->code, "connect_failed");
  EXPECT_FALSE(read.timings.connect);
}

TEST(entry_json_read, lenient_on_missing_members_and_strict_on_non_objects) {
  const auto read = hark::capture::entry_from_json(R"({"id":"x","request":{"headers":[["a"]]}})");
  EXPECT_EQ(read.id, "x");
  EXPECT_TRUE(read.request.headers.empty());
  EXPECT_EQ(read.transaction_type, "request");
  EXPECT_THROW(hark::capture::entry_from_json("[1]"), nlohmann::json::exception);
  EXPECT_THROW(hark::capture::entry_from_json("{"), nlohmann::json::exception);
}

}  // namespace
