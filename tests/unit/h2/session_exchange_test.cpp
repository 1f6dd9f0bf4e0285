// hark::h2::session: a client-role and a server-role session exchanging bytes in memory.
#include "session_test_support.hpp"

namespace {

using namespace hark::h2;
using namespace hark::h2::test;
using hark::capture::header_list;

struct h2_session_exchange : ::testing::Test {
  settings server_settings;
  settings client_settings;
  std::optional<session> server;
  std::optional<session> client;

  void start() {
    server.emplace(role::server, server_settings);
    client.emplace(role::client, client_settings);
    pump(*client, *server);
    client->clear_events();
    server->clear_events();
  }

  /** The request head the server saw on `stream`. */
  headers_event request_on_server() {
    const auto heads = events_of<headers_event>(*server);
    EXPECT_EQ(heads.size(), 1u);
    return heads.empty() ? headers_event{} : heads.front();
  }
};

TEST_F(h2_session_exchange, request_and_response_round_trip_in_wire_order) {
  start();
  const header_list request{
      {":method", "GET"},  {":scheme", "https"},        {":authority", "example.test"},
      {":path", "/a?b=1"}, {"user-agent", "curl/7.88"}, {"cookie", "a=1"},
      {"cookie", "b=2"}};
  const std::int32_t id = client->submit_request(request, true);
  ASSERT_EQ(id, 1);
  pump(*client, *server);

  const headers_event head = request_on_server();
  EXPECT_EQ(head.stream_id, 1);
  EXPECT_EQ(head.kind, head_kind::request);
  EXPECT_TRUE(head.end_stream);
  EXPECT_EQ(head.fields, request);
  server->clear_events();

  ASSERT_TRUE(
      server->submit_response(1, {{":status", "200"}, {"content-type", "text/plain"}}, false));
  ASSERT_TRUE(server->submit_data(1, "hello", true));
  pump(*client, *server);

  const auto heads = events_of<headers_event>(*client);
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_EQ(heads[0].kind, head_kind::response);
  EXPECT_EQ(heads[0].fields, (header_list{{":status", "200"}, {"content-type", "text/plain"}}));
  EXPECT_FALSE(heads[0].end_stream);
  const auto data = events_of<data_event>(*client);
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(data[0].bytes, "hello");
  EXPECT_TRUE(data[0].end_stream);
  const auto closed = events_of<stream_closed_event>(*client);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].stream_id, 1);
  EXPECT_EQ(closed[0].error_code, NGHTTP2_NO_ERROR);
  EXPECT_EQ(client->open_streams(), 0u);
  EXPECT_EQ(server->open_streams(), 0u);
  EXPECT_TRUE(client->want_read());
}

TEST_F(h2_session_exchange, the_client_preface_and_settings_come_first) {
  server.emplace(role::server, server_settings);
  client.emplace(role::client, client_settings);
  const std::string out = drain(*client);
  ASSERT_EQ(out.substr(0, client_magic.size()), client_magic);
  const auto frames = frames_of(out);
  ASSERT_GE(frames.size(), 2u);
  EXPECT_EQ(frames[0].type, NGHTTP2_SETTINGS);
  // The connection window opened to 16 MiB: 16 MiB - 65 535 on stream 0.
  EXPECT_EQ(frames[1].type, NGHTTP2_WINDOW_UPDATE);
  EXPECT_EQ(frames[1].stream, 0);
  EXPECT_EQ(be32(frames[1].payload, 0), (16u << 20) - 65535u);
  ASSERT_TRUE(server->receive(out).ok);
  EXPECT_EQ(events_of<settings_event>(*server).size(), 1u);
  EXPECT_EQ(server->remote_setting(NGHTTP2_SETTINGS_ENABLE_PUSH), 0u);
  EXPECT_EQ(server->remote_setting(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE), 4u << 20);
}

TEST_F(h2_session_exchange, trailers_follow_data_without_end_stream) {
  start();
  const header_list request{{":method", "POST"},
                            {":scheme", "http"},
                            {":authority", "grpc.test"},
                            {":path", "/pkg.Svc/Call"},
                            {"content-type", "application/grpc"},
                            {"te", "trailers"}};
  const std::int32_t id = client->submit_request(request, false);
  ASSERT_GT(id, 0);
  ASSERT_TRUE(client->submit_data(id, std::string("\0\0\0\0\x02hi", 7), false));
  ASSERT_TRUE(client->submit_trailers(id, {{"x-request-trailer", "1"}}));
  pump(*client, *server);
  const auto req_data = events_of<data_event>(*server);
  ASSERT_EQ(req_data.size(), 1u);
  EXPECT_FALSE(req_data[0].end_stream);
  const auto req_heads = events_of<headers_event>(*server);
  ASSERT_EQ(req_heads.size(), 2u);
  EXPECT_EQ(req_heads[1].kind, head_kind::trailers);
  EXPECT_TRUE(req_heads[1].end_stream);
  server->consume(id, req_data[0].bytes.size());
  server->clear_events();

  ASSERT_TRUE(server->submit_response(
      id, {{":status", "200"}, {"content-type", "application/grpc"}}, false));
  ASSERT_TRUE(server->submit_data(id, std::string("\0\0\0\0\x02ok", 7), false));
  ASSERT_TRUE(server->submit_trailers(id, {{"grpc-status", "0"}, {"grpc-message", ""}}));
  EXPECT_FALSE(server->submit_data(id, "late", true));  // the stream's end is already queued
  const auto frames = frames_of(drain(*server));
  std::vector<std::pair<std::uint8_t, std::uint8_t>> shape;
  for (const auto& f : frames) {
    if (f.stream == id) {
      shape.emplace_back(f.type, f.flags & NGHTTP2_FLAG_END_STREAM);
    }
  }
  const std::vector<std::pair<std::uint8_t, std::uint8_t>> expected{
      {NGHTTP2_HEADERS, 0}, {NGHTTP2_DATA, 0}, {NGHTTP2_HEADERS, NGHTTP2_FLAG_END_STREAM}};
  EXPECT_EQ(shape, expected);
}

TEST_F(h2_session_exchange, trailers_reach_the_client_as_a_trailers_event) {
  start();
  const std::int32_t id = client->submit_request(get_request(), true);
  pump(*client, *server);
  server->submit_response(id, {{":status", "200"}}, false);
  server->submit_data(id, "body", false);
  server->submit_trailers(id, {{"grpc-status", "0"}});
  pump(*client, *server);
  const auto heads = events_of<headers_event>(*client);
  ASSERT_EQ(heads.size(), 2u);
  EXPECT_EQ(heads[0].kind, head_kind::response);
  EXPECT_EQ(heads[1].kind, head_kind::trailers);
  EXPECT_EQ(heads[1].fields, (header_list{{"grpc-status", "0"}}));
  EXPECT_TRUE(heads[1].end_stream);
  const auto data = events_of<data_event>(*client);
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(data[0].bytes, "body");
  EXPECT_FALSE(data[0].end_stream);
}

TEST_F(h2_session_exchange, informational_heads_precede_the_final_response) {
  start();
  const std::int32_t id = client->submit_request(get_request(), true);
  pump(*client, *server);
  ASSERT_TRUE(
      server->submit_response(id, {{":status", "103"}, {"link", "</s.css>; rel=preload"}}, false));
  ASSERT_TRUE(server->submit_response(id, {{":status", "204"}}, true));
  pump(*client, *server);
  const auto heads = events_of<headers_event>(*client);
  ASSERT_EQ(heads.size(), 2u);
  EXPECT_EQ(heads[0].kind, head_kind::informational);
  EXPECT_EQ(heads[0].fields[1].second, "</s.css>; rel=preload");
  EXPECT_FALSE(heads[0].end_stream);
  EXPECT_EQ(heads[1].kind, head_kind::response);
  EXPECT_TRUE(heads[1].end_stream);
}

TEST_F(h2_session_exchange, a_push_promise_reaches_a_client_that_allows_push) {
  client_settings.enable_push = true;
  start();
  const std::int32_t id = client->submit_request(get_request("/index.html"), true);
  pump(*client, *server);
  const std::int32_t promised = server->submit_push_promise(id, get_request("/style.css"));
  ASSERT_EQ(promised, 2);
  ASSERT_TRUE(server->submit_response(promised, {{":status", "200"}}, false));
  ASSERT_TRUE(server->submit_data(promised, "body{}", true));
  ASSERT_TRUE(server->submit_response(id, {{":status", "200"}}, true));
  pump(*client, *server);

  const auto heads = events_of<headers_event>(*client);
  ASSERT_EQ(heads.size(), 3u);
  EXPECT_EQ(heads[0].kind, head_kind::push_promise);
  EXPECT_EQ(heads[0].stream_id, id);
  EXPECT_EQ(heads[0].promised_stream_id, promised);
  EXPECT_EQ(heads[0].fields, get_request("/style.css"));
  bool pushed_response = false;
  for (const auto& h : heads) {
    pushed_response |= h.stream_id == promised && h.kind == head_kind::response;
  }
  EXPECT_TRUE(pushed_response);
  const auto data = events_of<data_event>(*client);
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(data[0].stream_id, promised);
  EXPECT_EQ(data[0].bytes, "body{}");
  EXPECT_EQ(client->open_streams(), 0u);
  EXPECT_EQ(server->open_streams(), 0u);
}

TEST_F(h2_session_exchange, no_push_promise_when_the_client_disabled_push) {
  start();
  const std::int32_t id = client->submit_request(get_request(), true);
  pump(*client, *server);
  EXPECT_EQ(server->submit_push_promise(id, get_request("/style.css")), 0);
}

TEST_F(h2_session_exchange, rst_stream_travels_both_ways_with_its_code) {
  start();
  const std::int32_t a = client->submit_request(get_request("/a"), false);
  const std::int32_t b = client->submit_request(get_request("/b"), false);
  pump(*client, *server);
  server->clear_events();
  client->submit_rst(a, NGHTTP2_CANCEL);
  server->submit_rst(b, NGHTTP2_REFUSED_STREAM);
  pump(*client, *server);

  const auto on_server = events_of<reset_event>(*server);
  ASSERT_EQ(on_server.size(), 1u);
  EXPECT_EQ(on_server[0].stream_id, a);
  EXPECT_EQ(on_server[0].error_code, NGHTTP2_CANCEL);
  const auto on_client = events_of<reset_event>(*client);
  ASSERT_EQ(on_client.size(), 1u);
  EXPECT_EQ(on_client[0].stream_id, b);
  EXPECT_EQ(on_client[0].error_code, NGHTTP2_REFUSED_STREAM);
  const auto closed = events_of<stream_closed_event>(*client);
  ASSERT_EQ(closed.size(), 2u);
  EXPECT_EQ(client->open_streams(), 0u);
  EXPECT_EQ(server->open_streams(), 0u);
  EXPECT_FALSE(client->submit_data(a, "x", true));
}

TEST_F(h2_session_exchange, goaway_carries_its_code_and_ends_new_requests) {
  start();
  const std::int32_t id = client->submit_request(get_request(), false);
  pump(*client, *server);
  server->submit_goaway(NGHTTP2_ENHANCE_YOUR_CALM, "slow down");
  pump(*client, *server);
  const auto away = events_of<goaway_event>(*client);
  ASSERT_EQ(away.size(), 1u);
  EXPECT_EQ(away[0].error_code, NGHTTP2_ENHANCE_YOUR_CALM);
  EXPECT_EQ(away[0].last_stream_id, id);
  EXPECT_EQ(away[0].debug, "slow down");
  EXPECT_EQ(server->local_goaway_code(), NGHTTP2_ENHANCE_YOUR_CALM);
  EXPECT_LT(client->submit_request(get_request("/late"), true), 0);
  // The stream below last_stream_id still completes, then both sides are done.
  client->submit_data(id, "", true);
  server->submit_response(id, {{":status", "200"}}, true);
  pump(*client, *server);
  EXPECT_FALSE(server->want_read());
  EXPECT_FALSE(server->want_write());
  EXPECT_FALSE(client->want_read());
  EXPECT_FALSE(client->want_write());
}

TEST_F(h2_session_exchange, extended_connect_when_the_server_enables_it) {
  start();
  ASSERT_EQ(client->remote_setting(NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL), 1u);
  const header_list request{{":method", "CONNECT"},         {":protocol", "websocket"},
                            {":scheme", "https"},           {":path", "/chat"},
                            {":authority", "example.test"}, {"sec-websocket-version", "13"}};
  const std::int32_t id = client->submit_request(request, false);
  ASSERT_GT(id, 0);
  pump(*client, *server);
  EXPECT_EQ(request_on_server().fields, request);
  server->clear_events();
  server->submit_response(id, {{":status", "200"}}, false);
  server->submit_data(id, "frame", false);
  client->submit_data(id, "frame", false);
  pump(*client, *server);
  EXPECT_EQ(events_of<data_event>(*server).size(), 1u);
  EXPECT_EQ(events_of<data_event>(*client).size(), 1u);
}

TEST_F(h2_session_exchange, extended_connect_is_refused_when_the_server_did_not_enable_it) {
  server_settings.enable_connect_protocol = false;
  start();
  EXPECT_EQ(client->remote_setting(NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL), 0u);
  EXPECT_LT(client->submit_request({{":method", "CONNECT"},
                                    {":protocol", "websocket"},
                                    {":scheme", "https"},
                                    {":path", "/chat"},
                                    {":authority", "example.test"}},
                                   false),
            0);
}

}  // namespace
