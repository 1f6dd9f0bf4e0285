// The recorder's WebSocket half: an upgraded flow's entry is submitted at its end (the 101),
// then each message on its own, numbered, typed and timed as the store keeps it.

#include "hark/capture/recorder.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace {

using namespace hark::capture;

struct vector_queue final : record_queue {
  std::vector<entry_record> entries;
  std::vector<ws_message_record> messages;
  void submit(entry_record&& r) override { entries.push_back(std::move(r)); }
  void submit_ws(ws_message_record&& m) override { messages.push_back(std::move(m)); }
};

hark::ws::message make_message(hark::ws::side from, hark::ws::message_type type,
                               std::string payload) {
  hark::ws::message m;
  m.from = from;
  m.type = type;
  m.started = std::chrono::system_clock::time_point(std::chrono::milliseconds(1'700'000'000'123));
  m.ended = m.started + std::chrono::milliseconds(2);
  m.size = payload.size();
  m.wire_size = payload.size() + 1;
  m.payload = std::move(payload);
  return m;
}

http_head upgrade_request() {
  http_head h;
  h.method = "GET";
  h.target = "/chat";
  h.fields = {{"Host", "example.test"}, {"Upgrade", "websocket"}, {"Connection", "Upgrade"}};
  return h;
}

TEST(recorder_ws, messages_follow_the_upgrade_entry_one_by_one) {
  vector_queue q;
  recording_state state;
  state.set("session-1", true);
  recorder rec(q, state, 1 << 20);
  flow f;
  f.scheme = "ws";
  f.url = "ws://example.test/chat";
  rec.on_request_head(f, upgrade_request());
  http_head response;
  response.status = 101;
  rec.on_response_head(f, response);
  f.is_websocket = true;
  rec.on_flow_end(f, {});
  ASSERT_EQ(q.entries.size(), 1u);  // at the 101, before any message
  EXPECT_TRUE(q.entries[0].is_websocket);
  EXPECT_EQ(q.entries[0].url, "ws://example.test/chat");

  rec.on_ws_message(f, make_message(hark::ws::side::client, hark::ws::message_type::text, "hi"));
  auto truncated = make_message(hark::ws::side::server, hark::ws::message_type::binary, "abc");
  truncated.truncated = true;
  rec.on_ws_message(f, std::move(truncated));
  ASSERT_EQ(q.messages.size(), 2u);
  EXPECT_EQ(q.messages[0].entry_id, q.entries[0].id);
  EXPECT_EQ(q.messages[0].session_id, "session-1");
  EXPECT_EQ(q.messages[0].seq, 0);
  EXPECT_TRUE(q.messages[0].from_client);
  EXPECT_EQ(q.messages[0].type, "text");
  EXPECT_EQ(q.messages[0].payload, "hi");
  EXPECT_EQ(q.messages[0].started_us, 1'700'000'000'123'000);
  EXPECT_EQ(q.messages[0].ended_us, 1'700'000'000'125'000);
  EXPECT_EQ(q.messages[0].wire_bytes, 3u);
  EXPECT_EQ(q.messages[1].seq, 1);
  EXPECT_FALSE(q.messages[1].from_client);
  EXPECT_EQ(q.messages[1].type, "binary");
  EXPECT_TRUE(q.messages[1].truncated);
}

TEST(recorder_ws, nothing_is_kept_when_the_upgrade_was_not_recorded) {
  vector_queue q;
  recording_state state;  // not recording
  recorder rec(q, state, 1 << 20);
  flow f;
  rec.on_request_head(f, upgrade_request());
  f.is_websocket = true;
  rec.on_flow_end(f, {});
  rec.on_ws_message(f, make_message(hark::ws::side::client, hark::ws::message_type::text, "x"));
  EXPECT_TRUE(q.entries.empty());
  EXPECT_TRUE(q.messages.empty());
}

TEST(recorder_ws, a_failed_upgrade_keeps_no_message_state) {
  vector_queue q;
  recording_state state;
  state.set("s", true);
  recorder rec(q, state, 1 << 20);
  flow f;
  rec.on_request_head(f, upgrade_request());
  f.is_websocket = true;
  rec.on_flow_end(f, flow_outcome{flow_error{"upstream_reset", "gone"}});
  rec.on_ws_message(f, make_message(hark::ws::side::client, hark::ws::message_type::text, "x"));
  EXPECT_EQ(q.entries.size(), 1u);
  EXPECT_TRUE(q.messages.empty());
}

}  // namespace
