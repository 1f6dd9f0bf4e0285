#include "hark/store/catalog.hpp"
#include "hark/store/writer.hpp"

#include "store_test_support.hpp"

#include <gtest/gtest.h>

#include <regex>

namespace {

using namespace hark::store;
using test::query_int;
using test::temp_dir;

class sessions : public ::testing::Test {
 protected:
  temp_dir dir_;
  database db_{dir_.path() / "hark.db"};
  catalog catalog_{db_};

  int active_count() {
    return static_cast<int>(query_int(db_, "SELECT COUNT(*) FROM sessions WHERE is_active = 1"));
  }
};

TEST_F(sessions, create_makes_an_inactive_session_with_a_uuid) {
  const auto s = catalog_.create_session("Login Flow Testing", 1709136600000);
  EXPECT_TRUE(std::regex_match(
      s.id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")));
  EXPECT_EQ(s.name, "Login Flow Testing");
  EXPECT_FALSE(s.is_active);
  EXPECT_FALSE(s.is_recording);
  EXPECT_EQ(s.created_at, 1709136600000);
  EXPECT_EQ(s.updated_at, 1709136600000);
  EXPECT_EQ(s.traffic_count, 0);
  EXPECT_EQ(s.total_bytes, 0);

  const auto loaded = catalog_.get_session(s.id);
  ASSERT_TRUE(loaded);
  EXPECT_EQ(loaded->name, s.name);
  EXPECT_EQ(loaded->created_at, s.created_at);
  EXPECT_FALSE(loaded->is_active);
  EXPECT_FALSE(catalog_.get_session("no-such-id"));
  EXPECT_FALSE(catalog_.active_session());
}

TEST_F(sessions, list_is_newest_first) {
  const auto a = catalog_.create_session("a", 1000);
  const auto b = catalog_.create_session("b", 3000);
  const auto c = catalog_.create_session("c", 2000);
  const auto d = catalog_.create_session("d", 3000);  // same time as b, created later
  const auto list = catalog_.list_sessions();
  ASSERT_EQ(list.size(), 4U);
  EXPECT_EQ(list[0].id, d.id);
  EXPECT_EQ(list[1].id, b.id);
  EXPECT_EQ(list[2].id, c.id);
  EXPECT_EQ(list[3].id, a.id);
}

TEST_F(sessions, activate_keeps_a_single_active_recording_session) {
  const auto a = catalog_.create_session("a", 1000);
  const auto b = catalog_.create_session("b", 1000);
  const auto activated_a = catalog_.activate_session(a.id, 2000);
  ASSERT_TRUE(activated_a);
  EXPECT_TRUE(activated_a->is_active);
  EXPECT_TRUE(activated_a->is_recording);
  EXPECT_EQ(activated_a->updated_at, 2000);

  const auto activated_b = catalog_.activate_session(b.id, 3000);
  ASSERT_TRUE(activated_b);
  EXPECT_TRUE(activated_b->is_active);
  EXPECT_TRUE(activated_b->is_recording);
  EXPECT_EQ(activated_b->updated_at, 3000);
  const auto old = catalog_.get_session(a.id);
  EXPECT_FALSE(old->is_active);
  EXPECT_FALSE(old->is_recording);
  EXPECT_EQ(old->updated_at, 3000);
  EXPECT_EQ(active_count(), 1);
  EXPECT_EQ(catalog_.active_session()->id, b.id);

  EXPECT_FALSE(catalog_.activate_session("no-such-id", 4000));
  EXPECT_EQ(catalog_.active_session()->id, b.id);
}

TEST_F(sessions, create_active_session_replaces_the_active_one) {
  const auto first = catalog_.create_active_session("first", 1000);
  EXPECT_TRUE(first.is_active);
  EXPECT_TRUE(first.is_recording);
  const auto second = catalog_.create_active_session("second", 2000);
  EXPECT_EQ(active_count(), 1);
  EXPECT_EQ(catalog_.active_session()->id, second.id);
  EXPECT_FALSE(catalog_.get_session(first.id)->is_active);
}

TEST_F(sessions, update_applies_fields_and_moves_updated_at) {
  const auto s = catalog_.create_session("old", 1000);
  session_patch rename;
  rename.name = "new";
  auto updated = catalog_.update_session(s.id, rename, 1000);  // same millisecond as creation
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->name, "new");
  EXPECT_GT(updated->updated_at, s.updated_at);
  EXPECT_EQ(updated->created_at, 1000);

  session_patch nothing;
  const auto before = updated->updated_at;
  updated = catalog_.update_session(s.id, nothing, 5000);
  EXPECT_EQ(updated->updated_at, 5000);
  EXPECT_GT(updated->updated_at, before);

  session_patch record;
  record.is_recording = true;
  updated = catalog_.update_session(s.id, record, 6000);
  EXPECT_TRUE(updated->is_recording);
  EXPECT_FALSE(updated->is_active);

  EXPECT_FALSE(catalog_.update_session("no-such-id", rename, 7000));
}

TEST_F(sessions, update_is_active_true_behaves_as_activate) {
  const auto a = catalog_.create_active_session("a", 1000);
  const auto b = catalog_.create_session("b", 1000);
  session_patch patch;
  patch.is_active = true;
  const auto updated = catalog_.update_session(b.id, patch, 2000);
  ASSERT_TRUE(updated);
  EXPECT_TRUE(updated->is_active);
  EXPECT_TRUE(updated->is_recording);
  EXPECT_EQ(updated->updated_at, 2000);
  EXPECT_FALSE(catalog_.get_session(a.id)->is_active);
  EXPECT_EQ(active_count(), 1);

  // An explicit isRecording in the same PATCH wins over activation's default.
  patch.is_recording = false;
  EXPECT_FALSE(catalog_.update_session(a.id, patch, 3000)->is_recording);
  EXPECT_TRUE(catalog_.get_session(a.id)->is_active);
}

TEST_F(sessions, update_is_active_false_deactivates_and_stops_recording) {
  const auto a = catalog_.create_active_session("a", 1000);
  session_patch patch;
  patch.is_active = false;
  const auto updated = catalog_.update_session(a.id, patch, 2000);
  ASSERT_TRUE(updated);
  EXPECT_FALSE(updated->is_active);
  EXPECT_FALSE(updated->is_recording);
  EXPECT_EQ(updated->updated_at, 2000);
  EXPECT_FALSE(catalog_.active_session());
}

TEST_F(sessions, delete_removes_the_session_with_entries_and_bodies) {
  const auto keep = catalog_.create_session("keep", 1000);
  const auto drop = catalog_.create_session("drop", 1000);
  {
    writer w({.database_path = dir_.path() / "hark.db"});
    for (const auto* id : {&keep.id, &drop.id}) {
      auto r = test::sample_record(*id);
      r.request_body = "request";
      r.response_body = "response";
      w.submit(std::move(r));
    }
    w.flush();
  }
  ASSERT_EQ(query_int(db_, "SELECT COUNT(*) FROM bodies"), 4);
  EXPECT_TRUE(catalog_.delete_session(drop.id));
  EXPECT_FALSE(catalog_.get_session(drop.id));
  EXPECT_EQ(query_int(db_, "SELECT COUNT(*) FROM entries"), 1);
  EXPECT_EQ(query_int(db_, "SELECT COUNT(*) FROM bodies"), 2);
  EXPECT_EQ(query_int(db_, "SELECT COUNT(*) FROM entries WHERE session_id = '" + keep.id + "'"), 1);
  EXPECT_FALSE(catalog_.delete_session(drop.id));
  EXPECT_EQ(catalog_.list_sessions().size(), 1U);
}

}  // namespace
