#include "hark/store/database.hpp"

#include "statement.hpp"

#include <array>
#include <string_view>

namespace hark::store {
namespace {

// The schema, as an ordered list of migrations: migrations[i] takes user_version from i to i+1.
// Append new ones at the end; never edit one that has shipped.
// Planned: an FTS5 table over entries.search_text for `q` (SQLite 3.40 has FTS5); a LIKE over
// search_text serves it until then.
constexpr std::array<std::string_view, 1> migrations = {
    // 1: the initial schema.
    R"sql(
CREATE TABLE sessions (
  id            TEXT PRIMARY KEY NOT NULL,   -- UUID v4
  name          TEXT NOT NULL,
  is_active     INTEGER NOT NULL DEFAULT 0,
  is_recording  INTEGER NOT NULL DEFAULT 0,
  created_at    INTEGER NOT NULL,            -- Unix ms
  updated_at    INTEGER NOT NULL,            -- Unix ms
  traffic_count INTEGER NOT NULL DEFAULT 0,  -- kept by the writer and the entry deletes
  total_bytes   INTEGER NOT NULL DEFAULT 0
);
-- SPEC 6.1: one active session at most; the database enforces it too.
CREATE UNIQUE INDEX sessions_single_active ON sessions (is_active) WHERE is_active = 1;

CREATE TABLE entries (
  row            INTEGER PRIMARY KEY,
  id             TEXT NOT NULL UNIQUE,       -- ULID
  session_id     TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  started_us     INTEGER NOT NULL,           -- Unix us
  host           TEXT NOT NULL,              -- lowercase
  method         TEXT NOT NULL COLLATE NOCASE,
  status         INTEGER,
  http_version   TEXT NOT NULL,
  url            TEXT NOT NULL,
  is_websocket   INTEGER NOT NULL DEFAULT 0,
  error_code     TEXT,
  duration_ms    REAL,
  request_bytes  INTEGER NOT NULL DEFAULT 0, -- body sizes as transferred
  response_bytes INTEGER NOT NULL DEFAULT 0,
  search_text    TEXT NOT NULL,              -- URL and header lines, for `q`
  doc            TEXT NOT NULL               -- the SessionEntry JSON
);
-- Listing in time order, and the selective filters in time order (host, status): each serves
-- the first page of a filtered listing without a sort. Every index on entries costs the writer
-- about a tenth of its throughput (bench/store_bench), so the low-selectivity filters (method,
-- HTTP version, WebSocket, error) are evaluated along entries_by_time instead.
CREATE INDEX entries_by_time ON entries (session_id, started_us, row);
CREATE INDEX entries_by_host ON entries (session_id, host, started_us, row);
CREATE INDEX entries_by_status ON entries (session_id, status, started_us, row);

CREATE TABLE bodies (
  entry_row        INTEGER NOT NULL REFERENCES entries (row) ON DELETE CASCADE,
  kind             INTEGER NOT NULL,         -- 0 request, 1 response
  codec            INTEGER NOT NULL,         -- 0 none, 1 zstd
  size             INTEGER NOT NULL,         -- captured bytes, before compression
  truncated        INTEGER NOT NULL,
  content_type     TEXT NOT NULL DEFAULT '',
  content_encoding TEXT NOT NULL DEFAULT '',
  data             BLOB NOT NULL,
  PRIMARY KEY (entry_row, kind)
);

CREATE TABLE ws_messages (
  entry_row  INTEGER NOT NULL REFERENCES entries (row) ON DELETE CASCADE,
  seq        INTEGER NOT NULL,
  side       INTEGER NOT NULL,               -- 0 client, 1 server
  started_us INTEGER,
  ended_us   INTEGER,
  type       TEXT NOT NULL,                  -- text, binary, close, ping, pong, unknown
  payload    BLOB NOT NULL,
  truncated  INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (entry_row, seq)
);
)sql",
};

int user_version(database& db) {
  auto st = statement::prepare(db, "PRAGMA user_version");
  return st.step() ? static_cast<int>(st.column_int64(0)) : 0;
}

void check_not_newer(int version) {
  if (version > database::schema_version()) {
    throw store_error("database schema version " + std::to_string(version) +
                      " is newer than this build of hark understands (" +
                      std::to_string(database::schema_version()) + ")");
  }
}

/** Applies the pending migrations in one transaction. Another process (or the writer's
 *  connection) may be opening the same file: the version is read again under the write lock. */
void migrate(database& db) {
  const int seen = user_version(db);
  check_not_newer(seen);
  if (seen == database::schema_version()) {
    return;
  }
  transaction tx(db);
  int version = user_version(db);
  check_not_newer(version);
  for (; version < database::schema_version(); ++version) {
    db.exec(std::string(migrations[static_cast<std::size_t>(version)]));
    db.exec("PRAGMA user_version = " + std::to_string(version + 1));
  }
  tx.commit();
}

/** Process-wide SQLite settings; they must precede the first connection (sqlite3_initialize),
 *  later calls are refused with SQLITE_MISUSE and change nothing. */
void configure_sqlite() {
  static const bool configured = [] {
    // Memory statistics take a global mutex around every allocation SQLite makes (a few
    // percent of the writer's time); Hark never reads them.
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
}

}  // namespace

database::database(const std::filesystem::path& path) {
  configure_sqlite();
  sqlite3* raw = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  db_.reset(raw);  // even a failed open returns a handle that must be closed
  if (rc != SQLITE_OK) {
    throw_sqlite(raw, "cannot open " + path.string());
  }
  // busy_timeout first, so that switching to WAL waits for a concurrent opener.
  exec("PRAGMA busy_timeout = 5000");
  exec("PRAGMA journal_mode = WAL");
  exec("PRAGMA synchronous = NORMAL");
  exec("PRAGMA foreign_keys = ON");
  // 8 MiB of page cache per connection (the default is 2 MiB): the writer touches the same
  // index pages batch after batch, and reading them back from the OS costs a copy each time.
  exec("PRAGMA cache_size = -8192");
  exec("PRAGMA temp_store = MEMORY");
  // Checkpoint every 32 MiB of WAL instead of 4 MiB: fewer fsyncs and page copies while
  // capturing at full speed (the WAL is truncated back when the last connection closes).
  exec("PRAGMA wal_autocheckpoint = 8192");
  migrate(*this);
}

void database::exec(const std::string& sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_.get(), sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    std::string message = error != nullptr ? error : sqlite3_errmsg(db_.get());
    sqlite3_free(error);
    throw store_error(message);
  }
}

int database::schema_version() noexcept {
  return static_cast<int>(migrations.size());
}

sqlite3_stmt* database::prepare_cached(const std::string& sql) {
  auto found = cache_.find(sql);
  if (found != cache_.end()) {
    return found->second.get();
  }
  sqlite3_stmt* stmt = nullptr;
  // SQLITE_PREPARE_PERSISTENT: a hint that the statement is kept and reused.
  if (sqlite3_prepare_v3(db_.get(), sql.c_str(), static_cast<int>(sql.size()),
                         SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
    throw_sqlite(db_.get(), "prepare");
  }
  return cache_.emplace(sql, stmt).first->second.get();
}

}  // namespace hark::store
