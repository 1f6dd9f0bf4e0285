#pragma once
// Private to src/store: the search index behind `q` and the entry counts behind `total`
// (migration 3 in database.cpp has the tables; docs/decisions.md the reasons).
//
//   writer transaction:  INSERT entries … ; index_pending() ; COMMIT
//                                           │ entries above search_state.indexed_row
//                                           ▼
//                        entries_fts (session token + URL and header text), entry_counts
//   catalog:             q ──fts_phrase()──► MATCH expression ──► row ids

#include "hark/store/catalog.hpp"
#include "hark/store/database.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hark::store {

/** Folds every entry above search_state.indexed_row into entries_fts, and those below
 *  `counted_from` also into entry_counts (the caller counts its own, newer, entries itself), and
 *  moves indexed_row to the newest entry. Call it inside a write transaction, after inserting
 *  entries. Returns the number of entries folded. Throws store_error. */
std::int64_t index_pending(database& db, std::int64_t counted_from);

/** The newest row already in the index (search_state.indexed_row). */
std::int64_t indexed_row(database& db);

/** The words of `text` as the index's tokenizer (unicode61) cuts and folds them. */
std::vector<std::string> search_tokens(database& db, std::string_view text);

/** The FTS5 query for `q` restricted to the text column: its words as one phrase, the last one
 *  a prefix when it has three characters or more (`"api" + "v1" + "use" *` for `api/v1/use`),
 *  every word quoted so that no input is FTS5 syntax. nullopt when `q` has no word at all
 *  (only punctuation and spaces). */
std::optional<std::string> fts_phrase(database& db, std::string_view q);

/** `session : "<id without hyphens>"`: the FTS5 expression for one session's entries. */
std::string session_filter(std::string_view session_id);

/** The value filters of `filter` (host, method, status, HTTP version, WebSocket, error) as an
 *  FTS5 expression over the facets column (the entry_search view in database.cpp), matching
 *  exactly the entries the SQL filters match; `status_low`/`status_high` is the status filter's
 *  range. A domain pattern (`*.x`) is the hosts `domain_hosts` lists (the session's hosts it
 *  matches). nullopt when a filter has no facet form (a domain pattern without `domain_hosts`;
 *  a status of 0) or when there is no value filter. */
std::optional<std::string> facet_filter(const entry_filter& filter, std::int64_t status_low,
                                        std::int64_t status_high,
                                        const std::vector<std::string>* domain_hosts = nullptr);

}  // namespace hark::store
