// Decoding of logged frames into Http2Event objects: each type's fields, and payloads that are
// cut short or garbage (an error and the bytes in hex, never a crash).

#include "hark/h2/frame_log.hpp"
#include "hark/core/hex.hpp"
#include "hark/h2/frame_tap.hpp"

#include "frame_script.hpp"

#include <gtest/gtest.h>

#include <random>

namespace hark::h2::test {
namespace {

using json = nlohmann::json;

constexpr std::int64_t at_us = 1'770'000'000'123'456;

/** The Http2Event of one record, as plain JSON. `length` defaults to the payload's. */
json event(std::uint8_t type, std::uint8_t flags, std::uint32_t stream_id, std::string_view payload,
           std::optional<std::uint32_t> length = std::nullopt,
           capture::h2_side side = capture::h2_side::client) {
  std::string records;
  append_frame_record_header(records, at_us, side, type, flags, stream_id,
                             length.value_or(static_cast<std::uint32_t>(payload.size())),
                             static_cast<std::uint32_t>(payload.size()));
  records.append(payload);
  const auto events = describe_frames(records);
  EXPECT_EQ(events.size(), 1U);
  return json::parse(events.at(0).dump());
}

json named(std::uint32_t value, const char* name) {
  return json{{"value", value}, {"name", name}};
}

TEST(frame_log, common_fields_in_order) {
  const auto e = describe_frames([] {
    std::string r;
    append_frame_record_header(r, at_us, capture::h2_side::server, 0x1, 0x25, 7, 6, 6);
    r.append(u32(0x8000'0003) + "\x0f" + "\x82");
    return r;
  }());
  ASSERT_EQ(e.size(), 1U);
  std::vector<std::string> keys;
  for (const auto& [key, value] : e[0].items()) {
    keys.push_back(key);
  }
  const std::vector<std::string> want = {"at",    "side",   "type",     "streamId",
                                         "flags", "length", "priority", "headerBlockFragment"};
  EXPECT_EQ(keys, want);
  EXPECT_EQ(e[0]["at"], "2026-02-02T02:40:00.123Z");
  EXPECT_EQ(e[0]["side"], "server");
  EXPECT_EQ(e[0]["type"], "headers");
  EXPECT_EQ(e[0]["streamId"], 7);
  EXPECT_EQ(e[0]["length"], 6);
  EXPECT_EQ(json::parse(e[0]["flags"].dump()),
            (json{{"value", 0x25},
                  {"defined",
                   {named(1, "END_STREAM"), named(4, "END_HEADERS"), named(0x20, "PRIORITY")}}}));
  EXPECT_EQ(json::parse(e[0]["priority"].dump()),
            (json{{"exclusive", true}, {"dependency", 3}, {"weight", 16}}));
  EXPECT_EQ(e[0]["headerBlockFragment"], "82");
}

TEST(frame_log, data_shows_its_length_and_padding_not_its_bytes) {
  auto e = event(0x0, 0x1, 1, "", 16384);
  EXPECT_EQ(e["type"], "data");
  EXPECT_EQ(e["dataLength"], 16384);
  EXPECT_FALSE(e.contains("truncated"));
  EXPECT_EQ(e["flags"]["defined"], json::array({named(1, "END_STREAM")}));
  e = event(0x0, 0x8, 1, "\x05", 20);
  EXPECT_EQ(e["padLength"], 5);
  EXPECT_EQ(e["dataLength"], 14);
  EXPECT_EQ(e["flags"]["defined"], json::array({named(8, "PADDED")}));
  e = event(0x0, 0x8, 1, "\x20", 20);
  EXPECT_EQ(e["error"], "padding longer than the payload");
  EXPECT_EQ(e["payload"], "20");
  EXPECT_FALSE(e.contains("dataLength"));
}

TEST(frame_log, headers_with_padding_and_continuation) {
  auto e = event(0x1, 0x0c, 3, std::string("\x02") + "\x82\x86" + std::string(2, '\0'));
  EXPECT_EQ(e["padLength"], 2);
  EXPECT_FALSE(e.contains("priority"));
  EXPECT_EQ(e["headerBlockFragment"], "8286");
  EXPECT_EQ(e["flags"]["defined"], json::array({named(4, "END_HEADERS"), named(8, "PADDED")}));
  e = event(0x9, 0x4, 3, "\xab\xcd");
  EXPECT_EQ(e["type"], "continuation");
  EXPECT_EQ(e["headerBlockFragment"], "abcd");
  e = event(0x1, 0x20, 3, std::string(2, '\0'));
  EXPECT_EQ(e["error"], "priority fields cut short");
}

TEST(frame_log, settings_with_names) {
  const auto e =
      event(0x4, 0, 0, setting(3, 100) + setting(4, 65535) + setting(8, 1) + setting(0x4242, 7));
  EXPECT_EQ(e["type"], "settings");
  const json want = json::array({
      {{"identifier", named(3, "MAX_CONCURRENT_STREAMS")}, {"value", 100}},
      {{"identifier", named(4, "INITIAL_WINDOW_SIZE")}, {"value", 65535}},
      {{"identifier", named(8, "ENABLE_CONNECT_PROTOCOL")}, {"value", 1}},
      {{"identifier", named(0x4242, "unknown_0x4242")}, {"value", 7}},
  });
  EXPECT_EQ(e["settings"], want);
  const auto ack = event(0x4, 0x1, 0, "");
  EXPECT_EQ(ack["settings"], json::array());
  EXPECT_EQ(ack["flags"]["defined"], json::array({named(1, "ACK")}));
  EXPECT_EQ(event(0x4, 0, 0, std::string("\x00\x03\x00", 3))["error"],
            "SETTINGS payload is not a multiple of 6 bytes");
  EXPECT_EQ(event(0x4, 0x1, 0, setting(1, 1))["error"], "SETTINGS ACK with a payload");
}

TEST(frame_log, control_frames) {
  auto e = event(0x8, 0, 0, u32(0x8000'0000 | 1'000'000));
  EXPECT_EQ(e["type"], "window_update");
  EXPECT_EQ(e["windowSizeIncrement"], 1'000'000);
  e = event(0x3, 0, 5, u32(8));
  EXPECT_EQ(e["type"], "rst_stream");
  EXPECT_EQ(e["errorCode"], named(8, "CANCEL"));
  EXPECT_EQ(event(0x3, 0, 5, u32(0x77))["errorCode"], named(0x77, "unknown_0x00000077"));
  e = event(0x2, 0, 5, u32(3) + "\xff");
  EXPECT_EQ(e["type"], "priority");
  EXPECT_EQ(e["exclusive"], false);
  EXPECT_EQ(e["dependency"], 3);
  EXPECT_EQ(e["weight"], 256);
  e = event(0x6, 0x1, 0, "\x01\x02\x03\x04\x05\x06\x07\x08");
  EXPECT_EQ(e["type"], "ping");
  EXPECT_EQ(e["opaqueData"], "0102030405060708");
  EXPECT_EQ(e["flags"]["defined"], json::array({named(1, "ACK")}));
  e = event(0x7, 0, 0, u32(0x8000'0007) + u32(0xb) + "calm down");
  EXPECT_EQ(e["type"], "goaway");
  EXPECT_EQ(e["lastStreamId"], 7);
  EXPECT_EQ(e["errorCode"], named(0xb, "ENHANCE_YOUR_CALM"));
  EXPECT_EQ(e["debugData"], "63616c6d20646f776e");
}

TEST(frame_log, push_promise_and_unknown_types) {
  auto e = event(0x5, 0x4, 1, u32(2) + "\x82");
  EXPECT_EQ(e["type"], "push_promise");
  EXPECT_EQ(e["promisedStreamId"], 2);
  EXPECT_EQ(e["headerBlockFragment"], "82");
  e = event(0xa, 0, 0, std::string("\x00\x03h2=", 5));
  EXPECT_EQ(e["type"], "unknown");
  EXPECT_EQ(e["frameType"], named(10, "ALTSVC"));
  EXPECT_EQ(e["payload"], "000368323d");
  EXPECT_EQ(e["flags"], (json{{"value", 0}, {"defined", json::array()}}));
  e = event(0xfe, 0xff, 9, "zz");
  EXPECT_EQ(e["frameType"], named(0xfe, "unknown_0xfe"));
  EXPECT_EQ(e["flags"]["value"], 0xff);
  EXPECT_EQ(e["flags"]["defined"], json::array());
}

TEST(frame_log, payloads_of_the_wrong_size_are_errors_with_their_bytes) {
  const struct {
    std::uint8_t type;
    std::string payload;
    const char* error;
  } cases[] = {
      {0x6, "1234567", "PING is not 8 bytes"},         {0x3, "abc", "RST_STREAM is not 4 bytes"},
      {0x8, "abcde", "WINDOW_UPDATE is not 4 bytes"},  {0x2, "abcd", "PRIORITY is not 5 bytes"},
      {0x7, "abcdefg", "GOAWAY shorter than 8 bytes"}, {0x5, "ab", "no promised stream id"},
  };
  for (const auto& c : cases) {
    const auto e = event(c.type, 0, 1, c.payload);
    EXPECT_EQ(e["error"], c.error);
    EXPECT_EQ(e["payload"], to_hex(c.payload)) << c.error;
    EXPECT_FALSE(e.contains("truncated"));
  }
}

TEST(frame_log, frames_kept_in_part_are_marked_truncated) {
  // A header block over the tap's payload bound: what was kept is shown.
  auto e = event(0x1, 0x8, 1, std::string("\x03") + "\x82\x86", 40'000);
  EXPECT_EQ(e["truncated"], true);
  EXPECT_EQ(e["padLength"], 3);
  EXPECT_EQ(e["headerBlockFragment"], "8286");
  // A GOAWAY cut by the end of the connection.
  e = event(0x7, 0, 0, u32(1), 8);
  EXPECT_EQ(e["truncated"], true);
  EXPECT_EQ(e["error"], "payload cut short in the log");
  EXPECT_EQ(e["payload"], "00000001");
  e = event(0x0, 0x8, 1, "", 10);
  EXPECT_EQ(e["truncated"], true);
}

TEST(frame_log, a_real_nghttp2_client_through_the_tap) {
  batch_sink sink;
  frame_tap tap(sink, "01REAL", capture::h2_leg::client);
  tap.received(nghttp2_client_bytes());
  tap.flush();
  ASSERT_EQ(sink.batches.size(), 1U);
  const auto events = json::parse(describe_frames(sink.batches[0].records).dump());
  ASSERT_EQ(events.size(), 3U);
  EXPECT_EQ(events[0]["type"], "settings");
  EXPECT_EQ(events[0]["settings"][0]["identifier"], named(3, "MAX_CONCURRENT_STREAMS"));
  EXPECT_EQ(events[0]["settings"][1]["value"], 4 << 20);
  EXPECT_EQ(events[1]["type"], "ping");
  EXPECT_EQ(events[1]["opaqueData"], "0102030405060708");
  EXPECT_EQ(events[2]["type"], "headers");
  EXPECT_EQ(events[2]["streamId"], 1);
  EXPECT_EQ(events[2]["flags"]["value"], 5);
  EXPECT_FALSE(events[2]["headerBlockFragment"].get<std::string>().empty());
}

TEST(frame_log, garbage_never_crashes) {
  std::mt19937 random(12345);
  for (int round = 0; round < 2000; ++round) {
    std::string records;
    const auto type = static_cast<std::uint8_t>(random() % 12);
    const auto flags = static_cast<std::uint8_t>(random());
    std::string payload(random() % 40, '\0');
    for (auto& byte : payload) {
      byte = static_cast<char>(random());
    }
    const auto length = static_cast<std::uint32_t>(random() % 2 ? payload.size() : random() % 64);
    append_frame_record_header(records, at_us, capture::h2_side::client, type, flags,
                               static_cast<std::uint32_t>(random()), length,
                               static_cast<std::uint32_t>(payload.size()));
    records += payload;
    // …and a batch cut anywhere.
    const auto events = describe_frames(std::string_view(records).substr(0, random() % 80));
    EXPECT_LE(events.size(), 1U);
    EXPECT_EQ(describe_frames(records).size(), 1U);
  }
}

}  // namespace
}  // namespace hark::h2::test
