// writer: the store's one writing thread.
//
//   proxy workers ──submit()──► queue_ (mutex; bounded by entries and by body bytes)
//                                  │ run(): takes everything queued at once
//                                  ▼
//        wait for process lookups (≤ 200 ms per batch) → rows (JSON, search text, zstd)
//                                  ▼
//        BEGIN IMMEDIATE … INSERT … COMMIT, a new transaction at least every max_commit_delay
//                                  ▼
//        event_hub: one `entry` event per inserted entry, after its COMMIT (when anyone listens)
#include "hark/store/writer.hpp"

#include "entry_row.hpp"
#include "statement.hpp"
#include "tls_log_store.hpp"

#include "hark/capture/event_hub.hpp"
#include "hark/store/database.hpp"

#include <map>
#include <vector>

namespace hark::store {
namespace {

using steady = std::chrono::steady_clock;

// How long a batch waits for its records' process lookups (record.process) before writing the
// rest with `process: null`; the lookup scans /proc and is normally done in well under this.
constexpr auto process_wait = std::chrono::milliseconds(200);

// A batch is written when it has this many entries, or batch_delay after its first one.
constexpr std::size_t batch_size = 4096;
constexpr auto batch_delay = std::chrono::milliseconds(20);

/** Drops the record's bodies (the entry stays, marked truncated). Returns the bodies dropped. */
std::uint64_t drop_bodies(capture::entry_record& record) {
  std::uint64_t dropped = 0;
  if (!record.request_body.empty()) {
    std::string().swap(record.request_body);
    record.request.body_truncated = true;
    ++dropped;
  }
  if (!record.response_body.empty()) {
    std::string().swap(record.response_body);
    if (record.response) {
      record.response->body_truncated = true;
    }
    ++dropped;
  }
  return dropped;
}

void report(writer_stats& stats, std::string error) {
  std::lock_guard lock(stats.error_mutex);
  stats.ok = error.empty();
  stats.last_error = std::move(error);
}

struct session_totals {
  std::int64_t count = 0;
  std::int64_t bytes = 0;
};

void update_sessions(database& db, const std::map<std::string, session_totals>& totals) {
  for (const auto& [id, t] : totals) {
    add_session_totals(db, id, t.count, t.bytes);
  }
}

/** Publishes an `entry` event for each row of `inserted`. Called only after COMMIT: a client
 *  that hears of an entry may GET it at once, and never hears of one a rollback undid. When
 *  nobody listens this is one atomic load; the documents are copied only for listeners.
 *  (WebSocket messages, once the writer stores them in ws_messages, are announced here too as
 *  `websocket`, in the same after-commit order.) */
void announce(capture::event_hub* events, const std::vector<entry_row>& rows,
              const std::vector<std::size_t>& inserted) {
  if (events == nullptr || !events->has_subscribers()) {
    return;
  }
  for (const auto i : inserted) {
    events->publish(capture::event_type::entry, rows[i].session_id, rows[i].doc);
  }
}

struct batch_outcome {
  std::size_t committed = 0;  ///< rows whose transaction committed (written or skipped)
  std::uint64_t written = 0;  ///< entries inserted by those transactions
};

/** Writes `rows`, committing at least every `max_delay` so that a huge backlog does not keep
 *  finished entries off the disk. Throws store_error; `out` then counts what was committed. */
void write_rows(database& db, const std::vector<entry_row>& rows, const writer_options& options,
                batch_outcome& out) {
  std::size_t next = 0;
  std::vector<std::size_t> inserted;  // rows of the open transaction that were written
  while (next < rows.size()) {
    const auto started = steady::now();
    std::map<std::string, session_totals> totals;
    inserted.clear();
    std::size_t end = next;
    transaction tx(db);
    while (end < rows.size() &&
           (end == next || steady::now() - started < options.max_commit_delay)) {
      const auto& row = rows[end];
      if (insert_entry_row(db, row)) {
        auto& t = totals[row.session_id];
        t.count += 1;
        t.bytes += row.request_bytes + row.response_bytes;
        inserted.push_back(end);
      }
      ++end;
    }
    update_sessions(db, totals);
    tx.commit();
    out.committed = end;
    out.written += inserted.size();
    next = end;
    announce(options.events, rows, inserted);
  }
}

/** Turns records into rows, writes them, and updates the stats. Never throws. */
void write_batch(database& db, writer_stats& stats, const writer_options& options,
                 std::deque<capture::entry_record>& batch) {
  const auto deadline = steady::now() + process_wait;
  std::vector<entry_row> rows;
  rows.reserve(batch.size());
  for (auto& record : batch) {
    if (record.process.valid()) {
      record.process.wait_until(deadline);
    }
    try {
      rows.push_back(make_entry_row(record, options.compress_threshold));
    } catch (const std::exception&) {
      ++stats.entries_dropped;  // cannot happen short of bad_alloc; never stop the writer
    }
  }
  batch.clear();  // bodies now live in rows
  const auto started = steady::now();
  batch_outcome outcome;
  try {
    write_rows(db, rows, options, outcome);
    report(stats, {});
  } catch (const std::exception& e) {
    // Disk full, I/O error, …: the open transaction rolled back. Proxying goes on; recording
    // resumes with the next batch that commits (ok turns true again).
    stats.entries_dropped += rows.size() - outcome.committed;
    report(stats, e.what());
  }
  stats.entries_written += outcome.written;
  stats.last_batch_us = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - started).count());
}

/** Writes TLS connection logs in one transaction. Never throws: a failure is reported and the
 *  logs are counted as dropped. */
void write_tls_logs(database& db, writer_stats& stats, const writer_options& options,
                    const std::vector<capture::tls_connection_log>& logs) {
  if (logs.empty()) {
    return;
  }
  try {
    transaction tx(db);
    for (const auto& log : logs) {
      insert_tls_log(db, log, options.compress_threshold);
    }
    tx.commit();
  } catch (const std::exception& e) {
    stats.tls_logs_dropped += logs.size();
    report(stats, e.what());
  }
}

}  // namespace

writer::writer(writer_options options)
    : options_(std::move(options)), db_(std::make_unique<database>(options_.database_path)) {
  thread_ = std::thread([this] { run(); });
}

writer::~writer() {
  stop();
}

void writer::submit(capture::entry_record&& record) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= options_.max_queued_entries) {
      ++stats_.entries_dropped;
      return;
    }
    std::uint64_t body_bytes = record.request_body.size() + record.response_body.size();
    if (body_bytes > 0 && queued_body_bytes_ + body_bytes > options_.max_queued_body_bytes) {
      // Back-pressure drops bodies first, never the entry (SPEC §7).
      stats_.bodies_dropped += drop_bodies(record);
      body_bytes = 0;
    }
    queued_body_bytes_ += body_bytes;
    queue_.push_back(std::move(record));
    ++submitted_;
    stats_.queue_depth = queue_.size();
    // Wake the writer only when it has something new to decide: the first entry of a batch,
    // or a batch that is full. Waking it per entry would cost a context switch each time.
    if (queue_.size() != 1 && queue_.size() != batch_size) {
      return;
    }
  }
  wake_.notify_one();
}

void writer::submit_tls(capture::tls_connection_log&& log) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || tls_queue_.size() >= options_.max_queued_tls_logs) {
      ++stats_.tls_logs_dropped;
      return;
    }
    tls_queue_.push_back(std::move(log));
    ++submitted_;
    if (tls_queue_.size() != 1 || !queue_.empty()) {
      return;  // the writer is already awake for this batch
    }
  }
  wake_.notify_one();
}

void writer::flush() {
  std::unique_lock lock(mutex_);
  const auto target = submitted_;
  ++flush_waiters_;
  wake_.notify_one();
  drained_.wait(lock, [&] { return committed_ >= target; });
  --flush_waiters_;
}

void writer::stop() {
  std::thread thread;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    thread = std::move(thread_);  // only the first caller joins
  }
  wake_.notify_all();
  if (thread.joinable()) {
    thread.join();
  }
}

void writer::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty() || !tls_queue_.empty(); });
    // Let a batch build up for a moment: one transaction per many entries keeps the WAL
    // writes per entry small (each commit rewrites every page it touched).
    wake_.wait_for(lock, batch_delay, [this] {
      return stopping_ || flush_waiters_ > 0 || queue_.size() >= batch_size;
    });
    if (queue_.empty() && tls_queue_.empty()) {
      return;  // stopping, and everything submitted is written
    }
    std::deque<capture::entry_record> batch;
    batch.swap(queue_);
    std::vector<capture::tls_connection_log> tls_batch;
    tls_batch.swap(tls_queue_);
    queued_body_bytes_ = 0;
    stats_.queue_depth = 0;
    lock.unlock();
    const auto taken = batch.size() + tls_batch.size();
    // Logs first: an entry that names its TLS connection finds it already stored.
    write_tls_logs(*db_, stats_, options_, tls_batch);
    if (!batch.empty()) {
      write_batch(*db_, stats_, options_, batch);
    }
    lock.lock();
    committed_ += taken;
    drained_.notify_all();
  }
}

}  // namespace hark::store
