#include "statement.hpp"

namespace hark::store {

void throw_sqlite(sqlite3* db, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += db != nullptr ? sqlite3_errmsg(db) : "out of memory";
  throw store_error(message);
}

void statement::release::operator()(sqlite3_stmt* stmt) const noexcept {
  if (cached) {
    sqlite3_reset(stmt);
    sqlite3_clear_bindings(stmt);
  } else {
    sqlite3_finalize(stmt);
  }
}

statement statement::prepare(database& db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db.handle(), sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr) !=
      SQLITE_OK) {
    throw_sqlite(db.handle(), "prepare");
  }
  return {db.handle(), stmt, false};
}

statement statement::cached(database& db, const std::string& sql) {
  return {db.handle(), db.prepare_cached(sql), true};
}

void statement::check_bind(int rc) {
  if (rc != SQLITE_OK) {
    throw_sqlite(db_, "bind");
  }
}

statement& statement::bind(int index, std::int64_t value) {
  check_bind(sqlite3_bind_int64(stmt_.get(), index, value));
  return *this;
}

statement& statement::bind(int index, double value) {
  check_bind(sqlite3_bind_double(stmt_.get(), index, value));
  return *this;
}

statement& statement::bind(int index, std::string_view text) {
  check_bind(sqlite3_bind_text64(stmt_.get(), index, text.data(), text.size(), SQLITE_TRANSIENT,
                                 SQLITE_UTF8));
  return *this;
}

statement& statement::bind_null(int index) {
  check_bind(sqlite3_bind_null(stmt_.get(), index));
  return *this;
}

statement& statement::bind_blob_static(int index, std::string_view data) {
  // A zero-length blob needs a non-null pointer, or SQLite binds NULL.
  static const char empty = 0;
  check_bind(sqlite3_bind_blob64(stmt_.get(), index, data.empty() ? &empty : data.data(),
                                 data.size(), SQLITE_STATIC));
  return *this;
}

statement& statement::bind_text_static(int index, std::string_view text) {
  check_bind(sqlite3_bind_text64(stmt_.get(), index, text.data(), text.size(), SQLITE_STATIC,
                                 SQLITE_UTF8));
  return *this;
}

statement& statement::bind_pointer(int index, void* pointer, const char* type) {
  check_bind(sqlite3_bind_pointer(stmt_.get(), index, pointer, type, nullptr));
  return *this;
}

bool statement::step() {
  const int rc = sqlite3_step(stmt_.get());
  if (rc == SQLITE_ROW) {
    return true;
  }
  if (rc == SQLITE_DONE) {
    return false;
  }
  throw_sqlite(db_, "step");
}

void statement::run() {
  while (step()) {
  }
}

void statement::reset() {
  sqlite3_reset(stmt_.get());
}

bool statement::is_null(int column) const {
  return sqlite3_column_type(stmt_.get(), column) == SQLITE_NULL;
}

std::int64_t statement::column_int64(int column) const {
  return sqlite3_column_int64(stmt_.get(), column);
}

double statement::column_double(int column) const {
  return sqlite3_column_double(stmt_.get(), column);
}

std::string statement::column_string(int column) const {
  // sqlite3_column_blob before sqlite3_column_bytes, as the SQLite docs require.
  const auto* data = static_cast<const char*>(sqlite3_column_blob(stmt_.get(), column));
  const auto size = static_cast<std::size_t>(sqlite3_column_bytes(stmt_.get(), column));
  return data != nullptr ? std::string(data, size) : std::string();
}

transaction::transaction(database& db, mode m) : db_(db) {
  db_.exec(m == mode::write ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED");
}

transaction::~transaction() {
  if (!done_) {
    // Never throws: a failed ROLLBACK (e.g. none active after an I/O error) is harmless here.
    sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
}

void transaction::commit() {
  db_.exec("COMMIT");
  done_ = true;
}

}  // namespace hark::store
