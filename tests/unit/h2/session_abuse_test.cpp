// hark::h2::session against bad input: hand-built byte strings from a hostile or broken peer,
// asserting the GOAWAY / RST_STREAM code Hark answers with (RFC 9113 §5.4, §10.5).
#include "session_test_support.hpp"

namespace {

using namespace hark::h2;
using namespace hark::h2::test;
using hark::capture::header_list;

constexpr std::uint8_t end_headers = NGHTTP2_FLAG_END_HEADERS;
constexpr std::uint8_t end_both = NGHTTP2_FLAG_END_HEADERS | NGHTTP2_FLAG_END_STREAM;

struct h2_session_abuse : ::testing::Test {
  settings cfg;
  std::optional<session> server;
  receive_result result;
  std::vector<wire_frame> out;

  /** Starts a server-role session, feeds it `bytes`, and collects what it answers. */
  void feed(const std::string& bytes) {
    server.emplace(role::server, cfg);
    result = server->receive(bytes);
    out = frames_of(drain(*server));
  }
};

TEST_F(h2_session_abuse, a_bad_preface_is_a_protocol_error) {
  feed("GET / HTTP/1.1\r\nHost: example.test\r\n\r\n");
  EXPECT_FALSE(result.ok);
  EXPECT_FALSE(result.reason.empty());
  EXPECT_EQ(goaway_code(out), NGHTTP2_PROTOCOL_ERROR);
  EXPECT_FALSE(server->want_read());
  EXPECT_EQ(server->receive(client_preface()).consumed, 0u);
}

TEST_F(h2_session_abuse, data_on_stream_zero_is_a_protocol_error) {
  feed(client_preface() + frame(NGHTTP2_DATA, 0, 0, "x"));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(goaway_code(out), NGHTTP2_PROTOCOL_ERROR);
  EXPECT_FALSE(server->want_read());
}

TEST_F(h2_session_abuse, a_settings_frame_of_bad_length_is_a_frame_size_error) {
  feed(client_preface() + frame(NGHTTP2_SETTINGS, 0, 0, "12345"));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(goaway_code(out), NGHTTP2_FRAME_SIZE_ERROR);
}

TEST_F(h2_session_abuse, a_well_formed_request_is_served) {
  feed(client_preface() + settings_ack() +
       frame(NGHTTP2_HEADERS, end_both, 1, hpack_block(get_request())));
  EXPECT_TRUE(result.ok);
  EXPECT_EQ(goaway_code(out), std::nullopt);
  const auto heads = events_of<headers_event>(*server);
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_EQ(heads[0].fields, get_request());
}

TEST_F(h2_session_abuse, an_hpack_bomb_ends_the_connection_with_enhance_your_calm) {
  // One 4 000-byte entry added to the dynamic table, then referenced 4 000 times by one byte
  // each (index 62): 8 KiB on the wire decoding to 16 MB of header fields.
  std::string block = hpack_block(get_request());
  block += std::string(1, '\x40') + hpack_string("x-bomb") + hpack_string(std::string(4000, 'a'));
  block += std::string(4000, '\xbe');
  feed(client_preface() + settings_ack() + frame(NGHTTP2_HEADERS, end_both, 1, block));
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.reason.find("HPACK bomb"), std::string::npos);
  EXPECT_EQ(goaway_code(out), NGHTTP2_ENHANCE_YOUR_CALM);
  EXPECT_TRUE(events_of<headers_event>(*server).empty());
}

TEST_F(h2_session_abuse, a_continuation_flood_ends_the_connection) {
  std::string bytes =
      client_preface() + settings_ack() +
      frame(NGHTTP2_HEADERS, NGHTTP2_FLAG_END_STREAM, 1, hpack_block(get_request()));
  for (int i = 0; i < 20; ++i) {
    bytes += frame(NGHTTP2_CONTINUATION, 0, 1, hpack_literal("x-c", "1"));
  }
  feed(bytes);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(goaway_code(out), NGHTTP2_ENHANCE_YOUR_CALM);
}

TEST_F(h2_session_abuse, an_invalid_hpack_index_is_a_compression_error) {
  // Indexed field 0x7f + 2^21: far beyond the static and dynamic tables (RFC 7541 §2.3.3).
  feed(client_preface() + settings_ack() +
       frame(NGHTTP2_HEADERS, end_both, 1, std::string("\xff\x80\x80\x80\x01", 5)));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(goaway_code(out), NGHTTP2_COMPRESSION_ERROR);
}

/** `pairs` streams each opened by HEADERS and at once cancelled by RST_STREAM. */
std::string open_and_reset(int pairs) {
  std::string bytes = client_preface() + settings_ack();
  for (int i = 0; i < pairs; ++i) {
    const std::int32_t id = 1 + 2 * i;
    bytes += frame(NGHTTP2_HEADERS, end_headers, id, hpack_block(get_request()));
    bytes += frame(NGHTTP2_RST_STREAM, 0, id, u32(NGHTTP2_CANCEL));
  }
  return bytes;
}

TEST_F(h2_session_abuse, rapid_reset_ends_the_connection_with_enhance_your_calm) {
  cfg.reset_burst = 20;
  cfg.reset_rate = 1;
  feed(open_and_reset(40));
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.reason.find("rapid reset"), std::string::npos);
  EXPECT_EQ(goaway_code(out), NGHTTP2_ENHANCE_YOUR_CALM);
  EXPECT_FALSE(server->want_read());
  EXPECT_FALSE(server->want_write());
}

TEST_F(h2_session_abuse, resets_within_the_budget_are_fine) {
  cfg.reset_burst = 20;
  cfg.reset_rate = 1;
  feed(open_and_reset(15));
  EXPECT_TRUE(result.ok);
  EXPECT_EQ(goaway_code(out), std::nullopt);
  EXPECT_EQ(events_of<reset_event>(*server).size(), 15u);
  EXPECT_EQ(server->open_streams(), 0u);
}

TEST_F(h2_session_abuse, streams_beyond_the_limit_are_refused) {
  cfg.max_concurrent_streams = 2;
  // The client has not acknowledged the limit yet (RFC 9113 §5.1.2 allows the race): the third
  // stream is refused alone, the connection goes on.
  std::string bytes = client_preface();
  for (std::int32_t id : {1, 3, 5}) {
    bytes += frame(NGHTTP2_HEADERS, end_headers, id, hpack_block(get_request()));
  }
  feed(bytes);
  EXPECT_TRUE(result.ok);
  EXPECT_EQ(rst_code(out, 5), NGHTTP2_REFUSED_STREAM);
  EXPECT_EQ(rst_code(out, 1), std::nullopt);
  EXPECT_EQ(goaway_code(out), std::nullopt);
  EXPECT_EQ(events_of<headers_event>(*server).size(), 2u);
  EXPECT_EQ(server->open_streams(), 2u);  // nothing kept of the refused stream
}

TEST_F(h2_session_abuse, streams_beyond_an_acknowledged_limit_end_the_connection) {
  cfg.max_concurrent_streams = 2;
  std::string bytes = client_preface() + settings_ack();
  for (std::int32_t id : {1, 3, 5}) {
    bytes += frame(NGHTTP2_HEADERS, end_headers, id, hpack_block(get_request()));
  }
  feed(bytes);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(goaway_code(out), NGHTTP2_PROTOCOL_ERROR);
}

TEST_F(h2_session_abuse, a_ping_flood_ends_the_connection_with_enhance_your_calm) {
  cfg.max_outbound_ack = 100;
  std::string bytes = client_preface() + settings_ack();
  for (int i = 0; i < 300; ++i) {
    bytes += frame(NGHTTP2_PING, 0, 0, "12345678");
  }
  feed(bytes);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(goaway_code(out), NGHTTP2_ENHANCE_YOUR_CALM);
}

TEST_F(h2_session_abuse, a_settings_flood_ends_the_connection_with_enhance_your_calm) {
  cfg.max_outbound_ack = 100;
  std::string bytes = client_preface();
  for (int i = 0; i < 300; ++i) {
    bytes += frame(NGHTTP2_SETTINGS, 0, 0, "");
  }
  feed(bytes);
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(goaway_code(out), NGHTTP2_ENHANCE_YOUR_CALM);
}

TEST_F(h2_session_abuse, extended_connect_when_disabled_resets_only_the_stream) {
  cfg.enable_connect_protocol = false;
  const header_list request{{":method", "CONNECT"},
                            {":protocol", "websocket"},
                            {":scheme", "https"},
                            {":path", "/chat"},
                            {":authority", "example.test"}};
  feed(client_preface() + settings_ack() +
       frame(NGHTTP2_HEADERS, end_headers, 1, hpack_block(request)));
  EXPECT_TRUE(result.ok);
  EXPECT_EQ(rst_code(out, 1), NGHTTP2_PROTOCOL_ERROR);
  EXPECT_TRUE(events_of<headers_event>(*server).empty());
  EXPECT_EQ(server->open_streams(), 0u);
}

// ---- client role: what a broken origin sends ----

/** A client-role session with GET / in flight on stream 1, fed `origin_bytes`. */
std::pair<receive_result, std::vector<wire_frame>> origin_sends(const std::string& origin_bytes) {
  session client(role::client, settings{});
  EXPECT_EQ(client.submit_request(get_request(), true), 1);
  drain(client);
  receive_result r = client.receive(frame(NGHTTP2_SETTINGS, 0, 0, "") + origin_bytes);
  return {r, frames_of(drain(client))};
}

TEST(h2_session_origin_abuse, a_push_the_client_did_not_allow_is_a_protocol_error) {
  const auto [result, out] =
      origin_sends(settings_ack() + frame(NGHTTP2_PUSH_PROMISE, end_headers, 1,
                                          u32(2) + hpack_block(get_request("/p"))));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(goaway_code(out), NGHTTP2_PROTOCOL_ERROR);
}

TEST(h2_session_origin_abuse, a_push_before_the_origin_acknowledged_no_push_is_refused) {
  const auto [result, out] = origin_sends(
      frame(NGHTTP2_PUSH_PROMISE, end_headers, 1, u32(2) + hpack_block(get_request("/p"))));
  // nghttp2 cancels the promised stream alone (RFC 9113 §8.4 allows CANCEL or REFUSED_STREAM).
  EXPECT_TRUE(result.ok);
  EXPECT_EQ(rst_code(out, 2), NGHTTP2_CANCEL);
  EXPECT_EQ(goaway_code(out), std::nullopt);
}

TEST(h2_session_origin_abuse, a_response_on_a_stream_never_opened_is_a_protocol_error) {
  const auto [result, out] =
      origin_sends(frame(NGHTTP2_HEADERS, end_both, 3, hpack_block({{":status", "200"}})));
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(goaway_code(out), NGHTTP2_PROTOCOL_ERROR);
}

TEST(h2_session_origin_abuse, a_response_without_status_resets_only_its_stream) {
  const auto [result, out] =
      origin_sends(frame(NGHTTP2_HEADERS, end_both, 1, hpack_block({{"server", "x"}})));
  EXPECT_TRUE(result.ok);
  EXPECT_EQ(rst_code(out, 1), NGHTTP2_PROTOCOL_ERROR);
  EXPECT_EQ(goaway_code(out), std::nullopt);
}

// ---- oversized heads, between two sessions ----

header_list big_fields(header_list fields) {
  for (int i = 0; i < 20; ++i) {
    fields.emplace_back("x-big-" + std::to_string(i), std::string(4000, 'v'));
  }
  return fields;
}

TEST(h2_session_oversized,
     a_request_head_over_the_limit_is_answered_431_and_the_connection_serves_on) {
  session server(role::server, settings{});
  session client(role::client, settings{});
  pump(client, server);
  const std::int32_t big = client.submit_request(big_fields(get_request()), true);
  pump(client, server);
  EXPECT_TRUE(events_of<headers_event>(server).empty());
  const auto answer = events_of<headers_event>(client);
  ASSERT_EQ(answer.size(), 1u);
  EXPECT_EQ(answer[0].stream_id, big);
  EXPECT_EQ(answer[0].fields, (header_list{{":status", "431"}}));
  EXPECT_TRUE(answer[0].end_stream);
  server.clear_events();

  const std::int32_t next = client.submit_request(get_request("/next"), true);
  pump(client, server);
  const auto heads = events_of<headers_event>(server);
  ASSERT_EQ(heads.size(), 1u);
  EXPECT_EQ(heads[0].stream_id, next);
  EXPECT_EQ(server.open_streams(), 1u);
}

TEST(h2_session_oversized, a_response_head_over_the_limit_resets_the_stream) {
  session server(role::server, settings{});
  session client(role::client, settings{});
  pump(client, server);
  const std::int32_t id = client.submit_request(get_request(), true);
  pump(client, server);
  client.clear_events();
  ASSERT_TRUE(server.submit_response(id, big_fields({{":status", "200"}}), true));
  pump(client, server);
  EXPECT_TRUE(events_of<headers_event>(client).empty());
  const auto closed = events_of<stream_closed_event>(client);
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].error_code, NGHTTP2_ENHANCE_YOUR_CALM);
  EXPECT_TRUE(client.want_read());
}

}  // namespace
