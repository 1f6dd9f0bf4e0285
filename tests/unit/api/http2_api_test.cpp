// GET /api/http2/:connectionId, GET /api/http2/:connectionId/streams/:streamId and the JSON-RPC
// http2/* methods over frames a real tap logged and the real writer stored.

#include "api_fixture.hpp"

#include "hark/h2/frame_tap.hpp"

#include "../h2/frame_script.hpp"

namespace hark::api::test {
namespace {

using namespace hark::h2::test;

class api_http2 : public api_fixture {
 protected:
  api_http2() {
    sid_ = create_session("h2")["id"].get<std::string>();
    sink_.session = sid_;
    store::writer_options options;
    options.database_path = db_path();
    writer_ = std::make_unique<store::writer>(std::move(options));
  }

  /** Logs a client-side connection: a GET on stream 1 answered with a body, a request on stream
   *  3 reset by the server, and connection-level SETTINGS and PING. */
  void log_client_connection(const std::string& connection_id) {
    {
      h2::frame_tap tap(sink_, connection_id, capture::h2_leg::client,
                        capture::net_address{"127.0.0.1", 51000});
      tap.received(std::string(preface) + frame(0x4, 0, 0, setting(2, 0)) +
                   frame(0x1, 0x5, 1, "\x82\x87") + frame(0x1, 0x5, 3, "\x82"));
      tap.sent(frame(0x4, 0, 0, setting(3, 250)) + frame(0x4, 0x1, 0, "") +
               frame(0x1, 0x4, 1, "\x88") + frame(0x0, 0x1, 1, "hi") + frame(0x3, 0, 3, u32(7)));
      tap.received(frame(0x6, 0, 0, "abcdefgh"));
    }
    store();
  }

  void store() {
    for (auto& batch : sink_.batches) {
      writer_->submit_h2(std::move(batch));
    }
    sink_.batches.clear();
    writer_->flush();
  }

  json rpc_result(const std::string& method, const json& params) {
    const json req{{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", params}};
    const auto res = call(http::verb::post, "/api/rpc", req.dump());
    EXPECT_EQ(res.result(), http::status::ok);
    const auto body = body_json(res);
    EXPECT_TRUE(body.contains("result")) << body;
    return body.value("result", json("<no result>"));
  }

  std::string sid_;
  batch_sink sink_;
};

TEST_F(api_http2, stream_ids_ascending_with_zero) {
  log_client_connection("01H2CLIENT");
  const auto res = get("/api/http2/01H2CLIENT");
  EXPECT_EQ(res.result(), http::status::ok);
  EXPECT_EQ(res[http::field::content_type], "application/json; charset=utf-8");
  EXPECT_EQ(body_json(res), json::array({0, 1, 3}));
  EXPECT_EQ(rpc_result("http2/get_stream_ids", {{"connectionId", "01H2CLIENT"}}),
            json::array({0, 1, 3}));
}

TEST_F(api_http2, a_stream_as_http2_events) {
  log_client_connection("01H2CLIENT");
  const auto res = get("/api/http2/01H2CLIENT/streams/1");
  ASSERT_EQ(res.result(), http::status::ok);
  const auto events = body_json(res);
  ASSERT_EQ(events.size(), 3U);
  EXPECT_EQ(events[0]["side"], "client");
  EXPECT_EQ(events[0]["type"], "headers");
  EXPECT_EQ(events[0]["streamId"], 1);
  EXPECT_EQ(events[0]["flags"]["value"], 5);
  EXPECT_EQ(events[0]["headerBlockFragment"], "8287");
  EXPECT_TRUE(events[0]["at"].get<std::string>().ends_with("Z"));
  EXPECT_EQ(events[1]["side"], "server");
  EXPECT_EQ(events[2]["type"], "data");
  EXPECT_EQ(events[2]["dataLength"], 2);
  EXPECT_EQ(rpc_result("http2/get_stream", {{"connectionId", "01H2CLIENT"}, {"streamId", 1}}),
            events);

  const auto reset = body_json(get("/api/http2/01H2CLIENT/streams/3"));
  ASSERT_EQ(reset.size(), 2U);
  EXPECT_EQ(reset[1]["type"], "rst_stream");
  EXPECT_EQ(reset[1]["errorCode"], (json{{"value", 7}, {"name", "REFUSED_STREAM"}}));

  const auto connection = body_json(get("/api/http2/01H2CLIENT/streams/0"));
  ASSERT_EQ(connection.size(), 4U);
  EXPECT_EQ(connection[0]["settings"][0]["identifier"]["name"], "ENABLE_PUSH");
  EXPECT_EQ(connection[3]["type"], "ping");
}

TEST_F(api_http2, unknown_connections_and_streams_are_404_and_null) {
  log_client_connection("01H2CLIENT");
  auto res = get("/api/http2/01NOSUCHCONN");
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(error_of(res), "HTTP/2 connection not found");
  res = get("/api/http2/01NOSUCHCONN/streams/1");
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(error_of(res), "HTTP/2 connection not found");
  res = get("/api/http2/01H2CLIENT/streams/5");
  EXPECT_EQ(res.result(), http::status::not_found);
  EXPECT_EQ(error_of(res), "HTTP/2 stream not found");
  for (const std::string bad : {"-1", "x", "1x", "2147483648", "99999999999", "+1", ""}) {
    res = get("/api/http2/01H2CLIENT/streams/" + bad);
    if (bad.empty()) {
      EXPECT_EQ(error_of(res), "Not found") << "`streams/` is `streams`: no such route";
      continue;
    }
    EXPECT_EQ(res.result(), http::status::bad_request) << bad;
    EXPECT_EQ(error_of(res), "Invalid stream id: use an integer from 0 to 2147483647");
  }
  EXPECT_EQ(rpc_result("http2/get_stream_ids", {{"connectionId", "01NOSUCHCONN"}}), nullptr);
  EXPECT_EQ(rpc_result("http2/get_stream", {{"connectionId", "01NOSUCHCONN"}, {"streamId", 1}}),
            nullptr);
  EXPECT_EQ(rpc_result("http2/get_stream", {{"connectionId", "01H2CLIENT"}, {"streamId", 5}}),
            nullptr);
}

TEST_F(api_http2, the_log_goes_with_its_session) {
  log_client_connection("01H2CLIENT");
  EXPECT_EQ(call(http::verb::delete_, "/api/sessions/" + sid_).result(), http::status::ok);
  EXPECT_EQ(get("/api/http2/01H2CLIENT").result(), http::status::not_found);
}

TEST_F(api_http2, only_get_is_allowed_and_the_token_is_required) {
  log_client_connection("01H2CLIENT");
  const auto res = call(http::verb::post, "/api/http2/01H2CLIENT");
  EXPECT_EQ(res.result(), http::status::method_not_allowed);
  EXPECT_EQ(res[http::field::allow], "GET");
  ctx_->api_token = "secret";
  EXPECT_EQ(get("/api/http2/01H2CLIENT/streams/1").result(), http::status::unauthorized);
  EXPECT_EQ(call(http::verb::get, "/api/http2/01H2CLIENT", {}, "evil.example:8889").result(),
            http::status::forbidden);
}

}  // namespace
}  // namespace hark::api::test
