#include "hark/ws/deflate.hpp"
#include "hark/ws/observer.hpp"
#include "hark/ws/parser.hpp"

#include "ws_test_support.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace hark::ws;
using namespace hark::ws::test;

constexpr std::uint64_t big_cap = 64ull << 20;

hark::capture::header_list extensions(std::string value) {
  return {{"Upgrade", "websocket"}, {"Sec-WebSocket-Extensions", std::move(value)}};
}

frame_spec compressed(unsigned opcode, bool fin = true, bool mask = false) {
  frame_spec s;
  s.opcode = opcode;
  s.fin = fin;
  s.rsv1 = true;
  if (mask) {
    s.mask = client_mask;
  }
  return s;
}

frame_spec uncompressed(unsigned opcode) {
  frame_spec s;
  s.opcode = opcode;
  return s;
}

std::string repetitive(std::size_t n) {
  std::string s;
  while (s.size() < n) {
    s += "the quick brown fox " + std::to_string(s.size() % 977) + " jumps; ";
  }
  s.resize(n);
  return s;
}

TEST(ws_deflate, reads_the_negotiated_parameters) {
  const auto p = negotiated_deflate(
      extensions("permessage-deflate; server_no_context_takeover; client_max_window_bits=10; "
                 "server_max_window_bits=\"12\""));
  EXPECT_TRUE(p.enabled);
  EXPECT_TRUE(p.server_no_context_takeover);
  EXPECT_FALSE(p.client_no_context_takeover);
  EXPECT_EQ(p.client_max_window_bits, 10);
  EXPECT_EQ(p.server_max_window_bits, 12);

  const auto plain = negotiated_deflate(extensions("permessage-deflate"));
  EXPECT_TRUE(plain.enabled);
  EXPECT_EQ(plain.client_max_window_bits, 15);
  EXPECT_FALSE(plain.client_no_context_takeover);

  EXPECT_FALSE(negotiated_deflate({{"Upgrade", "websocket"}}).enabled);
  EXPECT_FALSE(negotiated_deflate(extensions("x-webkit-deflate-frame")).enabled);
  EXPECT_FALSE(
      negotiated_deflate(extensions("permessage-deflate; server_max_window_bits=7")).enabled);
  EXPECT_FALSE(negotiated_deflate(extensions("permessage-deflate; bogus_param")).enabled);
  EXPECT_TRUE(negotiated_deflate(extensions("foo, permessage-deflate; client_no_context_takeover"))
                  .client_no_context_takeover);
}

TEST(ws_deflate, inflates_messages_with_context_takeover) {
  collector c;
  const auto params = negotiated_deflate(extensions("permessage-deflate"));
  parser p(side::server, params, big_cap, c);
  deflater d(15, true);
  const auto text = repetitive(5000);
  const auto first = d.compress(text);
  const auto second = d.compress(text);  // refers back into the first message's window
  EXPECT_LT(second.size(), first.size() / 4);
  p.feed(frame(compressed(0x1), first) + frame(compressed(0x1), second));
  ASSERT_EQ(c.messages.size(), 2u);
  for (const auto& m : c.messages) {
    EXPECT_EQ(m.type, message_type::text);
    EXPECT_TRUE(m.payload == text) << m.error;
    EXPECT_EQ(m.size, text.size());
    EXPECT_TRUE(m.error.empty()) << m.error;
  }
  EXPECT_EQ(c.messages[1].wire_size, second.size());
}

TEST(ws_deflate, inflates_messages_without_context_takeover) {
  collector c;
  const auto params = negotiated_deflate(
      extensions("permessage-deflate; client_no_context_takeover; server_no_context_takeover"));
  observer o(params, big_cap, c);
  deflater client(15, false);
  deflater server(15, false);
  const auto text = repetitive(3000);
  for (int i = 0; i < 3; ++i) {
    o.client_bytes(frame(compressed(0x1, true, true), client.compress(text)));
    o.server_bytes(frame(compressed(0x2), server.compress(text)));
  }
  ASSERT_EQ(c.messages.size(), 6u);
  for (const auto& m : c.messages) {
    EXPECT_TRUE(m.payload == text) << m.error;
    EXPECT_TRUE(m.error.empty()) << m.error;
  }
  EXPECT_EQ(c.messages[1].type, message_type::binary);
}

TEST(ws_deflate, honours_the_negotiated_max_window_bits) {
  for (int bits : {8, 9, 10, 12, 15}) {
    collector c;
    const auto params = negotiated_deflate(
        extensions("permessage-deflate; client_max_window_bits=" + std::to_string(bits)));
    ASSERT_EQ(params.client_max_window_bits, bits);
    parser p(side::client, params, big_cap, c);
    deflater d(std::max(bits, 9), true);  // zlib's deflate has no 8-bit window (uses 9)
    const auto text = repetitive(70000);
    const auto first = d.compress(text);  // (two statements: the order matters)
    const auto second = d.compress(text);
    p.feed(frame(compressed(0x1, true, true), first) + frame(compressed(0x1, true, true), second));
    ASSERT_EQ(c.messages.size(), 2u) << bits;
    EXPECT_TRUE(c.messages[0].payload == text) << bits << " " << c.messages[0].error;
    EXPECT_TRUE(c.messages[1].payload == text) << bits << " " << c.messages[1].error;
  }
}

TEST(ws_deflate, a_compressed_fragmented_message_with_a_ping_between) {
  collector c;
  parser p(side::server, negotiated_deflate(extensions("permessage-deflate")), big_cap, c);
  deflater d(15, true);
  const auto text = repetitive(20000);
  const auto z = d.compress(text);
  frame_spec cont;
  cont.opcode = 0x0;
  const auto wire = frame(compressed(0x1, false), z.substr(0, z.size() / 2)) +
                    frame(uncompressed(0x9), "hb") + frame(cont, z.substr(z.size() / 2));
  for (std::size_t at = 0; at < wire.size(); at += 7) {
    p.feed(std::string_view(wire).substr(at, 7));
  }
  ASSERT_EQ(c.messages.size(), 2u);
  EXPECT_EQ(c.messages[0].type, message_type::ping);
  EXPECT_TRUE(c.messages[1].payload == text) << c.messages[1].error;
}

TEST(ws_deflate, an_uncompressed_message_on_a_deflate_connection_is_read_as_is) {
  collector c;
  parser p(side::server, negotiated_deflate(extensions("permessage-deflate")), big_cap, c);
  p.feed(frame(uncompressed(0x1), "plain text"));
  ASSERT_EQ(c.messages.size(), 1u);
  EXPECT_EQ(c.messages[0].payload, "plain text");
}

TEST(ws_deflate, caps_the_inflated_payload_and_counts_the_rest) {
  collector c;
  parser p(side::server, negotiated_deflate(extensions("permessage-deflate")), 1000, c);
  deflater d(15, true);
  const std::string zeros(4u << 20, '\0');  // 4 MiB inflating from about 4 KiB
  const auto z = d.compress(zeros);
  EXPECT_LT(z.size(), 10000u);
  const auto next = d.compress("next");
  p.feed(frame(compressed(0x2), z) + frame(compressed(0x1), next));
  ASSERT_EQ(c.messages.size(), 2u);
  EXPECT_EQ(c.messages[0].payload, std::string(1000, '\0'));
  EXPECT_EQ(c.messages[0].size, zeros.size());
  EXPECT_TRUE(c.messages[0].truncated);
  EXPECT_LE(c.messages[0].payload.capacity(), 2000u);
  EXPECT_EQ(c.messages[1].payload, "next");  // the window stayed in step past the cap
}

TEST(ws_deflate, a_payload_that_does_not_inflate_is_unknown_and_the_next_one_reads) {
  collector c;
  parser p(side::client,
           negotiated_deflate(extensions("permessage-deflate; client_no_context_takeover")),
           big_cap, c);
  deflater d(15, false);
  p.feed(frame(compressed(0x1, true, true), std::string("\xff\xff\xff\xff garbage", 12)) +
         frame(compressed(0x1, true, true), d.compress("recovered")));
  ASSERT_EQ(c.messages.size(), 2u);
  EXPECT_EQ(c.messages[0].type, message_type::unknown);
  EXPECT_NE(c.messages[0].error.find("permessage-deflate"), std::string::npos);
  EXPECT_EQ(c.messages[1].type, message_type::text);
  EXPECT_EQ(c.messages[1].payload, "recovered");
}

TEST(ws_deflate, rsv1_on_a_continuation_or_a_control_frame_is_a_violation) {
  collector c;
  parser p(side::server, negotiated_deflate(extensions("permessage-deflate")), big_cap, c);
  p.feed(frame(compressed(0x9), "ping"));
  ASSERT_EQ(c.messages.size(), 1u);
  EXPECT_EQ(c.messages[0].type, message_type::unknown);
  EXPECT_EQ(c.messages[0].error, "RSV1 without a compressed message start");
}

}  // namespace
