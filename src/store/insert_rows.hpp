#pragma once
// Private to src/store: the writer's inserting half. Rows go into entries and bodies in
// transactions, each of which also folds its entries into the search index and the entry
// counts (search.hpp) and adds them to their sessions' counters.

#include "entry_row.hpp"
#include "statement.hpp"

#include "hark/store/database.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace hark::store {

/** Inserts entry rows and their bodies, with statements prepared once for all of them, inside
 *  the caller's transaction (the writer's, the HAR import's). Leaves the search index, the entry
 *  counts and the sessions' counters to the caller. */
class row_inserter {
 public:
  /** `text` is the text buffer the rows point into (make_entry_row). */
  row_inserter(database& db, const std::string& text);

  /** Inserts one entry and its bodies; returns its row. nullopt when its session was deleted
   *  meanwhile (or the id is already stored): then nothing is written, and the rest of the
   *  batch goes on. Throws store_error. */
  std::optional<std::int64_t> insert(const entry_row& row);

 private:
  /** Whether the session exists, looked up once per session in a row: the transaction holds
   *  the write lock, so no session can be deleted before it ends. */
  bool session_exists(std::string_view id);

  database& db_;
  const std::string& text_;
  statement entry_;
  statement body_;
  statement session_;
  std::string last_session_;
  bool last_session_exists_ = false;
};

/** Adds `count` entries and `bytes` body bytes to the session's trafficCount and totalBytes, in
 *  the transaction that inserted them (the writer's, the HAR import's). */
void add_session_totals(database& db, std::string_view session_id, std::int64_t count,
                        std::int64_t bytes);

struct insert_outcome {
  std::size_t committed = 0;  ///< rows whose transaction committed (written or skipped)
  std::uint64_t written = 0;  ///< entries inserted by those transactions
};

/** Writes `rows` (pointing into `text`, make_entry_row), committing at least every `max_delay`
 *  so that a huge backlog does not keep finished entries off the disk, and whenever a
 *  transaction's pages would outgrow the page cache. Rows whose session no longer exists are
 *  skipped. After each COMMIT, `committed` is given the indices (into `rows`) of the entries
 *  that transaction inserted. `before_last_commit`, if set, runs last in the transaction that
 *  writes the last rows (the indexer stores its log position there). Throws store_error; `out`
 *  then counts what was committed. */
void insert_rows(database& db, const std::vector<entry_row>& rows, const std::string& text,
                 std::chrono::milliseconds max_delay, insert_outcome& out,
                 const std::function<void(const std::vector<std::size_t>&)>& committed,
                 const std::function<void()>& before_last_commit = {});

}  // namespace hark::store
