#include "entry_listing.hpp"

#include "search.hpp"
#include "statement.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <tuple>

namespace hark::store {
namespace {

// The condition of the partial index entries_unusual (migration 3), word for word: a query uses
// that index only when its WHERE clause contains this same expression.
constexpr std::string_view unusual_condition =
    "(method NOT IN ('GET', 'POST') OR http_version NOT IN ('HTTP/1.1', 'HTTP/2') "
    "OR is_websocket = 1 OR error_code IS NOT NULL)";
constexpr std::string_view unusual_counts_condition =
    "(method COLLATE NOCASE NOT IN ('GET', 'POST') OR http_version NOT IN ('HTTP/1.1', "
    "'HTTP/2') OR is_websocket = 1 OR is_error = 1)";

// Relative costs of reading one entry for a page: through an index that holds every filtered
// column, and by its row (a table lookup: a page read and a record decode).
constexpr double index_read = 0.05;
constexpr double row_read = 1.0;

// Sessions whose entries a query leaves out of a `q` count one by one (see index_count).
constexpr std::size_t max_excluded_sessions = 32;

/** `text` as a LIKE pattern that matches it literally (used with ESCAPE '\'). */
std::string like_literal(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '%' || c == '_' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/** `404` → [404, 404]; `5xx` → [500, 599]. Throws std::invalid_argument otherwise. */
std::pair<std::int64_t, std::int64_t> status_range(std::string_view status) {
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (status.size() == 3 && digit(status[0]) && digit(status[1]) && digit(status[2])) {
    const std::int64_t code = std::stoll(std::string(status));
    return {code, code};
  }
  if (status.size() == 3 && digit(status[0]) && lowercase(status.substr(1)) == "xx") {
    const std::int64_t base = std::int64_t{status[0] - '0'} * 100;
    return {base, base + 99};
  }
  throw std::invalid_argument("invalid status filter: " + std::string(status));
}

bool is_domain_pattern(const std::string& host) {
  return host.rfind("*.", 0) == 0;
}

std::int64_t single_int(statement& st) {
  return st.step() ? st.column_int64(0) : 0;
}

}  // namespace

void where_clause::add(std::string_view condition) {
  sql += sql.empty() ? "WHERE " : " AND ";
  sql += condition;
}

std::string where_clause::arg(std::variant<std::int64_t, std::string> value) {
  args.push_back(std::move(value));
  return "?" + std::to_string(args.size());
}

void where_clause::bind(statement& st) const {
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::visit([&](const auto& v) { st.bind(static_cast<int>(i + 1), v); }, args[i]);
  }
}

entry_listing::entry_listing(database& db, const entry_filter& filter) : db_(db), filter_(filter) {
  if (filter.status) {
    status_ = status_range(*filter.status);
  }
  if (filter.q) {
    if (auto phrase = fts_phrase(db, *filter.q)) {
      search_ = text_search::index;
      search_expr_ = std::move(*phrase);
      // The value filters inside the index too, when they have an exact form there: then `q`
      // with them is counted by the index alone.
      std::optional<std::vector<std::string>> hosts;
      if (filter.host && is_domain_pattern(*filter.host)) {
        hosts = domain_hosts();
      }
      if (auto facets =
              facet_filter(filter, status_.first, status_.second, hosts ? &*hosts : nullptr)) {
        search_expr_ += " AND " + *facets;
        facets_ = true;
      }
    } else {
      // No word at all (`%`, `->`): nothing for the index to look up, matched literally.
      search_ = text_search::literal;
    }
  }
}

bool entry_listing::has_value_filters() const {
  const auto& f = filter_;
  return f.host || f.method || f.status || f.http_version || f.is_websocket || f.error;
}

bool entry_listing::has_time_filters() const {
  return filter_.since_us || filter_.until_us;
}

where_clause entry_listing::filters(bool on_counts) const {
  const auto& f = filter_;
  where_clause w;
  w.add("session_id = " + w.arg(f.session_id));
  if (f.host) {
    if (is_domain_pattern(*f.host)) {
      // `*.x` means x itself and every subdomain of x.
      const std::string domain = lowercase(f.host->substr(2));
      w.add("(host = " + w.arg(domain) + " OR host LIKE " + w.arg("%." + like_literal(domain)) +
            " ESCAPE '\\')");
    } else {
      w.add("host = " + w.arg(lowercase(*f.host)));
    }
  }
  if (f.method) {
    // entries.method is COLLATE NOCASE; entry_counts keeps the method as sent.
    w.add("method = " + w.arg(*f.method) + (on_counts ? " COLLATE NOCASE" : ""));
  }
  if (f.status) {
    const auto [low, high] = status_;
    w.add(low == high ? "status = " + w.arg(low)
                      : "status BETWEEN " + w.arg(low) + " AND " + w.arg(high));
  }
  if (f.http_version) {
    w.add("http_version = " + w.arg(*f.http_version));
  }
  if (f.is_websocket) {
    w.add("is_websocket = " + w.arg(std::int64_t{*f.is_websocket ? 1 : 0}));
  }
  if (f.error) {
    if (on_counts) {
      w.add(*f.error ? "is_error = 1" : "is_error = 0");
    } else {
      w.add(*f.error ? "error_code IS NOT NULL" : "error_code IS NULL");
    }
  }
  if (!on_counts) {
    if (f.since_us) {
      w.add("started_us >= " + w.arg(*f.since_us));
    }
    if (f.until_us) {
      w.add("started_us <= " + w.arg(*f.until_us));
    }
    if (search_ == text_search::literal) {
      // LIKE is case-insensitive for ASCII, as a search box should be.
      w.add("search_text LIKE " + w.arg("%" + like_literal(*f.q) + "%") + " ESCAPE '\\'");
    }
  }
  return w;
}

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

where_clause entry_listing::unindexed_filters() const {
  if (!facets_) {
    return filters(false);
  }
  // The value filters are in the search expression.
  where_clause w;
  w.add("session_id = " + w.arg(filter_.session_id));
  if (filter_.since_us) {
    w.add("started_us >= " + w.arg(*filter_.since_us));
  }
  if (filter_.until_us) {
    w.add("started_us <= " + w.arg(*filter_.until_us));
  }
  return w;
}

std::int64_t entry_listing::counts_sum(const where_clause& w) {
  auto st = statement::cached(db_, "SELECT coalesce(sum(entries), 0) FROM entry_counts " + w.sql);
  w.bind(st);
  return single_int(st);
}

std::int64_t entry_listing::pending_count() {
  // Entries another connection inserted since the writer last indexed: normally none, and a
  // range of row ids either way (NOT INDEXED: read by row id, not through a session index).
  where_clause w = filters(false);
  w.add("row > " + w.arg(indexed_row(db_)));
  auto st = statement::cached(db_, "SELECT count(*) FROM entries NOT INDEXED " + w.sql);
  w.bind(st);
  return single_int(st);
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

std::int64_t entry_listing::total() {
  if (total_) {
    return *total_;
  }
  if (!has_value_filters() && !has_time_filters() && search_ == text_search::none) {
    // sessions.traffic_count is kept exact in the same transactions that insert and delete
    // entries, and avoids counting a million index rows for the first page.
    auto st = statement::cached(db_, "SELECT traffic_count FROM sessions WHERE id = ?1");
    st.bind(1, filter_.session_id);
    total_ = single_int(st);
  } else if (!has_time_filters() && search_ == text_search::none) {
    total_ = counts_sum(filters(true)) + pending_count();
  } else if (!has_value_filters() && !has_time_filters() && search_ == text_search::index) {
    total_ = index_count();
  } else if (facets_ && !has_time_filters()) {
    total_ = index_count();  // q and the value filters, all inside the index
  } else if (match_candidates()) {
    // total_ is set
  } else {
    where_clause w = filters(false);
    std::string from = "entries";
    if (search_ == text_search::index) {
      from += " " + search_count_access();
      // Matches by row id: only the session's. Through an index of the session: the index
      // already keeps to the session, and all of q's matches are cheaper to list.
      const bool by_rows = from.ends_with("NOT INDEXED");
      w.add("row IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH " +
            w.arg(by_rows ? session_filter(filter_.session_id) + " AND " + search_expr_
                          : search_expr_) +
            ")");
      if (from.ends_with("entries_unusual")) {
        w.add(unusual_condition);
      }
    }
    auto st = statement::cached(db_, "SELECT count(*) FROM " + from + " " + w.sql);
    w.bind(st);
    total_ = single_int(st);
  }
  return *total_;
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

std::int64_t entry_listing::page_rows_estimate(std::int64_t candidates, bool ordered) const {
  // Entries read before the page is full: in an order that is already the page's, about
  // (limit + 1) × candidates / matches of them; otherwise every candidate, then sorted.
  const std::int64_t matches = std::max<std::int64_t>(total_.value_or(1), 1);
  const std::int64_t wanted = std::clamp(filter_.limit, 1, 1000) + 1;
  if (!ordered) {
    return candidates;
  }
  return std::min(candidates, (wanted * candidates + matches - 1) / matches);
}

std::vector<entry_listing::access> entry_listing::accesses() {
  // Numbers from entry_counts: how many entries each index holds for these filters (exact but
  // for entries not yet indexed, which are few or none).
  const auto& f = filter_;
  where_clause session;
  session.add("session_id = " + session.arg(f.session_id));
  const int filtered = (f.host ? 1 : 0) + (f.method ? 1 : 0) + (f.status ? 1 : 0) +
                       (f.http_version ? 1 : 0) + (f.is_websocket ? 1 : 0) + (f.error ? 1 : 0);
  std::vector<access> out;
  out.push_back({"entries_by_time", counts_sum(session), true, filtered == 0});
  if (f.host && !is_domain_pattern(*f.host)) {
    where_clause w = session;
    w.add("host = " + w.arg(lowercase(*f.host)));
    out.push_back({"entries_by_host", counts_sum(w), true, filtered == 1});
  }
  if (f.status) {
    where_clause w = session;
    const auto [low, high] = status_;
    w.add("status BETWEEN " + w.arg(low) + " AND " + w.arg(high));
    out.push_back({"entries_by_status", counts_sum(w), low == high, filtered == 1});
  }
  if (implies_unusual()) {
    where_clause w = session;
    w.add(unusual_counts_condition);
    out.push_back({"entries_unusual", counts_sum(w), true, true});
  }
  return out;
}

std::string entry_listing::page_index() {
  if (has_time_filters() || !has_value_filters() || search_ != text_search::none) {
    return {};
  }
  // Entries read before the page is full × the cost of a read, for each way in.
  std::string best;
  double best_cost = std::numeric_limits<double>::max();
  for (const auto& a : accesses()) {
    const double cost = static_cast<double>(page_rows_estimate(a.entries, a.ordered)) *
                        (a.covering ? index_read : row_read);
    if (cost < best_cost) {
      best = a.index;
      best_cost = cost;
    }
  }
  return best;
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

bool entry_listing::implies_unusual() const {
  const auto& f = filter_;
  const auto upper = [](std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    return text;
  };
  return (f.method && upper(*f.method) != "GET" && upper(*f.method) != "POST") ||
         (f.http_version && *f.http_version != "HTTP/1.1" && *f.http_version != "HTTP/2") ||
         (f.is_websocket && *f.is_websocket) || (f.error && *f.error);
}

void entry_listing::add_keyset(where_clause& w, const cursor_position& after) const {
  // Keyset paging: strictly after the last entry of the previous page, in this order.
  w.add(std::string("(started_us, row) ") + (filter_.descending ? "<" : ">") + " (" +
        w.arg(after.started_us) + ", " + w.arg(after.row) + ")");
}

std::vector<cursor_position> entry_listing::select_rows(const std::string& from, where_clause w,
                                                        std::int64_t limit) {
  const char* direction = filter_.descending ? "DESC" : "ASC";
  const std::string sql = "SELECT row, started_us FROM " + from + " " + w.sql +
                          " ORDER BY started_us " + direction + ", row " + direction + " LIMIT " +
                          w.arg(limit);
  auto st = statement::cached(db_, sql);
  w.bind(st);
  std::vector<cursor_position> rows;
  while (st.step()) {
    rows.push_back({st.column_int64(1), st.column_int64(0)});
  }
  return rows;
}

entry_listing::access entry_listing::time_access() {
  where_clause session;
  session.add("session_id = " + session.arg(filter_.session_id));
  return {"entries_by_time", counts_sum(session), true, true};
}

entry_listing::access entry_listing::ordered_access() {
  access best{"entries_by_time", 0, true, !has_value_filters()};
  if (has_time_filters()) {
    where_clause session;
    session.add("session_id = " + session.arg(filter_.session_id));
    best.entries = counts_sum(session);
    return best;
  }
  double best_cost = std::numeric_limits<double>::max();
  for (const auto& a : accesses()) {
    const double cost = static_cast<double>(page_rows_estimate(a.entries, true)) *
                        (a.covering ? index_read : row_read);
    if (a.ordered && cost < best_cost) {
      best = a;
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

void entry_listing::read_page(const std::optional<cursor_position>& after, entry_page& page) {
  if (total() == 0) {
    return;
  }
  const std::int64_t limit = std::clamp(filter_.limit, 1, 1000);
  // One row more than the page tells whether another page follows. The documents are read
  // after the sort, for the page's entries only.
  std::vector<cursor_position> rows;
  std::optional<access> in_order;
  if (search_ == text_search::index && !matches_) {
    in_order = facets_ ? time_access() : ordered_access();
  }
  if (matches_) {
    rows = page_of_matches(after, limit + 1);
  } else if (in_order && !search_by_rows(*in_order)) {
    rows = search_in_time_order(*in_order, after, limit + 1);
  } else {
    where_clause w = filters(false);
    std::string from = "entries";
    if (search_ == text_search::index) {
      from = "entries NOT INDEXED";  // by row id, from the search index's matches
      w.add("row IN (SELECT rowid FROM entries_fts WHERE entries_fts MATCH " +
            w.arg(session_filter(filter_.session_id) + " AND " + search_expr_) + ")");
    } else if (const auto index = page_index(); !index.empty()) {
      from = "entries INDEXED BY " + index;
      if (index == "entries_unusual") {
        w.add(unusual_condition);
      }
    }
    if (after) {
      add_keyset(w, *after);
    }
    rows = select_rows(from, std::move(w), limit + 1);
  }
  if (static_cast<std::int64_t>(rows.size()) > limit) {
    rows.pop_back();
    page.next_cursor = encode_cursor(rows.back());
  }
  auto doc = statement::cached(db_, "SELECT doc FROM entries WHERE row = ?1");
  for (const auto& r : rows) {
    doc.bind(1, r.row);
    if (doc.step()) {
      page.entries.push_back(doc.column_string(0));
    }
    doc.reset();
  }
}

}  // namespace hark::store
