#pragma once
// Private to src/store: RAII wrappers over sqlite3_stmt and transactions.

#include "hark/store/database.hpp"

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace hark::store {

/** Throws store_error with `what` and the connection's last error message. */
[[noreturn]] void throw_sqlite(sqlite3* db, std::string_view what);

/** One prepared statement: either owned (finalized on destruction) or borrowed from the
 *  connection's cache (reset and unbound on destruction, ready for the next user). Columns and
 *  parameters are indexed as SQLite does: parameters from 1, columns from 0. */
class statement {
 public:
  /** Compiles `sql` for this use only. Throws store_error. */
  static statement prepare(database& db, const std::string& sql);
  /** Borrows the connection's cached statement for `sql` (database::prepare_cached). */
  static statement cached(database& db, const std::string& sql);

  /** Bind a parameter; text and blobs are copied by SQLite (SQLITE_TRANSIENT). */
  statement& bind(int index, std::int64_t value);
  statement& bind(int index, double value);
  statement& bind(int index, std::string_view text);
  statement& bind(int index, const char* text) { return bind(index, std::string_view(text)); }
  statement& bind(int index, bool value) { return bind(index, std::int64_t{value ? 1 : 0}); }
  statement& bind(int index, int value) { return bind(index, std::int64_t{value}); }
  statement& bind_null(int index);
  /** Bind without copying: `data` must stay alive until this statement is destroyed (the
   *  writer's large columns, which live in the batch being written). */
  statement& bind_blob_static(int index, std::string_view data);
  statement& bind_text_static(int index, std::string_view text);
  /** sqlite3_bind_pointer: `pointer` of `type` (a static string), for extension interfaces. */
  statement& bind_pointer(int index, void* pointer, const char* type);
  template <class T>
  statement& bind(int index, const std::optional<T>& value) {
    return value ? bind(index, *value) : bind_null(index);
  }

  /** Runs one step: true when a row is ready, false when the statement is done. Throws. */
  bool step();
  /** Steps to completion, ignoring rows. */
  void run();
  /** Makes the statement ready to run again (bindings are kept until rebound). */
  void reset();

  bool is_null(int column) const;
  std::int64_t column_int64(int column) const;
  double column_double(int column) const;
  /** Text or blob bytes of the column (empty for NULL). */
  std::string column_string(int column) const;

 private:
  struct release {
    bool cached = false;
    void operator()(sqlite3_stmt* stmt) const noexcept;
  };
  statement(sqlite3* db, sqlite3_stmt* stmt, bool cached) : db_(db), stmt_(stmt, release{cached}) {}
  void check_bind(int rc);

  sqlite3* db_;
  std::unique_ptr<sqlite3_stmt, release> stmt_;
};

/** A transaction, rolled back on destruction unless commit() was called.
 *  write: BEGIN IMMEDIATE, taking the write lock up front, so that it never has to upgrade a read
 *  lock and fail with SQLITE_BUSY (busy_timeout does not apply to upgrades).
 *  read: BEGIN DEFERRED, for several reads from one snapshot (WAL readers never wait). */
class transaction {
 public:
  enum class mode { write, read };
  explicit transaction(database& db, mode m = mode::write);
  ~transaction();
  transaction(const transaction&) = delete;
  transaction& operator=(const transaction&) = delete;

  /** COMMIT. Throws store_error; the destructor then rolls back. */
  void commit();

 private:
  database& db_;
  bool done_ = false;
};

}  // namespace hark::store
