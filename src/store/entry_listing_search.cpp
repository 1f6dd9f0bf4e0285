// entry_listing: the search half, for listings with `q` (docs/decisions.md, "Search (`q`) and
// listing"): counting q's matches in the index, intersecting them with the entries other filters
// leave, and walking the session in time order for a page of matches.
#include "entry_listing.hpp"

#include "listing_sql.hpp"
#include "search.hpp"
#include "statement.hpp"

#include <algorithm>
#include <limits>
#include <tuple>

namespace hark::store {

using namespace listing;  // NOLINT(google-build-using-namespace): the listing's own helpers

std::optional<std::vector<std::string>> entry_listing::domain_hosts() {
  // The session's hosts as entry_counts has them: every host of an entry in the search index.
  constexpr std::size_t max_hosts = 256;
  const std::string domain = lowercase(filter_.host->substr(2));
  auto st = statement::cached(db_,
                              "SELECT DISTINCT host FROM entry_counts WHERE session_id = ?1 "
                              "AND (host = ?2 OR host LIKE ?3 ESCAPE '\\') LIMIT ?4");
  st.bind(1, filter_.session_id)
      .bind(2, domain)
      .bind(3, "%." + like_literal(domain))
      .bind(4, static_cast<std::int64_t>(max_hosts + 1));
  std::vector<std::string> hosts;
  while (st.step()) {
    hosts.push_back(st.column_string(0));
  }
  if (hosts.size() > max_hosts) {
    return std::nullopt;  // too many subdomains for one expression: counted from the entries
  }
  return hosts;
}

std::int64_t entry_listing::index_count() {
  if (!index_count_) {
    index_count_ = count_in_index();
  }
  return *index_count_;
}

std::int64_t entry_listing::count_in_index() {
  // Intersecting with the session's token costs about as much as the smaller of the two sides;
  // for the session holding most entries it is cheaper to count everywhere and take away the
  // other sessions' matches (every other session: their counters only decide which way, since
  // an import may have left one at zero).
  std::int64_t own = 0;
  std::int64_t all = 0;
  std::vector<std::string> others;
  {
    auto st = statement::cached(db_, "SELECT id, traffic_count FROM sessions");
    while (st.step()) {
      const std::int64_t n = st.column_int64(1);
      all += n;
      if (st.column_string(0) == filter_.session_id) {
        own = n;
      } else {
        others.push_back(st.column_string(0));
      }
    }
  }
  const auto count = [&](const std::string& expression) {
    auto st = statement::cached(db_, "SELECT count(*) FROM entries_fts WHERE entries_fts MATCH ?1");
    st.bind(1, expression);
    return single_int(st);
  };
  if (others.empty()) {
    return count(search_expr_);
  }
  if (own * 2 >= all && others.size() <= max_excluded_sessions) {
    std::string excluded;
    for (const auto& id : others) {
      excluded += excluded.empty() ? "(" : " OR ";
      excluded += session_filter(id);
    }
    excluded += ")";
    return count(search_expr_) - count(search_expr_ + " AND " + excluded);
  }
  return count(session_filter(filter_.session_id) + " AND " + search_expr_);
}

bool entry_listing::q_matches_at_most(std::int64_t n) {
  if (index_count_) {
    return *index_count_ <= n;
  }
  // Stops after n + 1 matches: cheap however common q is, where counting them all is not.
  auto st = statement::cached(db_,
                              "SELECT count(*) FROM (SELECT rowid FROM entries_fts "
                              "WHERE entries_fts MATCH ?1 LIMIT ?2)");
  st.bind(1, session_filter(filter_.session_id) + " AND " + search_expr_).bind(2, n + 1);
  return single_int(st) <= n;
}

bool entry_listing::match_candidates() {
  // q with time bounds or other filters: list the entries those filters leave (a minute of
  // traffic, a host) and ask the search index about their rows only, instead of materializing
  // every match of q (a common word matches a quarter of a million entries). The matches found
  // are the total, and the page too, sorted in memory. Not when q's matches are few and the
  // other filters leave many: those matches read by row id cost less (total()'s other way).
  if (search_ != text_search::index || (!has_time_filters() && !has_value_filters())) {
    return false;
  }
  if (facets_ && !has_time_filters()) {
    return false;  // the index counts q and the value filters alone (total())
  }
  constexpr std::size_t few = std::size_t{1} << 16;
  constexpr std::size_t most = std::size_t{1} << 21;  // 32 MiB of candidates at most
  where_clause w = unindexed_filters();
  std::string from = "entries";
  std::size_t max_candidates = few;
  if (!has_time_filters()) {
    // The smallest index that holds every entry the value filters can match.
    auto ways = accesses();
    const auto best = std::min_element(ways.begin(), ways.end(), [](const auto& a, const auto& b) {
      return a.entries < b.entries;
    });
    const auto entries = static_cast<std::size_t>(best->entries);
    // Reading an index without every filtered column costs a table lookup per entry. Few
    // entries through a covering index are cheap enough not to count q's matches first.
    if (!best->covering || entries > few) {
      const double cost = static_cast<double>(entries) * (best->covering ? index_read : row_read);
      if (entries > most || q_matches_at_most(static_cast<std::int64_t>(cost / row_read))) {
        return false;
      }
    }
    max_candidates = most;
    from += " INDEXED BY " + best->index;
    if (best->index == "entries_unusual") {
      w.add(unusual_condition);
    }
  }
  std::vector<cursor_position> candidates;
  std::int64_t low = std::numeric_limits<std::int64_t>::max();
  std::int64_t high = std::numeric_limits<std::int64_t>::min();
  {
    auto st = statement::cached(db_, "SELECT row, started_us FROM " + from + " " + w.sql);
    w.bind(st);
    while (st.step()) {
      if (candidates.size() == max_candidates) {
        return false;  // time bounds wider than a few minutes of traffic
      }
      candidates.push_back({st.column_int64(1), st.column_int64(0)});
      low = std::min(low, candidates.back().row);
      high = std::max(high, candidates.back().row);
    }
  }
  std::vector<cursor_position> matched;
  // A handful of rows: one lookup each. More: every match within their range of row ids (narrow
  // for time bounds: row ids grow with start times) marked in a bitmap over that range, then the
  // candidates that are marked, in the order they came.
  constexpr std::size_t max_lookups = 256;
  constexpr std::int64_t max_bitmap_rows = std::int64_t{1} << 28;  // 32 MiB
  if (candidates.size() <= max_lookups) {
    auto st = statement::cached(
        db_, "SELECT 1 FROM entries_fts WHERE entries_fts MATCH ?1 AND rowid = ?2");
    for (const auto& c : candidates) {
      st.bind(1, search_expr_).bind(2, c.row);
      if (st.step()) {
        matched.push_back(c);
      }
      st.reset();
    }
  } else if (high - low < max_bitmap_rows) {
    std::vector<bool> marked(static_cast<std::size_t>(high - low + 1));
    auto st = statement::cached(db_,
                                "SELECT rowid FROM entries_fts WHERE entries_fts MATCH ?1 "
                                "AND rowid BETWEEN ?2 AND ?3");
    st.bind(1, search_expr_).bind(2, low).bind(3, high);
    while (st.step()) {
      marked[static_cast<std::size_t>(st.column_int64(0) - low)] = true;
    }
    for (const auto& c : candidates) {
      if (marked[static_cast<std::size_t>(c.row - low)]) {
        matched.push_back(c);
      }
    }
  } else {
    return false;  // rows spread over hundreds of millions of row ids
  }
  const auto in_page_order = [descending = filter_.descending](const cursor_position& a,
                                                               const cursor_position& b) {
    return descending ? std::tie(b.started_us, b.row) < std::tie(a.started_us, a.row)
                      : std::tie(a.started_us, a.row) < std::tie(b.started_us, b.row);
  };
  if (!std::is_sorted(matched.begin(), matched.end(), in_page_order)) {
    std::sort(matched.begin(), matched.end(),
              in_page_order);  // the index read was not in time order
  }
  total_ = static_cast<std::int64_t>(matched.size());
  matches_ = std::move(matched);
  return true;
}

std::vector<cursor_position> entry_listing::page_of_matches(
    const std::optional<cursor_position>& after, std::int64_t wanted) const {
  auto first = matches_->begin();
  if (after) {
    // Strictly after the cursor in the page's order (add_keyset's condition): the matches up to
    // it come first.
    first = std::partition_point(matches_->begin(), matches_->end(), [&](const cursor_position& m) {
      return filter_.descending
                 ? std::tie(m.started_us, m.row) >= std::tie(after->started_us, after->row)
                 : std::tie(m.started_us, m.row) <= std::tie(after->started_us, after->row);
    });
  }
  const auto n = std::min<std::int64_t>(wanted, matches_->end() - first);
  return {first, first + n};
}

std::string entry_listing::search_count_access() {
  // Either every match of q in the session, read by row id, or the entries of an index that
  // the search index's matches (materialized once) are looked up in.
  const double candidates = static_cast<double>(index_count());
  std::string best = "NOT INDEXED";
  double best_cost = candidates * row_read;
  // With time bounds the time index reads only their range; its size is unknown, the session's
  // is an upper bound.
  const auto ways = has_time_filters() ? std::vector<access>{ordered_access()} : accesses();
  for (const auto& a : ways) {
    const double cost = static_cast<double>(a.entries) * (a.covering ? index_read : row_read) +
                        candidates * index_read;
    if (cost < best_cost) {
      best = "INDEXED BY " + a.index;
      best_cost = cost;
    }
  }
  return best;
}

bool entry_listing::search_by_rows(const access& in_order) {
  // Few matches: read them by row id and sort them. Many: walk an index in time order
  // (search_in_time_order). Both priced in entries read.
  const double by_rows = static_cast<double>(index_count()) * row_read;
  const double walk = static_cast<double>(page_rows_estimate(in_order.entries, true)) *
                      (in_order.covering ? index_read : row_read);
  return by_rows <= walk;
}

std::vector<cursor_position> entry_listing::search_in_time_order(
    const access& in_order, const std::optional<cursor_position>& after, std::int64_t wanted) {
  // Reads the session in time order a window at a time, and asks the search index only about
  // the row ids of that window (a range of row ids: cheap for FTS5, where materializing every
  // match of a common word is not). Row ids grow about as start times do, so a window's range
  // is narrow; a long exchange recorded late only widens it.
  const std::int64_t candidates = std::max<std::int64_t>(index_count(), 1);
  std::int64_t window =
      std::clamp<std::int64_t>(2 * wanted * in_order.entries / candidates, wanted, 1 << 16);
  std::string from = "entries INDEXED BY " + in_order.index;
  std::vector<cursor_position> out;
  std::optional<cursor_position> next = after;
  std::vector<std::int64_t> matches;
  for (;;) {
    where_clause w = unindexed_filters();
    if (in_order.index == "entries_unusual") {
      w.add(unusual_condition);
    }
    if (next) {
      add_keyset(w, *next);
    }
    const auto scanned = select_rows(from, std::move(w), window);
    if (scanned.empty()) {
      return out;
    }
    const auto [lo, hi] = std::minmax_element(
        scanned.begin(), scanned.end(), [](const auto& a, const auto& b) { return a.row < b.row; });
    matches.clear();
    auto match = statement::cached(db_,
                                   "SELECT rowid FROM entries_fts WHERE entries_fts MATCH ?1 "
                                   "AND rowid BETWEEN ?2 AND ?3");
    match.bind(1, search_expr_).bind(2, lo->row).bind(3, hi->row);
    while (match.step()) {
      matches.push_back(match.column_int64(0));  // in row id order
    }
    for (const auto& r : scanned) {
      if (std::binary_search(matches.begin(), matches.end(), r.row)) {
        out.push_back(r);
        if (static_cast<std::int64_t>(out.size()) == wanted) {
          return out;
        }
      }
    }
    if (static_cast<std::int64_t>(scanned.size()) < window) {
      return out;  // the end of the session
    }
    next = scanned.back();
    window = std::min<std::int64_t>(window * 4, 1 << 20);
  }
}

}  // namespace hark::store
