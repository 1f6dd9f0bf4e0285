#pragma once
// Private to src/store: an entry_record turned into the columns the writer inserts.

#include "body_codec.hpp"

#include "hark/capture/entry_record.hpp"
#include "hark/store/database.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hark::store {

struct body_row {
  int kind = 0;            ///< 0 request, 1 response
  std::int64_t size = 0;   ///< captured bytes before compression
  bool truncated = false;  ///< capture cap reached, or dropped under queue pressure
  std::string content_type;
  std::string content_encoding;
  encoded_body stored;
};

struct entry_row {
  std::string id;
  std::string session_id;
  std::int64_t started_us = 0;
  std::string host;
  std::string method;
  std::optional<std::int64_t> status;
  std::string http_version;
  std::string url;
  bool is_websocket = false;
  std::optional<std::string> error_code;
  std::optional<double> duration_ms;
  std::int64_t request_bytes = 0;
  std::int64_t response_bytes = 0;
  std::string search_text;
  std::string doc;
  std::vector<body_row> bodies;
};

/** Maps `record` to its row: the SessionEntry JSON (capture::to_json, so record.process should be
 *  ready or given up on before the call), the filter columns and the bodies to store (only those
 *  non-empty or truncated; compressed above `compress_threshold`). Consumes the bodies. */
entry_row make_entry_row(capture::entry_record& record, std::size_t compress_threshold);

/** Inserts `row` and its bodies, inside the caller's transaction (the writer's batches, the
 *  HAR import). Returns the entry's rowid, or nullopt when its session does not exist (deleted
 *  meanwhile) or its id is already stored: then nothing is written. The row's large columns are
 *  bound without copying: `row` must outlive the call only. Throws store_error. */
std::optional<std::int64_t> insert_entry_row(database& db, const entry_row& row);

/** Adds `count` entries and `bytes` body bytes to the session's trafficCount and totalBytes,
 *  in the transaction that inserted them. */
void add_session_totals(database& db, const std::string& session_id, std::int64_t count,
                        std::int64_t bytes);

/** The value of the first header named `name` (ASCII case-insensitive), empty if none. */
std::string header_value(const capture::header_list& headers, std::string_view name);

}  // namespace hark::store
