#pragma once
// One SQLite connection to the Hark store, opened in WAL mode with the schema migrated.

#include <sqlite3.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>

namespace hark::store {

/** Thrown for SQLite failures; what() carries sqlite3_errmsg. */
class store_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/** Owns one sqlite3 connection. Not thread-safe: each thread opens its own. */
class database {
 public:
  /** Opens (creating if needed) the database at `path`, sets WAL, foreign_keys=ON,
   *  busy_timeout, and applies pending migrations (PRAGMA user_version). */
  explicit database(const std::filesystem::path& path);

  sqlite3* handle() const noexcept { return db_.get(); }

  /** Runs one or more statements without results. Throws store_error. */
  void exec(const std::string& sql);

  /** The schema version this build migrates to. */
  static int schema_version() noexcept;

  /** The statement for `sql`, compiled on first use and kept for the life of this connection
   *  (the store's fixed queries are prepared once, not per call). The database keeps ownership;
   *  the caller resets the statement after use (store::statement does). Throws store_error. */
  sqlite3_stmt* prepare_cached(const std::string& sql);

 private:
  struct closer {
    void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
  };
  struct finalizer {
    void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
  };
  std::unique_ptr<sqlite3, closer> db_;
  // Declared after db_: cached statements are finalized before the connection closes.
  std::unordered_map<std::string, std::unique_ptr<sqlite3_stmt, finalizer>> cache_;
};

}  // namespace hark::store
