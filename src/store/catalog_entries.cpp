// catalog: the entry half (SPEC §6.2). Sessions are in catalog_sessions.cpp.
#include "hark/store/catalog.hpp"

#include "body_codec.hpp"
#include "cursor.hpp"
#include "entry_listing.hpp"
#include "search.hpp"
#include "statement.hpp"

#include <algorithm>

namespace hark::store {
namespace {

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
  entry_listing listing(db_, filter);
  page.total = listing.total();
  listing.read_page(after, page);
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

void catalog::delete_entries_in_chunks(const std::string& session_id) {
  // A session can hold a million entries, and deleting one (its bodies, its index entries, its
  // search words) takes tens of microseconds: in one transaction the writer would wait for the
  // write lock for half a minute while captured entries pile up and are dropped. Instead a range
  // of row ids at a time, each in a transaction of its own (~0.1 s), taking the session's
  // counters down with it. Entries recorded meanwhile (newer rows) stay.
  std::int64_t first = 0;
  std::int64_t last = -1;
  {
    auto st =
        statement::cached(db_, "SELECT min(row), max(row) FROM entries WHERE session_id = ?1");
    st.bind(1, session_id);
    if (st.step() && !st.is_null(0)) {
      first = st.column_int64(0);
      last = st.column_int64(1);
    }
  }
  constexpr std::int64_t chunk_rows = 4096;
  for (std::int64_t low = first; low <= last; low += chunk_rows) {
    const std::int64_t high = std::min(low + chunk_rows - 1, last);
    transaction tx(db_);
    std::int64_t count = 0;
    std::int64_t bytes = 0;
    {
      // NOT INDEXED: by row id, not through the session's time index.
      auto st =
          statement::cached(db_,
                            "SELECT count(*), coalesce(sum(request_bytes + response_bytes), 0) "
                            "FROM entries NOT INDEXED WHERE session_id = ?1 "
                            "AND row BETWEEN ?2 AND ?3");
      st.bind(1, session_id).bind(2, low).bind(3, high);
      if (st.step()) {
        count = st.column_int64(0);
        bytes = st.column_int64(1);
      }
    }
    if (count == 0) {
      continue;  // another session's rows
    }
    auto del = statement::cached(db_,
                                 "DELETE FROM entries NOT INDEXED WHERE session_id = ?1 "
                                 "AND row BETWEEN ?2 AND ?3");
    del.bind(1, session_id).bind(2, low).bind(3, high).run();
    auto update =
        statement::cached(db_,
                          "UPDATE sessions SET traffic_count = MAX(traffic_count - ?2, 0), "
                          "total_bytes = MAX(total_bytes - ?3, 0) WHERE id = ?1");
    update.bind(1, session_id).bind(2, count).bind(3, bytes).run();
    tx.commit();
  }
  // The delete trigger counts down and leaves rows at zero, which cost every later sum a row.
  auto prune =
      statement::cached(db_, "DELETE FROM entry_counts WHERE session_id = ?1 AND entries <= 0");
  prune.bind(1, session_id).run();
}

bool catalog::delete_entries(const std::string& session_id) {
  if (!session_exists(db_, session_id)) {
    return false;
  }
  delete_entries_in_chunks(session_id);
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
  // From the session's counters and the entry counts (kept with the search index, search.hpp):
  // a few rows whatever the session's size, where a pass over a million entries takes seconds.
  // Entries not folded into the counts yet (inserted by another program within the last second)
  // are read from entries, by row id.
  session_stats out;
  {
    auto st = statement::cached(db_, "SELECT total_bytes FROM sessions WHERE id = ?1");
    st.bind(1, session_id);
    if (!st.step()) {
      return std::nullopt;
    }
    out.total_bytes = st.column_int64(0);
  }
  std::int64_t timed = 0;
  double duration_ms = 0;
  const auto add = [&](statement& st) {
    if (st.step()) {
      out.total_requests += st.column_int64(0);
      out.completed_requests += st.column_int64(1);
      out.failed_requests += st.column_int64(2);
      timed += st.column_int64(3);
      duration_ms += st.column_double(4);
    }
  };
  {
    auto st = statement::cached(
        db_,
        "SELECT coalesce(sum(entries), 0), "
        "coalesce(sum(CASE WHEN status <> 0 AND is_error = 0 THEN entries END), 0), "
        "coalesce(sum(CASE WHEN is_error = 1 THEN entries END), 0), "
        "coalesce(sum(timed), 0), coalesce(sum(duration_ms), 0) "
        "FROM entry_counts WHERE session_id = ?1");
    st.bind(1, session_id);
    add(st);
  }
  {
    auto st = statement::cached(db_,
                                "SELECT count(*), "
                                "coalesce(sum(status IS NOT NULL AND error_code IS NULL), 0), "
                                "coalesce(sum(error_code IS NOT NULL), 0), "
                                "count(duration_ms), coalesce(sum(duration_ms), 0) "
                                "FROM entries NOT INDEXED WHERE session_id = ?1 AND row > ?2");
    st.bind(1, session_id).bind(2, indexed_row(db_));
    add(st);
  }
  out.avg_duration = timed > 0 ? duration_ms / static_cast<double>(timed) : 0;
  return out;
}

}  // namespace hark::store
