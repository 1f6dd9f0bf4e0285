#pragma once
// Heads between HTTP/2 and HTTP/1.1 (private to src/layers): what an HTTP/2 stream's header
// block means as a request or response, and the translation where the two sides of Hark speak
// different versions (RFC 9113 §8.2.2, §8.2.3, §8.3).

#include "hark/capture/flow.hpp"

#include <optional>
#include <string>

namespace hark::layers {

/** The pseudo-headers of an HTTP/2 request (RFC 9113 §8.3.1). */
struct h2_request {
  std::string method;
  std::string scheme;
  std::string authority;  ///< :authority, else the Host field
  std::string path;
  std::string protocol;  ///< :protocol of an extended CONNECT (RFC 8441)
};

/** Reads the request pseudo-headers of `fields`; nullopt with `error` set when they are not a
 *  valid request (missing :method, :path for a non-CONNECT, unknown pseudo-header, …). */
std::optional<h2_request> parse_h2_request(const capture::header_list& fields, std::string& error);

/** The head capture records for a header block: fields exactly as received (pseudo-headers
 *  first), version 20, and method/target or status read from the pseudo-headers. */
capture::http_head h2_request_head(const h2_request& r, const capture::header_list& fields);
capture::http_head h2_response_head(const capture::header_list& fields);

/** The HTTP/1.1 request an HTTP/2 request becomes towards an HTTP/1.1 origin: `Host` from
 *  :authority (unless a Host field came along), `cookie` fields re-joined with "; ", no
 *  pseudo-headers, no connection-specific fields; `Transfer-Encoding: chunked` when a body
 *  follows with no content-length. Appends the head, ending with the blank line. */
void write_h1_request_for_h2(std::string& out, const h2_request& r,
                             const capture::header_list& fields, bool body_follows);

/** The HTTP/2 response fields for an HTTP/1.1 response head: `:status` first, then the fields
 *  with lower-case names, minus connection-specific ones (RFC 9113 §8.2.2). */
capture::header_list h2_fields_for_h1_response(const capture::http_head& head);

/** The fields an HTTP/2 message carries on to an HTTP/2 peer: all as received, minus fields
 *  that are connection-specific (they are not valid in HTTP/2 and a strict peer resets). */
capture::header_list h2_forwarded_fields(const capture::header_list& fields);

}  // namespace hark::layers
