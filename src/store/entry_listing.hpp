#pragma once
// Private to src/store: one GET /api/sessions/:sid/entries, planned (SPEC §6.2, §8).
//
// The total and the first page of a filtered listing over a million entries each have to take
// a few milliseconds, so neither is left to a scan of the entries (about 3 KiB each):
//
//   total  filters on host, method, status, HTTP version, WebSocket, error: a sum over
//          entry_counts (migration 3); with `q`, alone or with those filters (as facet
//          tokens): a count inside the search index; `q` with time bounds: the entries in the
//          range intersected with q's matches there; time bounds alone: a count over the
//          entries SQLite picks an index for.
//   page   the index that reaches the first entries soonest, chosen from the exact counts:
//          time order when matches are common, the host, status or unusual-value index when
//          they are rare, and for `q` the search index (row ids in time order, or the matches
//          themselves sorted when there are few).
//
// entry_listing.cpp plans and reads; entry_listing_search.cpp is the half that uses the search
// index; listing_sql.hpp holds what both share.

#include "cursor.hpp"

#include "hark/store/catalog.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace hark::store {

/** A WHERE clause and its parameters, in order (bound as ?1, ?2, ...). */
struct where_clause {
  std::string sql;
  std::vector<std::variant<std::int64_t, std::string>> args;

  void add(std::string_view condition);
  /** Appends a parameter and returns its `?N` placeholder. */
  std::string arg(std::variant<std::int64_t, std::string> value);
  void bind(class statement& st) const;
};

class entry_listing {
 public:
  /** Plans the listing of `filter` (validated but for status: throws std::invalid_argument on
   *  a bad one). Call within one read transaction with the other members. */
  entry_listing(database& db, const entry_filter& filter);

  /** Entries matching the filter, over all pages. */
  std::int64_t total();

  /** Up to filter.limit entries after `after` into page.entries, and page.next_cursor. */
  void read_page(const std::optional<cursor_position>& after, entry_page& page);

 private:
  enum class text_search { none, index, literal };

  /** Which of the filters are set, besides the session. */
  bool has_value_filters() const;
  bool has_time_filters() const;
  /** The WHERE clause over entries (or entry_counts) for every filter but q and the cursor. */
  where_clause filters(bool on_counts) const;
  /** The session's hosts that the domain pattern filter_.host matches, for the facets; nullopt
   *  when there are too many to list. */
  std::optional<std::vector<std::string>> domain_hosts();
  /** filters(false) without the filters search_expr_ already holds (facets_). */
  where_clause unindexed_filters() const;
  std::int64_t counts_sum(const where_clause& w);
  /** Entries of the session the search index matches q with (other filters aside). */
  std::int64_t index_count();
  std::int64_t count_in_index();
  /** Whether the search index matches q in at most `n` entries of the session. */
  bool q_matches_at_most(std::int64_t n);
  std::int64_t pending_count();
  /** A way to the entries: an index, how many entries of the session it holds for the
   *  filters, whether it is in time order for them, whether it holds every filtered column. */
  struct access {
    std::string index;
    std::int64_t entries = 0;
    bool ordered = false;
    bool covering = false;
  };
  /** The indexes that can serve the value filters (entries_by_time always can). */
  std::vector<access> accesses();
  /** The index to read the page with (INDEXED BY), empty to leave it to SQLite. */
  std::string page_index();
  /** For q with other filters: when reading the entries those filters leave is the cheaper way,
   *  asks the search index about their rows and keeps the matches (matches_, total_). False
   *  when it is not. */
  bool match_candidates();
  /** Up to `wanted` of matches_ after the cursor. */
  std::vector<cursor_position> page_of_matches(const std::optional<cursor_position>& after,
                                               std::int64_t wanted) const;
  /** How the total of q with other filters reads the entries (NOT INDEXED or INDEXED BY). */
  std::string search_count_access();
  std::int64_t page_rows_estimate(std::int64_t candidates, bool ordered) const;
  void add_keyset(where_clause& w, const cursor_position& after) const;
  /** (row, started_us) of up to `limit` entries, in the page's order. */
  std::vector<cursor_position> select_rows(const std::string& from, where_clause w,
                                           std::int64_t limit);
  /** The cheapest index in time order for the page (entries_by_time with time bounds). */
  access ordered_access();
  /** entries_by_time for the whole session, with nothing to filter there (facets_). */
  access time_access();
  /** Whether a page for q is best read from the search index's matches by row id rather than
   *  by walking `in_order`. */
  bool search_by_rows(const access& in_order);
  std::vector<cursor_position> search_in_time_order(const access& in_order,
                                                    const std::optional<cursor_position>& after,
                                                    std::int64_t wanted);
  /** Whether the filters only match entries of the partial index entries_unusual. */
  bool implies_unusual() const;

  database& db_;
  const entry_filter& filter_;
  std::pair<std::int64_t, std::int64_t> status_;  ///< the status filter as a range
  text_search search_ = text_search::none;
  /** FTS5 expression for q (text_search::index), with the value filters when facets_. */
  std::string search_expr_;
  /** The value filters are part of search_expr_: the index alone decides which entries match
   *  them and q. */
  bool facets_ = false;
  std::optional<std::int64_t> total_;
  std::optional<std::int64_t> index_count_;
  /** Every match, in the page's order, when match_candidates() found them. */
  std::optional<std::vector<cursor_position>> matches_;
};

}  // namespace hark::store
