#include "entry_listing.hpp"

#include "listing_sql.hpp"
#include "search.hpp"
#include "statement.hpp"

#include <algorithm>
#include <cctype>
#include <limits>
#include <tuple>

namespace hark::store {

using namespace listing;  // NOLINT(google-build-using-namespace): this file's own helpers

void where_clause::add(std::string_view condition) {
  sql += sql.empty() ? "WHERE " : " AND ";
  sql += condition;
}

std::string where_clause::arg(std::variant<std::int64_t, std::string> value) {
  args.push_back(std::move(value));
  std::string placeholder = std::to_string(args.size());
  placeholder.insert(placeholder.begin(), '?');
  return placeholder;
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
