#include "hark/store/database.hpp"

#include "statement.hpp"

#include <array>
#include <string_view>

namespace hark::store {
namespace {

// The schema, as an ordered list of migrations: migrations[i] takes user_version from i to i+1.
// Append new ones at the end; never edit one that has shipped.
constexpr std::array<std::string_view, 5> migrations = {
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
    // 2: the TLS connection log (SPEC §3, §6.5), one row per intercepted connection.
    R"sql(
CREATE TABLE tls_connections (
  id         TEXT PRIMARY KEY NOT NULL,      -- ULID, the entries' tls.connectionId
  session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  started_us INTEGER NOT NULL,               -- Unix us of the ClientHello
  codec      INTEGER NOT NULL,               -- 0 none, 1 zstd
  size       INTEGER NOT NULL,               -- bytes of `data` before compression
  data       BLOB NOT NULL                   -- the log as CBOR (src/store/tls_log_store.cpp)
);
CREATE INDEX tls_connections_by_session ON tls_connections (session_id);

)sql",
    // 3: the search index and the entry counts behind `q` and `total` (docs/decisions.md, Store).
    //
    // Both cover the entries up to search_state.indexed_row. Whoever inserts entries leaves them
    // alone: the writer folds every entry above that row into both, in the same transaction as
    // its own inserts (so captured entries are searchable and counted as soon as they are
    // visible), and within a second for entries another connection inserted. Deletes, by any
    // connection and by the sessions' cascade, take the entries out of both in the trigger
    // below, which also lowers indexed_row when the newest rows go, so that a row id SQLite
    // hands out again is indexed again.
    R"sql(
-- Full text of the URL and headers (entries.search_text), for `q`. Contentless: the text is
-- stored once, in entries; a delete gives the old values back. `session` holds the session id
-- without hyphens, one token, so that a query counts within a session without reading entries.
-- `facets` holds the filter columns as tokens (entry_search below), so that `q` with other
-- filters is counted inside the index too.
CREATE VIRTUAL TABLE entries_fts USING fts5(session, text, facets, content = '',
                                            columnsize = 0);
-- Merge segments 16 at a time instead of 4: a third less of the writer's indexing work, for
-- queries that visit a few more segments.
INSERT INTO entries_fts (entries_fts, rank) VALUES ('automerge', 16);

-- How many entries each combination of the filter columns has, per session: the `total` of a
-- listing filtered by any of them is a sum over a few rows instead of a count over the entries,
-- and so are a session's stats (with the durations).
CREATE TABLE entry_counts (
  session_id   TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  host         TEXT NOT NULL,
  method       TEXT NOT NULL,              -- as sent (the filter compares without case)
  status       INTEGER NOT NULL,           -- 0 when there was no response
  http_version TEXT NOT NULL,
  is_websocket INTEGER NOT NULL,
  is_error     INTEGER NOT NULL,
  entries      INTEGER NOT NULL,
  timed        INTEGER NOT NULL,           -- entries with a duration
  duration_ms  REAL NOT NULL,              -- the sum of their durations
  PRIMARY KEY (session_id, host, method, status, http_version, is_websocket, is_error)
) WITHOUT ROWID;

CREATE TABLE search_state (indexed_row INTEGER NOT NULL);  -- exactly one row

-- What the search index holds for each entry. The facets, one token each (src/store/search.cpp
-- builds the same tokens for a filter, and docs/decisions.md says why these):
--   mx<hex of the method in upper case>   vx<hex of the HTTP version>   s<status, 0 for none>
--   c<status / 100>xx   w<0|1 WebSocket>   e<0|1 failed>   hx<hex of the host>
-- The delete trigger below repeats the expression for the old row: keep the two the same.
CREATE VIEW entry_search AS SELECT
  row, replace(session_id, '-', '') AS session, search_text AS text,
  'mx' || hex(upper(method)) || ' vx' || hex(http_version) || ' s' || coalesce(status, 0) ||
    ' c' || (coalesce(status, 0) / 100) || 'xx w' || is_websocket || ' e' ||
    (error_code IS NOT NULL) || ' hx' || hex(host) AS facets
  FROM entries;

CREATE TRIGGER entries_unindex AFTER DELETE ON entries BEGIN
  INSERT INTO entries_fts (entries_fts, rowid, session, text, facets)
    SELECT 'delete', old.row, replace(old.session_id, '-', ''), old.search_text,
      'mx' || hex(upper(old.method)) || ' vx' || hex(old.http_version) || ' s' ||
        coalesce(old.status, 0) || ' c' || (coalesce(old.status, 0) / 100) || 'xx w' ||
        old.is_websocket || ' e' || (old.error_code IS NOT NULL) || ' hx' || hex(old.host)
    WHERE old.row <= (SELECT indexed_row FROM search_state);
  UPDATE entry_counts SET entries = entries - 1, timed = timed - (old.duration_ms IS NOT NULL),
                          duration_ms = duration_ms - coalesce(old.duration_ms, 0)
    WHERE session_id = old.session_id AND host = old.host AND method = old.method
      AND status = coalesce(old.status, 0) AND http_version = old.http_version
      AND is_websocket = old.is_websocket AND is_error = (old.error_code IS NOT NULL)
      AND old.row <= (SELECT indexed_row FROM search_state);
  UPDATE search_state SET indexed_row = (SELECT coalesce(max(row), 0) FROM entries)
    WHERE indexed_row > (SELECT coalesce(max(row), 0) FROM entries);
END;

-- The entries with a filter value that is rare in most traffic (a method other than GET and
-- POST, an HTTP version other than 1.1 and 2, WebSocket, failed), in time order with every filter
-- column: the first page for such a value reads these instead of the whole session. Queries
-- repeat this WHERE clause to use it (entry_listing.cpp). Partial, so ordinary entries cost the
-- writer nothing here.
CREATE INDEX entries_unusual ON entries (
  session_id, started_us, row, host, method, status, http_version, is_websocket, error_code)
  WHERE method NOT IN ('GET', 'POST') OR http_version NOT IN ('HTTP/1.1', 'HTTP/2')
     OR is_websocket = 1 OR error_code IS NOT NULL;

-- The entries stored so far.
INSERT INTO entries_fts (rowid, session, text, facets)
  SELECT row, session, text, facets FROM entry_search;
INSERT INTO entry_counts
  SELECT session_id, host, method COLLATE BINARY, coalesce(status, 0), http_version,
         is_websocket, error_code IS NOT NULL, count(*), count(duration_ms),
         coalesce(sum(duration_ms), 0)
  FROM entries GROUP BY 1, 2, 3, 4, 5, 6, 7;
INSERT INTO search_state VALUES ((SELECT coalesce(max(row), 0) FROM entries));
)sql",
    // 4: the HTTP/2 frame log (SPEC §4, §6.5), one row per batch of a connection's frames
    // (src/store/h2_frame_store.cpp; docs/decisions.md, HTTP/2 frame log). A busy connection
    // writes a row per 256 frames, not a row per frame.
    R"sql(
CREATE TABLE h2_frame_batches (
  connection_id TEXT NOT NULL,             -- ULID, the entries' http2/upstreamHttp2 connectionId
  seq           INTEGER NOT NULL,          -- the batch's place in its connection's log, from 0
  session_id    TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
  leg           INTEGER NOT NULL,          -- 0 Hark's connection with the client, 1 upstream
  client_ip     TEXT,                      -- the client of the client-side connection
  client_port   INTEGER,
  started_us    INTEGER NOT NULL,          -- Unix us of its first frame
  frames        INTEGER NOT NULL,
  has_stream0   INTEGER NOT NULL,          -- it holds frames of stream 0 (the connection)
  min_stream    INTEGER NOT NULL,          -- lowest stream id other than 0 it holds, else 0
  max_stream    INTEGER NOT NULL,          -- highest stream id it holds
  streams       BLOB NOT NULL,             -- every stream id it holds, ascending, u32 LE each
  codec         INTEGER NOT NULL,          -- 0 none, 1 zstd
  size          INTEGER NOT NULL,          -- bytes of `data` before compression
  data          BLOB NOT NULL,             -- the frame records (include/hark/h2/frame_record.hpp)
  PRIMARY KEY (connection_id, seq)
);
CREATE INDEX h2_frame_batches_by_session ON h2_frame_batches (session_id);
)sql",
    // 5: the indexer's place in the capture log (SPEC §7; docs/decisions.md, capture log),
    // written in the transaction that commits the records before it.
    R"sql(
CREATE TABLE capture_log_position (
  id      INTEGER PRIMARY KEY CHECK (id = 0),
  segment INTEGER NOT NULL,                -- segment file number (capture-log/<hex>.hcl)
  offset  INTEGER NOT NULL                 -- bytes of that segment already indexed
);
INSERT INTO capture_log_position VALUES (0, 0, 0);
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
  // 16 KiB pages for a new database (an existing one keeps its size): a captured entry takes
  // about 3 KiB, and the writer appends a page and rewrites a few index pages per many entries,
  // so larger pages mean fewer WAL frames and syscalls for the writer and the checkpointer
  // (about 10 % of the writer's time against 4 KiB, bench/store_bench). Only before WAL mode.
  exec("PRAGMA page_size = 16384");
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
