#include "hark/ws/parser.hpp"
#include "hark/ws/observer.hpp"

#include "ws_test_support.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace hark::ws;
using namespace hark::ws::test;
using clock_type = message::clock;

constexpr std::uint64_t big_cap = 64ull << 20;

frame_spec masked(unsigned opcode, bool fin = true) {
  frame_spec s;
  s.opcode = opcode;
  s.fin = fin;
  s.mask = client_mask;
  return s;
}

frame_spec plain(unsigned opcode, bool fin = true) {
  frame_spec s;
  s.opcode = opcode;
  s.fin = fin;
  return s;
}

std::string close_payload(unsigned code, std::string_view reason) {
  std::string p;
  p += static_cast<char>(code >> 8);
  p += static_cast<char>(code & 0xFF);
  p += reason;
  return p;
}

TEST(ws_parser, reads_an_unmasked_server_text_frame) {
  collector c;
  parser p(side::server, {}, big_cap, c);
  p.feed(frame(plain(0x1), "hello"));
  ASSERT_EQ(c.messages.size(), 1u);
  const auto& m = c.messages[0];
  EXPECT_EQ(m.from, side::server);
  EXPECT_EQ(m.type, message_type::text);
  EXPECT_EQ(m.payload, "hello");
  EXPECT_EQ(m.size, 5u);
  EXPECT_EQ(m.wire_size, 5u);
  EXPECT_FALSE(m.truncated);
  EXPECT_TRUE(m.error.empty());
}

TEST(ws_parser, unmasks_client_frames_fed_one_byte_at_a_time) {
  collector c;
  parser p(side::client, {}, big_cap, c);
  const auto wire = frame(masked(0x2), std::string("\x00\x01\x02\xff\xfe", 5)) +
                    frame(masked(0x1), "second message");
  for (char b : wire) {
    p.feed(std::string_view(&b, 1));
  }
  ASSERT_EQ(c.messages.size(), 2u);
  EXPECT_EQ(c.messages[0].type, message_type::binary);
  EXPECT_EQ(c.messages[0].payload, std::string("\x00\x01\x02\xff\xfe", 5));
  EXPECT_EQ(c.messages[1].payload, "second message");
  EXPECT_EQ(c.messages[1].from, side::client);
}

TEST(ws_parser, reads_every_length_form) {
  collector c;
  parser p(side::client, {}, big_cap, c);
  const std::size_t sizes[] = {0, 1, 125, 126, 127, 65535, 65536, 200000};
  std::string wire;
  for (auto n : sizes) {
    wire += frame(masked(0x2), std::string(n, static_cast<char>('a' + n % 26)));
  }
  // A short payload in the 16- and 64-bit forms (not minimal, still valid framing to read).
  auto s16 = masked(0x1);
  s16.length_form = 16;
  auto s64 = masked(0x1);
  s64.length_form = 64;
  wire += frame(s16, "sixteen") + frame(s64, "sixty-four");
  p.feed(wire);
  ASSERT_EQ(c.messages.size(), std::size(sizes) + 2);
  for (std::size_t i = 0; i < std::size(sizes); ++i) {
    EXPECT_EQ(c.messages[i].size, sizes[i]);
    EXPECT_EQ(c.messages[i].payload, std::string(sizes[i], static_cast<char>('a' + sizes[i] % 26)));
  }
  EXPECT_EQ(c.messages[std::size(sizes)].payload, "sixteen");
  EXPECT_EQ(c.messages[std::size(sizes) + 1].payload, "sixty-four");
}

TEST(ws_parser, reassembles_fragments_with_control_frames_between_them) {
  collector c;
  parser p(side::client, {}, big_cap, c);
  const auto t0 = clock_type::time_point(std::chrono::seconds(1000));
  const auto t1 = t0 + std::chrono::milliseconds(5);
  const auto t2 = t0 + std::chrono::milliseconds(9);
  p.feed(frame(masked(0x1, false), "frag-one "), t0);
  p.feed(frame(masked(0x9), "ping!") + frame(masked(0x0, false), "frag-two "), t1);
  p.feed(frame(masked(0xA), "pong") + frame(masked(0x0, true), "end"), t2);
  ASSERT_EQ(c.messages.size(), 3u);
  EXPECT_EQ(c.messages[0].type, message_type::ping);
  EXPECT_EQ(c.messages[0].payload, "ping!");
  EXPECT_EQ(c.messages[1].type, message_type::pong);
  EXPECT_EQ(c.messages[1].payload, "pong");
  EXPECT_EQ(c.messages[2].type, message_type::text);
  EXPECT_EQ(c.messages[2].payload, "frag-one frag-two end");
  EXPECT_EQ(c.messages[2].started, t0);
  EXPECT_EQ(c.messages[2].ended, t2);
  EXPECT_EQ(c.messages[2].wire_size, 21u);
}

TEST(ws_parser, reads_close_frames_with_and_without_a_code) {
  collector c;
  parser p(side::server, {}, big_cap, c);
  p.feed(frame(plain(0x8), close_payload(4001, "going away now")) + frame(plain(0x8), ""));
  ASSERT_EQ(c.messages.size(), 2u);
  EXPECT_EQ(c.messages[0].type, message_type::close);
  EXPECT_EQ(c.messages[0].payload, close_payload(4001, "going away now"));
  EXPECT_EQ(c.messages[1].type, message_type::close);
  EXPECT_EQ(c.messages[1].payload, "");
}

TEST(ws_parser, records_violations_as_unknown_and_reads_on) {
  collector c;
  parser p(side::server, {}, big_cap, c);
  auto rsv2 = plain(0x1);
  rsv2.rsv2 = true;
  auto rsv1 = plain(0x2);
  rsv1.rsv1 = true;  // no permessage-deflate negotiated
  p.feed(frame(plain(0x3), "reserved data opcode") + frame(plain(0xB), "reserved control") +
         frame(rsv2, "rsv2") + frame(rsv1, "rsv1") + frame(plain(0x8), "x") +
         frame(plain(0x0), "stray continuation") + frame(plain(0x9, false), "fragmented ping") +
         frame(plain(0x9), std::string(126, 'p')) + frame(plain(0x1), "still fine"));
  ASSERT_EQ(c.messages.size(), 9u);
  const char* errors[] = {"reserved opcode 3",        "reserved control opcode 11",
                          "reserved RSV2/RSV3 bit",   "RSV1 without a compressed message start",
                          "close frame of one byte",  "continuation frame without a message",
                          "fragmented control frame", "control frame over 125 bytes"};
  for (std::size_t i = 0; i < 8; ++i) {
    EXPECT_EQ(c.messages[i].type, message_type::unknown) << i;
    EXPECT_EQ(c.messages[i].error, errors[i]) << i;
  }
  EXPECT_EQ(c.messages[0].payload, "reserved data opcode");
  EXPECT_EQ(c.messages[8].type, message_type::text);
  EXPECT_EQ(c.messages[8].payload, "still fine");
}

TEST(ws_parser, text_that_is_not_utf8_is_unknown_with_its_bytes) {
  collector c;
  parser p(side::client, {}, big_cap, c);
  const std::string bad("ok \xC3\x28 \xED\xA0\x80", 9);
  // A valid code point split over two fragments is fine.
  p.feed(frame(masked(0x1), bad) + frame(masked(0x1, false), "caf\xC3") +
         frame(masked(0x0), "\xA9!"));
  ASSERT_EQ(c.messages.size(), 2u);
  EXPECT_EQ(c.messages[0].type, message_type::unknown);
  EXPECT_EQ(c.messages[0].error, "text message is not UTF-8");
  EXPECT_EQ(c.messages[0].payload, bad);
  EXPECT_EQ(c.messages[1].type, message_type::text);
  EXPECT_EQ(c.messages[1].payload, "caf\xC3\xA9!");
}

TEST(ws_parser, a_new_data_frame_ends_an_unfinished_message_as_unknown) {
  collector c;
  parser p(side::client, {}, big_cap, c);
  p.feed(frame(masked(0x2, false), "part") + frame(masked(0x1), "next"));
  ASSERT_EQ(c.messages.size(), 2u);
  EXPECT_EQ(c.messages[0].type, message_type::unknown);
  EXPECT_EQ(c.messages[0].payload, "part");
  EXPECT_EQ(c.messages[1].type, message_type::text);
}

TEST(ws_parser, keeps_payload_up_to_the_cap_and_counts_the_rest) {
  collector c;
  parser p(side::client, {}, 10, c);
  p.feed(frame(masked(0x2), std::string(100, 'z')) + frame(masked(0x1), "short"));
  ASSERT_EQ(c.messages.size(), 2u);
  EXPECT_EQ(c.messages[0].payload, std::string(10, 'z'));
  EXPECT_EQ(c.messages[0].size, 100u);
  EXPECT_TRUE(c.messages[0].truncated);
  EXPECT_LE(c.messages[0].payload.capacity(), 64u);
  EXPECT_FALSE(c.messages[1].truncated);
}

TEST(ws_parser, text_cut_mid_code_point_by_the_cap_is_still_text) {
  collector c;
  parser p(side::server, {}, 4, c);
  p.feed(frame(plain(0x1), "ab\xE2\x82\xAC tail"));  // '€' straddles the cap
  ASSERT_EQ(c.messages.size(), 1u);
  EXPECT_EQ(c.messages[0].type, message_type::text);
  EXPECT_TRUE(c.messages[0].truncated);
  EXPECT_EQ(c.messages[0].payload, "ab\xE2\x82");
}

TEST(ws_parser, a_huge_declared_length_allocates_nothing_for_it) {
  collector c;
  parser p(side::client, {}, 1024, c);
  // 0x7FFF'FFFF'FFFF'FFFF bytes declared; 3 MB of them arrive before the connection ends.
  std::string head("\x82\xFF\x7F\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x01\x02\x03\x04", 14);
  p.feed(head);
  const std::string chunk(64 * 1024, 'q');
  for (int i = 0; i < 48; ++i) {
    p.feed(chunk);
  }
  EXPECT_TRUE(c.messages.empty());
  p.finish(clock_type::now());
  ASSERT_EQ(c.messages.size(), 1u);
  EXPECT_EQ(c.messages[0].type, message_type::binary);
  EXPECT_TRUE(c.messages[0].truncated);
  EXPECT_EQ(c.messages[0].size, 48u * 64 * 1024);
  EXPECT_EQ(c.messages[0].payload.size(), 1024u);
  EXPECT_LE(c.messages[0].payload.capacity(), 2048u);
  p.feed(frame(masked(0x1), "after finish"));  // ignored
  EXPECT_EQ(c.messages.size(), 1u);
}

TEST(ws_parser, a_64_bit_length_with_the_top_bit_set_is_counted_not_allocated) {
  collector c;
  parser p(side::server, {}, 16, c);
  p.feed(std::string("\x82\x7F\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF", 10) + std::string(100, 'x'));
  p.finish(clock_type::now());
  ASSERT_EQ(c.messages.size(), 1u);
  EXPECT_EQ(c.messages[0].size, 100u);
  EXPECT_EQ(c.messages[0].payload.size(), 16u);
}

TEST(ws_parser, reads_a_10_mib_message_in_relay_sized_pieces) {
  collector c;
  parser p(side::client, {}, 16ull << 20, c);
  std::string payload(10u << 20, '\0');
  for (std::size_t i = 0; i < payload.size(); ++i) {
    payload[i] = static_cast<char>((i * 131) >> 7);
  }
  const auto wire = frame(masked(0x2, false), payload.substr(0, 3u << 20)) +
                    frame(masked(0x9), "mid") + frame(masked(0x0), payload.substr(3u << 20));
  for (std::size_t at = 0; at < wire.size(); at += 65536) {
    p.feed(std::string_view(wire).substr(at, 65536));
  }
  ASSERT_EQ(c.messages.size(), 2u);
  EXPECT_EQ(c.messages[0].type, message_type::ping);
  EXPECT_EQ(c.messages[1].size, payload.size());
  EXPECT_TRUE(c.messages[1].payload == payload);
  EXPECT_FALSE(c.messages[1].truncated);
}

TEST(ws_parser, finish_hands_over_a_message_cut_by_the_end_of_the_connection) {
  collector c;
  parser p(side::server, {}, big_cap, c);
  p.feed(frame(plain(0x1, false), "first half, "));
  p.feed(
      std::string("\x80\x0A"
                  "abc",
                  5));  // a continuation cut after 3 of 10 bytes
  p.finish(clock_type::now());
  ASSERT_EQ(c.messages.size(), 1u);
  EXPECT_EQ(c.messages[0].type, message_type::text);
  EXPECT_EQ(c.messages[0].payload, "first half, abc");
  EXPECT_TRUE(c.messages[0].truncated);
}

TEST(ws_observer, tells_the_two_sides_apart) {
  collector c;
  observer o({}, big_cap, c);
  o.client_bytes(frame(masked(0x1), "from client"));
  o.server_bytes(frame(plain(0x1), "from server"));
  ASSERT_EQ(c.messages.size(), 2u);
  EXPECT_EQ(c.messages[0].from, side::client);
  EXPECT_EQ(c.messages[0].payload, "from client");
  EXPECT_EQ(c.messages[1].from, side::server);
  EXPECT_EQ(c.messages[1].payload, "from server");
}

}  // namespace
