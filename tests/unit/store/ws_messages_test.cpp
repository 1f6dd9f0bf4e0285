// The writer's WebSocket half: messages submitted after their entry are stored under it in
// order, counted in the session's totalBytes (and taken off again with the entry), announced as
// `websocket` events after their commit, and dropped when their entry is not stored.

#include "hark/capture/event_hub.hpp"
#include "hark/store/catalog.hpp"
#include "hark/store/writer.hpp"

#include "store_test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

using namespace hark::store;
using hark::capture::event_hub;
using hark::capture::event_type;
using hark::capture::ws_message_record;
using test::sample_record;
using test::temp_dir;

ws_message_record ws_message(const hark::capture::entry_record& entry, std::int64_t seq,
                             bool from_client, std::string_view type, std::string payload) {
  ws_message_record m;
  m.entry_id = entry.id;
  m.session_id = entry.session_id;
  m.seq = seq;
  m.from_client = from_client;
  m.started_us = 1'700'000'000'000'000 + seq * 1000;
  m.ended_us = m.started_us + 500;
  m.type = type;
  m.wire_bytes = payload.size() + 10;
  m.payload = std::move(payload);
  return m;
}

class ws_messages_test : public ::testing::Test {
 protected:
  temp_dir dir_;
  std::filesystem::path path_ = dir_.path() / "hark.db";
  database db_{path_};
  catalog catalog_{db_};
  session session_ = catalog_.create_active_session("s", 1000);
};

TEST_F(ws_messages_test, stores_messages_under_their_entry_in_order_with_totals_and_events) {
  event_hub hub;
  const auto sub = hub.subscribe({});
  writer w({.database_path = path_, .events = &hub});
  auto entry = sample_record(session_.id);
  entry.is_websocket = true;
  entry.request.body_size = 0;
  entry.response->body_size = 0;
  const auto e = entry;  // (the copy keeps the id and session for the messages)
  w.submit(std::move(entry));
  w.submit_ws(ws_message(e, 0, true, "text", "hello"));
  w.submit_ws(ws_message(e, 1, false, "binary", std::string("\x00\xff", 2)));
  w.submit_ws(ws_message(e, 2, true, "close",
                         std::string("\x0f\xa1"
                                     "bye",
                                     5)));
  w.flush();
  EXPECT_EQ(w.stats().ws_messages_written.load(), 3u);

  const auto messages = catalog_.entry_messages(session_.id, e.id);
  ASSERT_TRUE(messages);
  ASSERT_EQ(messages->size(), 3u);
  EXPECT_EQ((*messages)[0].type, "text");
  EXPECT_EQ((*messages)[0].payload, "hello");
  EXPECT_TRUE((*messages)[0].from_client);
  EXPECT_EQ((*messages)[1].payload, std::string("\x00\xff", 2));
  EXPECT_FALSE((*messages)[1].from_client);
  EXPECT_EQ((*messages)[2].type, "close");
  EXPECT_EQ(*(*messages)[2].started_us, 1'700'000'000'002'000);

  const std::int64_t wire = (5 + 10) + (2 + 10) + (5 + 10);
  EXPECT_EQ(catalog_.get_session(session_.id)->total_bytes, wire);
  EXPECT_EQ(catalog_.get_session(session_.id)->traffic_count, 1);

  std::vector<std::shared_ptr<const hark::capture::event>> got;
  sub->take(got, SIZE_MAX);
  ASSERT_EQ(got.size(), 4u);  // the entry, then its three messages
  EXPECT_EQ(got[0]->type, event_type::entry);
  EXPECT_EQ(got[1]->type, event_type::websocket_message);
  const auto first = nlohmann::json::parse(got[1]->data);
  EXPECT_EQ(first["sessionId"], session_.id);
  EXPECT_EQ(first["entryId"], e.id);
  EXPECT_EQ(first["message"]["side"], "client");
  EXPECT_EQ(first["message"]["payload"], (nlohmann::json{{"type", "text"}, {"text", "hello"}}));
  const auto close = nlohmann::json::parse(got[3]->data)["message"]["payload"];
  EXPECT_EQ(close, (nlohmann::json{{"type", "close"}, {"code", 4001}, {"reason", "bye"}}));

  // Deleting the entry takes its messages' bytes off the session too.
  ASSERT_TRUE(catalog_.delete_entry(session_.id, e.id));
  EXPECT_EQ(catalog_.get_session(session_.id)->total_bytes, 0);
}

TEST_F(ws_messages_test, messages_of_an_entry_that_was_not_stored_are_dropped) {
  writer w({.database_path = path_});
  const auto gone = catalog_.create_session("gone", 2000);
  ASSERT_TRUE(catalog_.delete_session(gone.id));
  auto entry = sample_record(gone.id);
  const auto e = entry;
  w.submit(std::move(entry));
  w.submit_ws(ws_message(e, 0, true, "text", "lost"));
  w.flush();
  EXPECT_EQ(w.stats().ws_messages_written.load(), 0u);
  EXPECT_EQ(w.stats().ws_messages_dropped.load(), 1u);
}

TEST_F(ws_messages_test, many_messages_stream_through_in_batches_and_in_order) {
  writer w({.database_path = path_});
  auto entry = sample_record(session_.id);
  entry.is_websocket = true;
  const auto e = entry;
  w.submit(std::move(entry));
  constexpr int n = 40'000;  // more than one batch of messages
  for (int i = 0; i < n; ++i) {
    w.submit_ws(ws_message(e, i, i % 2 == 0, "text", "m" + std::to_string(i)));
  }
  w.flush();
  EXPECT_EQ(w.stats().ws_messages_written.load(), static_cast<std::uint64_t>(n));
  const auto messages = catalog_.entry_messages(session_.id, e.id);
  ASSERT_TRUE(messages);
  ASSERT_EQ(messages->size(), w.stats().ws_messages_written.load());
  for (std::size_t i = 0; i < messages->size(); ++i) {
    ASSERT_EQ((*messages)[i].payload, "m" + std::to_string(i)) << i;
  }
}

}  // namespace
