// writer: the store's writing threads, a two-stage pipeline.
//
//   proxy workers ──submit()──► queue_ (mutex; bounded by entries and by body bytes)
//                                  │ render thread (hark-render): up to batch_size at a time
//                                  ▼
//        wait for process lookups (≤ 200 ms per batch) → rows (JSON, search text, zstd)
//                                  │ ready_ (one batch)
//                                  ▼ writer thread (hark-writer), the only one using db_
//        BEGIN IMMEDIATE … INSERT … index … COMMIT, a transaction every 4 MiB or max_commit_delay
//                 │ commit hook: WAL size          │ written batch back to the render thread,
//                 ▼                                ▼ which frees its records and reuses its buffers
//        checkpointer thread (own connection): copies the WAL into the database file
//
// After each COMMIT the writer thread publishes one `entry` event per inserted entry
// (event_hub; only when anyone listens). TLS connection logs (submit_tls) and HTTP/2 frame log
// batches (submit_h2, indexed and compressed by the render thread) travel with the batch and are
// written just before its entries; WebSocket messages (submit_ws) just after them, in a
// transaction of their own, announced as `websocket` events after its COMMIT.
//
// SQLite's work is all on the writer thread; rendering a batch, and freeing the records the
// proxy allocated, happen meanwhile on the render thread (about a fifth of the work per entry).
#include "hark/store/writer.hpp"

#include "checkpointer.hpp"
#include "entry_row.hpp"
#include "h2_frame_store.hpp"
#include "insert_rows.hpp"
#include "search.hpp"
#include "statement.hpp"
#include "tls_log_store.hpp"
#include "ws_messages.hpp"

#include "hark/capture/event_hub.hpp"
#include "hark/store/database.hpp"

#include <pthread.h>

#include <limits>
#include <vector>

namespace hark::store {
namespace {

using steady = std::chrono::steady_clock;

// How long a batch waits for its records' process lookups (record.process) before writing the
// rest with `process: null`; the lookup scans /proc and is normally done in well under this.
constexpr auto process_wait = std::chrono::milliseconds(200);

// A batch is rendered when this many entries wait, or batch_delay after the first one.
constexpr std::size_t batch_size = 4096;
constexpr auto batch_delay = std::chrono::milliseconds(20);

// WebSocket messages taken into one batch at most.
constexpr std::size_t ws_batch_size = 16384;

// How often an idle writer looks for entries inserted by other connections (index_idle).
constexpr auto idle_check = std::chrono::seconds(1);

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

/** Folds entries inserted by other connections into the search index, if there are any. Never
 *  throws: a failure shows in the stats, and the next batch or check tries again. */
void index_idle(database& db, writer_stats& stats) {
  try {
    std::int64_t newest = 0;
    {
      auto st = statement::cached(db, "SELECT coalesce(max(row), 0) FROM entries");
      newest = st.step() ? st.column_int64(0) : 0;
    }
    if (newest == indexed_row(db)) {
      return;  // (two reads outside a transaction: a race only delays the fold to next time)
    }
    transaction tx(db);
    index_pending(db, std::numeric_limits<std::int64_t>::max());
    tx.commit();
  } catch (const std::exception& e) {
    report(stats, e.what());
  }
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

/** Writes HTTP/2 frame log batches in one transaction. Never throws: a failure is reported and
 *  the batches are counted as dropped. */
void write_h2_batches(database& db, writer_stats& stats, const std::vector<h2_batch_row>& rows) {
  if (rows.empty()) {
    return;
  }
  try {
    transaction tx(db);
    for (const auto& row : rows) {
      insert_h2_batch(db, row);
    }
    tx.commit();
  } catch (const std::exception& e) {
    stats.h2_batches_dropped += rows.size();
    report(stats, e.what());
  }
}

std::uint64_t body_bytes(const capture::entry_record& record) {
  return record.request_body.size() + record.response_body.size();
}

}  // namespace

/** Records on their way through the pipeline, with their rows. The render thread fills it, the
 *  writer thread writes it, and the render thread gets it back to free the records, keeping the
 *  buffers' memory for the next batch. */
struct writer::batch {
  std::vector<capture::entry_record> records;
  std::vector<entry_row> rows;   ///< pointing into records and text
  std::string text;              ///< every row's document and search text, back to back
  std::uint64_t unrendered = 0;  ///< records that could not be rendered (dropped)
  std::vector<capture::tls_connection_log> tls_logs;  ///< written before the rows
  std::vector<capture::ws_message_record> ws;         ///< written after the rows
  std::vector<capture::h2_frame_batch> h2_batches;    ///< rendered into h2_rows
  std::vector<h2_batch_row> h2_rows;                  ///< written before the rows

  /** Submissions it carries, for flush(). */
  std::uint64_t size() const {
    return records.size() + tls_logs.size() + ws.size() + h2_rows.size();
  }

  /** Empties it, giving back memory that an exceptional batch made large. */
  void clear() {
    constexpr std::size_t keep_bytes = 16 << 20;
    rows.clear();  // the rows point into the records: before these go
    text.clear();
    records.clear();
    tls_logs.clear();
    ws.clear();
    h2_batches.clear();
    h2_rows.clear();
    unrendered = 0;
    if (text.capacity() > keep_bytes) {
      std::string().swap(text);
    }
  }
};

writer::writer(writer_options options)
    : options_(std::move(options)),
      db_(std::make_unique<database>(options_.database_path)),
      checkpointer_(std::make_unique<checkpointer>(options_.database_path)) {
  // The writer only inserts, and looks its sessions up itself in each transaction (which holds
  // the write lock, so that none can go meanwhile): the foreign key checks would repeat that
  // lookup for every entry and every body. Deletes, on other connections, still cascade.
  db_->exec("PRAGMA foreign_keys = OFF");
  checkpointer_->attach(*db_);
  write_thread_ = std::thread([this] { write_loop(); });
  render_thread_ = std::thread([this] { render_loop(); });
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
    std::uint64_t bytes = body_bytes(record);
    if (bytes > 0 && queued_body_bytes_ + bytes > options_.max_queued_body_bytes) {
      // Back-pressure drops bodies first, never the entry (SPEC §7).
      stats_.bodies_dropped += drop_bodies(record);
      bytes = 0;
    }
    queued_body_bytes_ += bytes;
    queue_.push_back(std::move(record));
    ++entries_queued_;
    ++submitted_;
    stats_.queue_depth = queue_.size();
    // Wake the render thread only when it has something new to decide: the first entry of a
    // batch, or a batch that is full. Waking it per entry would cost a context switch each time.
    if (queue_.size() != 1 && queue_.size() != batch_size) {
      return;
    }
  }
  render_wake_.notify_one();
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
      return;  // the render thread is already awake for this batch
    }
  }
  render_wake_.notify_one();
}

void writer::submit_ws(capture::ws_message_record&& message) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || ws_queue_.size() >= options_.max_queued_ws_messages) {
      ++stats_.ws_messages_dropped;
      return;
    }
    std::uint64_t bytes = message.payload.size();
    if (bytes > 0 && queued_body_bytes_ + bytes > options_.max_queued_body_bytes) {
      // As for bodies: under back-pressure the payload goes, the message stays (truncated).
      std::string().swap(message.payload);
      message.truncated = true;
      ++stats_.bodies_dropped;
      bytes = 0;
    }
    queued_body_bytes_ += bytes;
    ws_queue_.push_back(queued_ws{std::move(message), entries_queued_});
    ++submitted_;
    if (ws_queue_.size() != 1 || !queue_.empty()) {
      return;  // the render thread is already awake for this batch
    }
  }
  render_wake_.notify_one();
}

void writer::submit_h2(capture::h2_frame_batch&& frames) {
  {
    std::lock_guard lock(mutex_);
    const auto bytes = frames.records.size();
    if (stopping_ || queued_h2_bytes_ + bytes > options_.max_queued_h2_bytes) {
      ++stats_.h2_batches_dropped;
      return;
    }
    queued_h2_bytes_ += bytes;
    h2_queue_.push_back(std::move(frames));
    ++submitted_;
    if (h2_queue_.size() != 1 || !queue_.empty() || !tls_queue_.empty()) {
      return;  // the render thread is already awake for this batch
    }
  }
  render_wake_.notify_one();
}

void writer::flush() {
  std::unique_lock lock(mutex_);
  const auto target = submitted_;
  ++flush_waiters_;
  render_wake_.notify_one();
  drained_.wait(lock, [&] { return committed_ >= target; });
  --flush_waiters_;
}

void writer::stop() {
  std::thread render;
  std::thread write;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    render = std::move(render_thread_);  // only the first caller joins
    write = std::move(write_thread_);
  }
  render_wake_.notify_all();
  if (render.joinable()) {
    render.join();  // it has handed over everything queued
  }
  if (write.joinable()) {
    write.join();
    checkpointer_->stop();  // after the last commit
  }
}

std::unique_ptr<writer::batch> writer::take_batch(std::unique_lock<std::mutex>& lock) {
  for (;;) {
    render_wake_.wait(lock, [this] {
      return stopping_ || !queue_.empty() || !tls_queue_.empty() || !ws_queue_.empty() ||
             !h2_queue_.empty() || !written_.empty();
    });
    // Free what the writer is done with first: it also lends its buffers to the next batch.
    if (!written_.empty()) {
      auto done = std::move(written_.front());
      written_.pop_front();
      lock.unlock();
      done->clear();
      lock.lock();
      spare_ = std::move(done);
      continue;
    }
    if (queue_.empty() && tls_queue_.empty() && ws_queue_.empty() && h2_queue_.empty()) {
      return nullptr;  // stopping, and everything submitted is handed over
    }
    // Let a batch build up for a moment: one transaction per many entries keeps the WAL
    // writes per entry small (each commit rewrites every page it touched).
    render_wake_.wait_for(lock, batch_delay, [this] {
      return stopping_ || flush_waiters_ > 0 || queue_.size() >= batch_size;
    });
    auto b = spare_ ? std::move(spare_) : std::make_unique<batch>();
    const std::size_t n = std::min(queue_.size(), batch_size);
    b->records.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      queued_body_bytes_ -= body_bytes(queue_.front());
      b->records.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    entries_taken_ += n;
    // Messages whose entry is in this batch or an earlier one (it is written before them).
    while (!ws_queue_.empty() && b->ws.size() < ws_batch_size &&
           ws_queue_.front().entries_before <= entries_taken_) {
      queued_body_bytes_ -= ws_queue_.front().message.payload.size();
      b->ws.push_back(std::move(ws_queue_.front().message));
      ws_queue_.pop_front();
    }
    b->tls_logs.swap(tls_queue_);
    b->h2_batches.swap(h2_queue_);
    queued_h2_bytes_ = 0;
    stats_.queue_depth = queue_.size();
    return b;
  }
}

void writer::render(batch& b) {
  b.h2_rows.reserve(b.h2_batches.size());
  for (auto& h2_batch : b.h2_batches) {
    b.h2_rows.push_back(make_h2_batch_row(std::move(h2_batch), options_.compress_threshold));
  }
  b.h2_batches.clear();
  const auto deadline = steady::now() + process_wait;
  b.rows.reserve(b.records.size());
  for (auto& record : b.records) {
    if (record.process.valid()) {
      record.process.wait_until(deadline);
    }
    try {
      b.rows.push_back(make_entry_row(record, options_.compress_threshold, b.text));
    } catch (const std::exception&) {
      ++b.unrendered;  // cannot happen short of bad_alloc; never stop the writer
    }
  }
}

void writer::render_loop() {
  pthread_setname_np(pthread_self(), "hark-render");  // for top -H, perf and the benchmarks
  std::unique_lock lock(mutex_);
  for (;;) {
    auto b = take_batch(lock);
    if (!b) {
      render_done_ = true;
      write_wake_.notify_one();
      return;
    }
    lock.unlock();
    render(*b);
    lock.lock();
    // One batch waits while the writer writes another: the queue, not batches in flight, is
    // where a backlog builds up (and is bounded).
    render_wake_.wait(lock, [this] { return ready_ == nullptr; });
    ready_ = std::move(b);
    write_wake_.notify_one();
  }
}

void writer::write(batch& b) {
  // Logs first: an entry that names its TLS connection finds it already stored.
  write_tls_logs(*db_, stats_, options_, b.tls_logs);
  write_h2_batches(*db_, stats_, b.h2_rows);
  stats_.entries_dropped += b.unrendered;
  const auto started = steady::now();
  insert_outcome outcome;
  try {
    insert_rows(*db_, b.rows, b.text, options_.max_commit_delay, outcome,
                [&](const std::vector<std::size_t>& inserted) { announce(b, inserted); });
    report(stats_, {});
  } catch (const std::exception& e) {
    // Disk full, I/O error, …: the open transaction rolled back. Proxying goes on; recording
    // resumes with the next batch that commits (ok turns true again).
    stats_.entries_dropped += b.rows.size() - outcome.committed;
    report(stats_, e.what());
  }
  stats_.entries_written += outcome.written;
  write_ws(b);
  stats_.last_batch_us = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(steady::now() - started).count());
}

// Called only after COMMIT: a client that hears of an entry may GET it at once, and never hears
// of one a rollback undid. When nobody listens this is one atomic load; the documents are copied
// only for listeners.
void writer::announce(const batch& b, const std::vector<std::size_t>& inserted) {
  capture::event_hub* events = options_.events;
  if (events == nullptr || !events->has_subscribers()) {
    return;
  }
  for (const auto i : inserted) {
    const entry_row& row = b.rows[i];
    events->publish(capture::event_type::entry, std::string(row.session_id),
                    std::string(row.doc.in(b.text)));
  }
}

void writer::write_ws(batch& b) {
  if (b.ws.empty()) {
    return;
  }
  std::vector<std::size_t> inserted;
  try {
    insert_ws_messages(*db_, b.ws, inserted);
  } catch (const std::exception& e) {
    stats_.ws_messages_dropped += b.ws.size();
    report(stats_, e.what());
    return;
  }
  // Messages of entries that were not stored (dropped, or their session deleted) are dropped.
  stats_.ws_messages_dropped += b.ws.size() - inserted.size();
  stats_.ws_messages_written += inserted.size();
  announce_ws(b, inserted);
}

void writer::announce_ws(const batch& b, const std::vector<std::size_t>& inserted) {
  capture::event_hub* events = options_.events;
  if (events == nullptr || !events->has_subscribers()) {
    return;
  }
  for (const auto i : inserted) {
    const auto& m = b.ws[i];
    events->publish(capture::event_type::websocket_message, m.session_id, websocket_event_json(m));
  }
}

void writer::write_loop() {
  pthread_setname_np(pthread_self(), "hark-writer");
  std::unique_lock lock(mutex_);
  for (;;) {
    // Idle, look now and then for entries that another connection inserted (an import):
    // they become searchable and counted here.
    while (!write_wake_.wait_for(lock, idle_check,
                                 [this] { return ready_ != nullptr || render_done_; })) {
      lock.unlock();
      index_idle(*db_, stats_);
      lock.lock();
    }
    if (ready_ == nullptr) {
      return;  // the render thread has stopped, and everything it rendered is written
    }
    auto b = std::move(ready_);
    render_wake_.notify_one();  // room for the next batch
    lock.unlock();
    write(*b);
    lock.lock();
    committed_ += b->size();
    drained_.notify_all();
    written_.push_back(std::move(b));
    render_wake_.notify_one();
  }
}

}  // namespace hark::store
