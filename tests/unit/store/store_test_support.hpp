#pragma once
// Helpers for the store tests: a temporary directory with a real SQLite file, sample records.

#include "hark/capture/entry_record.hpp"
#include "hark/core/ids.hpp"
#include "hark/store/database.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace hark::store::test {

/** A fresh directory under $TMPDIR, removed with everything in it on destruction. */
class temp_dir {
 public:
  temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "hark-store-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      throw std::runtime_error("mkdtemp failed");
    }
    path_ = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/** The first column of the first row of `sql` as an integer (for counting rows). */
inline std::int64_t query_int(database& db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sqlite3_errmsg(db.handle());
    return -1;
  }
  std::int64_t value = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) {
    value = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  return value;
}

inline std::string query_text(database& db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sqlite3_errmsg(db.handle());
    return {};
  }
  std::string value;
  if (sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0) != nullptr) {
    value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
  }
  sqlite3_finalize(stmt);
  return value;
}

/** The schema as version 1 shipped it (src/store/database.cpp, migration 1), for migration
 *  tests: a database a previous release left. */
inline constexpr const char* schema_version_1 = R"sql(
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
)sql";

/** A completed GET http://example.com/index.html with a 200 response and no bodies. */
inline capture::entry_record sample_record(const std::string& session_id,
                                           std::int64_t started_us = 1'700'000'000'000'000) {
  capture::entry_record r;
  const auto at = std::chrono::system_clock::time_point(std::chrono::microseconds(started_us));
  r.id = ids::new_ulid(at);
  r.session_id = session_id;
  r.url = "http://example.com/index.html";
  r.host = "example.com";
  r.client_addr = capture::net_address{"127.0.0.1", 50000};
  r.remote_addr = capture::net_address{"93.184.216.34", 80};
  r.http_version = "HTTP/1.1";
  r.request.method = "GET";
  r.request.path = "/index.html";
  r.request.http_version = "HTTP/1.1";
  r.request.headers = {{"Host", "example.com"}, {"User-Agent", "curl/7.88.1"}};
  r.request.body_size = 0;
  capture::response_record response;
  response.http_version = "HTTP/1.1";
  response.status_code = 200;
  response.status_text = "OK";
  response.headers = {{"Content-Type", "text/html"}};
  response.body_size = 0;
  r.response = std::move(response);
  r.timings.started_at = at;
  r.duration_ms = 10.0;
  return r;
}

}  // namespace hark::store::test
