#include "http2_heads.hpp"

#include "hark/layers/http1_codec.hpp"

#include <algorithm>
#include <charconv>

namespace hark::layers {

namespace {

std::string lowercase(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/** Connection-specific fields (RFC 9113 §8.2.2), never carried by an HTTP/2 message; `te` is
 *  allowed with the value `trailers` only. */
bool is_connection_specific(std::string_view name, std::string_view value) {
  using http1::iequals;
  if (iequals(name, "te")) {
    return !iequals(value, "trailers");
  }
  return iequals(name, "connection") || iequals(name, "keep-alive") ||
         iequals(name, "proxy-connection") || iequals(name, "transfer-encoding") ||
         iequals(name, "upgrade") || iequals(name, "proxy-authorization");
}

bool assign_pseudo(h2_request& r, std::string_view name, const std::string& value) {
  if (name == ":method") {
    r.method = value;
  } else if (name == ":scheme") {
    r.scheme = value;
  } else if (name == ":authority") {
    r.authority = value;
  } else if (name == ":path") {
    r.path = value;
  } else if (name == ":protocol") {
    r.protocol = value;
  } else {
    return false;
  }
  return true;
}

}  // namespace

std::optional<h2_request> parse_h2_request(const capture::header_list& fields, std::string& error) {
  h2_request r;
  std::string host;
  for (const auto& [name, value] : fields) {
    if (!name.empty() && name.front() == ':') {
      if (!assign_pseudo(r, name, value)) {
        error = "unknown pseudo-header " + name;
        return std::nullopt;
      }
    } else if (name == "host" && host.empty()) {
      host = value;
    }
  }
  if (r.authority.empty()) {
    r.authority = host;
  }
  const bool connect = r.method == "CONNECT";
  if (r.method.empty() || (!connect && (r.path.empty() || r.scheme.empty())) ||
      (connect && r.authority.empty())) {
    error = "incomplete request pseudo-headers";
    return std::nullopt;
  }
  return r;
}

capture::http_head h2_request_head(const h2_request& r, const capture::header_list& fields) {
  capture::http_head head;
  head.method = r.method;
  head.target = r.method == "CONNECT" && r.protocol.empty() ? r.authority : r.path;
  head.version = 20;
  head.fields = fields;
  return head;
}

capture::http_head h2_response_head(const capture::header_list& fields) {
  capture::http_head head;
  head.version = 20;
  head.fields = fields;
  for (const auto& [name, value] : fields) {
    if (name == ":status") {
      int status = 0;
      std::from_chars(value.data(), value.data() + value.size(), status);
      head.status = status;
      break;
    }
  }
  return head;
}

void write_h1_request_for_h2(std::string& out, const h2_request& r,
                             const capture::header_list& fields, bool body_follows) {
  out += r.method;
  out += ' ';
  out += r.path;
  out += " HTTP/1.1\r\n";
  bool has_host = false;
  bool has_length = false;
  std::string cookies;
  for (const auto& [name, value] : fields) {
    has_host = has_host || name == "host";
    has_length = has_length || http1::iequals(name, "content-length");
  }
  if (!has_host && !r.authority.empty()) {
    out += "Host: " + r.authority + "\r\n";
  }
  for (const auto& [name, value] : fields) {
    if (name.empty() || name.front() == ':' || is_connection_specific(name, value)) {
      continue;
    }
    if (name == "cookie") {  // HTTP/2 may split cookies; HTTP/1.1 wants one field (§8.2.3)
      cookies += cookies.empty() ? value : "; " + value;
      continue;
    }
    out += name + ": " + value + "\r\n";
  }
  if (!cookies.empty()) {
    out += "cookie: " + cookies + "\r\n";
  }
  if (body_follows && !has_length) {
    out += "transfer-encoding: chunked\r\n";
  }
  out += "\r\n";
}

capture::header_list h2_fields_for_h1_response(const capture::http_head& head) {
  capture::header_list out;
  out.reserve(head.fields.size() + 1);
  out.emplace_back(":status", std::to_string(head.status));
  const http1::hop_by_hop_filter hop(head.fields, false);
  for (const auto& [name, value] : head.fields) {
    if (!hop.forwards(name, value) || is_connection_specific(name, value)) {
      continue;
    }
    out.emplace_back(lowercase(name), value);
  }
  return out;
}

capture::header_list h2_forwarded_fields(const capture::header_list& fields) {
  capture::header_list out;
  out.reserve(fields.size());
  for (const auto& [name, value] : fields) {
    if (!is_connection_specific(name, value)) {
      out.emplace_back(name, value);
    }
  }
  return out;
}

}  // namespace hark::layers
