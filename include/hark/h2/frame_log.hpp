#pragma once
// Decoding of the HTTP/2 frame log (SPEC §4, §6.5): the frame tap keeps each frame as a packed
// record while the proxy relays (h2/frame_record.hpp); the API decodes them here when a user
// asks (GET /api/http2/:connectionId/streams/:streamId, JSON-RPC http2/get_stream).
//
// Hand-written: no HTTP/2 library decodes frames it is not itself receiving (nghttp2 parses
// inside a live session only). Frame layouts are RFC 9113 §6.

#include "hark/h2/frame_record.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace hark::h2 {

/** The Http2Event `type` of a frame type: "data", "headers", "priority", "rst_stream",
 *  "settings", "push_promise", "ping", "goaway", "window_update", "continuation"; "unknown" for
 *  every other type (extension frames included). */
std::string_view event_type_name(std::uint8_t type);

/** The registered name of a frame type ("DATA", "ALTSVC", "ORIGIN", "PRIORITY_UPDATE", …), or
 *  "unknown_0x" and two hex digits. */
std::string frame_type_name(std::uint8_t type);

/** RFC 9113 §7 error code names ("NO_ERROR", "CANCEL", …), or "unknown_0x" and 8 hex digits. */
std::string error_code_name(std::uint32_t code);

/** RFC 9113 §6.5.2 (and RFC 8441, RFC 9218) setting names ("MAX_CONCURRENT_STREAMS", …), or
 *  "unknown_0x" and 4 hex digits. */
std::string setting_name(std::uint16_t identifier);

/** One frame as an Http2Event: `at` (ISO 8601), `side`, `type`, `streamId`, `flags` (`value`,
 *  and `defined`: the flags of that type that are set, each `{value, name}`), `length` (as the
 *  frame header announced it), then the payload decoded by type:
 *
 *  - data: `dataLength` (without padding), `padLength` when PADDED;
 *  - headers: `padLength`, `priority` `{exclusive, dependency, weight}` (weight 1–256, the wire
 *    value plus one) when present, `headerBlockFragment` (hex);
 *  - priority: `exclusive`, `dependency`, `weight`;
 *  - rst_stream: `errorCode` `{value, name}`;
 *  - settings: `settings`, each `{identifier: {value, name}, value}`;
 *  - push_promise: `padLength`, `promisedStreamId`, `headerBlockFragment`;
 *  - ping: `opaqueData` (hex);
 *  - goaway: `lastStreamId`, `errorCode`, `debugData` (hex);
 *  - window_update: `windowSizeIncrement`;
 *  - continuation: `headerBlockFragment`;
 *  - unknown: `frameType` `{value, name}` and `payload` (hex).
 *
 *  `truncated: true` when the log kept less than the frame's payload (over the tap's payload
 *  bound, or the connection ended inside the frame); what was kept is decoded. A payload that
 *  does not have its type's layout gets `error` (why) and `payload` (hex) instead of decoded
 *  fields. Never throws except std::bad_alloc. */
nlohmann::ordered_json describe_frame(const frame_record& record);

/** Every record of `records` (packed records, as the store returns them) as an array of
 *  Http2Event, in order. Bytes that do not make a whole record end the array there. */
nlohmann::ordered_json describe_frames(std::string_view records);

}  // namespace hark::h2
