// The HTTP/2 frame log (SPEC §6.5): GET /api/http2/:connectionId → the connection's stream ids,
// GET /api/http2/:connectionId/streams/:streamId → that stream's frames as Http2Event objects.
// Either leg's connection id works: each of Hark's HTTP/2 connections has its own log.

#include "reply.hpp"

#include "hark/h2/frame_log.hpp"

#include <charconv>

namespace hark::api {
namespace {

/** A stream id as the path gives it: decimal digits, 0 to 2^31-1. */
std::optional<std::uint32_t> parse_stream_id(std::string_view text) {
  std::uint32_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  // RFC 9113 §5.1.1: 31 bits. Digits only: from_chars takes no sign, and nothing may follow.
  if (text.empty() || ec != std::errc() || ptr != end || value > 0x7fff'ffffu) {
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::optional<std::string> http2_stream_ids_json(context& ctx, const std::string& connection_id) {
  const auto ids = ctx.catalog.h2_stream_ids(connection_id);
  if (!ids) {
    return std::nullopt;
  }
  return dump_json(ojson(*ids));
}

std::optional<std::string> http2_stream_json(context& ctx, const std::string& connection_id,
                                             std::uint32_t stream_id) {
  const auto records = ctx.catalog.h2_stream_records(connection_id, stream_id);
  if (!records || records->empty()) {
    return std::nullopt;
  }
  return dump_json(h2::describe_frames(*records));
}

response get_http2_connection(call& c) {
  auto ids = http2_stream_ids_json(c.ctx, c.segment(1));
  if (!ids) {
    return error_reply(http::status::not_found, "HTTP/2 connection not found");
  }
  return json_reply(http::status::ok, std::move(*ids));
}

response get_http2_stream(call& c) {
  const auto stream_id = parse_stream_id(c.segment(3));
  if (!stream_id) {
    return error_reply(http::status::bad_request,
                       "Invalid stream id: use an integer from 0 to 2147483647");
  }
  const auto records = c.ctx.catalog.h2_stream_records(c.segment(1), *stream_id);
  if (!records) {
    return error_reply(http::status::not_found, "HTTP/2 connection not found");
  }
  if (records->empty()) {
    return error_reply(http::status::not_found, "HTTP/2 stream not found");
  }
  return json_reply(http::status::ok, dump_json(h2::describe_frames(*records)));
}

}  // namespace hark::api
