#pragma once
// writer: the threads that insert captured entries, many per transaction.

#include "hark/capture/record_queue.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
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
  /** Bytes of captured bodies allowed to wait in the queue; beyond it, bodies are dropped
   *  (entry kept, marked truncated) and counted. */
  std::uint64_t max_queued_body_bytes = 32ull << 20;
  /** Entries allowed to wait; beyond it new entries are dropped and counted. An entry without
   *  its body takes about 6 KiB in the queue, so this bounds the queue near 100 MiB when the
   *  writer falls behind a sustained load (docs/performance.md). */
  std::size_t max_queued_entries = 16'384;
  /** TLS connection logs allowed to wait (a few KiB each); beyond it they are dropped. */
  std::size_t max_queued_tls_logs = 4096;
  /** WebSocket messages allowed to wait (their payloads count in max_queued_body_bytes);
   *  beyond it new messages are dropped and counted. */
  std::size_t max_queued_ws_messages = 65'536;
  /** Bytes of HTTP/2 frame log batches allowed to wait (64 KiB each at most); beyond it they
   *  are dropped and counted. */
  std::uint64_t max_queued_h2_bytes = 32ull << 20;
  /** Bodies larger than this are zstd-compressed at rest. */
  std::size_t compress_threshold = 4096;
  /** Longest time a completed entry waits before its transaction commits. */
  std::chrono::milliseconds max_commit_delay{100};
  /** Told of every entry once its transaction has committed (`entry` events), so that a client
   *  hearing of an entry can fetch it at once. Null: no events. Must outlive the writer. */
  capture::event_hub* events = nullptr;
};

/** Counters for /metrics and /api/health; read from any thread. */
struct writer_stats {
  std::atomic<std::uint64_t> entries_written{0};
  std::atomic<std::uint64_t> bodies_dropped{0};
  std::atomic<std::uint64_t> entries_dropped{0};
  std::atomic<std::uint64_t> tls_logs_dropped{0};
  std::atomic<std::uint64_t> ws_messages_written{0};
  std::atomic<std::uint64_t> ws_messages_dropped{0};
  std::atomic<std::uint64_t> h2_batches_dropped{0};
  std::atomic<std::uint64_t> queue_depth{0};
  std::atomic<std::uint64_t> last_batch_us{0};  ///< write latency of the last transaction
  std::atomic<bool> ok{true};
  std::mutex error_mutex;
  std::string last_error;  ///< guarded by error_mutex; empty when ok
};

class writer final : public capture::record_queue {
 public:
  /** Opens its own connection and starts the thread. */
  explicit writer(writer_options options);
  /** Stops after writing everything queued. */
  ~writer() override;

  void submit(capture::entry_record&& record) override;
  void submit_tls(capture::tls_connection_log&& log) override;
  void submit_ws(capture::ws_message_record&& message) override;
  void submit_h2(capture::h2_frame_batch&& frames) override;
  /** Blocks until everything submitted before the call is committed. */
  void flush();
  /** Writes what is queued, then stops the thread. Idempotent. */
  void stop();

  writer_stats& stats() noexcept { return stats_; }

 private:
  struct batch;  // writer.cpp

  /** Render thread: waits for a batch's worth of records (freeing written batches meanwhile);
   *  nullptr once stopping with nothing queued. Called with `lock` held. */
  std::unique_ptr<batch> take_batch(std::unique_lock<std::mutex>& lock);
  void render(batch& b);
  void render_loop();
  /** Writer thread. */
  void write(batch& b);
  /** Publishes an `entry` event for each row of `inserted` (indices into b.rows). */
  void announce(const batch& b, const std::vector<std::size_t>& inserted);
  /** Writes the batch's WebSocket messages (after its entries), then announces them. */
  void write_ws(batch& b);
  /** Publishes a `websocket` event for each message of `inserted` (indices into b.ws). */
  void announce_ws(const batch& b, const std::vector<std::size_t>& inserted);
  void write_loop();

  writer_options options_;
  writer_stats stats_;
  std::mutex mutex_;
  std::condition_variable render_wake_;  ///< queue, stop, flush, room in ready_, written_
  std::condition_variable write_wake_;   ///< ready_, render_done_
  std::condition_variable drained_;
  std::deque<capture::entry_record> queue_;
  std::vector<capture::tls_connection_log> tls_queue_;
  /** A WebSocket message waits until every entry submitted before it has been taken into a
   *  batch: its entry is then written first (by the same batch or an earlier one). */
  struct queued_ws {
    capture::ws_message_record message;
    std::uint64_t entries_before = 0;  ///< entries_queued_ when it was submitted
  };
  std::deque<queued_ws> ws_queue_;
  std::uint64_t entries_queued_ = 0;  ///< entries ever put in queue_
  std::uint64_t entries_taken_ = 0;   ///< entries ever taken from queue_ into a batch
  std::vector<capture::h2_frame_batch> h2_queue_;
  std::uint64_t queued_h2_bytes_ = 0;
  std::uint64_t queued_body_bytes_ = 0;
  std::uint64_t submitted_ = 0;
  std::uint64_t committed_ = 0;
  std::size_t flush_waiters_ = 0;
  bool stopping_ = false;
  bool render_done_ = false;                    ///< the render thread has handed over everything
  std::unique_ptr<batch> ready_;                ///< rendered, waiting for the writer thread
  std::deque<std::unique_ptr<batch>> written_;  ///< back to the render thread, to be freed
  std::unique_ptr<batch> spare_;                ///< a freed batch whose buffers the next one reuses
  std::unique_ptr<database> db_;  ///< opened by the constructor, used only by the writer thread
  std::unique_ptr<checkpointer> checkpointer_;  ///< copies db_'s WAL back on its own thread
  std::thread write_thread_;
  std::thread render_thread_;
};

}  // namespace hark::store
