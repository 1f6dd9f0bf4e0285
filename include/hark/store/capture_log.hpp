#pragma once
// capture_log: where proxy workers put what they capture (SPEC §7), ahead of any SQLite work.
//
//   worker thread ── append() ──► its own buffer (capture_record bytes; a mutex only the
//   worker thread ─┘               appender ever contends, once per tick)
//                                        │ appender thread (hark-log), every tick (5 ms), or
//                                        ▼ woken once a buffer outgrows wake_bytes
//          wait ≤ process_wait for the buffer's process lookups, patch their slots, checksum
//                                        │ one write(2) per buffer (capture_segments)
//                                        ▼ fdatasync per --capture-fsync
//                        segment files ──► the store's indexer (store::writer) reads them
//
// A worker never waits for the disk, never wakes a thread per record and allocates nothing in
// the steady state (its buffer keeps its capacity). Nothing is dropped for want of memory: a
// buffer is written out every tick. Past max_bytes on disk, or after a failed write (ENOSPC),
// recording pauses: append() returns false until the indexer has freed space (or a write
// succeeds again), and the change is reported through on_pause.

#include "hark/store/capture_record.hpp"
#include "hark/store/capture_segments.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace hark::store {

/** When the capture log is fsynced (--capture-fsync). */
enum class capture_fsync {
  batch,   ///< at most every fsync_interval, after a write (default)
  always,  ///< after every write, before the records count as appended
  never,   ///< left to the kernel (a record survives kill -9 either way, not a power loss)
};

/** Parses `batch`, `always` or `never`. */
std::optional<capture_fsync> parse_capture_fsync(std::string_view text) noexcept;

struct capture_log_options {
  std::filesystem::path dir;
  std::uint64_t segment_bytes = 64ull << 20;
  /** Bytes on disk beyond which recording pauses (--capture-log-max); it resumes below 90 %. */
  std::uint64_t max_bytes = 2ull << 30;
  capture_fsync fsync = capture_fsync::batch;
  std::chrono::milliseconds fsync_interval{100};
  /** How often the appender collects the workers' buffers. */
  std::chrono::milliseconds tick{5};
  /** A buffer this large wakes the appender before its tick. */
  std::size_t wake_bytes = 1 << 20;
  /** How long a buffer waits for its records' process lookups before they are written with
   *  `process: null`. */
  std::chrono::milliseconds process_wait{200};
};

/** Counters for /metrics and /api/health; any thread. */
struct capture_log_stats {
  std::atomic<std::uint64_t> records_appended{0};  ///< written to a segment
  std::atomic<std::uint64_t> bytes_appended{0};
  std::atomic<std::uint64_t> records_refused{0};  ///< not recorded: paused or stopped
  std::atomic<std::uint64_t> records_lost{0};     ///< in a write that failed (disk error)
  std::atomic<std::uint64_t> writes{0};           ///< write(2) batches
  std::atomic<std::uint64_t> fsyncs{0};
};

class capture_log {
 public:
  /** Opens the log's directory (starting a new segment) and the appender thread. */
  explicit capture_log(capture_log_options options);
  /** stop(). */
  ~capture_log();
  capture_log(const capture_log&) = delete;
  capture_log& operator=(const capture_log&) = delete;

  /** Encodes `record` into the calling thread's buffer. Any thread; never blocks on I/O. False
   *  when recording is paused or the log stopped: then nothing is kept. */
  bool append(const capture::entry_record& record);
  bool append(const capture::tls_connection_log& log);
  bool append(const capture::ws_message_record& message);
  bool append(const capture::h2_frame_batch& batch);

  /** Writes every buffer out now and returns the log's end: whatever was appended before the
   *  call lies before it. Any thread but the appender's. */
  log_position write_out();

  /** Writes what the buffers hold and stops the appender thread; later appends are refused.
   *  Idempotent. */
  void stop();

  /** Called on the appender thread after each write with the new end (for the indexer). */
  void on_written(std::function<void(log_position)> callback);
  /** Called on the appender thread when recording pauses (reason) or resumes (empty). */
  void on_pause(std::function<void(const std::string& reason)> callback);

  bool paused() const noexcept { return paused_.load(std::memory_order_relaxed); }
  /** Why recording is paused; empty when it is not. */
  std::string pause_reason() const;

  capture_segments& segments() noexcept { return segments_; }
  capture_log_stats& stats() noexcept { return stats_; }
  const capture_log_options& options() const noexcept { return options_; }

  /** When the records before `pos` were written (steady clock); nullopt for records of an
   *  earlier run, or when nothing after `pos` was written in this one. For the index lag. */
  std::optional<std::chrono::steady_clock::time_point> written_at(log_position pos) const;
  /** Records written in this run up to `pos` (for the index lag in records). */
  std::uint64_t records_before(log_position pos) const;
  /** Forgets the writes at or before `pos` but the last one (the indexer has committed them):
   *  written_at() and records_before() are asked about later positions only. */
  void forget_before(log_position pos);

 private:
  struct buffer;  // capture_log.cpp

  buffer& local_buffer();
  template <class Record>
  bool append_any(const Record& record);
  void run();
  /** Collects and writes every buffer; returns whether anything was written. */
  bool write_round();
  void write_buffer(buffer& b, std::chrono::steady_clock::time_point deadline);
  void set_paused(std::string reason);
  void check_space();

  capture_log_options options_;
  capture_segments segments_;
  capture_log_stats stats_;
  const std::uint64_t id_;  ///< tells this log's buffers from another's in a thread's cache
  std::atomic<bool> paused_{false};
  std::atomic<bool> stopped_{false};
  bool write_failed_ = false;  ///< appender thread: the pause is for a failed write
  std::chrono::steady_clock::time_point retry_at_;
  std::chrono::steady_clock::time_point last_sync_;
  bool unsynced_ = false;

  mutable std::mutex mutex_;  ///< guards what follows
  std::condition_variable wake_;
  std::condition_variable round_done_;
  std::vector<std::shared_ptr<buffer>> buffers_;
  std::uint64_t rounds_started_ = 0;
  std::uint64_t rounds_done_ = 0;
  std::size_t waiting_ = 0;  ///< write_out() callers
  bool urgent_ = false;      ///< a buffer outgrew wake_bytes
  bool stopping_ = false;
  std::string pause_reason_;
  std::function<void(log_position)> on_written_;
  std::function<void(const std::string&)> on_pause_;
  /** (end of a write, when, records written in this run up to it), oldest first; trimmed by
   *  the indexer's progress through forget_before(). */
  struct mark {
    log_position end;
    std::chrono::steady_clock::time_point at;
    std::uint64_t records = 0;
  };
  std::deque<mark> marks_;
  std::uint64_t records_total_ = 0;
  std::uint64_t forgotten_records_ = 0;  ///< `records` of the last mark dropped

  std::thread thread_;
};

}  // namespace hark::store
