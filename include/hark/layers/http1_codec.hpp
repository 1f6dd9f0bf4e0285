#pragma once
// Writing HTTP/1.x heads for the other side: the fields as received minus hop-by-hop ones
// (SPEC §2), and Hark's synthetic error responses.

#include "hark/capture/flow.hpp"
#include "hark/core/errc.hpp"

#include <string>
#include <string_view>

namespace hark::layers::http1 {

/** ASCII case-insensitive equality (HTTP field names and tokens). */
bool iequals(std::string_view a, std::string_view b) noexcept;

/** Whether the comma-separated list `value` contains `token` (case-insensitive). */
bool has_token(std::string_view value, std::string_view token) noexcept;

/** The value of the first field named `name`, or empty. */
std::string_view field_value(const capture::header_list& fields, std::string_view name) noexcept;

/** Decides which fields a proxy forwards: drops Connection and every name it lists,
 *  Proxy-Connection, Keep-Alive, Proxy-Authorization, TE (but `TE: trailers`), and Upgrade unless
 *  the message is an upgrade. When upgrading, `Connection: upgrade` itself is kept. */
class hop_by_hop_filter {
 public:
  hop_by_hop_filter(const capture::header_list& fields, bool upgrading);
  bool forwards(std::string_view name, std::string_view value) const noexcept;

 private:
  std::string connection_tokens_;  ///< values of all Connection fields, joined by commas
  bool upgrading_;
};

/** What Hark says about the connection after a head it writes. */
enum class connection_directive { none, close, keep_alive };

/** Appends `METHOD TARGET HTTP/x.y` and the forwarded fields of `head`, then the blank line. */
void write_request_head(std::string& out, const capture::http_head& head, std::string_view target,
                        bool upgrading);

/** Appends the status line and forwarded fields of `head`, a Connection field per `directive`,
 *  then the blank line. */
void write_response_head(std::string& out, const capture::http_head& head, bool upgrading,
                         connection_directive directive);

/** A complete text/plain response from Hark itself (SPEC §2's failure table): status line,
 *  `X-Hark-Error: <code>` when `code` is not ok, Content-Length, Connection. */
struct synthetic_response {
  capture::http_head head;
  std::string body;
  std::string wire;  ///< head + body, ready to write
};
synthetic_response make_synthetic(int status, std::string_view reason, errc code,
                                  std::string_view body, bool close,
                                  std::string_view content_type = "text/plain; charset=utf-8");

}  // namespace hark::layers::http1
