// catalog: the entry half (SPEC §6.2). Sessions are in catalog_sessions.cpp.
#include "hark/store/catalog.hpp"

#include "body_codec.hpp"
#include "cursor.hpp"
#include "statement.hpp"

#include <algorithm>
#include <cctype>
#include <variant>

namespace hark::store {
namespace {

/** A WHERE clause and its parameters, in order (bound as ?1, ?2, ...). */
struct where_clause {
  std::string sql;
  std::vector<std::variant<std::int64_t, std::string>> args;

  void add(std::string_view condition) {
    sql += sql.empty() ? "WHERE " : " AND ";
    sql += condition;
  }
  /** Appends a parameter and returns its `?N` placeholder. */
  std::string arg(std::variant<std::int64_t, std::string> value) {
    args.push_back(std::move(value));
    return "?" + std::to_string(args.size());
  }
  void bind(statement& st) const {
    for (std::size_t i = 0; i < args.size(); ++i) {
      std::visit([&](const auto& v) { st.bind(static_cast<int>(i + 1), v); }, args[i]);
    }
  }
};

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
    const std::int64_t base = (status[0] - '0') * 100;
    return {base, base + 99};
  }
  throw std::invalid_argument("invalid status filter: " + std::string(status));
}

void add_host_filter(where_clause& w, const std::string& host) {
  if (host.rfind("*.", 0) == 0) {
    // `*.x` means x itself and every subdomain of x.
    const std::string domain = lowercase(host.substr(2));
    w.add("(host = " + w.arg(domain) + " OR host LIKE " + w.arg("%." + like_literal(domain)) +
          " ESCAPE '\\')");
  } else {
    w.add("host = " + w.arg(lowercase(host)));
  }
}

/** Every filter of `f` but the cursor (the total counts over all pages). */
where_clause filter_clause(const entry_filter& f) {
  where_clause w;
  w.add("session_id = " + w.arg(f.session_id));
  if (f.host) {
    add_host_filter(w, *f.host);
  }
  if (f.method) {
    w.add("method = " + w.arg(*f.method));  // the column is COLLATE NOCASE
  }
  if (f.status) {
    const auto [low, high] = status_range(*f.status);
    w.add(low == high ? "status = " + w.arg(low)
                      : "status BETWEEN " + w.arg(low) + " AND " + w.arg(high));
  }
  if (f.http_version) {
    w.add("http_version = " + w.arg(*f.http_version));
  }
  if (f.q) {
    // LIKE is case-insensitive for ASCII, as a search box should be.
    w.add("search_text LIKE " + w.arg("%" + like_literal(*f.q) + "%") + " ESCAPE '\\'");
  }
  if (f.since_us) {
    w.add("started_us >= " + w.arg(*f.since_us));
  }
  if (f.until_us) {
    w.add("started_us <= " + w.arg(*f.until_us));
  }
  if (f.is_websocket) {
    w.add("is_websocket = " + w.arg(std::int64_t{*f.is_websocket ? 1 : 0}));
  }
  if (f.error) {
    w.add(*f.error ? "error_code IS NOT NULL" : "error_code IS NULL");
  }
  return w;
}

bool only_session_filter(const entry_filter& f) {
  return !f.host && !f.method && !f.status && !f.http_version && !f.q && !f.since_us &&
         !f.until_us && !f.is_websocket && !f.error;
}

std::int64_t count_entries(database& db, const entry_filter& f, const where_clause& w) {
  if (only_session_filter(f)) {
    // sessions.traffic_count is kept exact in the same transactions that insert and delete
    // entries, and avoids counting a million index rows for the first page.
    auto st = statement::cached(db, "SELECT traffic_count FROM sessions WHERE id = ?1");
    st.bind(1, f.session_id);
    return st.step() ? st.column_int64(0) : 0;
  }
  auto st = statement::cached(db, "SELECT COUNT(*) FROM entries " + w.sql);
  w.bind(st);
  return st.step() ? st.column_int64(0) : 0;
}

bool session_exists(database& db, const std::string& session_id) {
  auto st = statement::cached(db, "SELECT 1 FROM sessions WHERE id = ?1");
  st.bind(1, session_id);
  return st.step();
}

/** The row of `entry_id` (or of the newest entry for `latest`) in the session. */
std::optional<std::int64_t> find_entry_row(database& db, const std::string& session_id,
                                           const std::string& entry_id) {
  auto st =
      entry_id == "latest"
          ? statement::cached(db,
                              "SELECT row FROM entries WHERE session_id = ?1 "
                              "ORDER BY started_us DESC, row DESC LIMIT 1")
          : statement::cached(db, "SELECT row FROM entries WHERE session_id = ?1 AND id = ?2");
  st.bind(1, session_id);
  if (entry_id != "latest") {
    st.bind(2, entry_id);
  }
  if (!st.step()) {
    return std::nullopt;
  }
  return st.column_int64(0);
}

/** Fills page.entries and page.next_cursor: up to filter.limit entries after `after`. */
void read_page(database& db, const entry_filter& filter,
               const std::optional<cursor_position>& after, where_clause w, entry_page& page) {
  const char* direction = filter.descending ? "DESC" : "ASC";
  if (after) {
    // Keyset paging: strictly after the last entry of the previous page, in this order.
    w.add(std::string("(started_us, row) ") + (filter.descending ? "<" : ">") + " (" +
          w.arg(after->started_us) + ", " + w.arg(after->row) + ")");
  }
  const std::int64_t limit = std::clamp(filter.limit, 1, 1000);
  // One row more than the page tells whether another page follows.
  const std::string sql = "SELECT row, started_us, doc FROM entries " + w.sql +
                          " ORDER BY started_us " + direction + ", row " + direction + " LIMIT " +
                          w.arg(limit + 1);
  auto st = statement::cached(db, sql);
  w.bind(st);
  cursor_position last;
  while (st.step()) {
    if (static_cast<std::int64_t>(page.entries.size()) == limit) {
      page.next_cursor = encode_cursor(last);
      break;
    }
    last = {st.column_int64(1), st.column_int64(0)};
    page.entries.push_back(st.column_string(2));
  }
}

}  // namespace

std::optional<entry_page> catalog::list_entries(const entry_filter& filter) {
  std::optional<cursor_position> after;
  if (filter.cursor) {
    after = decode_cursor(*filter.cursor);
    if (!after) {
      throw bad_cursor("Invalid cursor");
    }
  }
  // One snapshot for the total and the page, while the writer keeps inserting.
  transaction snapshot(db_, transaction::mode::read);
  if (!session_exists(db_, filter.session_id)) {
    return std::nullopt;
  }
  entry_page page;
  where_clause w = filter_clause(filter);
  page.total = count_entries(db_, filter, w);
  read_page(db_, filter, after, std::move(w), page);
  snapshot.commit();
  return page;
}

std::optional<std::string> catalog::get_entry_json(const std::string& session_id,
                                                   const std::string& entry_id) {
  const auto row = find_entry_row(db_, session_id, entry_id);
  if (!row) {
    return std::nullopt;
  }
  auto st = statement::cached(db_, "SELECT doc FROM entries WHERE row = ?1");
  st.bind(1, *row);
  if (!st.step()) {
    return std::nullopt;
  }
  return st.column_string(0);
}

bool catalog::entry_exists(const std::string& session_id, const std::string& entry_id) {
  return find_entry_row(db_, session_id, entry_id).has_value();
}

std::optional<stored_body> catalog::get_body(const std::string& session_id,
                                             const std::string& entry_id, body_kind kind) {
  const auto row = find_entry_row(db_, session_id, entry_id);
  if (!row) {
    return std::nullopt;
  }
  auto st = statement::cached(db_,
                              "SELECT codec, size, truncated, content_type, content_encoding, data "
                              "FROM bodies WHERE entry_row = ?1 AND kind = ?2");
  st.bind(1, *row).bind(2, kind == body_kind::request ? 0 : 1);
  if (!st.step()) {
    return std::nullopt;
  }
  stored_body body;
  body.bytes = decode_body(static_cast<body_codec>(st.column_int64(0)), st.column_string(5),
                           static_cast<std::size_t>(st.column_int64(1)));
  body.truncated = st.column_int64(2) != 0;
  body.content_type = st.column_string(3);
  body.content_encoding = st.column_string(4);
  return body;
}

std::optional<std::vector<websocket_message>> catalog::entry_messages(const std::string& session_id,
                                                                      const std::string& entry_id) {
  const auto row = find_entry_row(db_, session_id, entry_id);
  if (!row) {
    return std::nullopt;
  }
  return messages_of(*row);
}

bool catalog::delete_entries(const std::string& session_id) {
  transaction tx(db_);
  if (!session_exists(db_, session_id)) {
    return false;
  }
  auto del = statement::cached(db_, "DELETE FROM entries WHERE session_id = ?1");
  del.bind(1, session_id).run();
  auto update = statement::cached(
      db_, "UPDATE sessions SET traffic_count = 0, total_bytes = 0 WHERE id = ?1");
  update.bind(1, session_id).run();
  tx.commit();
  return true;
}

bool catalog::delete_entry(const std::string& session_id, const std::string& entry_id) {
  transaction tx(db_);
  const auto row = find_entry_row(db_, session_id, entry_id);
  if (!row) {
    return false;
  }
  std::int64_t bytes = 0;
  {
    auto st =
        statement::cached(db_, "SELECT request_bytes + response_bytes FROM entries WHERE row = ?1");
    st.bind(1, *row);
    bytes = st.step() ? st.column_int64(0) : 0;
  }
  auto del = statement::cached(db_, "DELETE FROM entries WHERE row = ?1");
  del.bind(1, *row).run();
  auto update = statement::cached(db_,
                                  "UPDATE sessions SET traffic_count = MAX(traffic_count - 1, 0), "
                                  "total_bytes = MAX(total_bytes - ?2, 0) WHERE id = ?1");
  update.bind(1, session_id).bind(2, bytes).run();
  tx.commit();
  return true;
}

std::optional<session_stats> catalog::stats(const std::string& session_id) {
  if (!session_exists(db_, session_id)) {
    return std::nullopt;
  }
  auto st = statement::cached(db_,
                              "SELECT COUNT(*), "
                              "COALESCE(SUM(status IS NOT NULL AND error_code IS NULL), 0), "
                              "COALESCE(SUM(error_code IS NOT NULL), 0), "
                              "COALESCE(SUM(request_bytes + response_bytes), 0), "
                              "COALESCE(AVG(duration_ms), 0) "
                              "FROM entries WHERE session_id = ?1");
  st.bind(1, session_id);
  session_stats out;
  if (st.step()) {
    out.total_requests = st.column_int64(0);
    out.completed_requests = st.column_int64(1);
    out.failed_requests = st.column_int64(2);
    out.total_bytes = st.column_int64(3);
    out.avg_duration = st.column_double(4);
  }
  return out;
}

}  // namespace hark::store
