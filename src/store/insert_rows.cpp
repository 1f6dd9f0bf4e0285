#include "insert_rows.hpp"

#include "search.hpp"
#include "statement.hpp"

#include <limits>
#include <map>
#include <optional>
#include <tuple>

namespace hark::store {
namespace {

using steady = std::chrono::steady_clock;

// Half the page cache (database.cpp sets 8 MiB): see insert_rows().
constexpr std::size_t transaction_bytes = 4 << 20;

/** What one transaction adds to the sessions' counters and to entry_counts (migration 3),
 *  summed in memory and written once at its end. Keys point into the rows, which outlive it. */
class transaction_totals {
 public:
  void add(const entry_row& row) {
    auto& session = sessions_[row.session_id];
    session.count += 1;
    session.bytes += row.request_bytes + row.response_bytes;
    auto& count =
        counts_[count_key{row.session_id, row.host, row.method, row.status.value_or(0),
                          row.http_version, row.is_websocket, row.error_code.has_value()}];
    count.entries += 1;
    if (row.duration_ms) {
      count.timed += 1;
      count.duration_ms += *row.duration_ms;
    }
  }

  void write(database& db) const {
    for (const auto& [id, t] : sessions_) {
      add_session_totals(db, id, t.count, t.bytes);
    }
    for (const auto& [key, n] : counts_) {
      auto st = statement::cached(
          db,
          "INSERT INTO entry_counts VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
          "ON CONFLICT (session_id, host, method, status, http_version, is_websocket, is_error) "
          "DO UPDATE SET entries = entries + excluded.entries, timed = timed + excluded.timed, "
          "duration_ms = duration_ms + excluded.duration_ms");
      st.bind_text_static(1, key.session_id)
          .bind_text_static(2, key.host)
          .bind_text_static(3, key.method)
          .bind(4, key.status)
          .bind_text_static(5, key.http_version)
          .bind(6, key.is_websocket)
          .bind(7, key.is_error)
          .bind(8, n.entries)
          .bind(9, n.timed)
          .bind(10, n.duration_ms)
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
    bool operator<(const count_key& other) const {
      return std::tie(session_id, host, method, status, http_version, is_websocket, is_error) <
             std::tie(other.session_id, other.host, other.method, other.status, other.http_version,
                      other.is_websocket, other.is_error);
    }
  };
  std::map<std::string_view, session_sum> sessions_;
  struct count_sum {
    std::int64_t entries = 0;
    std::int64_t timed = 0;
    double duration_ms = 0;
  };
  std::map<count_key, count_sum> counts_;
};

/** Bytes a row adds to the pages its transaction dirties (the indexes' share estimated). */
std::size_t row_bytes(const entry_row& row) {
  std::size_t bytes = row.doc.size + row.search_text.size + 256;
  for (std::size_t i = 0; i < row.body_count; ++i) {
    bytes += row.bodies[i].stored().size();
  }
  return bytes;
}

}  // namespace

void add_session_totals(database& db, std::string_view session_id, std::int64_t count,
                        std::int64_t bytes) {
  auto st = statement::cached(db,
                              "UPDATE sessions SET traffic_count = traffic_count + ?2, "
                              "total_bytes = total_bytes + ?3 WHERE id = ?1");
  st.bind_text_static(1, session_id).bind(2, count).bind(3, bytes).run();
}

row_inserter::row_inserter(database& db, const std::string& text)
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

std::optional<std::int64_t> row_inserter::insert(const entry_row& row) {
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

bool row_inserter::session_exists(std::string_view id) {
  if (id == last_session_) {
    return last_session_exists_;
  }
  session_.bind_text_static(1, id);
  last_session_exists_ = session_.step();
  session_.reset();
  last_session_ = id;
  return last_session_exists_;
}

// A transaction also ends once its rows reach transaction_bytes, so that its pages fit in the
// connection's page cache. Past it SQLite spills dirty pages into the WAL mid-way, and every page
// changed again after that (the right edges of the table and its indexes) is written twice and
// has the checksums of every later frame recomputed: a third of the writer's time at 5000
// entries per transaction.
void insert_rows(database& db, const std::vector<entry_row>& rows, const std::string& text,
                 std::chrono::milliseconds max_delay, insert_outcome& out,
                 const std::function<void(const std::vector<std::size_t>&)>& committed,
                 const std::function<void()>& before_last_commit) {
  std::size_t next = 0;
  std::vector<std::size_t> inserted;  // rows of the open transaction that were written
  while (next < rows.size()) {
    const auto started = steady::now();
    transaction_totals totals;
    inserted.clear();
    std::optional<std::int64_t> first_row;  // of this transaction's own entries
    std::size_t end = next;
    transaction tx(db);
    row_inserter inserter(db, text);
    std::size_t bytes = 0;
    while (end < rows.size() &&
           (end == next || (bytes < transaction_bytes && steady::now() - started < max_delay))) {
      const auto& row = rows[end];
      bytes += row_bytes(row);
      if (const auto entry = inserter.insert(row)) {
        first_row = first_row.value_or(*entry);
        totals.add(row);
        inserted.push_back(end);
      }
      ++end;
    }
    // Searchable and counted in the same transaction that makes the entries visible; the
    // transaction's own entries are counted by `totals`, any others above the index by SQL.
    index_pending(db, first_row.value_or(std::numeric_limits<std::int64_t>::max()));
    totals.write(db);
    if (end == rows.size() && before_last_commit) {
      before_last_commit();
    }
    tx.commit();
    out.committed = end;
    out.written += inserted.size();
    next = end;
    if (committed) {
      committed(inserted);
    }
  }
}

}  // namespace hark::store
