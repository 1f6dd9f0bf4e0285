#include "hark/store/database.hpp"

#include "hark/store/catalog.hpp"
#include "hark/store/writer.hpp"

#include "store_test_support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <set>

namespace {

using hark::store::catalog;
using hark::store::database;
using hark::store::entry_filter;
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
  for (const char* table : {"sessions", "entries", "bodies", "ws_messages", "entries_fts",
                            "entry_counts", "search_state", "h2_frame_batches"}) {
    EXPECT_EQ(query_int(db, std::string("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' "
                                        "AND name = '") +
                                table + "'"),
              1)
        << table;
  }
  // Time order, plus the selective filters in time order (see the schema for why not more), and
  // the entries with an unusual filter value (migration 3).
  for (const char* index :
       {"entries_by_time", "entries_by_host", "entries_by_status", "entries_unusual"}) {
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

// A database left by a release at schema version 1 keeps its entries, which become searchable
// and counted by the migration, and the writer carries on from there.
TEST(database, version_1_database_is_migrated_with_its_entries_indexed) {
  temp_dir dir;
  const auto path = dir.path() / "hark.db";
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &raw), SQLITE_OK);
    std::string sql = hark::store::test::schema_version_1;
    sql +=
        "PRAGMA user_version = 1;"
        "INSERT INTO sessions (id, name, created_at, updated_at, traffic_count) "
        "VALUES ('00000000-0000-4000-8000-000000000001', 'old', 1, 1, 3);"
        "INSERT INTO entries (id, session_id, started_us, host, method, status, http_version, "
        "url, search_text, doc) VALUES "
        "('e1', '00000000-0000-4000-8000-000000000001', 1, 'a.test', 'GET', 200, 'HTTP/1.1', "
        "'http://a.test/', 'http://a.test/\nX-Word: alpha\n', '{\"id\":\"e1\"}'),"
        "('e2', '00000000-0000-4000-8000-000000000001', 2, 'b.test', 'get', 404, 'HTTP/1.1', "
        "'http://b.test/', 'http://b.test/\nX-Word: bravo\n', '{\"id\":\"e2\"}'),"
        "('e3', '00000000-0000-4000-8000-000000000001', 3, 'b.test', 'PATCH', NULL, 'HTTP/2', "
        "'http://b.test/x', 'http://b.test/x\nX-Word: alpha bravo\n', '{\"id\":\"e3\"}');";
    char* error = nullptr;
    ASSERT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << error;
    sqlite3_close(raw);
  }
  database db(path);
  EXPECT_EQ(query_int(db, "PRAGMA user_version"), database::schema_version());
  EXPECT_EQ(query_int(db, "SELECT indexed_row FROM search_state"), 3);
  EXPECT_EQ(query_int(db, "SELECT sum(entries) FROM entry_counts"), 3);
  EXPECT_EQ(query_int(db, "SELECT count(*) FROM entry_counts"), 3);  // GET and get apart
  catalog c(db);
  const auto stats = c.stats("00000000-0000-4000-8000-000000000001");
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->total_requests, 3);
  EXPECT_EQ(stats->completed_requests, 2);  // e3 has no response
  EXPECT_EQ(stats->failed_requests, 0);
  const auto ids = [&](entry_filter f) {
    f.session_id = "00000000-0000-4000-8000-000000000001";
    std::set<std::string> out;
    const auto page = c.list_entries(f);
    EXPECT_TRUE(page);
    for (const auto& doc : page->entries) {
      out.insert(nlohmann::json::parse(doc)["id"].get<std::string>());
    }
    EXPECT_EQ(page->total, static_cast<std::int64_t>(out.size()));
    return out;
  };
  using ids_t = std::set<std::string>;
  EXPECT_EQ(ids({.q = "alpha"}), (ids_t{"e1", "e3"}));
  EXPECT_EQ(ids({.q = "alpha bra"}), ids_t{"e3"});
  EXPECT_EQ(ids({.method = "GET"}), (ids_t{"e1", "e2"}));
  EXPECT_EQ(ids({.method = "patch"}), ids_t{"e3"});
  EXPECT_EQ(ids({.host = "b.test", .q = "bravo"}), (ids_t{"e2", "e3"}));
  EXPECT_EQ(ids({.error = false}), (ids_t{"e1", "e2", "e3"}));
  EXPECT_TRUE(c.delete_entry("00000000-0000-4000-8000-000000000001", "e1"));
  EXPECT_EQ(ids({.q = "alpha"}), ids_t{"e3"});
  EXPECT_NO_THROW(db.exec("INSERT INTO entries_fts (entries_fts) VALUES ('integrity-check')"));
  // New entries go on being indexed.
  {
    hark::store::writer w({.database_path = path});
    auto r = hark::store::test::sample_record("00000000-0000-4000-8000-000000000001");
    r.id = "e4";
    r.request.headers.emplace_back("X-Word", "alpha");
    w.submit(std::move(r));
  }
  EXPECT_EQ(ids({.q = "alpha"}), (ids_t{"e3", "e4"}));
  EXPECT_EQ(query_int(db, "SELECT sum(entries) FROM entry_counts"), 3);
}

}  // namespace
