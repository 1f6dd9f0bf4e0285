#include "hark/store/capture_segments.hpp"

#include "hark/store/capture_record.hpp"

#include "store_test_support.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace {

using namespace hark::store;
using hark::capture::ws_message_record;
using test::temp_dir;

/** One sealed WebSocket message record whose payload says `n`, padded to about `size` bytes. */
std::string record(int n, std::size_t size = 100) {
  ws_message_record m;
  m.entry_id = "e";
  m.seq = n;
  m.type = "text";
  m.payload = std::to_string(n) + std::string(size, '.');
  std::string out;
  append_record(out, m);
  seal_records(out.data(), out.size());
  return out;
}

/** Every record from `from` to the end of `log`, as their seq numbers. */
std::vector<std::int64_t> read_all(capture_segments& log, log_position from = {},
                                   std::size_t max_bytes = 1000, log_position* end = nullptr) {
  capture_reader reader(log);
  std::vector<std::int64_t> seen;
  std::vector<log_record> batch;
  const auto limit = log.end();
  log_position pos = from;
  for (;;) {
    batch.clear();
    const auto next = reader.read(pos, limit, max_bytes, batch);
    for (const auto& r : batch) {
      seen.push_back(std::get<ws_message_record>(decode_record(parse_frame(r.frame))).seq);
    }
    if (next == pos) {
      break;
    }
    pos = next;
  }
  if (end != nullptr) {
    *end = pos;
  }
  return seen;
}

std::vector<std::int64_t> range(int from, int to) {
  std::vector<std::int64_t> v;
  for (int i = from; i < to; ++i) {
    v.push_back(i);
  }
  return v;
}

TEST(capture_segments, appends_and_reads_back_in_order_across_rotations) {
  temp_dir dir;
  capture_segments log(dir.path() / "capture-log", 1000);
  EXPECT_EQ(log.end(), (log_position{1, 0}));
  std::string batch;
  for (int i = 0; i < 50; ++i) {
    batch += record(i);
    if (i % 3 == 2) {
      log.append(batch);
      batch.clear();
    }
  }
  log.append(batch);
  EXPECT_GT(log.end().segment, 3U);  // about 130 bytes a record, 1000 a segment
  log_position end;
  EXPECT_EQ(read_all(log, {}, 1000, &end), range(0, 50));
  EXPECT_EQ(end, log.end());
  // Small reads (one record at a time) see the same records.
  EXPECT_EQ(read_all(log, {}, 1), range(0, 50));
  // A record larger than a read's default size is read whole.
  log.append(record(50, 1 << 20));
  EXPECT_EQ(read_all(log, end), range(50, 51));
}

TEST(capture_segments, removes_indexed_segments_and_counts_disk_bytes) {
  temp_dir dir;
  capture_segments log(dir.path(), 1000);
  std::uint64_t written = 0;
  for (int i = 0; i < 30; ++i) {
    const auto r = record(i);
    log.append(r);
    written += r.size();
  }
  EXPECT_EQ(log.disk_bytes(), written);
  const auto end = log.end();
  log.remove_before(end.segment);
  EXPECT_EQ(log.first_segment(), end.segment);
  EXPECT_LT(log.disk_bytes(), 1000U);
  EXPECT_EQ(log.disk_bytes(), end.offset);
  EXPECT_TRUE(std::filesystem::exists(log.segment_path(end.segment)));
  EXPECT_FALSE(std::filesystem::exists(log.segment_path(1)));
  // The current segment is never removed, and a reader from before the first segment starts there.
  log.remove_before(end.segment + 10);
  EXPECT_TRUE(std::filesystem::exists(log.segment_path(end.segment)));
  EXPECT_EQ(read_all(log).size(), static_cast<std::size_t>(end.offset / record(0).size()));
}

TEST(capture_segments, a_torn_tail_left_by_a_crash_is_skipped_and_the_next_run_appends_anew) {
  temp_dir dir;
  std::uint64_t first_end = 0;
  {
    capture_segments log(dir.path(), 1 << 20);
    for (int i = 0; i < 10; ++i) {
      log.append(record(i));
    }
    first_end = log.end().offset;
  }
  // The crash: half of record 10 reached the file.
  {
    const auto half = record(10).substr(0, 60);
    std::ofstream f(dir.path() / "0000000000000001.hcl", std::ios::app | std::ios::binary);
    f << half;
  }
  capture_segments log(dir.path(), 1 << 20);
  EXPECT_EQ(log.end(), (log_position{2, 0}));  // never appended after a possible tear
  EXPECT_EQ(log.disk_bytes(), first_end + 60);
  for (int i = 11; i < 15; ++i) {
    log.append(record(i));
  }
  capture_reader reader(log);
  std::vector<std::int64_t> seen;
  std::vector<log_record> batch;
  log_position pos;
  for (;;) {
    batch.clear();
    const auto next = reader.read(pos, log.end(), 1 << 20, batch);
    for (const auto& r : batch) {
      seen.push_back(std::get<ws_message_record>(decode_record(parse_frame(r.frame))).seq);
    }
    if (next == pos) {
      break;
    }
    pos = next;
  }
  auto expected = range(0, 10);
  for (int i = 11; i < 15; ++i) {
    expected.push_back(i);
  }
  EXPECT_EQ(seen, expected);
  EXPECT_EQ(reader.skipped_bytes(), 60U);
  EXPECT_EQ(pos, log.end());
}

TEST(capture_segments, a_damaged_record_ends_its_segment) {
  temp_dir dir;
  {
    capture_segments log(dir.path(), 1 << 20);
    for (int i = 0; i < 5; ++i) {
      log.append(record(i));
    }
  }
  {
    std::fstream f(dir.path() / "0000000000000001.hcl",
                   std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(record(0).size() * 3 + 30));
    f.put('X');  // record 3's payload
  }
  capture_segments log(dir.path(), 1 << 20);
  log.append(record(5));
  auto expected = range(0, 3);
  expected.push_back(5);
  EXPECT_EQ(read_all(log), expected);
}

TEST(capture_segments, a_reader_stops_at_the_published_end) {
  temp_dir dir;
  capture_segments log(dir.path(), 1 << 20);
  log.append(record(0));
  const auto limit = log.end();
  log.append(record(1));
  capture_reader reader(log);
  std::vector<log_record> batch;
  const auto next = reader.read({}, limit, 1 << 20, batch);
  EXPECT_EQ(batch.size(), 1U);
  EXPECT_EQ(next, limit);
  batch.clear();
  EXPECT_EQ(reader.read(next, limit, 1 << 20, batch), limit);
  EXPECT_TRUE(batch.empty());
}

}  // namespace
