#include "hark/layers/http1_codec.hpp"

#include <algorithm>

namespace hark::layers::http1 {

namespace {

char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

void append_fields(std::string& out, const capture::header_list& fields, bool upgrading) {
  const hop_by_hop_filter filter(fields, upgrading);
  for (const auto& [name, value] : fields) {
    if (filter.forwards(name, value)) {
      out.append(name).append(": ").append(value).append("\r\n");
    }
  }
}

void append_version(std::string& out, unsigned version) {
  out.append("HTTP/");
  out.push_back(static_cast<char>('0' + version / 10));
  out.push_back('.');
  out.push_back(static_cast<char>('0' + version % 10));
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [](char x, char y) { return lower(x) == lower(y); });
}

bool has_token(std::string_view value, std::string_view token) noexcept {
  while (!value.empty()) {
    const auto comma = value.find(',');
    if (iequals(trim(value.substr(0, comma)), token)) {
      return true;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    value.remove_prefix(comma + 1);
  }
  return false;
}

std::string_view field_value(const capture::header_list& fields, std::string_view name) noexcept {
  for (const auto& [n, v] : fields) {
    if (iequals(n, name)) {
      return v;
    }
  }
  return {};
}

hop_by_hop_filter::hop_by_hop_filter(const capture::header_list& fields, bool upgrading)
    : upgrading_(upgrading) {
  for (const auto& [name, value] : fields) {
    if (iequals(name, "connection")) {
      connection_tokens_.append(value).push_back(',');
    }
  }
}

bool hop_by_hop_filter::forwards(std::string_view name, std::string_view value) const noexcept {
  if (iequals(name, "connection")) {
    return upgrading_ && has_token(value, "upgrade");
  }
  if (iequals(name, "upgrade")) {
    return upgrading_;
  }
  if (iequals(name, "te")) {
    return iequals(trim(value), "trailers");
  }
  if (iequals(name, "proxy-connection") || iequals(name, "keep-alive") ||
      iequals(name, "proxy-authorization")) {
    return false;
  }
  // RFC 9110 §7.6.1: fields named in Connection are hop-by-hop too.
  return connection_tokens_.empty() || !has_token(connection_tokens_, name);
}

void write_request_head(std::string& out, const capture::http_head& head, std::string_view target,
                        bool upgrading) {
  out.append(head.method).push_back(' ');
  out.append(target).push_back(' ');
  append_version(out, head.version);
  out.append("\r\n");
  append_fields(out, head.fields, upgrading);
  out.append("\r\n");
}

void write_response_head(std::string& out, const capture::http_head& head, bool upgrading,
                         connection_directive directive) {
  append_version(out, head.version);
  out.push_back(' ');
  out.append(std::to_string(head.status)).push_back(' ');
  out.append(head.reason).append("\r\n");
  append_fields(out, head.fields, upgrading);
  if (directive == connection_directive::close) {
    out.append("Connection: close\r\n");
  } else if (directive == connection_directive::keep_alive) {
    out.append("Connection: keep-alive\r\n");
  }
  out.append("\r\n");
}

synthetic_response make_synthetic(int status, std::string_view reason, errc code,
                                  std::string_view body, bool close,
                                  std::string_view content_type) {
  synthetic_response r;
  r.head.status = status;
  r.head.reason.assign(reason);
  r.head.version = 11;
  r.head.fields.emplace_back("Content-Type", std::string(content_type));
  if (code != errc::ok) {
    r.head.fields.emplace_back("X-Hark-Error", std::string(to_string(code)));
  }
  r.head.fields.emplace_back("Content-Length", std::to_string(body.size()));
  r.head.fields.emplace_back("Connection", close ? "close" : "keep-alive");
  r.body.assign(body);
  append_version(r.wire, 11);
  r.wire.append(" ").append(std::to_string(status)).append(" ").append(reason).append("\r\n");
  for (const auto& [name, value] : r.head.fields) {
    r.wire.append(name).append(": ").append(value).append("\r\n");
  }
  r.wire.append("\r\n").append(body);
  return r;
}

}  // namespace hark::layers::http1
