#pragma once
// Private to src/store: the writer's inserting half. Rows go into entries and bodies in
// transactions, each of which also folds its entries into the search index and the entry
// counts (search.hpp) and adds them to their sessions' counters.

#include "entry_row.hpp"

#include "hark/store/database.hpp"

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace hark::store {

struct insert_outcome {
  std::size_t committed = 0;  ///< rows whose transaction committed (written or skipped)
  std::uint64_t written = 0;  ///< entries inserted by those transactions
};

/** Writes `rows` (pointing into `text`, make_entry_row), committing at least every `max_delay`
 *  so that a huge backlog does not keep finished entries off the disk, and whenever a
 *  transaction's pages would outgrow the page cache. Rows whose session no longer exists are
 *  skipped. Throws store_error; `out` then counts what was committed. */
void insert_rows(database& db, const std::vector<entry_row>& rows, const std::string& text,
                 std::chrono::milliseconds max_delay, insert_outcome& out);

}  // namespace hark::store
