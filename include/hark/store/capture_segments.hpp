#pragma once
// capture_segments: the capture log's files (SPEC §7). A directory of segment files named by a
// rising number (`0000000000000001.hcl`, …), each a sequence of capture records
// (capture_record.hpp). One thread appends to the newest segment with write(2); another reads
// them back in order and deletes the ones it has indexed.
//
//   open: list segments → start a new one (last + 1): a segment left by a crash is never
//         appended to, so a torn record can only be at the end of a segment
//   append ─► current segment ─(size ≥ segment_bytes)─► rotate: next segment
//   read(from, limit): records of older segments up to their end (a torn tail ends the
//         segment), of the current one up to the end the appender has published
//   remove_before(n): unlinks segments older than n

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace hark::store {

/** A place in the log: a segment number and a byte offset in it. {0, 0} is before everything. */
struct log_position {
  std::uint64_t segment = 0;
  std::uint64_t offset = 0;
  auto operator<=>(const log_position&) const = default;
};

class capture_segments {
 public:
  /** Opens (creating) `dir`, and starts a new segment after the ones already there. With
   *  `sync_rotated`, a segment is fdatasync'ed when the next one starts. Throws
   *  std::system_error. */
  capture_segments(std::filesystem::path dir, std::uint64_t segment_bytes,
                   bool sync_rotated = false);
  ~capture_segments();
  capture_segments(const capture_segments&) = delete;
  capture_segments& operator=(const capture_segments&) = delete;

  /** Appends whole records; starts a new segment first when the current one would outgrow
   *  segment_bytes. Appending thread only. Throws std::system_error (ENOSPC, EIO, …): then the
   *  segment is cut back to its last whole record. */
  void append(std::string_view records);
  /** fdatasync of the current segment. Appending thread only. Throws std::system_error. */
  void sync();

  /** Where the next append goes: everything before it is written. Any thread. */
  log_position end() const noexcept;
  /** Bytes in all segment files. Any thread. */
  std::uint64_t disk_bytes() const noexcept { return disk_bytes_.load(); }
  /** Bytes of the log from `pos` to its end (what an indexer at `pos` has still to read). Any
   *  thread. */
  std::uint64_t bytes_after(log_position pos) const;
  /** The oldest segment's number. Any thread. */
  std::uint64_t first_segment() const;
  /** The first segment numbered above `segment`, or 0 when there is none. Any thread. */
  std::uint64_t next_segment(std::uint64_t segment) const;
  /** Unlinks every segment numbered below `segment` (never the current one). Any thread. */
  void remove_before(std::uint64_t segment);

  const std::filesystem::path& dir() const noexcept { return dir_; }
  std::filesystem::path segment_path(std::uint64_t segment) const;

 private:
  void open_segment(std::uint64_t segment);

  std::filesystem::path dir_;
  std::uint64_t segment_bytes_;
  bool sync_rotated_;
  int fd_ = -1;  ///< the current segment, appending thread only
  std::atomic<std::uint64_t> disk_bytes_{0};
  mutable std::mutex mutex_;  ///< guards what follows
  std::uint64_t current_ = 0;
  std::uint64_t size_ = 0;               ///< bytes written to the current segment
  std::vector<std::uint64_t> segments_;  ///< numbers of the files on disk, ascending
  std::vector<std::uint64_t> sizes_;     ///< their sizes, for disk_bytes_ when removed
};

/** One record read back: its bytes (valid until the next read) and the position after it. */
struct log_record {
  std::string_view frame;  ///< header and payload (parse_frame)
  log_position next;
};

/** Reads a capture log's segments in order. One thread; independent of the appender. */
class capture_reader {
 public:
  explicit capture_reader(const capture_segments& segments);
  ~capture_reader();
  capture_reader(const capture_reader&) = delete;
  capture_reader& operator=(const capture_reader&) = delete;

  /** Reads whole records from `from` towards `limit` (the appender's end()), at most about
   *  `max_bytes` (always at least one record), appending them to `out`. Returns the position
   *  after the last one; past `from` also when it only moved over segments whose end was
   *  reached (a torn tail after a crash is skipped that way, and counted in skipped_bytes()). */
  log_position read(log_position from, log_position limit, std::size_t max_bytes,
                    std::vector<log_record>& out);

  /** Bytes of torn or damaged records skipped so far. */
  std::uint64_t skipped_bytes() const noexcept { return skipped_; }

 private:
  /** Opens `segment` (kept open across calls); false when it is gone. */
  bool open(std::uint64_t segment);

  const capture_segments& segments_;
  int fd_ = -1;
  std::uint64_t open_segment_ = 0;
  std::string buffer_;
  std::uint64_t skipped_ = 0;
};

}  // namespace hark::store
