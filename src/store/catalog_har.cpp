// catalog: what the HAR export reads (keyset pages of entry documents, bodies, WebSocket
// messages) and what the HAR import writes (entries built like the writer's, in one
// transaction). The export never holds a transaction between pages: the API thread serves
// other requests on this connection between two pieces of a streamed export.
#include "hark/store/catalog.hpp"

#include "entry_row.hpp"
#include "insert_rows.hpp"
#include "session_rows.hpp"
#include "statement.hpp"

#include "hark/store/writer.hpp"

#include <algorithm>

namespace hark::store {
namespace {

/** `SELECT <what read_document reads> FROM entries <tail>` */
std::string select_documents(std::string_view tail) {
  std::string sql = "SELECT row, started_us, is_websocket, doc FROM entries ";
  sql += tail;
  return sql;
}

entry_document read_document(const statement& st) {
  entry_document out;
  out.position = {st.column_int64(1), st.column_int64(0)};
  out.is_websocket = st.column_int64(2) != 0;
  out.doc = st.column_string(3);
  return out;
}

/** Bodies are stored as they will be read back: without a content coding when the importer
 *  hands them decoded. */
void mark_decoded(entry_row& row, bool request_decoded, bool response_decoded) {
  for (std::size_t i = 0; i < row.body_count; ++i) {
    auto& body = row.bodies[i];
    if (body.kind == 0 ? request_decoded : response_decoded) {
      body.content_encoding = {};
    }
  }
}

/** Inserts an imported entry's messages; their payload bytes count as the entry's request
 *  (client) and response (server) bytes, as captured messages' do. Returns the bytes added. */
std::int64_t insert_messages(database& db, std::int64_t entry,
                             const std::vector<websocket_message>& messages) {
  std::int64_t seq = 0;
  std::int64_t client_bytes = 0;
  std::int64_t server_bytes = 0;
  for (const auto& m : messages) {
    auto st = statement::cached(db,
                                "INSERT INTO ws_messages (entry_row, seq, side, started_us, "
                                "ended_us, type, payload, truncated) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    st.bind(1, entry)
        .bind(2, seq++)
        .bind(3, m.from_client ? 0 : 1)
        .bind(4, m.started_us)
        .bind(5, m.ended_us)
        .bind(6, m.type)
        .bind_blob_static(7, m.payload)
        .bind(8, m.truncated)
        .run();
    (m.from_client ? client_bytes : server_bytes) += static_cast<std::int64_t>(m.payload.size());
  }
  if (client_bytes + server_bytes > 0) {
    auto st = statement::cached(db,
                                "UPDATE entries SET request_bytes = request_bytes + ?2, "
                                "response_bytes = response_bytes + ?3 WHERE row = ?1");
    st.bind(1, entry).bind(2, client_bytes).bind(3, server_bytes).run();
  }
  return client_bytes + server_bytes;
}

/** The session import_entries writes into: the target's id, or a new session's. */
std::optional<std::string> target_session(database& db, const import_target& target,
                                          std::int64_t now_ms) {
  if (target.session_id) {
    if (!load_session(db, *target.session_id)) {
      return std::nullopt;
    }
    return *target.session_id;
  }
  return insert_session(db, target.new_session_name, false, now_ms).id;
}

}  // namespace

std::vector<entry_document> catalog::entries_after(const std::string& session_id,
                                                   const std::optional<entry_position>& after,
                                                   int limit) {
  // Served by entries_by_time (session_id, started_us, row), as the REST listing's pages are.
  auto st = after ? statement::cached(
                        db_, select_documents("WHERE session_id = ?1 AND (started_us, row) > "
                                              "(?2, ?3) ORDER BY started_us, row LIMIT ?4"))
                  : statement::cached(db_, select_documents("WHERE session_id = ?1 ORDER BY "
                                                            "started_us, row LIMIT ?4"));
  st.bind(1, session_id).bind(4, std::int64_t{std::max(limit, 1)});
  if (after) {
    st.bind(2, after->started_us).bind(3, after->row);
  }
  std::vector<entry_document> out;
  out.reserve(static_cast<std::size_t>(std::max(limit, 1)));
  while (st.step()) {
    out.push_back(read_document(st));
  }
  return out;
}

std::optional<entry_document> catalog::entry_by_id(const std::string& entry_id) {
  auto st = statement::cached(db_, select_documents("WHERE id = ?1"));
  st.bind(1, entry_id);
  if (!st.step()) {
    return std::nullopt;
  }
  return read_document(st);
}

entry_bodies catalog::bodies_of(std::int64_t row) {
  auto st = statement::cached(db_,
                              "SELECT kind, codec, size, truncated, content_type, "
                              "content_encoding, data FROM bodies WHERE entry_row = ?1");
  st.bind(1, row);
  entry_bodies out;
  while (st.step()) {
    stored_body body;
    body.bytes = decode_body(static_cast<body_codec>(st.column_int64(1)), st.column_string(6),
                             static_cast<std::size_t>(st.column_int64(2)));
    body.truncated = st.column_int64(3) != 0;
    body.content_type = st.column_string(4);
    body.content_encoding = st.column_string(5);
    (st.column_int64(0) == 0 ? out.request : out.response) = std::move(body);
  }
  return out;
}

std::vector<websocket_message> catalog::messages_of(std::int64_t row) {
  auto st = statement::cached(db_,
                              "SELECT side, started_us, ended_us, type, payload, truncated "
                              "FROM ws_messages WHERE entry_row = ?1 ORDER BY seq");
  st.bind(1, row);
  std::vector<websocket_message> out;
  while (st.step()) {
    websocket_message m;
    m.from_client = st.column_int64(0) == 0;
    if (!st.is_null(1)) {
      m.started_us = st.column_int64(1);
    }
    if (!st.is_null(2)) {
      m.ended_us = st.column_int64(2);
    }
    m.type = st.column_string(3);
    m.payload = st.column_string(4);
    m.truncated = st.column_int64(5) != 0;
    out.push_back(std::move(m));
  }
  return out;
}

std::optional<import_result> catalog::import_entries(const import_target& target,
                                                     std::vector<import_entry>&& entries,
                                                     std::int64_t now_ms) {
  const auto compress_threshold = writer_options{}.compress_threshold;
  transaction tx(db_);
  auto session_id = target_session(db_, target, now_ms);
  if (!session_id) {
    return std::nullopt;
  }
  std::int64_t bytes = 0;
  std::size_t imported = 0;
  std::string text;  // one entry's document and search text at a time
  row_inserter inserter(db_, text);
  for (auto& entry : entries) {
    entry.record.session_id = *session_id;
    // The writer's own row builder and inserter: the same document, search text and body rows
    // as captured entries have. The writer folds the entries into the search index and the
    // entry counts after this commits (search.hpp).
    text.clear();
    auto row = make_entry_row(entry.record, compress_threshold, text);
    mark_decoded(row, entry.request_body_decoded, entry.response_body_decoded);
    const auto inserted = inserter.insert(row);
    if (!inserted) {
      continue;  // an id already stored: the caller makes new ones, so this is not expected
    }
    bytes += insert_messages(db_, *inserted, entry.messages);
    ++imported;
    bytes += row.request_bytes + row.response_bytes;
  }
  add_session_totals(db_, *session_id, static_cast<std::int64_t>(imported), bytes);
  auto updated = load_session(db_, *session_id);
  tx.commit();
  return import_result{std::move(*updated), imported};
}

}  // namespace hark::store
