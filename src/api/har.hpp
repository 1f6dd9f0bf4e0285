#pragma once
// Private to src/api: HAR 1.2 (http://www.softwareishard.com/blog/har-12-spec/) from Hark's
// entries and back, without I/O: records in, JSON text out (har_render.cpp, har_cookies.cpp);
// a parsed HAR entry in, a record to store out (har_read.cpp). docs/api.md#har lists every
// field and Hark's `_` extensions.

#include "hark/capture/entry_record.hpp"
#include "hark/core/time.hpp"
#include "hark/store/catalog.hpp"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace hark::api::har {

/** One entry to render: the record read from its stored document, its captured bodies and its
 *  WebSocket messages. */
struct entry_source {
  capture::entry_record record;
  store::entry_bodies bodies;
  std::vector<store::websocket_message> messages;
};

/** Appends `{"log":{"version":"1.2","creator":{"name":"Hark","version":…},"pages":[],
 *  "entries":[` — the document up to its first entry. */
void begin_log(std::string& out);

/** Appends `]}}`: the end of the document begun by begin_log. */
void end_log(std::string& out);

/** Appends the HAR entry object for `source` (no separator before it). The bodies are consumed:
 *  content-decoded as their Content-Encoding says, as text when UTF-8, else base64. */
void write_entry(std::string& out, entry_source&& source);

/** `attachment; filename="<name>.har"` for a session named `name`: quotes, backslashes, path
 *  separators and control characters become `_`, non-ASCII too (the exact name then follows as
 *  RFC 6266's `filename*=UTF-8''…`); an empty name is `session`. */
std::string attachment_disposition(std::string_view name);

// ---- cookies (har_cookies.cpp) -------------------------------------------------------------

struct cookie {
  std::string name;
  std::string value;
  std::optional<std::string> path;
  std::optional<std::string> domain;
  std::optional<std::string> expires;  ///< ISO 8601
  bool http_only = false;
  bool secure = false;
};

/** The cookies of every `Cookie` header, in order (`a=1; b=2`). */
std::vector<cookie> request_cookies(const capture::header_list& headers);

/** One cookie per `Set-Cookie` header with its attributes (RFC 6265 §5.2). `Max-Age` is turned
 *  into `expires` counted from `received` and wins over `Expires` (§5.3). */
std::vector<cookie> response_cookies(const capture::header_list& headers,
                                     timefmt::clock::time_point received);

/** A cookie date, parsed as RFC 6265 §5.1.1 says (which reads every HTTP date form: IMF-fixdate,
 *  RFC 850, asctime, and the `-`-separated form cookies use). nullopt when it does not parse. */
std::optional<timefmt::clock::time_point> parse_http_date(std::string_view text);

// ---- reading (har_read.cpp) ----------------------------------------------------------------

/** The entry to store for HAR entry `entry` (strings are moved out of it), with a new ULID; or
 *  why it cannot be imported (`request.url must be an absolute URL`). */
std::variant<store::import_entry, std::string> read_entry(nlohmann::json& entry);

}  // namespace hark::api::har
