// One HAR 1.2 entry into the record the store keeps: what HAR requires is checked and a
// precise reason given when it is wrong; what HAR leaves optional (and Hark's own `_`
// extensions) is read when well-formed and skipped otherwise. Strings are moved out of the
// parsed document, which the import holds whole.
#include "har.hpp"

#include "hark/core/base64.hpp"
#include "hark/core/ids.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <future>
#include <limits>

namespace hark::api::har {
namespace {

using json = nlohmann::json;
using boost::beast::iequals;

/** Thrown inside read_entry for a required member that is missing or wrong. */
struct invalid_entry {
  std::string reason;
};

[[noreturn]] void fail(std::string reason) {
  throw invalid_entry{std::move(reason)};
}

/** The member `key` of `object` when present and not null, else nullptr. */
json* member(json& object, const char* key) {
  if (!object.is_object()) {
    return nullptr;
  }
  const auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

json& required_object(json& object, const char* key, const char* path) {
  json* value = member(object, key);
  if (value == nullptr || !value->is_object()) {
    fail(std::string(path) + " must be an object");
  }
  return *value;
}

std::string required_string(json& object, const char* key, const char* path) {
  json* value = member(object, key);
  if (value == nullptr || !value->is_string()) {
    fail(std::string(path) + " must be a string");
  }
  return std::move(value->get_ref<std::string&>());
}

std::optional<std::string> optional_string(json& object, const char* key) {
  json* value = member(object, key);
  if (value == nullptr || !value->is_string()) {
    return std::nullopt;
  }
  return std::move(value->get_ref<std::string&>());
}

/** Whether `key` is `true`. */
bool flag(json& object, const char* key) {
  const json* value = member(object, key);
  return value != nullptr && value->is_boolean() && value->get<bool>();
}

/** A finite number ≥ 0; -1 (HAR's "not available") and anything else are nullopt. */
std::optional<double> measured(json& object, const char* key) {
  json* value = member(object, key);
  if (value == nullptr || !value->is_number()) {
    return std::nullopt;
  }
  const double v = value->get<double>();
  return std::isfinite(v) && v >= 0 ? std::optional<double>(v) : std::nullopt;
}

/** A whole number in [0, max]; nullopt otherwise. */
template <class Int>
std::optional<Int> whole(const json* value) {
  if (value == nullptr || !value->is_number_integer()) {
    return std::nullopt;
  }
  if (value->is_number_unsigned()) {
    const auto v = value->get<std::uint64_t>();
    return v <= static_cast<std::uint64_t>(std::numeric_limits<Int>::max())
               ? std::optional<Int>(static_cast<Int>(v))
               : std::nullopt;
  }
  const auto v = value->get<std::int64_t>();
  return v >= 0 && static_cast<std::uint64_t>(v) <=
                       static_cast<std::uint64_t>(std::numeric_limits<Int>::max())
             ? std::optional<Int>(static_cast<Int>(v))
             : std::nullopt;
}

/** HAR headers `[{name, value}]` (also `_trailers`); `path` names them in errors. */
capture::header_list read_headers(json& object, const char* key, const std::string& path) {
  capture::header_list out;
  json* list = member(object, key);
  if (list == nullptr) {
    return out;  // required by HAR, but an absent list has an obvious meaning
  }
  if (!list->is_array()) {
    fail(path + " must be an array");
  }
  out.reserve(list->size());
  for (std::size_t i = 0; i < list->size(); ++i) {
    auto& h = (*list)[i];
    json* name = member(h, "name");
    json* value = member(h, "value");
    if (name == nullptr || !name->is_string() || value == nullptr || !value->is_string()) {
      fail(path + "[" + std::to_string(i) + "] must be {name, value} with string members");
    }
    out.emplace_back(std::move(name->get_ref<std::string&>()),
                     std::move(value->get_ref<std::string&>()));
  }
  return out;
}

/** `HTTP/1.1` for `http/1.1`, `HTTP/2` for `h2`, `HTTP/2.0` or `http/2` (browsers write all of
 *  them), `HTTP/3` likewise; anything else unchanged. */
std::string normalize_version(std::string v) {
  if (iequals(v, "h2") || iequals(v, "http/2") || iequals(v, "http/2.0")) {
    return "HTTP/2";
  }
  if (iequals(v, "h3") || iequals(v, "http/3") || iequals(v, "http/3.0")) {
    return "HTTP/3";
  }
  if (v.size() > 5 && iequals(std::string_view(v).substr(0, 5), "http/")) {
    std::transform(v.begin(), v.begin() + 4, v.begin(),
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  }
  return v;
}

/** `text` of postData or content, base64-decoded when `encoding` says so. */
std::optional<std::string> read_text(json& object, const std::string& path) {
  auto text = optional_string(object, "text");
  if (!text) {
    return std::nullopt;
  }
  const auto encoding = optional_string(object, "encoding");
  if (!encoding || encoding->empty()) {
    return text;
  }
  if (*encoding != "base64") {
    fail(path + ".encoding must be \"base64\" when present");
  }
  auto bytes = base64::decode(*text);
  if (!bytes) {
    fail(path + ".text is not valid base64");
  }
  return bytes;
}

/** HAR `params` as an urlencoded body, for a postData without text. */
std::string encode_params(json& params) {
  std::string out;
  constexpr char hex[] = "0123456789ABCDEF";
  const auto append = [&](std::string_view s) {
    for (const char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      if (std::isalnum(c) != 0 || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
        out += ch;
      } else {
        out.append({'%', hex[c >> 4], hex[c & 15]});
      }
    }
  };
  for (auto& p : params) {
    out += out.empty() ? "" : "&";
    append(optional_string(p, "name").value_or(""));
    out += '=';
    append(optional_string(p, "value").value_or(""));
  }
  return out;
}

void read_request(json& entry, capture::entry_record& r, bool& decoded) {
  auto& req = required_object(entry, "request", "request");
  r.request.method = required_string(req, "method", "request.method");
  r.url = required_string(req, "url", "request.url");
  const auto url = boost::urls::parse_uri(r.url);
  if (!url || !url->has_authority() || url->host().empty()) {
    fail("request.url must be an absolute URL with a host");
  }
  r.host = url->host();
  std::transform(r.host.begin(), r.host.end(), r.host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  r.request.path = url->encoded_path().empty() ? "/" : std::string(url->encoded_path());
  if (url->has_query()) {
    *r.request.path += "?" + std::string(url->encoded_query());
  }
  r.http_version = normalize_version(optional_string(req, "httpVersion").value_or(""));
  r.request.http_version = r.http_version;
  r.request.headers = read_headers(req, "headers", "request.headers");
  r.request.trailers = read_headers(req, "_trailers", "request._trailers");
  if (json* post = member(req, "postData"); post != nullptr && post->is_object()) {
    if (auto text = read_text(*post, "request.postData")) {
      r.request_body = std::move(*text);
    } else if (json* params = member(*post, "params"); params != nullptr && params->is_array()) {
      r.request_body = encode_params(*params);
    }
    decoded = !member(*post, "_decodeError");
  }
  r.request.body_size = whole<std::uint64_t>(member(req, "bodySize"));
  if (!r.request.body_size) {
    r.request.body_size = r.request_body.size();
  }
  r.request.body_truncated = flag(req, "_bodyTruncated");
}

/** A response, or none: HAR's stand-in for a request without one is status 0 (browsers). */
void read_response(json& entry, capture::entry_record& r, bool& decoded) {
  auto& res = required_object(entry, "response", "response");
  json* status = member(res, "status");
  if (status == nullptr || !status->is_number_integer()) {
    fail("response.status must be an integer");
  }
  const auto code = whole<int>(status);
  if (!code || *code > 999) {
    fail("response.status must be 0 or an HTTP status code");
  }
  auto headers = read_headers(res, "headers", "response.headers");
  if (*code == 0 && headers.empty()) {
    return;
  }
  auto& out = r.response.emplace();
  out.status_code = *code;
  out.status_text = optional_string(res, "statusText").value_or("");
  out.http_version = normalize_version(optional_string(res, "httpVersion").value_or(""));
  out.headers = std::move(headers);
  out.trailers = read_headers(res, "_trailers", "response._trailers");
  std::optional<std::uint64_t> content_size;
  if (json* content = member(res, "content"); content != nullptr && content->is_object()) {
    if (auto text = read_text(*content, "response.content")) {
      r.response_body = std::move(*text);
    }
    content_size = whole<std::uint64_t>(member(*content, "size"));
    decoded = !member(*content, "_decodeError");
  }
  out.body_size = whole<std::uint64_t>(member(res, "bodySize"));
  if (!out.body_size) {
    out.body_size = content_size.value_or(r.response_body.size());
  }
  out.body_truncated = flag(res, "_bodyTruncated");
}

void read_timings(json& entry, capture::entry_record& r) {
  json* t = member(entry, "timings");
  if (t == nullptr || !t->is_object()) {
    return;
  }
  auto& out = r.timings;
  out.blocked = measured(*t, "blocked");
  out.dns = measured(*t, "dns");
  out.ssl = measured(*t, "ssl");
  out.connect = measured(*t, "connect");
  if (out.connect && out.ssl) {
    out.connect = std::max(*out.connect - *out.ssl, 0.0);  // HAR's connect includes ssl
  }
  out.send = measured(*t, "send");
  out.wait = measured(*t, "wait");
  out.receive = measured(*t, "receive");
}

std::optional<capture::net_address> read_address(json& entry, const char* key) {
  json* a = member(entry, key);
  if (a == nullptr || !a->is_object() || !member(*a, "ip")) {
    return std::nullopt;
  }
  return capture::net_address{optional_string(*a, "ip").value_or(""),
                              whole<std::uint16_t>(member(*a, "port"))};
}

std::optional<capture::http2_ref> read_stream(json& entry, const char* key) {
  json* s = member(entry, key);
  const auto id = s != nullptr ? optional_string(*s, "connectionId") : std::nullopt;
  if (!id) {
    return std::nullopt;
  }
  return capture::http2_ref{*id, whole<std::uint32_t>(member(*s, "streamId")).value_or(0)};
}

std::optional<capture::named_u16> read_named(json& tls, const char* key) {
  json* n = member(tls, key);
  const auto value = n != nullptr ? whole<std::uint16_t>(member(*n, "value")) : std::nullopt;
  if (!value) {
    return std::nullopt;
  }
  return capture::named_u16{*value, optional_string(*n, "name").value_or("")};
}

void read_tls(json& entry, capture::tls_details& out) {
  json* tls = member(entry, "_tls");
  if (tls == nullptr || !tls->is_object()) {
    return;
  }
  out.connection_id = optional_string(*tls, "connectionId");
  out.tls_version = read_named(*tls, "tlsVersion");
  out.cipher_suite = read_named(*tls, "cipherSuite");
  if (json* ja3 = member(*tls, "ja3"); ja3 != nullptr && ja3->is_object()) {
    out.ja3 = capture::ja3_fingerprint{optional_string(*ja3, "string").value_or(""),
                                       optional_string(*ja3, "hash").value_or("")};
  }
  if (json* ja4 = member(*tls, "ja4"); ja4 != nullptr && ja4->is_object()) {
    out.ja4 = capture::ja4_fingerprint{optional_string(*ja4, "raw").value_or(""),
                                       optional_string(*ja4, "hashed").value_or("")};
  }
}

void read_process(json& entry, capture::entry_record& r) {
  json* p = member(entry, "_process");
  const auto pid = p != nullptr ? whole<int>(member(*p, "pid")) : std::nullopt;
  if (pid) {
    std::promise<std::optional<capture::process_info>> ready;
    ready.set_value(capture::process_info{*pid, optional_string(*p, "name")});
    r.process = ready.get_future().share();
  }
}

/** `_error`: Hark's `{code, message}`, or a browser's string (`net::ERR_…`), kept as the message
 *  with the code `imported`. */
void read_error(json& entry, capture::entry_record& r) {
  json* e = member(entry, "_error");
  if (e != nullptr && e->is_object()) {
    r.error = capture::flow_error{optional_string(*e, "code").value_or("imported"),
                                  optional_string(*e, "message").value_or("")};
  } else if (e != nullptr && e->is_string() && !e->get_ref<std::string&>().empty()) {
    r.error = capture::flow_error{"imported", std::move(e->get_ref<std::string&>())};
  }
}

std::int64_t unix_us_of_seconds(const json* seconds, std::int64_t fallback) {
  if (seconds == nullptr || !seconds->is_number()) {
    return fallback;
  }
  const double s = seconds->get<double>();
  return std::isfinite(s) ? static_cast<std::int64_t>(std::llround(s * 1e6)) : fallback;
}

/** One Chrome DevTools message back into the stored form (the inverse of write_messages). */
std::optional<store::websocket_message> read_message(json& m, std::int64_t entry_started_us) {
  json* data = member(m, "data");
  const auto opcode = whole<int>(member(m, "opcode")).value_or(1);
  if (!m.is_object() || (data != nullptr && !data->is_string())) {
    return std::nullopt;
  }
  std::string payload = data != nullptr ? std::move(data->get_ref<std::string&>()) : "";
  store::websocket_message out;
  out.from_client = optional_string(m, "type") == "send";
  out.started_us = unix_us_of_seconds(member(m, "time"), entry_started_us);
  if (json* end = member(m, "_endTime")) {
    out.ended_us = unix_us_of_seconds(end, *out.started_us);
  }
  out.truncated = flag(m, "_truncated");
  switch (opcode) {
    case 1:
      out.type = "text";
      out.payload = std::move(payload);
      return out;
    case 8: {
      out.type = "close";
      const auto code = whole<std::uint16_t>(member(m, "_closeCode"));
      if (code) {
        out.payload = {static_cast<char>(*code >> 8), static_cast<char>(*code & 0xff)};
        out.payload += payload;
      }
      return out;
    }
    default:
      out.type = opcode == 2 ? "binary" : opcode == 9 ? "ping" : opcode == 10 ? "pong" : "unknown";
      auto bytes = base64::decode(payload);
      out.payload = bytes ? std::move(*bytes) : std::move(payload);
      return out;
  }
}

void read_extensions(json& entry, store::import_entry& out) {
  auto& r = out.record;
  r.client_addr = read_address(entry, "_clientAddr");
  r.remote_addr = read_address(entry, "_remoteAddr");
  if (!r.remote_addr) {
    if (auto ip = optional_string(entry, "serverIPAddress")) {
      r.remote_addr = capture::net_address{std::move(*ip), std::nullopt};
    }
  }
  read_tls(entry, r.tls);
  r.http2 = read_stream(entry, "_http2");
  r.upstream_http2 = read_stream(entry, "_upstreamHttp2");
  r.upstream_http_version = optional_string(entry, "_upstreamHttpVersion");
  r.transaction_type = optional_string(entry, "_transactionType").value_or("request");
  read_process(entry, r);
  read_error(entry, r);
  const auto started_us = timefmt::unix_us(r.timings.started_at);
  json* messages = member(entry, "_webSocketMessages");
  r.is_websocket = optional_string(entry, "_resourceType") == "websocket" ||
                   (messages != nullptr && messages->is_array());
  if (messages != nullptr && messages->is_array()) {
    for (auto& m : *messages) {
      if (auto message = read_message(m, started_us)) {
        out.messages.push_back(std::move(*message));
      }
    }
  }
}

store::import_entry read(json& entry) {
  if (!entry.is_object()) {
    fail("an entry must be an object");
  }
  store::import_entry out;
  auto& r = out.record;
  const auto started = optional_string(entry, "startedDateTime");
  const auto started_us = started ? timefmt::parse_time_us(*started) : std::nullopt;
  if (!started_us) {
    fail("startedDateTime must be an ISO 8601 date and time");
  }
  // The clock counts nanoseconds in 64 bits: a time outside 1678-2262 would overflow (found by
  // hark_har_import_fuzz). ULIDs start at 1970 anyway.
  constexpr std::int64_t year_2262_us = 9'200'000'000'000'000;
  if (*started_us < 0 || *started_us > year_2262_us) {
    fail("startedDateTime must be between 1970 and 2261");
  }
  r.timings.started_at = timefmt::clock::time_point(std::chrono::microseconds(*started_us));
  r.id = ids::new_ulid(r.timings.started_at);
  read_request(entry, r, out.request_body_decoded);
  read_response(entry, r, out.response_body_decoded);
  read_timings(entry, r);
  r.duration_ms = measured(entry, "_harkDuration");
  if (!r.duration_ms) {
    r.duration_ms = measured(entry, "time");
  }
  read_extensions(entry, out);
  return out;
}

}  // namespace

std::variant<store::import_entry, std::string> read_entry(json& entry) {
  try {
    return read(entry);
  } catch (const invalid_entry& e) {
    return e.reason;
  }
}

}  // namespace hark::api::har
