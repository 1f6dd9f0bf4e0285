// writer: the store's capture pipeline (SPEC §7).
//
//   proxy workers ──submit()──► capture_log: per-thread buffers → hark-log appends segment files
//                                  │ (capture-log/ next to the database; the queue between relay
//                                  │  and store, bounded by disk: --capture-log-max)
//                                  ▼ render thread (hark-render, nice 19): reads records from
//        the indexer's position, ≤ batch_size entries or batch_bytes at a time → rows (JSON,
//        search text, zstd)
//                                  │ ready_ (one batch)
//                                  ▼ writer thread (hark-writer, nice 19), the only one using db_
//        BEGIN IMMEDIATE … INSERT … index … [log position] COMMIT, a transaction every 4 MiB or
//        max_commit_delay; the batch's last transaction also stores the log position after it
//                 │ commit hook: WAL size          │ written batch back to the render thread,
//                 ▼                                ▼ which frees its records and reuses buffers
//        checkpointer thread (own connection): copies the WAL into the database file; segments
//        before the committed position are unlinked
//
// A restart reads the position and indexes the log from there: every record before it is
// committed, none after it. A crash between two transactions of one batch replays that batch:
// its inserts are idempotent (entries by id, bodies by entry, WebSocket messages by (entry,
// seq), TLS logs and HTTP/2 batches by key), so nothing is stored or counted twice.
//
// After each COMMIT the writer thread publishes one `entry` event per inserted entry
// (event_hub; only when anyone listens). TLS connection logs and HTTP/2 frame log batches are
// written just before the batch's entries; WebSocket messages just after them, in a transaction
// of their own, announced as `websocket` events after its COMMIT. A worker submits an entry
// before its messages into its own buffer, so the log has them in that order.
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
#include "hark/core/json_writer.hpp"
#include "hark/store/capture_record.hpp"
#include "hark/store/database.hpp"

#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <limits>
#include <type_traits>
#include <vector>

namespace hark::store {
namespace {

using steady = std::chrono::steady_clock;

// A batch is rendered when this many entries (or bytes of records) wait past the indexer's
// position, or batch_delay after the first one.
constexpr std::size_t batch_size = 4096;
constexpr std::size_t batch_bytes = 8 << 20;
constexpr auto batch_delay = std::chrono::milliseconds(20);

// How often an idle writer looks for entries inserted by other connections (index_idle).
constexpr auto idle_check = std::chrono::seconds(1);

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

/** The capture log's directory for `options`. */
std::filesystem::path log_dir(const writer_options& options) {
  return options.capture_log_dir.empty() ? options.database_path.parent_path() / "capture-log"
                                         : options.capture_log_dir;
}

log_position read_position(database& db) {
  auto st = statement::cached(db, "SELECT segment, offset FROM capture_log_position");
  if (!st.step()) {
    return {};
  }
  return {static_cast<std::uint64_t>(st.column_int64(0)),
          static_cast<std::uint64_t>(st.column_int64(1))};
}

/** Nice 19 for the calling thread: the relay's workers win the CPU (SPEC §7). */
void lower_priority() {
  ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19);
}

std::int64_t steady_us(steady::time_point t) {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
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
  log_position end;              ///< the log position after its records
  std::vector<capture::tls_connection_log> tls_logs;  ///< written before the rows
  std::vector<capture::ws_message_record> ws;         ///< written after the rows
  std::vector<capture::h2_frame_batch> h2_batches;    ///< rendered into h2_rows
  std::vector<h2_batch_row> h2_rows;                  ///< written before the rows

  /** Records it carries. */
  std::uint64_t size() const {
    return records.size() + tls_logs.size() + ws.size() + h2_rows.size() + h2_batches.size();
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

double writer_stats::index_lag_seconds() const noexcept {
  const auto oldest = oldest_unindexed_us.load();
  if (oldest == 0) {
    return 0;
  }
  return std::max(0.0, static_cast<double>(steady_us(steady::now()) - oldest) / 1e6);
}

writer::writer(writer_options options)
    : options_(std::move(options)),
      db_(std::make_unique<database>(options_.database_path)),
      checkpointer_(std::make_unique<checkpointer>(options_.database_path)) {
  // The writer only inserts, and looks its sessions up itself in each transaction (which holds
  // the write lock, so that none can go meanwhile): the foreign key checks would repeat that
  // lookup for every entry and every body. Deletes, on other connections, still cascade.
  db_->exec("PRAGMA foreign_keys = OFF");
  capture_log_options log_options;
  log_options.dir = log_dir(options_);
  // Segments of at most an eighth of the quota: the segment being written cannot be unlinked, so
  // a small --capture-log-max still leaves room for what waits to be indexed.
  log_options.segment_bytes = std::max<std::uint64_t>(
      64 << 10, std::min(options_.capture_segment_bytes, options_.capture_log_max / 8));
  log_options.max_bytes = options_.capture_log_max;
  log_options.fsync = options_.fsync;
  log_ = std::make_unique<capture_log>(std::move(log_options));
  log_end_ = log_->segments().end();
  committed_ = read_position(*db_);
  if (committed_.segment >= log_end_.segment) {
    committed_ = {};  // the log was removed since: index whatever it holds from its start
  }
  drained_to_ = committed_;
  log_->segments().remove_before(committed_.segment);  // indexed before a crash
  log_->on_written([this](log_position end) {
    {
      std::lock_guard lock(mutex_);
      log_end_ = end;
    }
    render_wake_.notify_one();
    update_lag();
  });
  log_->on_pause([this](const std::string& reason) {
    {
      std::lock_guard lock(stats_.error_mutex);
      stats_.pause_reason = reason;
    }
    stats_.capture_paused = !reason.empty();
    if (options_.events != nullptr) {
      std::string data;
      json::writer w(data);
      w.begin_object();
      w.key("action").value(reason.empty() ? "recording_resumed" : "recording_paused");
      w.key("reason").value(reason);
      w.end_object();
      options_.events->publish(capture::event_type::session_updated, {}, std::move(data));
    }
  });
  update_lag();
  checkpointer_->attach(*db_);
  write_thread_ = std::thread([this] { write_loop(); });
  render_thread_ = std::thread([this] { render_loop(); });
}

writer::~writer() {
  stop();
}

void writer::refuse(std::uint64_t n) noexcept {
  stats_.records_refused.fetch_add(n, std::memory_order_relaxed);
}

void writer::submit(capture::entry_record&& record) {
  if (!log_->append(record)) {
    refuse();
  }
}

void writer::submit_tls(capture::tls_connection_log&& log) {
  if (!log_->append(log)) {
    refuse();
  }
}

void writer::submit_ws(capture::ws_message_record&& message) {
  if (!log_->append(message)) {
    refuse();
  }
}

void writer::submit_h2(capture::h2_frame_batch&& frames) {
  if (!log_->append(frames)) {
    refuse();
  }
}

void writer::flush() {
  const auto target = log_->write_out();
  std::unique_lock lock(mutex_);
  log_end_ = std::max(log_end_, target);
  ++flush_waiters_;
  render_wake_.notify_one();
  drained_.wait(lock, [&] { return drained_to_ >= target || write_done_; });
  --flush_waiters_;
}

log_position writer::indexed_position() {
  std::lock_guard lock(mutex_);
  return committed_;
}

void writer::stop() {
  log_->stop();  // writes out every buffer; later submissions are refused
  std::thread render;
  std::thread write;
  {
    std::lock_guard lock(mutex_);
    log_end_ = std::max(log_end_, log_->segments().end());
    stopping_ = true;
    render = std::move(render_thread_);  // only the first caller joins
    write = std::move(write_thread_);
  }
  render_wake_.notify_all();
  if (render.joinable()) {
    render.join();  // it has read the whole log
  }
  if (write.joinable()) {
    write.join();
    checkpointer_->stop();  // after the last commit
  }
}

bool writer::wait_for_records(std::unique_lock<std::mutex>& lock, log_position pos) {
  for (;;) {
    render_wake_.wait(lock, [&] { return stopping_ || log_end_ > pos || !written_.empty(); });
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
    if (log_end_ <= pos) {
      return false;  // stopping, and the whole log is read
    }
    // Let a batch build up for a moment: one transaction per many entries keeps the WAL
    // writes per entry small (each commit rewrites every page it touched).
    render_wake_.wait_for(lock, batch_delay, [&] {
      return stopping_ || flush_waiters_ > 0 || log_end_.segment != pos.segment ||
             log_end_.offset - pos.offset >= batch_bytes;
    });
    return true;
  }
}

std::unique_ptr<writer::batch> writer::read_batch(capture_reader& reader, log_position& pos,
                                                  log_position end, std::unique_ptr<batch> spare) {
  auto b = spare ? std::move(spare) : std::make_unique<batch>();
  std::vector<log_record> records;
  std::size_t bytes = 0;
  while (pos < end && b->records.size() < batch_size && bytes < batch_bytes) {
    records.clear();
    // Reads of 1 MiB at most: the reader's buffer stays small (a larger record is read whole).
    const auto next =
        reader.read(pos, end, std::min<std::size_t>(batch_bytes - bytes, 1 << 20), records);
    for (const auto& r : records) {
      bytes += r.frame.size();
      try {
        std::visit(
            [&](auto&& record) {
              using type = std::decay_t<decltype(record)>;
              if constexpr (std::is_same_v<type, capture::entry_record>) {
                b->records.push_back(std::move(record));
              } else if constexpr (std::is_same_v<type, capture::tls_connection_log>) {
                b->tls_logs.push_back(std::move(record));
              } else if constexpr (std::is_same_v<type, capture::ws_message_record>) {
                b->ws.push_back(std::move(record));
              } else {
                b->h2_batches.push_back(std::move(record));
              }
            },
            decode_record(parse_frame(r.frame)));
      } catch (const std::exception& e) {
        ++stats_.entries_dropped;  // a record this build cannot read: skipped, said once
        report(stats_, std::string("capture log: ") + e.what());
      }
    }
    if (next == pos) {
      break;
    }
    pos = next;
  }
  b->end = pos;
  return b;
}

void writer::render(batch& b) {
  b.h2_rows.reserve(b.h2_batches.size());
  for (auto& h2_batch : b.h2_batches) {
    b.h2_rows.push_back(make_h2_batch_row(std::move(h2_batch), options_.compress_threshold));
  }
  b.h2_batches.clear();
  b.rows.reserve(b.records.size());
  for (auto& record : b.records) {
    try {
      b.rows.push_back(make_entry_row(record, options_.compress_threshold, b.text));
    } catch (const std::exception&) {
      ++b.unrendered;  // cannot happen short of bad_alloc; never stop the writer
    }
  }
}

void writer::render_loop() {
  pthread_setname_np(pthread_self(), "hark-render");  // for top -H, perf and the benchmarks
  if (options_.low_priority) {
    lower_priority();
  }
  capture_reader reader(log_->segments());
  std::unique_lock lock(mutex_);
  log_position pos = committed_;
  for (;;) {
    if (!wait_for_records(lock, pos)) {
      render_done_ = true;
      write_wake_.notify_one();
      return;
    }
    const auto end = log_end_;
    auto spare = std::move(spare_);
    lock.unlock();
    auto b = read_batch(reader, pos, end, std::move(spare));
    render(*b);
    lock.lock();
    // One batch waits while the writer writes another: the log, not batches in flight, is
    // where a backlog builds up.
    render_wake_.wait(lock, [this] { return ready_ == nullptr; });
    ready_ = std::move(b);
    write_wake_.notify_one();
  }
}

void writer::store_position(const batch& b) {
  auto st = statement::cached(*db_, "UPDATE capture_log_position SET segment = ?1, offset = ?2");
  st.bind(1, static_cast<std::int64_t>(b.end.segment))
      .bind(2, static_cast<std::int64_t>(b.end.offset))
      .run();
}

void writer::write(batch& b) {
  // Logs first: an entry that names its TLS connection finds it already stored.
  write_tls_logs(*db_, stats_, options_, b.tls_logs);
  write_h2_batches(*db_, stats_, b.h2_rows);
  stats_.entries_dropped += b.unrendered;
  const auto started = steady::now();
  // The log position goes into the batch's last transaction: its WebSocket messages', else its
  // entries' last one, else one of its own.
  bool positioned = false;
  const std::function<void()> position = [&] {
    store_position(b);
    positioned = true;
  };
  insert_outcome outcome;
  try {
    insert_rows(
        *db_, b.rows, b.text, options_.max_commit_delay, outcome,
        [&](const std::vector<std::size_t>& inserted) { announce(b, inserted); },
        b.ws.empty() ? position : std::function<void()>{});
    report(stats_, {});
  } catch (const std::exception& e) {
    // Disk full, I/O error, …: the open transaction rolled back. Proxying goes on; recording
    // resumes with the next batch that commits (ok turns true again).
    stats_.entries_dropped += b.rows.size() - outcome.committed;
    report(stats_, e.what());
  }
  stats_.entries_written += outcome.written;
  if (!b.ws.empty()) {
    write_ws(b, position);
  }
  if (!positioned) {
    try {
      transaction tx(*db_);
      store_position(b);
      tx.commit();
    } catch (const std::exception& e) {
      report(stats_, e.what());  // the batch is replayed after a restart (its inserts dedupe)
    }
  }
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

void writer::write_ws(batch& b, const std::function<void()>& before_commit) {
  std::vector<std::size_t> inserted;
  try {
    insert_ws_messages(*db_, b.ws, inserted, before_commit);
  } catch (const std::exception& e) {
    stats_.ws_messages_dropped += b.ws.size();
    report(stats_, e.what());
    return;
  }
  // Messages of entries that were not stored (their session deleted) are dropped.
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
  if (options_.low_priority) {
    lower_priority();
  }
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
      write_done_ = true;  // the render thread has stopped, and everything it rendered is written
      drained_.notify_all();
      return;
    }
    auto b = std::move(ready_);
    render_wake_.notify_one();  // room for the next batch
    lock.unlock();
    write(*b);
    const auto end = b->end;
    stats_.records_indexed += b->size();
    lock.lock();
    committed_ = end;
    written_.push_back(std::move(b));
    render_wake_.notify_one();
    lock.unlock();
    log_->segments().remove_before(end.segment);
    log_->forget_before(end);
    update_lag();
    lock.lock();
    drained_to_ = end;  // flush() returns with the lag figures already updated
    drained_.notify_all();
  }
}

void writer::update_lag() {
  std::lock_guard lag_lock(lag_mutex_);
  log_position pos;
  {
    std::lock_guard lock(mutex_);
    pos = committed_;
  }
  const auto appended = log_->stats().records_appended.load();
  const auto before = log_->records_before(pos);
  stats_.records_appended = appended;
  stats_.log_records_lost = log_->stats().records_lost.load();
  stats_.queue_depth = appended > before ? appended - before : 0;
  const auto at = log_->written_at(pos);
  stats_.oldest_unindexed_us = at ? steady_us(*at) : 0;
  stats_.log_bytes = log_->segments().disk_bytes();
  stats_.lag_bytes = log_->segments().bytes_after(pos);
}

}  // namespace hark::store
