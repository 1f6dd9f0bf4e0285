// POST /api/rpc (SPEC §6.3): JSON-RPC 2.0 envelopes and batches, and the seed's methods, which
// read the catalog and answer with the seed's types (null when the session or entry is unknown).
//
// Results are built as serialized JSON text: a stored SessionEntry document is spliced in
// verbatim, the very bytes GET /api/sessions/:sid/entries/:eid sends, and a body is serialized
// once, straight from its bytes.
//
//   body ──parse──► one request ──answer──► response | nothing (notification)
//                └► batch [1..1000] ──answer each, in order──► [responses] | 204

#include "rpc.hpp"

#include "hark/api/content_decoding.hpp"
#include "hark/core/base64.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace hark::api {
namespace {

using json = nlohmann::json;

/** Most requests in one batch; a larger batch is answered by a single -32600. */
constexpr std::size_t max_batch_requests = 1000;

/** Once a batch's responses reach this size, its remaining calls answer -32000 instead of
 *  running: handlers run on the one API thread, and a batch of 1000 body reads could otherwise
 *  build gigabytes. The first call of a batch, like a single call, always runs. */
constexpr std::size_t batch_response_budget = std::size_t{32} << 20;

/** Error codes: JSON-RPC 2.0 §5.1, and one of ours from its implementation-defined range. */
enum class rpc_code : int {
  parse_error = -32700,         ///< the body is not JSON (invalid UTF-8 included)
  invalid_request = -32600,     ///< not a Request object, or an empty or oversized batch
  method_not_found = -32601,    ///< no method of that name
  invalid_params = -32602,      ///< a param is missing, of the wrong type or out of range
  internal_error = -32603,      ///< the store failed during the call
  response_too_large = -32000,  ///< the batch's response budget was spent before this call
};

std::string_view message_of(rpc_code code) {
  switch (code) {
    case rpc_code::parse_error:
      return "Parse error";
    case rpc_code::invalid_request:
      return "Invalid Request";
    case rpc_code::method_not_found:
      return "Method not found";
    case rpc_code::invalid_params:
      return "Invalid params";
    case rpc_code::internal_error:
      return "Internal error";
    case rpc_code::response_too_large:
      return "Response too large";
  }
  return "Server error";
}

struct rpc_error {
  rpc_code code;
  std::string data;  ///< what exactly was wrong, naming the member or param
};

/** What a method produced: its result as serialized JSON text, or its error. */
using outcome = std::variant<std::string, rpc_error>;

outcome null_result() {
  return std::string("null");
}

/** `{"jsonrpc":"2.0","<member>":<value>,"id":<id>}`, in the specification's member order. */
std::string envelope(const json& id, std::string_view member, std::string_view value) {
  std::string out;
  out.reserve(value.size() + 64);
  out += R"({"jsonrpc":"2.0",")";
  out += member;
  out += R"(":)";
  out += value;
  out += R"(,"id":)";
  out += dump_json(id);
  out += '}';
  return out;
}

std::string error_response(const json& id, const rpc_error& error) {
  ojson object{{"code", static_cast<int>(error.code)}, {"message", message_of(error.code)}};
  if (!error.data.empty()) {
    object["data"] = error.data;
  }
  return envelope(id, "error", dump_json(object));
}

// ---- params ------------------------------------------------------------------------------

enum class body_encoding { text, base64 };

/** Reads one call's named params. The first problem is kept as the -32602 data; a method reads
 *  all its params, then returns error() if !ok(). Members it does not know are ignored. */
class params_reader {
 public:
  /** `params` is the request's params member (an object or an array: the envelope was
   *  checked), null when absent. Every method takes named params: an empty array counts as
   *  none, a non-empty one is refused. */
  explicit params_reader(const json* params) : params_(params) {
    if (params_ != nullptr && params_->is_array()) {
      if (!params_->empty()) {
        fail("params must be an object: methods take named params, not positional ones");
      }
      params_ = nullptr;
    }
  }

  bool ok() const { return !error_; }
  rpc_error error() const { return {rpc_code::invalid_params, error_.value_or("")}; }

  /** Required string `name`; empty (and the error recorded) when missing or not a string. */
  std::string string(const char* name) {
    const json* value = member(name, "a string");
    if (value != nullptr && value->is_string()) {
      return value->get<std::string>();
    }
    if (value != nullptr) {
      fail(std::string("param '") + name + "' must be a string");
    }
    return {};
  }

  /** Required `"text"` or `"base64"`. */
  std::optional<body_encoding> encoding(const char* name) {
    const json* value = member(name, R"("text" or "base64")");
    if (value == nullptr) {
      return std::nullopt;
    }
    if (*value == "text") {
      return body_encoding::text;
    }
    if (*value == "base64") {
      return body_encoding::base64;
    }
    fail(std::string("param '") + name + R"(' must be "text" or "base64")");
    return std::nullopt;
  }

  /** Required HTTP/2 stream id: 0 (the connection) to 2^31-1 (RFC 9113 §5.1.1). */
  std::optional<std::uint32_t> stream_id(const char* name) {
    const json* value = member(name, "an integer");
    if (value == nullptr) {
      return std::nullopt;
    }
    // nlohmann reads a non-negative integer literal as unsigned; `-1` and `1.0` are not.
    if (value->is_number_unsigned() && value->get<std::uint64_t>() <= 0x7fff'ffffu) {
      return static_cast<std::uint32_t>(value->get<std::uint64_t>());
    }
    fail(std::string("param '") + name + "' must be an integer from 0 to 2147483647");
    return std::nullopt;
  }

 private:
  const json* member(const char* name, std::string_view expected) {
    if (params_ != nullptr) {
      if (const auto it = params_->find(name); it != params_->end()) {
        return &*it;
      }
    }
    fail(std::string("missing param '") + name + "' (" + std::string(expected) + ")");
    return nullptr;
  }

  void fail(std::string message) {
    if (!error_) {
      error_ = std::move(message);
    }
  }

  const json* params_;
  std::optional<std::string> error_;
};

// ---- helpers over stored data --------------------------------------------------------------

/** SAX handler that finds one top-level member of an object when its value is a scalar, and
 *  stops parsing there. Entry documents start with `id` (capture/entry_json.cpp), so reading an
 *  id costs the id's length, not the whole document's. */
class member_finder {
 public:
  explicit member_finder(std::string_view key) : key_(key) {}

  std::optional<json> found;

  bool null() { return !wanted_ || take(json(nullptr)); }
  bool boolean(bool v) { return !wanted_ || take(json(v)); }
  bool number_integer(json::number_integer_t v) { return !wanted_ || take(json(v)); }
  bool number_unsigned(json::number_unsigned_t v) { return !wanted_ || take(json(v)); }
  bool number_float(json::number_float_t v, const json::string_t& /*text*/) {
    return !wanted_ || take(json(v));
  }
  bool string(json::string_t& v) { return !wanted_ || take(json(std::move(v))); }
  bool binary(json::binary_t& /*v*/) { return !wanted_; }
  bool key(json::string_t& k) {
    wanted_ = depth_ == 1 && k == key_;
    return true;
  }
  bool start_object(std::size_t /*size*/) { return open(); }
  bool start_array(std::size_t /*size*/) { return open(); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t /*at*/, const std::string& /*token*/, const json::exception& /*e*/) {
    return false;
  }

 private:
  bool take(json&& value) {
    found = std::move(value);
    return false;  // found: the rest of the document is not needed
  }
  bool open() {
    ++depth_;
    return !wanted_;  // the member's value is not a scalar: stop, not found
  }
  bool close() {
    --depth_;
    return true;
  }

  std::string_view key_;
  int depth_ = 0;
  bool wanted_ = false;
};

std::optional<json> top_level_member(const std::string& doc, std::string_view key) {
  member_finder finder(key);
  json::sax_parse(doc, &finder);
  return std::move(finder.found);
}

/** The REST `:eid` alias for the newest entry, which the catalog resolves; JSON-RPC takes entry
 *  ids only, as the seed's params say, so it names no entry here. */
bool is_entry_alias(const std::string& entry_id) {
  return entry_id == "latest";
}

/** The body as GET …/body sends it (bodies.cpp): content-decoded, or the bytes as transferred
 *  when the coding is unknown or the data does not decode. */
std::string decoded_bytes(store::stored_body&& body) {
  if (body.content_encoding.empty()) {
    return std::move(body.bytes);
  }
  decode_options options;
  options.allow_truncated = body.truncated;
  auto decoded = decode_content(body.bytes, body.content_encoding, options);
  return decoded.ok() ? std::move(decoded.bytes) : std::move(body.bytes);
}

/** Standard base64 with padding (RFC 4648 §4), as a JSON string literal. */
std::string base64_literal(std::string_view bytes) {
  std::string out;
  out.reserve(4 * ((bytes.size() + 2) / 3) + 2);
  out += '"';
  base64::encode_append(out, bytes);
  out += '"';
  return out;
}

// ---- methods -------------------------------------------------------------------------------

outcome sessions_list(context& ctx, params_reader& /*params*/) {
  ojson out = ojson::array();
  for (auto& s : ctx.catalog.list_sessions()) {
    out.push_back(ojson{{"id", std::move(s.id)}, {"name", std::move(s.name)}});
  }
  return dump_json(out);
}

outcome sessions_get_entry_ids(context& ctx, params_reader& p) {
  store::entry_filter filter;
  filter.session_id = p.string("sessionId");
  if (!p.ok()) {
    return p.error();
  }
  // Page by page (oldest first, like the REST listing), so that only one page of documents is
  // held at a time. Each page is its own snapshot: an entry committed meanwhile is listed only
  // if it sorts after the pages already read.
  filter.limit = 1000;
  std::string out = "[";
  do {
    auto page = ctx.catalog.list_entries(filter);
    if (!page) {
      return null_result();  // unknown, or deleted while we read
    }
    for (const auto& doc : page->entries) {
      const auto id = top_level_member(doc, "id");
      if (!id || !id->is_string()) {
        throw std::runtime_error("stored entry document without an id");
      }
      out += out.size() == 1 ? "" : ",";
      out += dump_json(*id);
    }
    filter.cursor = std::move(page->next_cursor);
  } while (filter.cursor);
  out += ']';
  return out;
}

outcome sessions_get_entry(context& ctx, params_reader& p) {
  const auto session_id = p.string("sessionId");
  const auto entry_id = p.string("entryId");
  if (!p.ok()) {
    return p.error();
  }
  if (is_entry_alias(entry_id)) {
    return null_result();
  }
  auto doc = ctx.catalog.get_entry_json(session_id, entry_id);
  return doc ? outcome(std::move(*doc)) : null_result();
}

outcome entry_body(context& ctx, params_reader& p, store::body_kind kind) {
  const auto session_id = p.string("sessionId");
  const auto entry_id = p.string("entryId");
  const auto encoding = p.encoding("encoding");
  if (!p.ok()) {
    return p.error();
  }
  if (is_entry_alias(entry_id)) {
    return null_result();
  }
  auto body = ctx.catalog.get_body(session_id, entry_id, kind);
  if (!body && !ctx.catalog.entry_exists(session_id, entry_id)) {
    return null_result();
  }
  // null is for an unknown entry (the seed); the store keeps no row for an empty body, so an
  // entry without one has "" (a body dropped under load is flagged in the entry's
  // `bodyTruncated`).
  std::string bytes = body ? decoded_bytes(std::move(*body)) : std::string();
  if (encoding == body_encoding::base64) {
    return base64_literal(bytes);
  }
  // `text`: the bytes as UTF-8, each invalid sequence replaced by U+FFFD when serialized.
  return dump_json(json(std::move(bytes)));
}

outcome sessions_get_request_body(context& ctx, params_reader& p) {
  return entry_body(ctx, p, store::body_kind::request);
}

outcome sessions_get_response_body(context& ctx, params_reader& p) {
  return entry_body(ctx, p, store::body_kind::response);
}

outcome sessions_get_websocket_messages(context& ctx, params_reader& p) {
  const auto session_id = p.string("sessionId");
  const auto entry_id = p.string("entryId");
  if (!p.ok()) {
    return p.error();
  }
  if (is_entry_alias(entry_id)) {
    return null_result();
  }
  const auto doc = ctx.catalog.get_entry_json(session_id, entry_id);
  if (!doc) {
    return null_result();
  }
  const auto is_websocket = top_level_member(*doc, "isWebSocket");
  if (!is_websocket || *is_websocket != true) {
    return null_result();  // the seed: only WebSocket entries have messages
  }
  const auto messages = ctx.catalog.entry_messages(session_id, entry_id);
  return messages ? outcome(websocket_messages_json(*messages)) : null_result();
}

outcome tls_get_connection(context& ctx, params_reader& p) {
  const auto connection_id = p.string("connectionId");
  if (!p.ok()) {
    return p.error();
  }
  const auto log = ctx.catalog.get_tls_connection(connection_id);
  return log ? outcome(dump_json(tls_connection_json(*log))) : null_result();
}

// The HTTP/2 frame log with GET /api/http2/:connectionId…'s shapes (http2.cpp).

outcome http2_get_stream_ids(context& ctx, params_reader& p) {
  const auto connection_id = p.string("connectionId");
  if (!p.ok()) {
    return p.error();
  }
  auto ids = http2_stream_ids_json(ctx, connection_id);
  return ids ? outcome(std::move(*ids)) : null_result();
}

outcome http2_get_stream(context& ctx, params_reader& p) {
  const auto connection_id = p.string("connectionId");
  const auto stream_id = p.stream_id("streamId");
  if (!p.ok()) {
    return p.error();
  }
  auto events = http2_stream_json(ctx, connection_id, *stream_id);
  return events ? outcome(std::move(*events)) : null_result();
}

using method_fn = outcome (*)(context&, params_reader&);

struct method {
  std::string_view name;
  method_fn run;
};

constexpr std::array methods{
    method{"sessions/list", sessions_list},
    method{"sessions/get_entry_ids", sessions_get_entry_ids},
    method{"sessions/get_entry", sessions_get_entry},
    method{"sessions/get_request_body", sessions_get_request_body},
    method{"sessions/get_response_body", sessions_get_response_body},
    method{"sessions/get_websocket_messages", sessions_get_websocket_messages},
    method{"tls/get_connection", tls_get_connection},
    method{"http2/get_stream_ids", http2_get_stream_ids},
    method{"http2/get_stream", http2_get_stream},
};

const method* find_method(std::string_view name) {
  const auto it =
      std::find_if(methods.begin(), methods.end(), [&](const method& m) { return m.name == name; });
  return it == methods.end() ? nullptr : &*it;
}

outcome invoke(context& ctx, const method& m, const json* params) {
  params_reader reader(params);
  if (!reader.ok()) {
    return reader.error();
  }
  try {
    return m.run(ctx, reader);
  } catch (const std::exception& e) {
    // JSON-RPC answers a failed call with -32603 (§5.1): one call whose store read fails must
    // not turn the other calls of its batch into an HTTP 500.
    spdlog::error("api: rpc {}: {}", m.name, e.what());
    return rpc_error{rpc_code::internal_error, e.what()};
  }
}

// ---- envelopes -----------------------------------------------------------------------------

/** Why `request` (an object) is not a valid Request object (§4), nullopt when it is. `id` is
 *  checked by the caller. Members the specification does not define are ignored. */
std::optional<std::string> envelope_problem(const json& request) {
  const auto version = request.find("jsonrpc");
  if (version == request.end() || *version != "2.0") {
    return R"(member 'jsonrpc' must be "2.0")";
  }
  const auto name = request.find("method");
  if (name == request.end() || !name->is_string()) {
    return "member 'method' must be a string";
  }
  const auto params = request.find("params");
  if (params != request.end() && !params->is_object() && !params->is_array()) {
    return "member 'params' must be an object or an array";
  }
  return std::nullopt;
}

/** The response to one request: nullopt for a notification (§4.1). `within_budget` is false
 *  when earlier calls of the batch have spent batch_response_budget. */
std::optional<std::string> answer(context& ctx, const json& request, bool within_budget) {
  if (!request.is_object()) {
    return error_response(nullptr, {rpc_code::invalid_request, "request must be an object"});
  }
  const auto id_member = request.find("id");
  const bool notification = id_member == request.end();
  if (!notification && !id_member->is_string() && !id_member->is_number() &&
      !id_member->is_null()) {
    // §5: the id could not be read, so the error's id is null.
    return error_response(
        nullptr, {rpc_code::invalid_request, "member 'id' must be a string, a number or null"});
  }
  const json id = notification ? json() : *id_member;
  if (auto problem = envelope_problem(request)) {
    // An invalid request is answered even without an id: it is no valid notification (§5).
    return error_response(id, {rpc_code::invalid_request, std::move(*problem)});
  }
  if (notification) {
    return std::nullopt;  // every method only reads: a call without a reply has nothing to do
  }
  const auto& name = request.find("method")->get_ref<const std::string&>();
  const method* m = find_method(name);
  if (m == nullptr) {
    return error_response(id, {rpc_code::method_not_found, "unknown method '" + name + "'"});
  }
  if (!within_budget) {
    return error_response(
        id, {rpc_code::response_too_large,
             "this batch's responses exceed " + std::to_string(batch_response_budget >> 20) +
                 " MiB: send the call again, alone or in a smaller batch"});
  }
  const auto params = request.find("params");
  auto result = invoke(ctx, *m, params == request.end() ? nullptr : &*params);
  if (auto* error = std::get_if<rpc_error>(&result)) {
    return error_response(id, *error);
  }
  return envelope(id, "result", std::get<std::string>(result));
}

response no_content() {
  return response{http::status::no_content, 11};
}

response rpc_reply(std::string body) {
  return json_reply(http::status::ok, std::move(body));
}

response answer_batch(context& ctx, const json& batch) {
  if (batch.empty()) {
    return rpc_reply(error_response(nullptr, {rpc_code::invalid_request, "empty batch"}));
  }
  if (batch.size() > max_batch_requests) {
    return rpc_reply(error_response(
        nullptr,
        {rpc_code::invalid_request, "batch larger than " + std::to_string(max_batch_requests)}));
  }
  std::string out = "[";
  for (const auto& request : batch) {
    auto reply = answer(ctx, request, out.size() < batch_response_budget);
    if (!reply) {
      continue;
    }
    out += out.size() == 1 ? "" : ",";
    out += *reply;
  }
  if (out.size() == 1) {
    return no_content();  // only notifications: nothing is returned (§6)
  }
  out += ']';
  return rpc_reply(std::move(out));
}

/** The body as JSON, or the -32700 error. nlohmann rejects invalid UTF-8 and unpaired
 *  surrogate escapes in strings (RFC 8259 §8.1), and any byte above 0x7f is a syntax error
 *  outside them, so a body that is not UTF-8 is a parse error too. A number too large for a
 *  double (`1e999`) is nlohmann's out_of_range.406, also a body that cannot be parsed. */
std::variant<json, rpc_error> parse_body(const std::string& body) {
  try {
    return json::parse(body);
  } catch (const json::exception& e) {
    // nlohmann says where parsing failed only through its exception; it ends here.
    std::string_view what = e.what();
    if (const auto end = what.find("] "); end != std::string_view::npos) {
      what.remove_prefix(end + 2);  // drop `[json.exception.parse_error.101] `
    }
    return rpc_error{rpc_code::parse_error, std::string(what)};
  }
}

}  // namespace

response post_rpc(call& c) {
  auto parsed = parse_body(c.req.body());
  if (auto* error = std::get_if<rpc_error>(&parsed)) {
    return rpc_reply(error_response(nullptr, *error));
  }
  const auto& body = std::get<json>(parsed);
  if (body.is_array()) {
    return answer_batch(c.ctx, body);
  }
  auto reply = answer(c.ctx, body, true);
  return reply ? rpc_reply(std::move(*reply)) : no_content();
}

std::vector<std::string_view> rpc_method_names() {
  std::vector<std::string_view> names;
  names.reserve(methods.size());
  for (const auto& m : methods) {
    names.push_back(m.name);
  }
  return names;
}

}  // namespace hark::api
