// GET …/entries/:eid/request/body and …/response/body (SPEC §6.2): the captured bytes with the
// captured Content-Type, content-decoded unless `?raw=1`.

#include "reply.hpp"

#include "hark/api/content_decoding.hpp"

#include <algorithm>
#include <utility>

namespace hark::api {
namespace {

/** A captured header value is echoed only if it cannot break the response's header section. */
bool safe_header_value(std::string_view value) {
  return std::none_of(value.begin(), value.end(),
                      [](unsigned char ch) { return (ch < 0x20 && ch != '\t') || ch == 0x7f; });
}

std::optional<bool> parse_raw(const std::optional<std::string>& text) {
  if (!text || *text == "0" || *text == "false") {
    return false;
  }
  if (*text == "1" || *text == "true") {
    return true;
  }
  return std::nullopt;
}

/** The bytes to send and, on failure to decode, why (the raw bytes are sent then). */
response body_reply(store::stored_body&& body, bool raw) {
  response res{http::status::ok, 11};
  const bool typed = !body.content_type.empty() && safe_header_value(body.content_type);
  res.set(http::field::content_type, typed ? body.content_type : "application/octet-stream");
  // The body is whatever a captured site sent: never let a browser run it in the API's origin.
  res.set("X-Content-Type-Options", "nosniff");
  res.set("Content-Security-Policy", "sandbox");
  if (body.truncated) {
    res.set("X-Hark-Body-Truncated", "true");
  }
  if (raw || body.content_encoding.empty()) {
    if (!body.content_encoding.empty() && safe_header_value(body.content_encoding)) {
      res.set("X-Hark-Content-Encoding", body.content_encoding);
    }
    res.body() = std::move(body.bytes);
    return res;
  }
  decode_options options;
  options.allow_truncated = body.truncated;
  auto decoded = decode_content(body.bytes, body.content_encoding, options);
  if (decoded.ok()) {
    res.body() = std::move(decoded.bytes);
  } else {
    res.set("X-Hark-Decode-Error",
            safe_header_value(decoded.error) ? decoded.error : "invalid content-encoding");
    res.body() = std::move(body.bytes);
  }
  return res;
}

response body_of(call& c, store::body_kind kind) {
  const auto raw = parse_raw(c.param("raw"));
  if (!raw) {
    return error_reply(http::status::bad_request, "Invalid raw parameter: use 1 or 0");
  }
  const auto sid = resolve_session_id(c.ctx, c.segment(1));
  if (!sid) {
    return error_reply(http::status::not_found, "No active session");
  }
  const auto& eid = c.segment(3);
  auto body = c.ctx.catalog.get_body(*sid, eid, kind);
  if (!body) {
    if (!c.ctx.catalog.entry_exists(*sid, eid)) {
      return missing_in_session(c.ctx, *sid, "Entry not found");
    }
    return error_reply(http::status::not_found, "Body not found");
  }
  return body_reply(std::move(*body), *raw);
}

}  // namespace

response get_request_body(call& c) {
  return body_of(c, store::body_kind::request);
}

response get_response_body(call& c) {
  return body_of(c, store::body_kind::response);
}

}  // namespace hark::api
