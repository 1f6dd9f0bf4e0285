#pragma once
// Private to src/store: an entry_record turned into the columns the writer inserts.
//
// A row borrows from its record (strings, uncompressed bodies) and from the batch's text buffer
// (the JSON document and the search text of every row of the batch, back to back), so that
// turning a record into a row allocates nothing per entry. The record and the buffer must outlive
// the row and stay unchanged while it is used.

#include "body_codec.hpp"

#include "hark/capture/entry_record.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hark::store {

struct body_row {
  int kind = 0;            ///< 0 request, 1 response
  std::int64_t size = 0;   ///< captured bytes before compression
  bool truncated = false;  ///< capture cap reached, or dropped under queue pressure
  std::string_view content_type;
  std::string_view content_encoding;
  body_codec codec = body_codec::none;
  std::string_view plain;  ///< the record's bytes, when stored as they are
  std::string compressed;  ///< the stored bytes, when compressed

  std::string_view stored() const { return codec == body_codec::none ? plain : compressed; }
};

/** A part of the batch's text buffer. */
struct text_span {
  std::size_t offset = 0;
  std::size_t size = 0;

  std::string_view in(const std::string& buffer) const { return {buffer.data() + offset, size}; }
};

struct entry_row {
  std::string_view id;
  std::string_view session_id;
  std::int64_t started_us = 0;
  std::string_view host;  ///< lowercase
  std::string_view method;
  std::optional<std::int64_t> status;
  std::string_view http_version;
  std::string_view url;
  bool is_websocket = false;
  std::optional<std::string_view> error_code;
  std::optional<double> duration_ms;
  std::int64_t request_bytes = 0;
  std::int64_t response_bytes = 0;
  text_span search_text;           ///< in the batch's text buffer
  text_span doc;                   ///< in the batch's text buffer
  std::array<body_row, 2> bodies;  ///< the first body_count are stored
  std::size_t body_count = 0;
};

/** Maps `record` to its row: appends the SessionEntry JSON (capture::to_json, so record.process
 *  should be ready or given up on before the call) and the search text to `text`, and picks the
 *  filter columns and the bodies to store (only those non-empty or truncated; compressed above
 *  `compress_threshold`). Lowercases record.host in place. */
entry_row make_entry_row(capture::entry_record& record, std::size_t compress_threshold,
                         std::string& text);

/** The value of the first header named `name` (ASCII case-insensitive), empty if none. */
std::string_view header_value(const capture::header_list& headers, std::string_view name);

}  // namespace hark::store
