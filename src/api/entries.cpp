// Entries API (SPEC §6.2): listing with filters and cursor paging, single entries, deletion,
// WebSocket messages and per-session statistics. Entry documents are stored as serialized
// SessionEntry JSON and spliced into responses unparsed.

#include "reply.hpp"

#include "hark/core/time.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <utility>

namespace hark::api {
namespace {

/** Lowercase ASCII copy (host names and status classes compare case-insensitively). */
std::string lowercase(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
  return text;
}

/** `404` (a code 100..599) or a class `5xx`; returns the normalized form, nullopt if invalid. */
std::optional<std::string> parse_status_filter(std::string text) {
  text = lowercase(std::move(text));
  if (text.size() != 3 || text[0] < '1' || text[0] > '5') {
    return std::nullopt;
  }
  if (text.substr(1) == "xx") {
    return text;
  }
  const bool digits = std::isdigit(static_cast<unsigned char>(text[1])) != 0 &&
                      std::isdigit(static_cast<unsigned char>(text[2])) != 0;
  return digits ? std::optional<std::string>(std::move(text)) : std::nullopt;
}

/** `true`/`1` or `false`/`0`. */
std::optional<bool> parse_bool(const std::string& text) {
  if (text == "true" || text == "1") {
    return true;
  }
  if (text == "false" || text == "0") {
    return false;
  }
  return std::nullopt;
}

std::optional<int> parse_limit(const std::string& text) {
  int value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || value < 1 || value > 1000) {
    return std::nullopt;
  }
  return value;
}

response bad_request(std::string_view message) {
  return error_reply(http::status::bad_request, message);
}

/** Reads time filter `name` (ISO 8601 or Unix ms) into `out`; the 400 reply if invalid. */
std::optional<response> read_time(const call& c, const char* name,
                                  std::optional<std::int64_t>& out) {
  if (const auto text = c.param(name)) {
    out = timefmt::parse_time_us(*text);
    if (!out) {
      return bad_request(std::string("Invalid ") + name +
                         " filter: use ISO 8601 or Unix milliseconds");
    }
  }
  return std::nullopt;
}

/** Reads boolean filter `name` into `out`; the 400 reply if invalid. */
std::optional<response> read_bool(const call& c, const char* name, std::optional<bool>& out) {
  if (const auto text = c.param(name)) {
    out = parse_bool(*text);
    if (!out) {
      return bad_request(std::string("Invalid ") + name + " filter: use true or false");
    }
  }
  return std::nullopt;
}

/** Reads `limit` and `order`; the 400 reply for an invalid one. */
std::optional<response> read_paging(const call& c, store::entry_filter& filter) {
  if (const auto limit = c.param("limit")) {
    const auto value = parse_limit(*limit);
    if (!value) {
      return bad_request("Invalid limit: use an integer from 1 to 1000");
    }
    filter.limit = *value;
  }
  if (const auto order = c.param("order")) {
    if (*order != "asc" && *order != "desc") {
      return bad_request("Invalid order: use asc or desc");
    }
    filter.descending = *order == "desc";
  }
  filter.cursor = c.param("cursor");
  return std::nullopt;
}

/** Builds the store filter from the query string; the 400 reply when a parameter is invalid.
 *  Empty parameters (`?host=`) count as absent. */
std::optional<response> read_filter(const call& c, store::entry_filter& filter) {
  if (auto host = c.param("host")) {
    filter.host = lowercase(std::move(*host));
  }
  filter.method = c.param("method");
  filter.http_version = c.param("httpVersion");
  filter.q = c.param("q");
  if (const auto status = c.param("status")) {
    filter.status = parse_status_filter(*status);
    if (!filter.status) {
      return bad_request("Invalid status filter: use a code like 404 or a class like 5xx");
    }
  }
  for (auto bad : {read_time(c, "since", filter.since_us), read_time(c, "until", filter.until_us),
                   read_bool(c, "isWebSocket", filter.is_websocket),
                   read_bool(c, "error", filter.error), read_paging(c, filter)}) {
    if (bad) {
      return bad;
    }
  }
  return std::nullopt;
}

response no_active_session() {
  return error_reply(http::status::not_found, "No active session");
}

/** `{"entries":[…],"total":N,"nextCursor":…}` with the stored documents copied verbatim. */
std::string page_json(const store::entry_page& page) {
  std::size_t size = 64;
  for (const auto& doc : page.entries) {
    size += doc.size() + 1;
  }
  std::string out;
  out.reserve(size);
  out += R"({"entries":[)";
  for (std::size_t i = 0; i < page.entries.size(); ++i) {
    if (i != 0) {
      out += ',';
    }
    out += page.entries[i];
  }
  out += R"(],"total":)";
  out += std::to_string(page.total);
  out += R"(,"nextCursor":)";
  out += page.next_cursor ? dump_json(nlohmann::json(*page.next_cursor)) : "null";
  out += '}';
  return out;
}

}  // namespace

response list_entries(call& c) {
  store::entry_filter filter;
  if (auto bad = read_filter(c, filter)) {
    return std::move(*bad);
  }
  auto sid = resolve_session_id(c.ctx, c.segment(1));
  if (!sid) {
    return no_active_session();
  }
  filter.session_id = std::move(*sid);
  std::optional<store::entry_page> page;
  try {
    page = c.ctx.catalog.list_entries(filter);
  } catch (const store::bad_cursor&) {
    return bad_request("Invalid cursor");
  }
  if (!page) {
    return error_reply(http::status::not_found, "Session not found");
  }
  return json_reply(http::status::ok, page_json(*page));
}

response delete_entries(call& c) {
  const auto sid = resolve_session_id(c.ctx, c.segment(1));
  if (!sid) {
    return no_active_session();
  }
  if (!c.ctx.catalog.delete_entries(*sid)) {
    return error_reply(http::status::not_found, "Session not found");
  }
  publish_session_updated(c.ctx, *sid);  // trafficCount and totalBytes are back to 0
  return success_reply();
}

response get_entry(call& c) {
  const auto sid = resolve_session_id(c.ctx, c.segment(1));
  if (!sid) {
    return no_active_session();
  }
  auto doc = c.ctx.catalog.get_entry_json(*sid, c.segment(3));
  if (!doc) {
    return missing_in_session(c.ctx, *sid, "Entry not found");
  }
  return json_reply(http::status::ok, std::move(*doc));
}

response delete_entry(call& c) {
  const auto sid = resolve_session_id(c.ctx, c.segment(1));
  if (!sid) {
    return no_active_session();
  }
  if (!c.ctx.catalog.delete_entry(*sid, c.segment(3))) {
    return missing_in_session(c.ctx, *sid, "Entry not found");
  }
  publish_session_updated(c.ctx, *sid);  // its counters went down
  return success_reply();
}

response get_websocket_messages(call& c) {
  const auto sid = resolve_session_id(c.ctx, c.segment(1));
  if (!sid) {
    return no_active_session();
  }
  const auto doc = c.ctx.catalog.get_entry_json(*sid, c.segment(3));
  if (!doc) {
    return missing_in_session(c.ctx, *sid, "Entry not found");
  }
  const auto entry = nlohmann::json::parse(*doc, nullptr, false);
  const auto it = entry.is_object() ? entry.find("isWebSocket") : entry.end();
  if (it == entry.end() || !it->is_boolean() || !it->get<bool>()) {
    return error_reply(http::status::not_found, "Entry is not a WebSocket");
  }
  const auto messages = c.ctx.catalog.entry_messages(*sid, c.segment(3));
  if (!messages) {
    return missing_in_session(c.ctx, *sid, "Entry not found");  // deleted meanwhile
  }
  return json_reply(http::status::ok, R"({"messages":)" + websocket_messages_json(*messages) + "}");
}

response get_stats(call& c) {
  const auto sid = resolve_session_id(c.ctx, c.segment(1));
  if (!sid) {
    return no_active_session();
  }
  const auto stats = c.ctx.catalog.stats(*sid);
  if (!stats) {
    return error_reply(http::status::not_found, "Session not found");
  }
  return json_reply(http::status::ok, ojson{{"totalRequests", stats->total_requests},
                                            {"completedRequests", stats->completed_requests},
                                            {"failedRequests", stats->failed_requests},
                                            {"totalBytes", stats->total_bytes},
                                            {"avgDuration", stats->avg_duration}});
}

}  // namespace hark::api
