#pragma once
// writer: the threads that insert captured entries, many per transaction.

#include "hark/capture/record_queue.hpp"
#include "hark/store/capture_log.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace hark::capture {
class event_hub;
}

namespace hark::store {

class database;
class checkpointer;

struct writer_options {
  std::filesystem::path database_path;
  /** The capture log's directory; empty: `capture-log` next to the database (SPEC §7). */
  std::filesystem::path capture_log_dir;
  std::uint64_t capture_segment_bytes = 64ull << 20;
  /** --capture-log-max: bytes of log on disk beyond which recording pauses. */
  std::uint64_t capture_log_max = 2ull << 30;
  /** --capture-fsync. */
  capture_fsync fsync = capture_fsync::batch;
  /** Bodies larger than this are zstd-compressed at rest. */
  std::size_t compress_threshold = 4096;
  /** Longest time a completed entry waits before its transaction commits. */
  std::chrono::milliseconds max_commit_delay{100};
  /** Runs the indexer's threads at nice 19, so that the relay wins the CPU. */
  bool low_priority = true;
  /** Told of every entry once its transaction has committed (`entry` events), so that a client
   *  hearing of an entry can fetch it at once, and of recording pausing or resuming (`session`
   *  events). Null: no events. Must outlive the writer. */
  capture::event_hub* events = nullptr;
};

/** Counters for /metrics and /api/health; read from any thread. */
struct writer_stats {
  std::atomic<std::uint64_t> entries_written{0};
  /** Entries lost to a failed database write or a failed capture log write (disk errors); never
   *  for want of memory or time. */
  std::atomic<std::uint64_t> entries_dropped{0};
  /** Submissions not recorded because recording was paused (log full, disk error) or the store
   *  had stopped. */
  std::atomic<std::uint64_t> records_refused{0};
  /** Records of capture log writes that failed (ENOSPC, EIO: recording pauses then). */
  std::atomic<std::uint64_t> log_records_lost{0};
  std::atomic<std::uint64_t> tls_logs_dropped{0};
  std::atomic<std::uint64_t> ws_messages_written{0};
  std::atomic<std::uint64_t> ws_messages_dropped{0};
  std::atomic<std::uint64_t> h2_batches_dropped{0};
  /** Index lag: records in the capture log not yet indexed (of this run, and of an earlier
   *  run's backlog once read), and since when the oldest of them waits (steady clock, us;
   *  0 when none). */
  std::atomic<std::uint64_t> queue_depth{0};
  std::atomic<std::int64_t> oldest_unindexed_us{0};
  std::atomic<std::uint64_t> records_appended{0};  ///< to the capture log
  std::atomic<std::uint64_t> records_indexed{0};
  std::atomic<std::uint64_t> log_bytes{0};  ///< capture log on disk
  std::atomic<std::uint64_t> lag_bytes{0};  ///< capture log not yet indexed (earlier runs too)
  std::atomic<bool> capture_paused{false};
  std::atomic<std::uint64_t> last_batch_us{0};  ///< write latency of the last transaction
  std::atomic<bool> ok{true};
  std::mutex error_mutex;
  std::string last_error;    ///< guarded by error_mutex; empty when ok
  std::string pause_reason;  ///< guarded by error_mutex; empty unless capture_paused

  /** Seconds the oldest unindexed record has waited (0 when the index is caught up). */
  double index_lag_seconds() const noexcept;
};

/** The store's capture pipeline: proxy workers append to the capture log, the indexer's two
 *  threads read it back into SQLite (diagram in writer.cpp). */
class writer final : public capture::record_queue {
 public:
  /** Opens its own connection and the capture log, reads the indexer's log position, and starts
   *  the threads: a backlog left in the log by an earlier run is indexed first. Throws
   *  store_error or std::system_error. */
  explicit writer(writer_options options);
  /** Stops after indexing everything appended. */
  ~writer() override;

  /** Append to the capture log (SPEC §7): any thread, never blocking on I/O. Refused (and
   *  counted in records_refused) while recording is paused or after stop(). */
  void submit(capture::entry_record&& record) override;
  void submit_tls(capture::tls_connection_log&& log) override;
  void submit_ws(capture::ws_message_record&& message) override;
  void submit_h2(capture::h2_frame_batch&& frames) override;
  /** Blocks until everything submitted before the call is committed. */
  void flush();
  /** Writes out the log, indexes all of it, then stops the threads. Idempotent. */
  void stop();

  writer_stats& stats() noexcept { return stats_; }
  /** The indexer's committed log position. */
  log_position indexed_position();

 private:
  struct batch;  // writer.cpp

  /** Render thread: waits for records past `pos` in the log (freeing written batches
   *  meanwhile); false once stopping with everything read. Called with `lock` held. */
  bool wait_for_records(std::unique_lock<std::mutex>& lock, log_position pos);
  /** Reads the next batch from the log at `pos` (advanced past it), into `spare` if any. */
  std::unique_ptr<batch> read_batch(capture_reader& reader, log_position& pos, log_position end,
                                    std::unique_ptr<batch> spare);
  void render(batch& b);
  void render_loop();
  /** Writer thread. */
  void write(batch& b);
  /** Stores the batch's end as the log position, in the caller's transaction. */
  void store_position(const batch& b);
  /** Publishes an `entry` event for each row of `inserted` (indices into b.rows). */
  void announce(const batch& b, const std::vector<std::size_t>& inserted);
  /** Writes the batch's WebSocket messages (after its entries), then announces them. */
  void write_ws(batch& b, const std::function<void()>& before_commit);
  /** Publishes a `websocket` event for each message of `inserted` (indices into b.ws). */
  void announce_ws(const batch& b, const std::vector<std::size_t>& inserted);
  void write_loop();
  /** After a write or a commit: the lag and log figures in stats_. */
  void update_lag();
  void refuse(std::uint64_t n = 1) noexcept;

  writer_options options_;
  writer_stats stats_;
  std::unique_ptr<database> db_;  ///< opened by the constructor, used only by the writer thread
  std::unique_ptr<checkpointer> checkpointer_;  ///< copies db_'s WAL back on its own thread
  std::unique_ptr<capture_log> log_;
  std::mutex mutex_;
  std::condition_variable render_wake_;  ///< log written, stop, flush, room in ready_, written_
  std::condition_variable write_wake_;   ///< ready_, render_done_
  std::condition_variable drained_;
  log_position log_end_;     ///< the log's end as last written
  log_position committed_;   ///< the indexer's position, committed
  log_position drained_to_;  ///< committed_, once the stats say so (flush() waits for it)
  std::mutex lag_mutex_;
  std::size_t flush_waiters_ = 0;
  bool stopping_ = false;
  bool render_done_ = false;                    ///< the render thread has handed over everything
  bool write_done_ = false;                     ///< and the writer thread has written it
  std::unique_ptr<batch> ready_;                ///< rendered, waiting for the writer thread
  std::deque<std::unique_ptr<batch>> written_;  ///< back to the render thread, to be freed
  std::unique_ptr<batch> spare_;                ///< a freed batch whose buffers the next one reuses
  std::thread write_thread_;
  std::thread render_thread_;
};

}  // namespace hark::store
