// writer: the store's one writing thread.
//
//   proxy workers ──submit()──► queue_ (mutex; bounded by entries and by body bytes)
//                                  │ run(): takes everything queued at once
//                                  ▼
//        wait for process lookups (≤ 200 ms per batch) → rows (JSON, search text, zstd)
//                                  ▼
//        BEGIN IMMEDIATE … INSERT … COMMIT, a new transaction at least every max_commit_delay
//                                  │ commit hook: WAL size
//                                  ▼
//        checkpointer thread (own connection): copies the WAL into the database file
#include "hark/store/writer.hpp"

#include "checkpointer.hpp"
#include "entry_row.hpp"
#include "search.hpp"
#include "statement.hpp"

#include "hark/store/database.hpp"

#include <pthread.h>

#include <limits>
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

// How often an idle writer looks for entries inserted by other connections (index_idle).
constexpr auto idle_check = std::chrono::seconds(1);

// Half the page cache (database.cpp sets 8 MiB): see write_rows.
constexpr std::size_t transaction_bytes = 4 << 20;

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

/** Inserts the rows of one transaction, with statements prepared once for all of them. */
class row_inserter {
 public:
  /** `text` is the batch's text buffer the rows point into. */
  row_inserter(database& db, const std::string& text)
      : db_(db),
        text_(text),
        entry_(statement::cached(
            db,
            "INSERT OR IGNORE INTO entries (id, session_id, started_us, host, method, status, "
            "http_version, url, is_websocket, error_code, duration_ms, request_bytes, "
            "response_bytes, search_text, doc) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)")),
        body_(statement::cached(db,
                                "INSERT OR REPLACE INTO bodies (entry_row, kind, codec, size, "
                                "truncated, content_type, content_encoding, data) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")),
        session_(statement::cached(db, "SELECT 1 FROM sessions WHERE id = ?1")) {}

  /** Inserts one entry and its bodies; returns its row. nullopt when its session was deleted
   *  meanwhile (or the id is already stored): then nothing is written, and the rest of the
   *  batch goes on. */
  std::optional<std::int64_t> insert(const entry_row& row) {
    if (!session_exists(row.session_id)) {
      return std::nullopt;
    }
    entry_.bind_text_static(1, row.id)
        .bind_text_static(2, row.session_id)
        .bind(3, row.started_us)
        .bind_text_static(4, row.host)
        .bind_text_static(5, row.method)
        .bind(6, row.status)
        .bind_text_static(7, row.http_version)
        .bind_text_static(8, row.url)
        .bind(9, row.is_websocket)
        .bind(10, row.error_code)
        .bind(11, row.duration_ms)
        .bind(12, row.request_bytes)
        .bind(13, row.response_bytes)
        .bind_text_static(14, row.search_text.in(text_))
        .bind_text_static(15, row.doc.in(text_))
        .run();
    entry_.reset();
    if (sqlite3_changes(db_.handle()) != 1) {
      return std::nullopt;
    }
    const std::int64_t entry = sqlite3_last_insert_rowid(db_.handle());
    for (std::size_t i = 0; i < row.body_count; ++i) {
      const body_row& body = row.bodies[i];
      body_.bind(1, entry)
          .bind(2, body.kind)
          .bind(3, static_cast<int>(body.codec))
          .bind(4, body.size)
          .bind(5, body.truncated)
          .bind_text_static(6, body.content_type)
          .bind_text_static(7, body.content_encoding)
          .bind_blob_static(8, body.stored())
          .run();
      body_.reset();
    }
    return entry;
  }

 private:
  /** Whether the session exists, looked up once per transaction: the transaction holds the
   *  write lock, so no session can be deleted before it ends. */
  bool session_exists(std::string_view id) {
    if (id == last_session_) {
      return last_session_exists_;
    }
    session_.bind_text_static(1, id);
    last_session_exists_ = session_.step();
    session_.reset();
    last_session_ = id;
    return last_session_exists_;
  }

  database& db_;
  const std::string& text_;
  statement entry_;
  statement body_;
  statement session_;
  std::string last_session_;
  bool last_session_exists_ = false;
};

/** What one transaction adds to the sessions' counters and to entry_counts (migration 2),
 *  summed in memory and written once at its end. Keys point into the rows, which outlive it. */
class transaction_totals {
 public:
  void add(const entry_row& row) {
    auto& session = sessions_[row.session_id];
    session.count += 1;
    session.bytes += row.request_bytes + row.response_bytes;
    ++counts_[count_key{row.session_id, row.host, row.method, row.status.value_or(0),
                        row.http_version, row.is_websocket, row.error_code.has_value()}];
  }

  void write(database& db) const {
    for (const auto& [id, t] : sessions_) {
      auto st = statement::cached(db,
                                  "UPDATE sessions SET traffic_count = traffic_count + ?2, "
                                  "total_bytes = total_bytes + ?3 WHERE id = ?1");
      st.bind_text_static(1, id).bind(2, t.count).bind(3, t.bytes).run();
    }
    for (const auto& [key, n] : counts_) {
      auto st = statement::cached(
          db,
          "INSERT INTO entry_counts VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
          "ON CONFLICT (session_id, host, method, status, http_version, is_websocket, is_error) "
          "DO UPDATE SET entries = entries + excluded.entries");
      st.bind_text_static(1, key.session_id)
          .bind_text_static(2, key.host)
          .bind_text_static(3, key.method)
          .bind(4, key.status)
          .bind_text_static(5, key.http_version)
          .bind(6, key.is_websocket)
          .bind(7, key.is_error)
          .bind(8, n)
          .run();
    }
  }

 private:
  struct session_sum {
    std::int64_t count = 0;
    std::int64_t bytes = 0;
  };
  struct count_key {
    std::string_view session_id;
    std::string_view host;
    std::string_view method;
    std::int64_t status = 0;
    std::string_view http_version;
    bool is_websocket = false;
    bool is_error = false;
    auto operator<=>(const count_key&) const = default;
  };
  std::map<std::string_view, session_sum> sessions_;
  std::map<count_key, std::int64_t> counts_;
};

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

struct batch_outcome {
  std::size_t committed = 0;  ///< rows whose transaction committed (written or skipped)
  std::uint64_t written = 0;  ///< entries inserted by those transactions
};

/** Bytes a row adds to the pages its transaction dirties (the indexes' share estimated). */
std::size_t row_bytes(const entry_row& row) {
  std::size_t bytes = row.doc.size + row.search_text.size + 256;
  for (std::size_t i = 0; i < row.body_count; ++i) {
    bytes += row.bodies[i].stored().size();
  }
  return bytes;
}

/** Writes `rows`, committing at least every `max_delay` so that a huge backlog does not keep
 *  finished entries off the disk, and every transaction_bytes so that a transaction's pages fit
 *  in the connection's page cache. Past it SQLite spills dirty pages into the WAL mid-way, and
 *  every page changed again after that (the right edges of the table and its indexes) is
 *  written twice and has the checksums of every later frame recomputed: a third of the
 *  writer's time at 5000 entries per transaction. Throws store_error; `out` then counts what
 *  was committed. */
void write_rows(database& db, const std::vector<entry_row>& rows, const std::string& text,
                std::chrono::milliseconds max_delay, batch_outcome& out) {
  std::size_t next = 0;
  while (next < rows.size()) {
    const auto started = steady::now();
    transaction_totals totals;
    std::uint64_t written = 0;
    std::optional<std::int64_t> first_row;  // of this transaction's own entries
    std::size_t end = next;
    transaction tx(db);
    row_inserter inserter(db, text);
    std::size_t bytes = 0;
    while (end < rows.size() &&
           (end == next || (bytes < transaction_bytes && steady::now() - started < max_delay))) {
      const auto& row = rows[end++];
      bytes += row_bytes(row);
      if (const auto inserted = inserter.insert(row)) {
        first_row = first_row.value_or(*inserted);
        totals.add(row);
        ++written;
      }
    }
    // Searchable and counted in the same transaction that makes the entries visible; the
    // transaction's own entries are counted by `totals`, any others above the index by SQL.
    index_pending(db, first_row.value_or(std::numeric_limits<std::int64_t>::max()));
    totals.write(db);
    tx.commit();
    out.committed = end;
    out.written += written;
    next = end;
  }
}

}  // namespace

/** What write_batch needs between batches: kept by the writer thread so that their memory is
 *  reused instead of allocated again for every batch. */
struct writer::scratch {
  std::vector<entry_row> rows;
  std::string text;  ///< every row's document and search text, back to back

  /** Empties both, giving back memory that an exceptional batch made large. */
  void clear() {
    constexpr std::size_t keep_bytes = 16 << 20;
    rows.clear();
    text.clear();
    if (text.capacity() > keep_bytes) {
      std::string().swap(text);
      std::vector<entry_row>().swap(rows);
    }
  }
};

namespace {

/** Turns records into rows, writes them, and updates the stats. Never throws. */
void write_batch(database& db, writer_stats& stats, const writer_options& options,
                 std::deque<capture::entry_record>& batch, writer::scratch& scratch) {
  const auto deadline = steady::now() + process_wait;
  auto& rows = scratch.rows;
  rows.reserve(batch.size());
  for (auto& record : batch) {
    if (record.process.valid()) {
      record.process.wait_until(deadline);
    }
    try {
      rows.push_back(make_entry_row(record, options.compress_threshold, scratch.text));
    } catch (const std::exception&) {
      ++stats.entries_dropped;  // cannot happen short of bad_alloc; never stop the writer
    }
  }
  const auto started = steady::now();
  batch_outcome outcome;
  try {
    write_rows(db, rows, scratch.text, options.max_commit_delay, outcome);
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
  scratch.clear();  // the rows point into the records: before these go
  batch.clear();
}

}  // namespace

writer::writer(writer_options options)
    : options_(std::move(options)),
      db_(std::make_unique<database>(options_.database_path)),
      checkpointer_(std::make_unique<checkpointer>(options_.database_path)) {
  checkpointer_->attach(*db_);
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
    checkpointer_->stop();  // after the last commit
  }
}

void writer::run() {
  pthread_setname_np(pthread_self(), "hark-writer");  // for top -H, perf and the benchmarks
  scratch buffers;
  std::unique_lock lock(mutex_);
  for (;;) {
    // Idle, look now and then for entries that another connection inserted (an import):
    // they become searchable and counted here.
    while (!wake_.wait_for(lock, idle_check, [this] { return stopping_ || !queue_.empty(); })) {
      lock.unlock();
      index_idle(*db_, stats_);
      lock.lock();
    }
    // Let a batch build up for a moment: one transaction per many entries keeps the WAL
    // writes per entry small (each commit rewrites every page it touched).
    wake_.wait_for(lock, batch_delay, [this] {
      return stopping_ || flush_waiters_ > 0 || queue_.size() >= batch_size;
    });
    if (queue_.empty()) {
      return;  // stopping, and everything submitted is written
    }
    std::deque<capture::entry_record> batch;
    batch.swap(queue_);
    queued_body_bytes_ = 0;
    stats_.queue_depth = 0;
    lock.unlock();
    const auto taken = batch.size();
    write_batch(*db_, stats_, options_, batch, buffers);
    lock.lock();
    committed_ += taken;
    drained_.notify_all();
  }
}

}  // namespace hark::store
