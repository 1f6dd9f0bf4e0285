#include "entry_row.hpp"

#include "statement.hpp"

#include "hark/capture/entry_json.hpp"
#include "hark/core/time.hpp"

#include <boost/beast/core/string.hpp>

#include <algorithm>

namespace hark::store {
namespace {

void append_headers(std::string& out, const capture::header_list& headers) {
  for (const auto& [name, value] : headers) {
    out += name;
    out += ": ";
    out += value;
    out += '\n';
  }
}

/** URL and header lines, one per line: what the `q` filter searches. */
std::string search_text(const capture::entry_record& record) {
  std::string out = record.url;
  out += '\n';
  append_headers(out, record.request.headers);
  if (record.response) {
    append_headers(out, record.response->headers);
  }
  return out;
}

std::int64_t size_or_zero(const std::optional<std::uint64_t>& size) {
  return static_cast<std::int64_t>(size.value_or(0));
}

void add_body(entry_row& row, int kind, std::string&& bytes, bool truncated,
              const capture::header_list& headers, std::size_t compress_threshold) {
  if (bytes.empty() && !truncated) {
    return;  // nothing captured: GET …/body answers "Body not found"
  }
  body_row body;
  body.kind = kind;
  body.size = static_cast<std::int64_t>(bytes.size());
  body.truncated = truncated;
  body.content_type = header_value(headers, "content-type");
  body.content_encoding = header_value(headers, "content-encoding");
  body.stored = encode_body(std::move(bytes), compress_threshold);
  row.bodies.push_back(std::move(body));
}

void insert_bodies(database& db, std::int64_t entry, const std::vector<body_row>& bodies) {
  for (const auto& body : bodies) {
    auto st = statement::cached(db,
                                "INSERT OR REPLACE INTO bodies (entry_row, kind, codec, size, "
                                "truncated, content_type, content_encoding, data) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    st.bind(1, entry)
        .bind(2, body.kind)
        .bind(3, static_cast<int>(body.stored.codec))
        .bind(4, body.size)
        .bind(5, body.truncated)
        .bind(6, body.content_type)
        .bind(7, body.content_encoding)
        .bind_blob_static(8, body.stored.data)
        .run();
  }
}

}  // namespace

std::optional<std::int64_t> insert_entry_row(database& db, const entry_row& row) {
  auto st = statement::cached(
      db,
      "INSERT OR IGNORE INTO entries (id, session_id, started_us, host, method, status, "
      "http_version, url, is_websocket, error_code, duration_ms, request_bytes, response_bytes, "
      "search_text, doc) "
      "SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15 "
      "WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?2)");
  st.bind(1, row.id)
      .bind(2, row.session_id)
      .bind(3, row.started_us)
      .bind(4, row.host)
      .bind(5, row.method)
      .bind(6, row.status)
      .bind(7, row.http_version)
      .bind(8, row.url)
      .bind(9, row.is_websocket)
      .bind(10, row.error_code)
      .bind(11, row.duration_ms)
      .bind(12, row.request_bytes)
      .bind(13, row.response_bytes)
      .bind_text_static(14, row.search_text)
      .bind_text_static(15, row.doc)
      .run();
  if (sqlite3_changes(db.handle()) != 1) {
    return std::nullopt;
  }
  const std::int64_t entry = sqlite3_last_insert_rowid(db.handle());
  insert_bodies(db, entry, row.bodies);
  return entry;
}

void add_session_totals(database& db, const std::string& session_id, std::int64_t count,
                        std::int64_t bytes) {
  auto st = statement::cached(db,
                              "UPDATE sessions SET traffic_count = traffic_count + ?2, "
                              "total_bytes = total_bytes + ?3 WHERE id = ?1");
  st.bind(1, session_id).bind(2, count).bind(3, bytes).run();
}

std::string header_value(const capture::header_list& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (boost::beast::iequals(key, name)) {
      return value;
    }
  }
  return {};
}

entry_row make_entry_row(capture::entry_record& record, std::size_t compress_threshold) {
  entry_row row;
  // The documents are written with invalid UTF-8 replaced (U+FFFD): header values are bytes.
  row.doc = capture::to_json_string(record);
  row.id = record.id;
  row.session_id = record.session_id;
  row.started_us = timefmt::unix_us(record.timings.started_at);
  row.host = record.host;
  // ASCII only: host names reach us in their punycode form.
  std::transform(row.host.begin(), row.host.end(), row.host.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  });
  row.method = record.request.method.value_or("");
  row.http_version = record.http_version;
  row.url = record.url;
  row.is_websocket = record.is_websocket;
  if (record.error) {
    row.error_code = record.error->code;
  }
  row.duration_ms = record.duration_ms;
  row.request_bytes = size_or_zero(record.request.body_size);
  row.search_text = search_text(record);
  add_body(row, 0, std::move(record.request_body), record.request.body_truncated,
           record.request.headers, compress_threshold);
  if (record.response) {
    row.status = record.response->status_code;
    row.response_bytes = size_or_zero(record.response->body_size);
    add_body(row, 1, std::move(record.response_body), record.response->body_truncated,
             record.response->headers, compress_threshold);
  }
  return row;
}

}  // namespace hark::store
