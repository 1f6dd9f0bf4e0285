#include "hark/store/writer.hpp"

#include "hark/capture/event_hub.hpp"
#include "hark/store/capture_record.hpp"
#include "hark/store/capture_segments.hpp"
#include "hark/store/catalog.hpp"

#include "store_test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <thread>

namespace {

using namespace hark::store;
using hark::capture::entry_record;
using test::query_int;
using test::sample_record;
using test::temp_dir;
using namespace std::chrono_literals;

class writer_test : public ::testing::Test {
 protected:
  temp_dir dir_;
  std::filesystem::path path_ = dir_.path() / "hark.db";
  database db_{path_};
  catalog catalog_{db_};
  session session_ = catalog_.create_active_session("s", 1000);

  writer_options options() const { return {.database_path = path_}; }

  nlohmann::json entry_json(const std::string& id) {
    const auto doc = catalog_.get_entry_json(session_.id, id);
    EXPECT_TRUE(doc) << id;
    return doc ? nlohmann::json::parse(*doc) : nlohmann::json();
  }
};

TEST_F(writer_test, flush_commits_everything_and_counts_traffic) {
  const auto other = catalog_.create_session("other", 2000);
  writer w(options());
  std::uint64_t bytes = 0;
  for (int i = 0; i < 500; ++i) {
    auto r = sample_record(i % 5 == 0 ? other.id : session_.id, 1'700'000'000'000'000 + i);
    r.request.body_size = static_cast<std::uint64_t>(i);
    r.response->body_size = 1000;
    if (i % 5 != 0) {
      bytes += static_cast<std::uint64_t>(i) + 1000;
    }
    w.submit(std::move(r));
  }
  w.flush();
  EXPECT_EQ(w.stats().entries_written.load(), 500U);
  EXPECT_EQ(w.stats().queue_depth.load(), 0U);
  EXPECT_TRUE(w.stats().ok.load());
  const auto s = catalog_.get_session(session_.id);
  EXPECT_EQ(s->traffic_count, 400);
  EXPECT_EQ(s->total_bytes, static_cast<std::int64_t>(bytes));
  EXPECT_EQ(catalog_.get_session(other.id)->traffic_count, 100);
  EXPECT_EQ(query_int(db_, "SELECT COUNT(*) FROM entries"), 500);
  // The session columns do not count as an update of the session's own fields.
  EXPECT_EQ(s->updated_at, 1000);
}

TEST_F(writer_test, commits_within_the_commit_delay_without_flush) {
  writer w(options());
  auto r = sample_record(session_.id);
  const auto id = r.id;
  w.submit(std::move(r));
  const auto deadline = std::chrono::steady_clock::now() + 1s;
  while (!catalog_.entry_exists(session_.id, id) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_TRUE(catalog_.entry_exists(session_.id, id));
}

TEST_F(writer_test, bodies_round_trip_compressed_and_plain) {
  writer_options o = options();
  o.compress_threshold = 64;
  writer w(o);
  auto r = sample_record(session_.id);
  const auto id = r.id;
  r.request.headers.emplace_back("CONTENT-TYPE", "application/json");
  r.request_body = R"({"small":true})";
  r.request.body_size = r.request_body.size();
  r.response->headers = {{"content-encoding", "identity"}, {"Content-Type", "text/plain"}};
  for (int i = 0; i < 2000; ++i) {
    r.response_body += "line " + std::to_string(i % 10) + "\n";
  }
  r.response->body_truncated = true;
  const auto response_body = r.response_body;
  w.submit(std::move(r));
  w.flush();

  const auto request = catalog_.get_body(session_.id, id, body_kind::request);
  ASSERT_TRUE(request);
  EXPECT_EQ(request->bytes, R"({"small":true})");
  EXPECT_FALSE(request->truncated);
  EXPECT_EQ(request->content_type, "application/json");
  EXPECT_EQ(request->content_encoding, "");

  const auto response = catalog_.get_body(session_.id, id, body_kind::response);
  ASSERT_TRUE(response);
  EXPECT_EQ(response->bytes, response_body);
  EXPECT_TRUE(response->truncated);
  EXPECT_EQ(response->content_type, "text/plain");
  EXPECT_EQ(response->content_encoding, "identity");

  EXPECT_EQ(query_int(db_, "SELECT codec FROM bodies WHERE kind = 0"), 0);
  EXPECT_EQ(query_int(db_, "SELECT codec FROM bodies WHERE kind = 1"), 1);
  EXPECT_LT(query_int(db_, "SELECT length(data) FROM bodies WHERE kind = 1"),
            static_cast<std::int64_t>(response_body.size()) / 4);
}

TEST_F(writer_test, empty_bodies_are_stored_only_when_truncated) {
  writer w(options());
  auto plain = sample_record(session_.id);
  auto truncated = sample_record(session_.id);
  truncated.response->body_truncated = true;
  const auto plain_id = plain.id;
  const auto truncated_id = truncated.id;
  w.submit(std::move(plain));
  w.submit(std::move(truncated));
  w.flush();
  EXPECT_FALSE(catalog_.get_body(session_.id, plain_id, body_kind::request));
  EXPECT_FALSE(catalog_.get_body(session_.id, plain_id, body_kind::response));
  const auto body = catalog_.get_body(session_.id, truncated_id, body_kind::response);
  ASSERT_TRUE(body);
  EXPECT_TRUE(body->truncated);
  EXPECT_EQ(body->bytes, "");
  EXPECT_FALSE(catalog_.get_body(session_.id, "no-such-entry", body_kind::response));
}

TEST_F(writer_test, a_burst_far_beyond_any_memory_bound_keeps_every_entry_and_body) {
  // The capture log is the queue (SPEC §7): bounded by disk, so nothing is dropped or cut.
  writer w(options());
  std::vector<std::string> ids;
  for (int i = 0; i < 20'000; ++i) {
    auto r = sample_record(session_.id, 1'700'000'000'000'000 + i);
    r.response_body = std::string(2000, static_cast<char>('a' + i % 26));
    r.response->body_size = 2000;
    ids.push_back(r.id);
    w.submit(std::move(r));
  }
  w.flush();
  EXPECT_EQ(w.stats().entries_dropped.load(), 0U);
  EXPECT_EQ(w.stats().records_refused.load(), 0U);
  EXPECT_EQ(w.stats().entries_written.load(), 20'000U);
  EXPECT_EQ(query_int(db_, "SELECT COUNT(*) FROM entries"), 20'000);
  const auto body = catalog_.get_body(session_.id, ids.back(), body_kind::response);
  ASSERT_TRUE(body);
  EXPECT_FALSE(body->truncated);
  EXPECT_EQ(body->bytes.size(), 2000U);
}

TEST_F(writer_test, entries_of_a_deleted_session_are_skipped_without_failing_the_batch) {
  writer w(options());
  auto orphan = sample_record("deleted-session");
  auto kept = sample_record(session_.id);
  const auto kept_id = kept.id;
  w.submit(std::move(orphan));
  w.submit(std::move(kept));
  w.flush();
  EXPECT_TRUE(w.stats().ok.load());
  EXPECT_EQ(w.stats().entries_written.load(), 1U);
  EXPECT_TRUE(catalog_.entry_exists(session_.id, kept_id));
  EXPECT_EQ(query_int(db_, "SELECT COUNT(*) FROM entries"), 1);
}

TEST_F(writer_test, waits_briefly_for_the_process_lookup) {
  writer w(options());
  std::promise<std::optional<hark::capture::process_info>> late;
  std::promise<std::optional<hark::capture::process_info>> never;
  auto resolved = sample_record(session_.id);
  resolved.process = late.get_future().share();
  auto unresolved = sample_record(session_.id);
  unresolved.process = never.get_future().share();
  const auto resolved_id = resolved.id;
  const auto unresolved_id = unresolved.id;
  w.submit(std::move(resolved));
  w.submit(std::move(unresolved));
  std::this_thread::sleep_for(20ms);
  late.set_value(hark::capture::process_info{4242, "curl"});
  const auto started = std::chrono::steady_clock::now();
  w.flush();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 2s);
  EXPECT_EQ(entry_json(resolved_id)["process"], (nlohmann::json{{"pid", 4242}, {"name", "curl"}}));
  EXPECT_TRUE(entry_json(unresolved_id)["process"].is_null());
}

TEST_F(writer_test, database_errors_pause_recording_until_writes_succeed) {
  writer w(options());
  db_.exec("DROP TABLE bodies");
  auto r = sample_record(session_.id);
  r.request_body = "body";
  w.submit(std::move(r));
  w.flush();
  EXPECT_FALSE(w.stats().ok.load());
  {
    std::lock_guard lock(w.stats().error_mutex);
    EXPECT_FALSE(w.stats().last_error.empty());
  }
  EXPECT_EQ(w.stats().entries_dropped.load(), 1U);
  EXPECT_EQ(query_int(db_, "SELECT COUNT(*) FROM entries"), 0);  // rolled back as a whole

  db_.exec(
      "CREATE TABLE bodies (entry_row INTEGER NOT NULL REFERENCES entries (row) ON DELETE "
      "CASCADE, kind INTEGER NOT NULL, codec INTEGER NOT NULL, size INTEGER NOT NULL, truncated "
      "INTEGER NOT NULL, content_type TEXT NOT NULL DEFAULT '', content_encoding TEXT NOT NULL "
      "DEFAULT '', data BLOB NOT NULL, PRIMARY KEY (entry_row, kind))");
  auto again = sample_record(session_.id);
  again.request_body = "body";
  w.submit(std::move(again));
  w.flush();
  EXPECT_TRUE(w.stats().ok.load());
  {
    std::lock_guard lock(w.stats().error_mutex);
    EXPECT_TRUE(w.stats().last_error.empty());
  }
  EXPECT_EQ(query_int(db_, "SELECT COUNT(*) FROM entries"), 1);
  EXPECT_EQ(catalog_.get_session(session_.id)->traffic_count, 1);
}

TEST_F(writer_test, stop_drains_and_later_submits_are_dropped) {
  writer w(options());
  for (int i = 0; i < 50; ++i) {
    w.submit(sample_record(session_.id, 1'700'000'000'000'000 + i));
  }
  w.stop();
  w.stop();  // idempotent
  EXPECT_EQ(query_int(db_, "SELECT COUNT(*) FROM entries"), 50);
  w.submit(sample_record(session_.id));
  w.flush();  // returns: nothing left to wait for
  EXPECT_EQ(w.stats().records_refused.load(), 1U);
  EXPECT_EQ(w.stats().entries_dropped.load(), 0U);
}

TEST_F(writer_test, deleting_entries_keeps_the_session_counts_right) {
  std::string first_id;
  {
    writer w(options());
    for (int i = 0; i < 3; ++i) {
      auto r = sample_record(session_.id, 1'700'000'000'000'000 + i);
      r.request.body_size = 10;
      r.response->body_size = 100;
      r.response_body = "x";
      if (i == 0) {
        first_id = r.id;
      }
      w.submit(std::move(r));
    }
  }
  EXPECT_EQ(catalog_.get_session(session_.id)->total_bytes, 330);
  EXPECT_TRUE(catalog_.delete_entry(session_.id, first_id));
  EXPECT_FALSE(catalog_.delete_entry(session_.id, first_id));
  auto s = catalog_.get_session(session_.id);
  EXPECT_EQ(s->traffic_count, 2);
  EXPECT_EQ(s->total_bytes, 220);
  EXPECT_EQ(query_int(db_, "SELECT COUNT(*) FROM bodies"), 2);

  EXPECT_TRUE(catalog_.delete_entries(session_.id));
  s = catalog_.get_session(session_.id);
  EXPECT_EQ(s->traffic_count, 0);
  EXPECT_EQ(s->total_bytes, 0);
  EXPECT_EQ(query_int(db_, "SELECT COUNT(*) FROM entries"), 0);
  EXPECT_EQ(query_int(db_, "SELECT COUNT(*) FROM bodies"), 0);
  EXPECT_FALSE(catalog_.delete_entries("no-such-session"));
}

// SPEC §7: after kill -9 the database opens cleanly and holds every entry that completed more
// than a second before the kill. The forked child writes and is killed without any shutdown.
// No connection is open in this process across the fork (SQLite's lock bookkeeping is per
// process, so an inherited connection would confuse the child).
TEST(writer_crash, entries_survive_kill_9) {
  temp_dir dir;
  const auto path = dir.path() / "hark.db";
  std::string session_id;
  {
    database db(path);
    session_id = catalog(db).create_active_session("s", 1000).id;
  }
  EXPECT_EXIT(
      {
        writer w({.database_path = path});
        for (int i = 0; i < 100; ++i) {
          w.submit(sample_record(session_id, 1'700'000'000'000'000 + i));
        }
        std::this_thread::sleep_for(1s);
        std::raise(SIGKILL);
      },
      ::testing::KilledBySignal(SIGKILL), "");
  database reopened(path);
  EXPECT_EQ(test::query_text(reopened, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(query_int(reopened, "SELECT COUNT(*) FROM entries"), 100);
  EXPECT_EQ(catalog(reopened).get_session(session_id)->traffic_count, 100);
}

using hark::capture::event_hub;
using hark::capture::event_type;

TEST_F(writer_test, announces_each_committed_entry_and_only_those) {
  event_hub hub;
  const auto sub = hub.subscribe({});
  auto opts = options();
  opts.events = &hub;
  writer w(opts);
  const auto gone = catalog_.create_session("gone", 2000);
  ASSERT_TRUE(catalog_.delete_session(gone.id));
  auto kept = sample_record(session_.id, 1'700'000'000'000'000);
  const auto kept_id = kept.id;
  w.submit(std::move(kept));
  w.submit(sample_record(gone.id, 1'700'000'000'000'001));  // skipped: its session is gone
  w.flush();  // returns after the commit, so after the events

  std::vector<std::shared_ptr<const hark::capture::event>> got;
  EXPECT_EQ(sub->take(got, SIZE_MAX), event_hub::state::open);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0]->type, event_type::entry);
  EXPECT_EQ(got[0]->session_id, session_.id);
  EXPECT_EQ(nlohmann::json::parse(got[0]->data), entry_json(kept_id));
}

TEST_F(writer_test, builds_no_event_without_subscribers) {
  event_hub hub;
  auto opts = options();
  opts.events = &hub;
  writer w(opts);
  w.submit(sample_record(session_.id, 1'700'000'000'000'000));
  w.flush();
  EXPECT_EQ(w.stats().entries_written.load(), 1U);
  EXPECT_EQ(hub.published_total(), 0U);
}

}  // namespace

namespace {

/** Appends `records` to the capture log in `dir` the way a run of the daemon that was killed
 *  before indexing them would have left them. */
void append_to_log(const std::filesystem::path& dir, const std::vector<entry_record>& records,
                   std::uint64_t segment_bytes = 4096) {
  capture_segments log(dir, segment_bytes);
  for (const auto& r : records) {
    std::string bytes;
    append_record(bytes, r);
    seal_records(bytes.data(), bytes.size());
    log.append(bytes);
  }
}

std::vector<entry_record> records_for(const std::string& session, int n, int first = 0) {
  std::vector<entry_record> v;
  for (int i = first; i < first + n; ++i) {
    v.push_back(sample_record(session, 1'700'000'000'000'000 + i));
  }
  return v;
}

}  // namespace

TEST_F(writer_test, a_restart_indexes_what_the_log_holds_past_the_stored_position) {
  const auto log_dir = dir_.path() / "capture-log";
  // A run killed between segments: 100 records in several segments, none indexed.
  append_to_log(log_dir, records_for(session_.id, 100));
  {
    writer w(options());
    w.flush();
    EXPECT_EQ(query_int(db_, "SELECT COUNT(*) FROM entries"), 100);
    const auto pos = w.indexed_position();
    EXPECT_EQ(query_int(db_, "SELECT segment FROM capture_log_position"),
              static_cast<std::int64_t>(pos.segment));
    EXPECT_EQ(query_int(db_, "SELECT offset FROM capture_log_position"),
              static_cast<std::int64_t>(pos.offset));
  }
  // Indexed segments are gone: only the ones a later run may still append to or read remain.
  std::size_t segments = 0;
  for (const auto& e : std::filesystem::directory_iterator(log_dir)) {
    (void)e;
    ++segments;
  }
  EXPECT_LE(segments, 2U);
  // Another run appends 50 and is killed before indexing them; the next one finds them.
  append_to_log(log_dir, records_for(session_.id, 50, 100));
  writer w(options());
  w.flush();
  EXPECT_EQ(query_int(db_, "SELECT COUNT(*) FROM entries"), 150);
  EXPECT_EQ(query_int(db_, "SELECT COUNT(DISTINCT id) FROM entries"), 150);
  EXPECT_EQ(catalog_.get_session(session_.id)->traffic_count, 150);
}

TEST_F(writer_test, a_crash_after_the_rows_but_before_the_position_replays_without_duplicates) {
  const auto log_dir = dir_.path() / "capture-log";
  const auto saved = dir_.path() / "saved";
  auto records = records_for(session_.id, 300);
  append_to_log(log_dir, records, 1 << 20);
  std::filesystem::copy(log_dir, saved);
  {
    writer w(options());
    w.flush();
  }
  ASSERT_EQ(query_int(db_, "SELECT COUNT(*) FROM entries"), 300);
  // The crash: the rows committed, the position (and the segment deletion) did not.
  std::filesystem::remove_all(log_dir);
  std::filesystem::copy(saved, log_dir);
  db_.exec("UPDATE capture_log_position SET segment = 0, offset = 0");
  writer w(options());
  w.flush();
  EXPECT_EQ(w.stats().entries_written.load(), 0U);  // every one was already there
  EXPECT_EQ(query_int(db_, "SELECT COUNT(*) FROM entries"), 300);
  EXPECT_EQ(catalog_.get_session(session_.id)->traffic_count, 300);
  EXPECT_EQ(query_int(db_, "SELECT sum(entries) FROM entry_counts"), 300);
}

TEST_F(writer_test, a_torn_record_at_the_end_of_a_segment_is_skipped) {
  const auto log_dir = dir_.path() / "capture-log";
  append_to_log(log_dir, records_for(session_.id, 10), 1 << 20);
  {
    std::string torn;
    append_record(torn, sample_record(session_.id));
    std::ofstream f(log_dir / "0000000000000001.hcl", std::ios::app | std::ios::binary);
    f << torn.substr(0, torn.size() / 2);
  }
  writer w(options());
  auto after = sample_record(session_.id);
  const auto after_id = after.id;
  w.submit(std::move(after));
  w.flush();
  EXPECT_EQ(query_int(db_, "SELECT COUNT(*) FROM entries"), 11);
  EXPECT_TRUE(catalog_.entry_exists(session_.id, after_id));
}

TEST_F(writer_test, an_entry_is_visible_within_100_ms_without_flush) {
  writer w(options());
  w.submit(sample_record(session_.id));  // the first batch opens the statements
  w.flush();
  // The median of several: SPEC §7 promises 100 ms on a machine that is not saturated, and the
  // indexer runs at nice 19, so one sample may wait behind whatever else this machine runs.
  std::vector<std::chrono::steady_clock::duration> delays;
  for (int i = 0; i < 9; ++i) {
    auto r = sample_record(session_.id);
    const auto id = r.id;
    const auto submitted = std::chrono::steady_clock::now();
    w.submit(std::move(r));
    while (!catalog_.entry_exists(session_.id, id) &&
           std::chrono::steady_clock::now() - submitted < 2s) {
      std::this_thread::sleep_for(1ms);
    }
    delays.push_back(std::chrono::steady_clock::now() - submitted);
  }
  std::sort(delays.begin(), delays.end());
  EXPECT_LT(delays[delays.size() / 2], 100ms);
  w.flush();  // the lag figures are updated just after the commit that made the entry visible
  EXPECT_EQ(w.stats().queue_depth.load(), 0U);
  EXPECT_EQ(w.stats().index_lag_seconds(), 0.0);
}
