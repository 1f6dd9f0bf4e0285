// The frame tap as a byte script: bytes of both directions in, frame records and batches out.

#include "hark/h2/frame_tap.hpp"

#include "frame_script.hpp"

#include <gtest/gtest.h>

namespace hark::h2::test {
namespace {

using capture::h2_leg;
using capture::h2_side;

/** A client's first flight and a server's answer, every frame type of RFC 9113 §6 once. */
struct conversation {
  std::string from_client =
      std::string(preface) + frame(0x4, 0, 0, setting(3, 100) + setting(4, 1 << 22)) +
      frame(0x1, 0x25, 1, u32(0x8000'0003) + "\x0f" + "\x82\x86\x84") +
      frame(0x8, 0, 0, u32(1 << 20)) + frame(0x4, 0x1, 0, "") + frame(0x2, 0, 3, u32(1) + "\x10") +
      frame(0x9, 0x4, 1, "\x41\x8a") +
      frame(0x0, 0x9, 1, std::string("\x02") + "body" + std::string(2, '\0')) +
      frame(0x6, 0, 0, "12345678");
  std::string from_server = frame(0x4, 0, 0, setting(1, 4096)) + frame(0x4, 0x1, 0, "") +
                            frame(0x5, 0x4, 1, u32(2) + "\x88") + frame(0x1, 0x4, 1, "\x88") +
                            frame(0x0, 0x1, 1, std::string(5000, 'x')) + frame(0x3, 0, 3, u32(8)) +
                            frame(0x6, 0x1, 0, "12345678") +
                            frame(0xa, 0, 0, std::string(2, '\0')) +
                            frame(0x7, 0, 0, u32(3) + u32(0) + "bye");
};

struct expected_frame {
  h2_side side;
  std::uint8_t type;
  std::uint8_t flags;
  std::uint32_t stream_id;
  std::uint32_t length;
  std::size_t kept;
};

// In the order the tap sees them when the client's bytes come first.
const std::vector<expected_frame> conversation_frames = {
    {h2_side::client, 0x4, 0, 0, 12, 12},    {h2_side::client, 0x1, 0x25, 1, 8, 8},
    {h2_side::client, 0x8, 0, 0, 4, 4},      {h2_side::client, 0x4, 0x1, 0, 0, 0},
    {h2_side::client, 0x2, 0, 3, 5, 5},      {h2_side::client, 0x9, 0x4, 1, 2, 2},
    {h2_side::client, 0x0, 0x9, 1, 7, 1},    {h2_side::client, 0x6, 0, 0, 8, 8},
    {h2_side::server, 0x4, 0, 0, 6, 6},      {h2_side::server, 0x4, 0x1, 0, 0, 0},
    {h2_side::server, 0x5, 0x4, 1, 5, 5},    {h2_side::server, 0x1, 0x4, 1, 1, 1},
    {h2_side::server, 0x0, 0x1, 1, 5000, 0}, {h2_side::server, 0x3, 0, 3, 4, 4},
    {h2_side::server, 0x6, 0x1, 0, 8, 8},    {h2_side::server, 0xa, 0, 0, 2, 2},
    {h2_side::server, 0x7, 0, 0, 11, 11},
};

void expect_frames(const std::vector<frame_record>& got, const std::vector<expected_frame>& want,
                   const std::string& context) {
  ASSERT_EQ(got.size(), want.size()) << context;
  for (std::size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE(context + ", frame " + std::to_string(i));
    EXPECT_EQ(got[i].side, want[i].side);
    EXPECT_EQ(got[i].type, want[i].type);
    EXPECT_EQ(got[i].flags, want[i].flags);
    EXPECT_EQ(got[i].stream_id, want[i].stream_id);
    EXPECT_EQ(got[i].length, want[i].length);
    EXPECT_EQ(got[i].payload.size(), want[i].kept);
  }
}

TEST(frame_tap, logs_every_frame_type_of_both_directions_on_the_client_leg) {
  batch_sink sink;
  const conversation c;
  {
    frame_tap tap(sink, "01CLIENTCONN", h2_leg::client, capture::net_address{"127.0.0.1", 5000});
    tap.received(c.from_client);
    tap.sent(c.from_server);
    EXPECT_TRUE(sink.batches.empty()) << "a batch waits for its bounds or the end";
    tap.flush();
  }
  ASSERT_EQ(sink.batches.size(), 1U) << "the destructor after flush() hands over nothing more";
  const auto& b = sink.batches[0];
  EXPECT_EQ(b.connection_id, "01CLIENTCONN");
  EXPECT_EQ(b.leg, h2_leg::client);
  EXPECT_EQ(b.client_addr->ip, "127.0.0.1");
  EXPECT_EQ(b.sequence, 0U);
  EXPECT_EQ(b.frame_count, conversation_frames.size());
  const auto records = sink.records();
  expect_frames(records, conversation_frames, "whole");
  EXPECT_EQ(records[1].payload, u32(0x8000'0003) + "\x0f" + "\x82\x86\x84");
  EXPECT_EQ(records[6].payload, "\x02") << "DATA keeps only its pad length";
  EXPECT_EQ(records[16].payload, u32(3) + u32(0) + "bye");
  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  EXPECT_LE(records[0].at_us, now);
  EXPECT_GT(records[0].at_us, now - 60'000'000);
}

TEST(frame_tap, any_split_of_the_bytes_gives_the_same_frames) {
  const conversation c;
  for (const bool client_side : {true, false}) {
    const auto& bytes = client_side ? c.from_client : c.from_server;
    const auto want = std::vector<expected_frame>(
        client_side ? conversation_frames.begin() : conversation_frames.begin() + 8,
        client_side ? conversation_frames.begin() + 8 : conversation_frames.end());
    for (std::size_t cut = 0; cut <= bytes.size(); ++cut) {
      batch_sink sink;
      frame_tap tap(sink, "01SPLIT", h2_leg::client);
      const auto feed = [&](std::string_view part) {
        client_side ? tap.received(part) : tap.sent(part);
      };
      feed(std::string_view(bytes).substr(0, cut));
      feed(std::string_view(bytes).substr(cut));
      tap.flush();
      expect_frames(sink.records(), want, "cut at " + std::to_string(cut));
    }
    batch_sink sink;
    frame_tap tap(sink, "01BYTES", h2_leg::client);
    for (const char byte : bytes) {
      client_side ? tap.received(std::string_view(&byte, 1)) : tap.sent(std::string_view(&byte, 1));
    }
    tap.flush();
    expect_frames(sink.records(), want, "byte by byte");
  }
}

TEST(frame_tap, the_upstream_leg_skips_the_preface_hark_sends) {
  batch_sink sink;
  const conversation c;
  frame_tap tap(sink, "01UPSTREAM", h2_leg::upstream);
  tap.sent(c.from_client.substr(0, 10));  // the preface in pieces
  tap.sent(c.from_client.substr(10));
  tap.received(c.from_server);
  tap.flush();
  ASSERT_EQ(sink.batches.size(), 1U);
  EXPECT_EQ(sink.batches[0].leg, h2_leg::upstream);
  expect_frames(sink.records(), conversation_frames, "upstream");
}

TEST(frame_tap, bytes_that_are_not_the_preface_stop_that_direction_only) {
  batch_sink sink;
  frame_tap tap(sink, "01NOTH2", h2_leg::client);
  tap.received("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  tap.received(frame(0x4, 0, 0, ""));  // whatever follows is not parsed either
  tap.sent(frame(0x7, 0, 0, u32(0) + u32(1)));
  tap.flush();
  const auto records = sink.records();
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].side, h2_side::server);
  EXPECT_EQ(records[0].type, 0x7);
}

TEST(frame_tap, a_frame_from_a_real_nghttp2_client) {
  batch_sink sink;
  frame_tap tap(sink, "01NGHTTP2", h2_leg::client);
  tap.received(nghttp2_client_bytes());
  tap.flush();
  const auto records = sink.records();
  ASSERT_EQ(records.size(), 3U);
  EXPECT_EQ(records[0].type, 0x4);
  EXPECT_EQ(records[0].length, 12U);
  // nghttp2 sends a PING ahead of the request it was submitted after.
  EXPECT_EQ(records[1].type, 0x6);
  EXPECT_EQ(records[1].payload, "\x01\x02\x03\x04\x05\x06\x07\x08");
  EXPECT_EQ(records[2].type, 0x1);
  EXPECT_EQ(records[2].flags, 0x5);  // END_STREAM | END_HEADERS
  EXPECT_EQ(records[2].stream_id, 1U);
  EXPECT_EQ(records[2].payload.size(), records[2].length);
}

TEST(frame_tap, payloads_are_kept_up_to_the_bound) {
  batch_sink sink;
  frame_tap_limits limits;
  limits.max_payload = 100;
  frame_tap tap(sink, "01BIG", h2_leg::client, std::nullopt, limits);
  tap.received(preface);
  tap.received(frame(0x1, 0x4, 1, std::string(300, 'h')));
  tap.received(frame(0x0, 0x1, 1, std::string(300, 'd')));
  tap.flush();
  const auto records = sink.records();
  ASSERT_EQ(records.size(), 2U);
  EXPECT_EQ(records[0].length, 300U);
  EXPECT_EQ(records[0].payload, std::string(100, 'h'));
  EXPECT_EQ(records[1].length, 300U);
  EXPECT_TRUE(records[1].payload.empty());
}

TEST(frame_tap, batches_are_handed_over_at_their_frame_bound_with_the_session_kept) {
  batch_sink sink;
  sink.take_records = true;
  frame_tap tap(sink, "01MANY", h2_leg::client);
  tap.received(preface);
  for (int i = 0; i < 600; ++i) {
    tap.received(frame(0x6, 0, 0, "pingpong"));
  }
  ASSERT_EQ(sink.batches.size(), 2U);
  sink.session = "a-later-session";  // the first batch's session stays the connection's
  tap.flush();
  ASSERT_EQ(sink.batches.size(), 3U);
  const std::uint32_t counts[] = {256, 256, 88};
  for (std::uint32_t i = 0; i < 3; ++i) {
    EXPECT_EQ(sink.batches[i].sequence, i);
    EXPECT_EQ(sink.batches[i].frame_count, counts[i]);
    EXPECT_EQ(sink.batches[i].records.size(), counts[i] * (frame_record_header_size + 8));
    EXPECT_EQ(sink.batches[i].session_id, "session-1");
  }
}

TEST(frame_tap, batches_are_handed_over_at_their_byte_bound) {
  batch_sink sink;
  frame_tap tap(sink, "01BYTES", h2_leg::client);
  tap.received(preface);
  const std::string headers = frame(0x1, 0x4, 1, std::string(10'000, 'h'));
  for (int i = 0; i < 14; ++i) {
    tap.received(headers);
  }
  // 7 records of 10 024 bytes pass 64 KiB.
  ASSERT_EQ(sink.batches.size(), 2U);
  EXPECT_EQ(sink.batches[0].frame_count, 7U);
  EXPECT_EQ(sink.batches[1].frame_count, 7U);
}

TEST(frame_tap, batches_are_handed_over_when_old_and_on_publish) {
  batch_sink sink;
  frame_tap_limits limits;
  limits.max_batch_age = std::chrono::milliseconds(0);
  frame_tap tap(sink, "01AGE", h2_leg::client, std::nullopt, limits);
  tap.received(std::string(preface) + frame(0x4, 0, 0, ""));
  EXPECT_EQ(sink.batches.size(), 1U);

  batch_sink quiet;
  frame_tap other(quiet, "01QUIET", h2_leg::client);
  other.received(std::string(preface) + frame(0x4, 0, 0, ""));
  other.publish();
  other.publish();  // nothing new: no empty batch
  ASSERT_EQ(quiet.batches.size(), 1U);
  other.received(frame(0x4, 1, 0, ""));
  other.flush();
  ASSERT_EQ(quiet.batches.size(), 2U);
  EXPECT_EQ(quiet.batches[1].sequence, 1U);
}

TEST(frame_tap, a_frame_cut_short_by_the_end_of_the_connection_is_logged_as_far_as_it_came) {
  batch_sink sink;
  frame_tap tap(sink, "01CUT", h2_leg::client);
  const auto goaway = frame(0x7, 0, 0, u32(5) + u32(2) + "debug");
  tap.received(std::string(preface) + goaway.substr(0, 15));
  tap.sent(frame(0x4, 0, 0, "").substr(0, 4));  // half a header: not a frame
  tap.flush();
  tap.received(goaway.substr(15));  // after the end: ignored
  const auto records = sink.records();
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].type, 0x7);
  EXPECT_EQ(records[0].length, 13U);
  EXPECT_EQ(records[0].payload, u32(5) + u32(2).substr(0, 2));
  EXPECT_EQ(sink.batches.size(), 1U);
}

TEST(frame_tap, the_destructor_hands_over_the_last_batch) {
  batch_sink sink;
  {
    frame_tap tap(sink, "01DTOR", h2_leg::upstream);
    tap.received(frame(0x4, 0, 0, ""));
  }
  ASSERT_EQ(sink.batches.size(), 1U);
  EXPECT_EQ(sink.batches[0].frame_count, 1U);
}

}  // namespace
}  // namespace hark::h2::test
