#pragma once
// Private to src/api: what a resource handler receives (the routed call) and the helpers that
// build its response. The router finishes every response (version, keep-alive, length).

#include "hark/api/router.hpp"

#include <boost/url/params_view.hpp>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hark::api {

/** JSON objects keep the seed's field order (id, name, isActive, …) instead of sorting keys. */
using ojson = nlohmann::ordered_json;

inline constexpr std::string_view json_content_type = "application/json; charset=utf-8";

/** One routed request: valid for the duration of the handler call only (views into `req`). */
struct call {
  context& ctx;
  const request& req;
  /** Percent-decoded path segments after `/api`, e.g. {"sessions", "<id>", "entries"}. */
  std::vector<std::string> segments;
  /** Percent-decoded query parameters (`+` is a space). */
  boost::urls::params_view params;
  /** Set by a handler whose response body is streamed; its returned response is then the head
   *  (status and headers) only. */
  std::unique_ptr<body_stream> stream{};

  /** Path segment `i` (after `/api`); the route table guarantees it exists. */
  const std::string& segment(std::size_t i) const { return segments.at(i); }
  /** The first value of query parameter `key`; nullopt when absent or empty. */
  std::optional<std::string> param(std::string_view key) const;
};

/** Serializes JSON for a response; invalid UTF-8 in strings is replaced, never thrown. */
std::string dump_json(const ojson& value);
std::string dump_json(const nlohmann::json& value);

/** A response with `body` as `application/json; charset=utf-8`. */
response json_reply(http::status status, std::string body);
response json_reply(http::status status, const ojson& value);

/** `{"error": message}` with `status`. */
response error_reply(http::status status, std::string_view message);

/** `{"success": true}` */
response success_reply();

/** The request body as a JSON object (an empty body is `{}`). nullopt when the body is not
 *  JSON or not an object: the caller answers 400 `Invalid JSON body`. */
std::optional<nlohmann::json> parse_object_body(const request& req);

/** Validates the type of optional field `name` of `body`; the 400 reply for a wrong type
 *  (`Field 'name' must be a string`), nullopt when absent or well typed. */
std::optional<response> check_string_field(const nlohmann::json& body, const char* name);
std::optional<response> check_bool_field(const nlohmann::json& body, const char* name);

/** `[WebSocketMessage…]` as the seed types them: `{side, startedAt, endedAt, payload}` with
 *  payload `{type: "text", text}`, `{type: "binary"|"ping"|"pong"|"unknown", data (base64)}` or
 *  `{type: "close", code, reason}` (websocket_json.cpp). */
std::string websocket_messages_json(const std::vector<store::websocket_message>& messages);

/** Makes the proxy record into whatever session the catalog now says is active (called after
 *  every change that may move the active or recording flag). */
void sync_recording(context& ctx);

/** The session id a `:sid` segment names: `active` is the active session's id, nullopt when
 *  there is none (the caller answers 404 `No active session`). */
std::optional<std::string> resolve_session_id(context& ctx, const std::string& sid);

/** Publishes the `session` event (action `created`) for `s`, when anyone listens. */
void publish_session_created(context& ctx, const store::session& s);
/** Publishes the `session` event (action `updated`) with session `session_id` as it is now, when
 * anyone listens to GET /api/events (for changes made outside sessions.cpp: entries deleted). */
void publish_session_updated(context& ctx, const std::string& session_id);

/** A 404 for something missing inside session `session_id`: `Session not found` when the
 *  session itself is unknown, else `{"error": what}`. */
response missing_in_session(context& ctx, const std::string& session_id, std::string_view what);

// Resource handlers (sessions.cpp, entries.cpp, bodies.cpp, events.cpp, health.cpp, …). Each
// returns the response without version and keep-alive; store errors propagate to the router (500).
response list_sessions(call& c);
response create_session(call& c);
response get_active_session(call& c);
response get_session(call& c);
response update_session(call& c);
response activate_session(call& c);
response delete_session(call& c);

response list_entries(call& c);
response delete_entries(call& c);
response get_entry(call& c);
response delete_entry(call& c);
response get_request_body(call& c);
response get_response_body(call& c);
response get_websocket_messages(call& c);
response get_stats(call& c);

response get_events(call& c);
// HAR (har_export.cpp, har_import.cpp). The exports stream their body (c.stream).
response export_session_har(call& c);
response export_entries_har(call& c);
response import_har(call& c);

response get_tls_failures(call& c);
response get_tls_connection(call& c);
/** GET /api/tls/:connectionId's object (also JSON-RPC tls/get_connection's result). */
ojson tls_connection_json(const capture::tls_connection_log& log);
/** GET /api/http2/:connectionId: the stream ids, ascending, 0 included (http2.cpp). */
response get_http2_connection(call& c);
/** GET /api/http2/:connectionId/streams/:streamId: the stream's frames as Http2Event objects. */
response get_http2_stream(call& c);
/** The JSON array of a connection's stream ids; nullopt when the connection has no log. */
std::optional<std::string> http2_stream_ids_json(context& ctx, const std::string& connection_id);
/** The JSON array of a stream's Http2Event objects; nullopt when the connection or the stream
 *  has no frame logged. */
std::optional<std::string> http2_stream_json(context& ctx, const std::string& connection_id,
                                             std::uint32_t stream_id);
response list_passthrough(call& c);
response add_passthrough(call& c);
response delete_passthrough(call& c);

response get_health(call& c);
response get_metrics(context& ctx);
response get_ca_pem(call& c);
response get_ca_der(call& c);

}  // namespace hark::api
