// entry_from_json: a stored SessionEntry document back into an entry_record, for the readers
// that need typed fields (the HAR export). Lenient by design: the documents were written by
// to_json_string, and an older document lacking a newer member still reads.
#include "hark/capture/entry_json.hpp"

#include "hark/core/time.hpp"

#include <future>

namespace hark::capture {
namespace {

using json = nlohmann::json;

/** The member `key` of `object` when it exists and is not null, else nullptr. */
const json* member(const json& object, const char* key) {
  if (!object.is_object()) {
    return nullptr;
  }
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

std::optional<std::string> optional_string(const json& object, const char* key) {
  const json* value = member(object, key);
  if (value == nullptr || !value->is_string()) {
    return std::nullopt;
  }
  return value->get<std::string>();
}

std::string string_or_empty(const json& object, const char* key) {
  return optional_string(object, key).value_or(std::string());
}

std::optional<double> optional_number(const json& object, const char* key) {
  const json* value = member(object, key);
  if (value == nullptr || !value->is_number()) {
    return std::nullopt;
  }
  return value->get<double>();
}

template <class Int>
std::optional<Int> optional_integer(const json& object, const char* key) {
  const json* value = member(object, key);
  if (value == nullptr || !value->is_number_integer()) {
    return std::nullopt;
  }
  return value->get<Int>();
}

bool flag(const json& object, const char* key) {
  const json* value = member(object, key);
  return value != nullptr && value->is_boolean() && value->get<bool>();
}

header_list read_headers(const json& object, const char* key) {
  header_list out;
  const json* list = member(object, key);
  if (list == nullptr || !list->is_array()) {
    return out;
  }
  out.reserve(list->size());
  for (const auto& pair : *list) {
    if (pair.is_array() && pair.size() == 2 && pair[0].is_string() && pair[1].is_string()) {
      out.emplace_back(pair[0].get<std::string>(), pair[1].get<std::string>());
    }
  }
  return out;
}

std::optional<net_address> read_address(const json& object, const char* key) {
  const json* value = member(object, key);
  if (value == nullptr) {
    return std::nullopt;
  }
  net_address out;
  out.ip = string_or_empty(*value, "ip");
  out.port = optional_integer<std::uint16_t>(*value, "port");
  return out;
}

std::optional<named_u16> read_named(const json& object, const char* key) {
  const json* value = member(object, key);
  const auto number =
      value != nullptr ? optional_integer<std::uint16_t>(*value, "value") : std::nullopt;
  if (!number) {
    return std::nullopt;
  }
  return named_u16{*number, string_or_empty(*value, "name")};
}

std::optional<http2_ref> read_stream(const json& object, const char* key) {
  const json* value = member(object, key);
  if (value == nullptr) {
    return std::nullopt;
  }
  return http2_ref{string_or_empty(*value, "connectionId"),
                   optional_integer<std::uint32_t>(*value, "streamId").value_or(0)};
}

tls_details read_tls(const json& object) {
  tls_details out;
  const json* tls = member(object, "tls");
  if (tls == nullptr) {
    return out;
  }
  out.connection_id = optional_string(*tls, "connectionId");
  out.tls_version = read_named(*tls, "tlsVersion");
  out.cipher_suite = read_named(*tls, "cipherSuite");
  if (const json* ja3 = member(*tls, "ja3")) {
    out.ja3 = ja3_fingerprint{string_or_empty(*ja3, "string"), string_or_empty(*ja3, "hash")};
  }
  if (const json* ja4 = member(*tls, "ja4")) {
    out.ja4 = ja4_fingerprint{string_or_empty(*ja4, "raw"), string_or_empty(*ja4, "hashed")};
  }
  return out;
}

timing_record read_timings(const json& object) {
  timing_record out;
  const json* t = member(object, "timings");
  if (t == nullptr) {
    return out;
  }
  if (const auto started = optional_string(*t, "startedAt")) {
    if (const auto us = timefmt::parse_time_us(*started)) {
      out.started_at = timefmt::clock::time_point(std::chrono::microseconds(*us));
    }
  }
  out.blocked = optional_number(*t, "blocked");
  out.dns = optional_number(*t, "dns");
  out.connect = optional_number(*t, "connect");
  out.send = optional_number(*t, "send");
  out.wait = optional_number(*t, "wait");
  out.receive = optional_number(*t, "receive");
  out.ssl = optional_number(*t, "ssl");
  return out;
}

request_record read_request(const json& object) {
  request_record out;
  const json* r = member(object, "request");
  if (r == nullptr) {
    return out;
  }
  out.method = optional_string(*r, "method");
  out.path = optional_string(*r, "path");
  out.http_version = optional_string(*r, "httpVersion");
  out.headers = read_headers(*r, "headers");
  out.trailers = read_headers(*r, "trailers");
  out.body_size = optional_integer<std::uint64_t>(*r, "bodySize");
  out.body_truncated = flag(*r, "bodyTruncated");
  return out;
}

std::optional<response_record> read_response(const json& object) {
  const json* r = member(object, "response");
  if (r == nullptr) {
    return std::nullopt;
  }
  response_record out;
  out.http_version = optional_string(*r, "httpVersion");
  out.status_code = optional_integer<int>(*r, "statusCode");
  out.status_text = optional_string(*r, "statusText");
  out.headers = read_headers(*r, "headers");
  out.trailers = read_headers(*r, "trailers");
  out.body_size = optional_integer<std::uint64_t>(*r, "bodySize");
  out.body_truncated = flag(*r, "bodyTruncated");
  return out;
}

std::shared_future<std::optional<process_info>> read_process(const json& object) {
  const json* p = member(object, "process");
  const auto pid = p != nullptr ? optional_integer<int>(*p, "pid") : std::nullopt;
  if (!pid) {
    return {};
  }
  std::promise<std::optional<process_info>> ready;
  ready.set_value(process_info{*pid, optional_string(*p, "name")});
  return ready.get_future().share();
}

std::optional<flow_error> read_error(const json& object) {
  const json* e = member(object, "error");
  if (e == nullptr) {
    return std::nullopt;
  }
  return flow_error{string_or_empty(*e, "code"), string_or_empty(*e, "message")};
}

}  // namespace

entry_record entry_from_json(std::string_view document) {
  const auto doc = json::parse(document);
  if (!doc.is_object()) {
    throw json::type_error::create(302, "a SessionEntry document must be an object", &doc);
  }
  entry_record r;
  r.id = string_or_empty(doc, "id");
  r.session_id = string_or_empty(doc, "sessionId");
  r.url = string_or_empty(doc, "url");
  r.client_addr = read_address(doc, "clientAddr");
  r.remote_addr = read_address(doc, "remoteAddr");
  r.http_version = string_or_empty(doc, "httpVersion");
  r.transaction_type = optional_string(doc, "transactionType").value_or("request");
  r.request = read_request(doc);
  r.response = read_response(doc);
  r.is_websocket = flag(doc, "isWebSocket");
  r.tls = read_tls(doc);
  r.http2 = read_stream(doc, "http2");
  r.upstream_http2 = read_stream(doc, "upstreamHttp2");
  r.upstream_http_version = optional_string(doc, "upstreamHttpVersion");
  r.timings = read_timings(doc);
  r.process = read_process(doc);
  r.error = read_error(doc);
  r.duration_ms = optional_number(doc, "duration");
  return r;
}

}  // namespace hark::capture
