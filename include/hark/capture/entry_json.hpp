#pragma once
// The seed's SessionEntry JSON for an entry_record (docs/api.md lists every field).

#include "hark/capture/entry_record.hpp"

#include <nlohmann/json.hpp>

namespace hark::capture {

/** The SessionEntry object: seed fields plus Hark's extensions (sessionId, error,
 *  request/response.bodyTruncated, trailers, upstreamHttpVersion, upstreamHttp2).
 *  `process` is read from record.process if it is ready, else null. */
nlohmann::json to_json(const entry_record& record);

/** The same object serialized directly (no DOM), keys in the seed's order: what the store
 *  writes. Invalid UTF-8 in header values is replaced by U+FFFD. */
std::string to_json_string(const entry_record& record);

/** The record a stored SessionEntry document describes (the inverse of to_json_string, without
 *  the bodies, which the store keeps apart). Members that are absent or of another type are
 *  left at their defaults; `process`, when present, is a ready future. Throws
 *  nlohmann::json::exception when `document` is not a JSON object. */
entry_record entry_from_json(std::string_view document);

/** to_json_string appended to `out`, for callers that render many entries into one buffer. */
void append_json_string(std::string& out, const entry_record& record);

}  // namespace hark::capture
