#include "entry_row.hpp"

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

/** Appends the URL and the header lines, one per line: what the `q` filter searches. */
void append_search_text(std::string& out, const capture::entry_record& record) {
  out += record.url;
  out += '\n';
  append_headers(out, record.request.headers);
  if (record.response) {
    append_headers(out, record.response->headers);
  }
}

std::int64_t size_or_zero(const std::optional<std::uint64_t>& size) {
  return static_cast<std::int64_t>(size.value_or(0));
}

void add_body(entry_row& row, int kind, const std::string& bytes, bool truncated,
              const capture::header_list& headers, std::size_t compress_threshold) {
  if (bytes.empty() && !truncated) {
    return;  // nothing captured: GET …/body answers "Body not found"
  }
  body_row& body = row.bodies[row.body_count++];
  body.kind = kind;
  body.size = static_cast<std::int64_t>(bytes.size());
  body.truncated = truncated;
  body.content_type = header_value(headers, "content-type");
  body.content_encoding = header_value(headers, "content-encoding");
  if (auto compressed = compress_body(bytes, compress_threshold)) {
    body.codec = body_codec::zstd;
    body.compressed = std::move(*compressed);
  } else {
    body.plain = bytes;
  }
}

text_span append_span(std::string& text, auto&& append) {
  const std::size_t offset = text.size();
  append(text);
  return {offset, text.size() - offset};
}

}  // namespace

std::string_view header_value(const capture::header_list& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (boost::beast::iequals(key, name)) {
      return value;
    }
  }
  return {};
}

entry_row make_entry_row(capture::entry_record& record, std::size_t compress_threshold,
                         std::string& text) {
  // ASCII only: host names reach us in their punycode form.
  std::transform(record.host.begin(), record.host.end(), record.host.begin(), [](unsigned char c) {
    return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  });
  entry_row row;
  // The documents are written with invalid UTF-8 replaced (U+FFFD): header values are bytes.
  row.doc = append_span(text, [&](std::string& out) { capture::append_json_string(out, record); });
  row.search_text = append_span(text, [&](std::string& out) { append_search_text(out, record); });
  row.id = record.id;
  row.session_id = record.session_id;
  row.started_us = timefmt::unix_us(record.timings.started_at);
  row.host = record.host;
  if (record.request.method) {
    row.method = *record.request.method;
  }
  row.http_version = record.http_version;
  row.url = record.url;
  row.is_websocket = record.is_websocket;
  if (record.error) {
    row.error_code = record.error->code;
  }
  row.duration_ms = record.duration_ms;
  row.request_bytes = size_or_zero(record.request.body_size);
  add_body(row, 0, record.request_body, record.request.body_truncated, record.request.headers,
           compress_threshold);
  if (record.response) {
    row.status = record.response->status_code;
    row.response_bytes = size_or_zero(record.response->body_size);
    add_body(row, 1, record.response_body, record.response->body_truncated,
             record.response->headers, compress_threshold);
  }
  return row;
}

}  // namespace hark::store
