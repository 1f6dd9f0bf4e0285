#include "hark/store/capture_log.hpp"

#include "store_test_support.hpp"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <csignal>
#include <future>
#include <map>
#include <thread>

namespace {

using namespace hark::store;
using hark::capture::entry_record;
using hark::capture::process_info;
using hark::capture::ws_message_record;
using test::temp_dir;
using namespace std::chrono_literals;

ws_message_record message(const std::string& thread, std::int64_t seq, std::size_t size = 50) {
  ws_message_record m;
  m.entry_id = thread;
  m.seq = seq;
  m.type = "text";
  m.payload = std::string(size, 'm');
  return m;
}

/** Every record of the log, decoded. */
std::vector<capture_record> read_all(capture_log& log) {
  capture_reader reader(log.segments());
  std::vector<capture_record> all;
  std::vector<log_record> batch;
  log_position pos;
  const auto limit = log.segments().end();
  for (;;) {
    batch.clear();
    const auto next = reader.read(pos, limit, 1 << 20, batch);
    for (const auto& r : batch) {
      all.push_back(decode_record(parse_frame(r.frame)));
    }
    if (next == pos) {
      return all;
    }
    pos = next;
  }
}

TEST(capture_log, threads_append_to_their_own_buffers_and_every_record_is_written_in_order) {
  temp_dir dir;
  capture_log log({.dir = dir.path(), .segment_bytes = 64 << 10});
  constexpr int threads = 4;
  constexpr int per_thread = 5000;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&log, t] {
      for (int i = 0; i < per_thread; ++i) {
        EXPECT_TRUE(log.append(message("t" + std::to_string(t), i)));
      }
    });
  }
  for (auto& w : workers) {
    w.join();
  }
  const auto end = log.write_out();
  EXPECT_EQ(end, log.segments().end());
  EXPECT_EQ(log.stats().records_appended.load(), std::uint64_t{threads * per_thread});
  EXPECT_GT(end.segment, 1U);  // rotated
  std::map<std::string, std::int64_t> next;
  std::size_t n = 0;
  for (const auto& r : read_all(log)) {
    const auto& m = std::get<ws_message_record>(r);
    EXPECT_EQ(m.seq, next[m.entry_id]++) << m.entry_id;  // each thread's records in its order
    ++n;
  }
  EXPECT_EQ(n, std::size_t{threads * per_thread});
  EXPECT_EQ(log.records_before(end), std::uint64_t{threads * per_thread});
  EXPECT_FALSE(log.written_at(end).has_value());
  EXPECT_TRUE(log.written_at({}).has_value());
}

TEST(capture_log, waits_for_process_lookups_before_writing_them) {
  temp_dir dir;
  capture_log log({.dir = dir.path(), .process_wait = 500ms});
  std::promise<std::optional<process_info>> late;
  std::promise<std::optional<process_info>> never;
  entry_record resolved = test::sample_record("s");
  resolved.process = late.get_future().share();
  entry_record unresolved = test::sample_record("s");
  unresolved.process = never.get_future().share();
  ASSERT_TRUE(log.append(resolved));
  ASSERT_TRUE(log.append(unresolved));
  std::thread resolver([&late] {
    std::this_thread::sleep_for(50ms);
    late.set_value(process_info{4242, "curl"});
  });
  log.write_out();
  resolver.join();
  const auto all = read_all(log);
  ASSERT_EQ(all.size(), 2U);
  const auto p = std::get<entry_record>(all[0]).process.get();
  ASSERT_TRUE(p);
  EXPECT_EQ(p->pid, 4242);
  EXPECT_EQ(p->name, "curl");
  EXPECT_FALSE(std::get<entry_record>(all[1]).process.get());
}

TEST(capture_log, recording_pauses_past_the_quota_and_resumes_when_space_is_freed) {
  temp_dir dir;
  capture_log log({.dir = dir.path(), .segment_bytes = 4096, .max_bytes = 16 << 10});
  std::mutex mutex;
  std::vector<std::string> reasons;
  log.on_pause([&](const std::string& reason) {
    std::lock_guard lock(mutex);
    reasons.push_back(reason);
  });
  int appended = 0;
  while (log.append(message("t", appended, 1000))) {
    ++appended;
    log.write_out();
    ASSERT_LT(appended, 100);
  }
  EXPECT_TRUE(log.paused());
  EXPECT_NE(log.pause_reason().find("--capture-log-max"), std::string::npos);
  EXPECT_GE(log.segments().disk_bytes(), 16U << 10);
  EXPECT_EQ(log.stats().records_refused.load(), 1U);
  // The indexer frees the segments it has read: recording resumes at the next tick.
  log.segments().remove_before(log.segments().end().segment);
  const auto deadline = std::chrono::steady_clock::now() + 2s;
  while (log.paused() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_FALSE(log.paused());
  EXPECT_TRUE(log.append(message("t", appended)));
  std::lock_guard lock(mutex);
  ASSERT_EQ(reasons.size(), 2U);
  EXPECT_FALSE(reasons[0].empty());
  EXPECT_TRUE(reasons[1].empty());
}

TEST(capture_log, a_failed_write_pauses_recording_until_writes_succeed_again) {
  // A file size limit makes write(2) fail (EFBIG) the way a full disk does (ENOSPC), without a
  // small file system to fill; SIGXFSZ is ignored so that the failure is an error, not a kill.
  temp_dir dir;
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  rlimit old_limit{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  capture_log log({.dir = dir.path()});
  rlimit small = old_limit;
  small.rlim_cur = 8 << 10;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
  int appended = 0;
  while (log.append(message("t", appended, 1000)) && appended < 100) {
    ++appended;
    log.write_out();
  }
  EXPECT_TRUE(log.paused());
  EXPECT_NE(log.pause_reason().find("cannot write the capture log"), std::string::npos)
      << log.pause_reason();
  EXPECT_GE(log.stats().records_lost.load(), 1U);
  // Space returns: the next try (a second later) succeeds and recording resumes.
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &old_limit), 0);
  std::signal(SIGXFSZ, old_handler);
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (log.paused() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_FALSE(log.paused());
  EXPECT_TRUE(log.append(message("t", 1000)));
  log.write_out();
  EXPECT_FALSE(log.paused());
  // What was written before the failure is whole: every record reads back.
  const auto all = read_all(log);
  ASSERT_FALSE(all.empty());
  EXPECT_EQ(std::get<ws_message_record>(all.back()).seq, 1000);
  EXPECT_EQ(all.size() + log.stats().records_lost.load(), static_cast<std::size_t>(appended) + 1);
}

TEST(capture_log, stop_writes_what_the_buffers_hold_and_refuses_later_records) {
  temp_dir dir;
  capture_log log({.dir = dir.path(), .tick = 10s});
  for (int i = 0; i < 10; ++i) {
    log.append(message("t", i));
  }
  log.stop();
  EXPECT_FALSE(log.append(message("t", 10)));
  EXPECT_EQ(read_all(log).size(), 10U);
  EXPECT_EQ(log.stats().records_refused.load(), 1U);
}

TEST(capture_log, fsync_policies_parse) {
  EXPECT_EQ(parse_capture_fsync("batch"), capture_fsync::batch);
  EXPECT_EQ(parse_capture_fsync("always"), capture_fsync::always);
  EXPECT_EQ(parse_capture_fsync("never"), capture_fsync::never);
  EXPECT_FALSE(parse_capture_fsync("sometimes"));
}

}  // namespace
