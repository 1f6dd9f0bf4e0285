// POST /api/har/import[?sessionId=…][&name=…] (SPEC §6.4): a HAR document (body, ≤ 50 MiB)
// into an existing session or a new one, in one transaction.
//
//   body ──parse──► log.entries ──har::read_entry each──► entries | errors[{index, error}]
//        └ not JSON / no log / no entries array: 400     none readable (of ≥ 1): 400
//   ──► catalog::import_entries (new session, rows, bodies, messages, totals) ──► 200 summary

#include "har.hpp"
#include "reply.hpp"

#include <string>
#include <utility>

namespace hark::api {
namespace {

using json = nlohmann::json;

/** Errors listed in a response at most; `imported` and `total` still count them all. */
constexpr std::size_t max_listed_errors = 100;

response bad_request(std::string_view message) {
  return error_reply(http::status::bad_request, message);
}

/** `log.entries` of a HAR document, or why the document is not one. */
std::variant<json*, std::string> entries_of(json& doc) {
  if (!doc.is_object()) {
    return std::string("Invalid HAR: the document must be a JSON object");
  }
  const auto log = doc.find("log");
  if (log == doc.end() || !log->is_object()) {
    return std::string("Invalid HAR: missing 'log' object");
  }
  const auto entries = log->find("entries");
  if (entries == log->end() || !entries->is_array()) {
    return std::string("Invalid HAR: 'log.entries' must be an array");
  }
  return &*entries;
}

std::string string_member(const json& object, const char* key) {
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>() : std::string();
}

/** `HAR import (Firefox 124.0) 3/2/2026, 9:41:07 AM`: the creator, when named, and the time. */
std::string default_name(const json& doc) {
  std::string name = "HAR import";
  const auto& log = doc.at("log");
  if (const auto creator = log.find("creator"); creator != log.end() && creator->is_object()) {
    const auto tool = string_member(*creator, "name");
    const auto version = string_member(*creator, "version");
    if (!tool.empty()) {
      name += " (" + tool + (version.empty() ? "" : " " + version) + ")";
    }
  }
  constexpr std::string_view prefix = "Session ";
  auto when = timefmt::default_session_name(timefmt::clock::now());
  if (when.starts_with(prefix)) {
    when.erase(0, prefix.size());
  }
  return name + " " + when;
}

struct read_outcome {
  std::vector<store::import_entry> entries;
  ojson errors = ojson::array();
  std::size_t failed = 0;
};

/** Reads every entry, keeping the good ones and the first errors; each DOM entry is released
 *  once read, so that the document and the records are not both held whole. */
read_outcome read_entries(json& entries) {
  read_outcome out;
  out.entries.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    auto result = har::read_entry(entries[i]);
    entries[i] = nullptr;
    if (auto* entry = std::get_if<store::import_entry>(&result)) {
      out.entries.push_back(std::move(*entry));
      continue;
    }
    if (++out.failed <= max_listed_errors) {
      out.errors.push_back(ojson{{"index", i}, {"error", std::get<std::string>(result)}});
    }
  }
  return out;
}

/** The target of `?sessionId=` (`active` allowed), or the 404 reply. */
std::variant<std::optional<std::string>, response> read_target(call& c) {
  const auto param = c.param("sessionId");
  if (!param) {
    return std::optional<std::string>();
  }
  auto sid = resolve_session_id(c.ctx, *param);
  if (!sid) {
    return error_reply(http::status::not_found, "No active session");
  }
  if (!c.ctx.catalog.get_session(*sid)) {
    return error_reply(http::status::not_found, "Session not found");
  }
  return std::optional<std::string>(std::move(*sid));
}

}  // namespace

response import_har(call& c) {
  auto target = read_target(c);
  if (auto* missing = std::get_if<response>(&target)) {
    return std::move(*missing);
  }
  auto doc = json::parse(c.req.body(), nullptr, false);
  if (doc.is_discarded()) {
    return bad_request("Invalid HAR: the body is not valid JSON");
  }
  auto entries = entries_of(doc);
  if (auto* reason = std::get_if<std::string>(&entries)) {
    return bad_request(*reason);
  }
  auto& list = *std::get<json*>(entries);
  const std::size_t total = list.size();
  auto read = read_entries(list);
  if (total > 0 && read.entries.empty()) {
    return json_reply(http::status::bad_request,
                      ojson{{"error", "Invalid HAR: no entry could be imported"},
                            {"errors", std::move(read.errors)}});
  }
  store::import_target where;
  where.session_id = std::move(std::get<std::optional<std::string>>(target));
  const bool new_session = !where.session_id;
  where.new_session_name = c.param("name").value_or(default_name(doc));
  const auto result =
      c.ctx.catalog.import_entries(where, std::move(read.entries), timefmt::now_ms());
  if (!result) {
    return error_reply(http::status::not_found, "Session not found");  // deleted meanwhile
  }
  // Imported entries are not announced one by one (they did not happen now); their session is.
  if (new_session) {
    publish_session_created(c.ctx, result->target);
  } else {
    publish_session_updated(c.ctx, result->target.id);
  }
  return json_reply(http::status::ok, ojson{{"success", true},
                                            {"imported", result->imported},
                                            {"total", total},
                                            {"sessionId", result->target.id},
                                            {"sessionName", result->target.name},
                                            {"errors", std::move(read.errors)}});
}

}  // namespace hark::api
