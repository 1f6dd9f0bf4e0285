#include "hark/store/database.hpp"

#include "store_test_support.hpp"

#include <gtest/gtest.h>

namespace {

using hark::store::database;
using hark::store::store_error;
using hark::store::test::query_int;
using hark::store::test::query_text;
using hark::store::test::temp_dir;

TEST(database, fresh_database_is_migrated_to_the_schema_version) {
  temp_dir dir;
  database db(dir.path() / "hark.db");
  EXPECT_GE(database::schema_version(), 1);
  EXPECT_EQ(query_int(db, "PRAGMA user_version"), database::schema_version());
  EXPECT_EQ(query_text(db, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(query_int(db, "PRAGMA foreign_keys"), 1);
  EXPECT_EQ(query_int(db, "PRAGMA synchronous"), 1);  // NORMAL
  EXPECT_EQ(query_int(db, "PRAGMA busy_timeout"), 5000);
  for (const char* table : {"sessions", "entries", "bodies", "ws_messages"}) {
    EXPECT_EQ(query_int(db, std::string("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
                                        "AND name = '") +
                                table + "'"),
              1)
        << table;
  }
  // Time order, plus the selective filters in time order (see the schema for why not more).
  for (const char* index : {"entries_by_time", "entries_by_host", "entries_by_status"}) {
    EXPECT_EQ(query_int(db, std::string("SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' "
                                        "AND name = '") +
                                index + "'"),
              1)
        << index;
  }
}

TEST(database, reopening_keeps_data_and_applies_nothing) {
  temp_dir dir;
  {
    database db(dir.path() / "hark.db");
    db.exec("INSERT INTO sessions (id, name, created_at, updated_at) VALUES ('s1', 'one', 1, 1)");
  }
  database db(dir.path() / "hark.db");
  EXPECT_EQ(query_int(db, "PRAGMA user_version"), database::schema_version());
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM sessions"), 1);
  // A second connection on the same file, as the writer and the API have, also opens cleanly.
  database second(dir.path() / "hark.db");
  EXPECT_EQ(query_int(second, "SELECT COUNT(*) FROM sessions"), 1);
}

TEST(database, newer_schema_is_refused) {
  temp_dir dir;
  {
    database db(dir.path() / "hark.db");
    db.exec("PRAGMA user_version = " + std::to_string(database::schema_version() + 1));
  }
  EXPECT_THROW(database(dir.path() / "hark.db"), store_error);
}

TEST(database, unopenable_path_throws_store_error) {
  temp_dir dir;
  EXPECT_THROW(database(dir.path() / "missing" / "dir" / "hark.db"), store_error);
}

TEST(database, exec_reports_sqlite_errors) {
  temp_dir dir;
  database db(dir.path() / "hark.db");
  EXPECT_THROW(db.exec("SELECT * FROM no_such_table"), store_error);
}

TEST(database, cached_statements_are_reused) {
  temp_dir dir;
  database db(dir.path() / "hark.db");
  sqlite3_stmt* first = db.prepare_cached("SELECT 1");
  EXPECT_EQ(db.prepare_cached("SELECT 1"), first);
  EXPECT_NE(db.prepare_cached("SELECT 2"), first);
  EXPECT_THROW(db.prepare_cached("SELEKT"), store_error);
}

TEST(database, foreign_keys_cascade_from_sessions_to_bodies) {
  temp_dir dir;
  database db(dir.path() / "hark.db");
  db.exec(
      "INSERT INTO sessions (id, name, created_at, updated_at) VALUES ('s1', 'one', 1, 1);"
      "INSERT INTO entries (row, id, session_id, started_us, host, method, http_version, url, "
      "search_text, doc) VALUES (1, 'e1', 's1', 1, 'h', 'GET', 'HTTP/1.1', 'u', '', '{}');"
      "INSERT INTO bodies (entry_row, kind, codec, size, truncated, data) "
      "VALUES (1, 0, 0, 1, 0, x'41');"
      "INSERT INTO ws_messages (entry_row, seq, side, type, payload) VALUES (1, 0, 0, 'text', '');"
      "DELETE FROM sessions WHERE id = 's1'");
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM entries"), 0);
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM bodies"), 0);
  EXPECT_EQ(query_int(db, "SELECT COUNT(*) FROM ws_messages"), 0);
  // An entry for a session that does not exist is refused.
  EXPECT_THROW(db.exec("INSERT INTO entries (id, session_id, started_us, host, method, "
                       "http_version, url, search_text, doc) "
                       "VALUES ('e2', 'nope', 1, 'h', 'GET', 'HTTP/1.1', 'u', '', '{}')"),
               store_error);
}

}  // namespace
