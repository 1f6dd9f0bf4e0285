// HAR 1.2 entries from entry records, written straight to text with json::writer (no DOM: the
// export streams whole sessions at tens of MB/s).
//
// Mapping decisions (docs/decisions.md#har):
// - content.text is the content-decoded body (HAR §content), `compression` the bytes saved;
//   a body whose decoding fails is given as transferred, with `_decodeError`.
// - text when the bytes are UTF-8, else base64 with `encoding: "base64"` (postData too).
// - timings: -1 for a phase not measured (0 for send, wait and receive, which HAR requires to
//   be non-negative); HAR's `connect` includes `ssl` (HAR §timings), Hark's does not, so
//   connect = connect + ssl; `time` is the sum of the known phases.
#include "har.hpp"

#include "hark/api/content_decoding.hpp"
#include "hark/core/base64.hpp"
#include "hark/core/json_writer.hpp"
#include "hark/core/version.hpp"

#include <boost/beast/core/string.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/parse_query.hpp>

#include <algorithm>
#include <cctype>

namespace hark::api::har {
namespace {

using boost::beast::iequals;
using capture::header_list;

/** The value of the first header named `name` (case-insensitive); empty when there is none. */
std::string_view header(const header_list& headers, std::string_view name) {
  for (const auto& [key, value] : headers) {
    if (iequals(key, name)) {
      return value;
    }
  }
  return {};
}

/** Whether the headers name a content coding other than identity. */
bool content_coded(const header_list& headers) {
  const auto coding = header(headers, "content-encoding");
  return !coding.empty() && !iequals(coding, "identity");
}

/** A body as HAR gives it. */
struct har_body {
  std::string bytes;  ///< content-decoded, unless decoding failed
  std::string decode_error;
};

har_body decoded(store::stored_body&& body) {
  if (body.content_encoding.empty()) {
    return {std::move(body.bytes), {}};
  }
  decode_options options;
  options.allow_truncated = body.truncated;
  auto result = decode_content(body.bytes, body.content_encoding, options);
  if (!result.ok()) {
    return {std::move(body.bytes), std::move(result.error)};
  }
  return {std::move(result.bytes), {}};
}

/** `"text": …` as UTF-8 text, or base64 with `"encoding": "base64"`. */
void write_text(json::writer& w, std::string_view bytes) {
  if (json::is_valid_utf8(bytes)) {
    w.key("text").value(bytes);
    return;
  }
  w.key("text").value(base64::encode(bytes));
  w.key("encoding").value("base64");
}

void write_headers(json::writer& w, const header_list& headers) {
  w.begin_array();
  for (const auto& [name, value] : headers) {
    w.begin_object().key("name").value(name).key("value").value(value).end_object();
  }
  w.end_array();
}

void write_cookies(json::writer& w, const std::vector<cookie>& cookies) {
  w.begin_array();
  for (const auto& c : cookies) {
    w.begin_object().key("name").value(c.name).key("value").value(c.value);
    if (c.path) {
      w.key("path").value(*c.path);
    }
    if (c.domain) {
      w.key("domain").value(*c.domain);
    }
    if (c.expires) {
      w.key("expires").value(*c.expires);
    }
    w.key("httpOnly").value(c.http_only).key("secure").value(c.secure).end_object();
  }
  w.end_array();
}

void write_pair(json::writer& w, std::string_view name, std::string_view value) {
  w.begin_object().key("name").value(name).key("value").value(value).end_object();
}

/** The query parameters of `url`, percent-decoded by Boost.URL (`+` is a space). A URL that
 *  Boost.URL refuses (clients do send raw `|` or `"`) is split by hand, undecoded. */
void write_query(json::writer& w, std::string_view url) {
  w.begin_array();
  const auto parsed = boost::urls::parse_uri_reference(url);
  if (parsed) {
    for (const auto& p : parsed->params()) {
      write_pair(w, p.key, p.has_value ? std::string_view(p.value) : std::string_view());
    }
  } else if (const auto q = url.find('?'); q != std::string_view::npos) {
    auto query = url.substr(q + 1);
    query = query.substr(0, query.find('#'));
    while (!query.empty()) {
      const auto amp = query.find('&');
      const auto item = query.substr(0, amp);
      const auto eq = item.find('=');
      write_pair(w, item.substr(0, eq),
                 eq == std::string_view::npos ? std::string_view() : item.substr(eq + 1));
      query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    }
  }
  w.end_array();
}

/** HAR `params` of an `application/x-www-form-urlencoded` body (besides its text, as browsers
 *  write it). Nothing for a body Boost.URL cannot parse as a query. */
void write_form_params(json::writer& w, std::string_view mime_type, std::string_view text) {
  if (!iequals(mime_type.substr(0, mime_type.find(';')), "application/x-www-form-urlencoded")) {
    return;
  }
  const auto params = boost::urls::parse_query(text);
  if (!params) {
    return;
  }
  w.key("params").begin_array();
  for (const auto& p : *params) {
    write_pair(w, p.key, p.has_value ? std::string_view(p.value) : std::string_view());
  }
  w.end_array();
}

/** The size of an HTTP/1.x head as it was on the wire: start line, fields, empty line. -1 for
 *  other versions (HTTP/2 heads are HPACK-compressed: their size is not known here). */
std::int64_t head_size(std::string_view version, std::size_t start_line,
                       const header_list& headers) {
  if (!version.starts_with("HTTP/1") && !version.starts_with("HTTP/0.9")) {
    return -1;
  }
  std::size_t size = start_line + 2 + 2;  // CRLF after the start line and the empty line
  for (const auto& [name, value] : headers) {
    size += name.size() + 2 + value.size() + 2;  // "name: value\r\n"
  }
  return static_cast<std::int64_t>(size);
}

std::int64_t size_or_unknown(const std::optional<std::uint64_t>& size) {
  return size ? static_cast<std::int64_t>(*size) : -1;
}

void write_post_data(json::writer& w, const capture::request_record& r,
                     std::optional<store::stored_body>& body) {
  if (!body && r.body_size.value_or(0) == 0) {
    return;  // no request body
  }
  const auto mime_type = header(r.headers, "content-type");
  w.key("postData").begin_object();
  w.key("mimeType").value(mime_type);
  if (body) {
    auto text = decoded(std::move(*body));
    write_text(w, text.bytes);
    if (!text.decode_error.empty()) {
      w.key("_decodeError").value(text.decode_error);
    } else if (json::is_valid_utf8(text.bytes)) {
      write_form_params(w, mime_type, text.bytes);
    }
  } else {
    w.key("text").value("");
  }
  w.end_object();
}

void write_request(json::writer& w, const capture::entry_record& e,
                   std::optional<store::stored_body>& body) {
  const auto& r = e.request;
  const std::string_view method = r.method ? std::string_view(*r.method) : std::string_view();
  const std::string_view version = r.http_version ? *r.http_version : e.http_version;
  const std::string_view path = r.path ? std::string_view(*r.path) : std::string_view();
  w.begin_object();
  w.key("method").value(method);
  w.key("url").value(e.url);
  w.key("httpVersion").value(version);
  w.key("cookies");
  write_cookies(w, request_cookies(r.headers));
  w.key("headers");
  write_headers(w, r.headers);
  w.key("queryString");
  write_query(w, e.url);
  write_post_data(w, r, body);
  w.key("headersSize")
      .value(head_size(version, method.size() + 1 + path.size() + 1 + version.size(), r.headers));
  w.key("bodySize").value(size_or_unknown(r.body_size));
  if (r.body_truncated) {
    w.key("_bodyTruncated").value(true);
  }
  if (!r.trailers.empty()) {
    w.key("_trailers");
    write_headers(w, r.trailers);
  }
  w.end_object();
}

/** `content`: the decoded body, its size and the bytes its content coding saved. */
void write_content(json::writer& w, const capture::response_record& r,
                   std::optional<store::stored_body>& body) {
  const auto mime_type = header(r.headers, "content-type");
  w.key("content").begin_object();
  if (!body) {
    w.key("size").value(0).key("mimeType").value(mime_type.empty() ? "x-unknown" : mime_type);
    w.end_object();
    return;
  }
  const bool truncated = body->truncated;
  auto text = decoded(std::move(*body));
  const auto size = static_cast<std::int64_t>(text.bytes.size());
  w.key("size").value(size);
  if (text.decode_error.empty() && !truncated && content_coded(r.headers) && r.body_size &&
      size >= static_cast<std::int64_t>(*r.body_size)) {
    w.key("compression").value(size - static_cast<std::int64_t>(*r.body_size));
  }
  w.key("mimeType").value(mime_type.empty() ? "x-unknown" : mime_type);
  write_text(w, text.bytes);
  if (!text.decode_error.empty()) {
    w.key("_decodeError").value(text.decode_error);
  }
  w.end_object();
}

/** A response, or HAR's stand-in for none (status 0, as browsers write a failed request). */
void write_response(json::writer& w, const capture::entry_record& e,
                    std::optional<store::stored_body>& body) {
  w.begin_object();
  if (!e.response) {
    w.key("status").value(0).key("statusText").value("").key("httpVersion").value("");
    w.key("cookies").begin_array().end_array().key("headers").begin_array().end_array();
    w.key("content").begin_object().key("size").value(0).key("mimeType").value("x-unknown");
    w.end_object();
    w.key("redirectURL").value("").key("headersSize").value(-1).key("bodySize").value(-1);
    w.end_object();
    return;
  }
  const auto& r = *e.response;
  const std::string_view version = r.http_version ? std::string_view(*r.http_version) : "";
  const std::string_view reason = r.status_text ? std::string_view(*r.status_text) : "";
  w.key("status").value(r.status_code.value_or(0));
  w.key("statusText").value(reason);
  w.key("httpVersion").value(version);
  w.key("cookies");
  write_cookies(w, response_cookies(r.headers, e.timings.started_at));
  w.key("headers");
  write_headers(w, r.headers);
  write_content(w, r, body);
  w.key("redirectURL").value(header(r.headers, "location"));
  w.key("headersSize").value(head_size(version, version.size() + 5 + reason.size(), r.headers));
  w.key("bodySize").value(size_or_unknown(r.body_size));
  if (r.body_truncated) {
    w.key("_bodyTruncated").value(true);
  }
  if (!r.trailers.empty()) {
    w.key("_trailers");
    write_headers(w, r.trailers);
  }
  w.end_object();
}

double known(const std::optional<double>& phase) {
  return phase && *phase >= 0 ? *phase : -1;
}

/** HAR's `connect` includes the TLS handshake (HAR §timings); Hark measures them apart. */
double har_connect(const capture::timing_record& t) {
  const double connect = known(t.connect);
  return connect >= 0 && known(t.ssl) >= 0 ? connect + *t.ssl : connect;
}

/** `time`: the sum of the known phases (HAR §entries); the measured duration when they add up
 *  to nothing (none measured: a failed exchange, or an entry imported without timings). */
double total_time(const capture::entry_record& e) {
  const auto& t = e.timings;
  double sum = 0;
  for (const double phase : {known(t.blocked), known(t.dns), har_connect(t), known(t.send),
                             known(t.wait), known(t.receive)}) {
    sum += std::max(phase, 0.0);
  }
  return sum > 0 ? sum : std::max(e.duration_ms.value_or(0), 0.0);
}

void write_timings(json::writer& w, const capture::timing_record& t) {
  w.begin_object();
  w.key("blocked").value(known(t.blocked));
  w.key("dns").value(known(t.dns));
  w.key("connect").value(har_connect(t));
  w.key("send").value(std::max(known(t.send), 0.0));
  w.key("wait").value(std::max(known(t.wait), 0.0));
  w.key("receive").value(std::max(known(t.receive), 0.0));
  w.key("ssl").value(known(t.ssl));
  w.end_object();
}

/** Only an address literal is a valid `serverIPAddress` (the schema checks ipv4/ipv6). */
bool is_ip_literal(std::string_view ip) {
  return !ip.empty() && std::all_of(ip.begin(), ip.end(), [](char c) {
    return std::isxdigit(static_cast<unsigned char>(c)) != 0 || c == '.' || c == ':';
  });
}

void write_address(json::writer& w, const char* key, const std::optional<capture::net_address>& a) {
  if (!a) {
    return;
  }
  w.key(key).begin_object().key("ip").value(a->ip).key("port");
  if (a->port) {
    w.value(static_cast<unsigned>(*a->port));
  } else {
    w.null();
  }
  w.end_object();
}

void write_stream(json::writer& w, const char* key, const std::optional<capture::http2_ref>& s) {
  if (s) {
    w.key(key).begin_object().key("connectionId").value(s->connection_id);
    w.key("streamId").value(static_cast<std::uint64_t>(s->stream_id)).end_object();
  }
}

void write_named(json::writer& w, const char* key, const std::optional<capture::named_u16>& n) {
  w.key(key);
  if (!n) {
    w.null();
    return;
  }
  w.begin_object().key("value").value(static_cast<unsigned>(n->value));
  w.key("name").value(n->name).end_object();
}

/** `_tls`: the entry's TlsSettings (seed 002), when the client connection was TLS. */
void write_tls(json::writer& w, const capture::tls_details& tls) {
  if (!tls.connection_id && !tls.tls_version) {
    return;
  }
  w.key("_tls").begin_object();
  w.key("connectionId").value(tls.connection_id);
  write_named(w, "tlsVersion", tls.tls_version);
  write_named(w, "cipherSuite", tls.cipher_suite);
  w.key("ja3");
  if (tls.ja3) {
    w.begin_object().key("string").value(tls.ja3->string).key("hash").value(tls.ja3->hash);
    w.end_object();
  } else {
    w.null();
  }
  w.key("ja4");
  if (tls.ja4) {
    w.begin_object().key("raw").value(tls.ja4->raw).key("hashed").value(tls.ja4->hashed);
    w.end_object();
  } else {
    w.null();
  }
  w.end_object();
}

void write_process(json::writer& w, const capture::entry_record& e) {
  if (!e.process.valid() ||
      e.process.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    return;
  }
  const auto& info = e.process.get();
  if (info) {
    w.key("_process").begin_object().key("pid").value(info->pid);
    w.key("name").value(info->name).end_object();
  }
}

/** Chrome DevTools' opcode for a stored message type (RFC 6455 §5.2); 3 (reserved) for
 *  `unknown`, whose opcode is not kept. */
int opcode_of(std::string_view type) {
  if (type == "text") {
    return 1;
  }
  if (type == "binary") {
    return 2;
  }
  if (type == "close") {
    return 8;
  }
  if (type == "ping") {
    return 9;
  }
  return type == "pong" ? 10 : 3;
}

double seconds(std::int64_t unix_us) {
  return static_cast<double>(unix_us) / 1e6;
}

/** `_webSocketMessages` in Chrome DevTools' format: {type: send|receive, time (Unix seconds),
 *  opcode, data}; binary payloads in base64; a close frame's code as `_closeCode`. */
void write_messages(json::writer& w, const std::vector<store::websocket_message>& messages,
                    std::int64_t entry_started_us) {
  w.key("_webSocketMessages").begin_array();
  for (const auto& m : messages) {
    w.begin_object();
    w.key("type").value(m.from_client ? "send" : "receive");
    w.key("time").value(seconds(m.started_us.value_or(entry_started_us)));
    const int opcode = opcode_of(m.type);
    w.key("opcode").value(opcode);
    if (opcode == 1) {
      w.key("data").value(m.payload);
    } else if (opcode == 8) {
      w.key("data").value(m.payload.size() > 2 ? std::string_view(m.payload).substr(2) : "");
      if (m.payload.size() >= 2) {
        w.key("_closeCode")
            .value((static_cast<unsigned char>(m.payload[0]) << 8) |
                   static_cast<unsigned char>(m.payload[1]));
      }
    } else {
      w.key("data").value(base64::encode(m.payload));
    }
    if (m.ended_us) {
      w.key("_endTime").value(seconds(*m.ended_us));
    }
    if (m.truncated) {
      w.key("_truncated").value(true);
    }
    w.end_object();
  }
  w.end_array();
}

/** Hark's extensions, each with a leading underscore (HAR §custom fields). */
void write_extensions(json::writer& w, const entry_source& s) {
  const auto& e = s.record;
  w.key("_harkEntryId").value(e.id);
  write_address(w, "_clientAddr", e.client_addr);
  write_address(w, "_remoteAddr", e.remote_addr);
  write_tls(w, e.tls);
  write_stream(w, "_http2", e.http2);
  write_stream(w, "_upstreamHttp2", e.upstream_http2);
  if (e.upstream_http_version) {
    w.key("_upstreamHttpVersion").value(*e.upstream_http_version);
  }
  if (e.transaction_type != "request") {
    w.key("_transactionType").value(e.transaction_type);
  }
  write_process(w, e);
  if (e.error) {
    w.key("_error").begin_object().key("code").value(e.error->code);
    w.key("message").value(e.error->message).end_object();
  }
  if (e.duration_ms) {
    w.key("_harkDuration").value(*e.duration_ms);
  }
  if (e.is_websocket) {
    w.key("_resourceType").value("websocket");
    write_messages(w, s.messages, timefmt::unix_us(e.timings.started_at));
  }
}

}  // namespace

void begin_log(std::string& out) {
  json::writer w(out);
  w.begin_object().key("log").begin_object();
  w.key("version").value("1.2");
  w.key("creator").begin_object().key("name").value("Hark").key("version").value(hark::version);
  w.end_object();
  w.key("pages").begin_array().end_array();
  out += R"(,"entries":[)";
}

void end_log(std::string& out) {
  out += "]}}";
}

void write_entry(std::string& out, entry_source&& source) {
  const auto& e = source.record;
  json::writer w(out);
  w.begin_object();
  w.key("startedDateTime").value(timefmt::iso8601(e.timings.started_at));
  w.key("time").value(total_time(e));
  w.key("request");
  write_request(w, e, source.bodies.request);
  w.key("response");
  write_response(w, e, source.bodies.response);
  w.key("cache").begin_object().end_object();
  w.key("timings");
  write_timings(w, e.timings);
  if (e.remote_addr && is_ip_literal(e.remote_addr->ip)) {
    w.key("serverIPAddress").value(e.remote_addr->ip);
  }
  if (e.tls.connection_id) {
    w.key("connection").value(*e.tls.connection_id);
  } else if (e.client_addr && e.client_addr->port) {
    w.key("connection").value(std::to_string(*e.client_addr->port));
  }
  write_extensions(w, source);
  w.end_object();
}

std::string attachment_disposition(std::string_view name) {
  std::string ascii;
  std::string exact;  // RFC 8187 percent-encoding of the UTF-8 name
  bool plain = true;
  constexpr char hex[] = "0123456789ABCDEF";
  for (const char ch : name.substr(0, 200)) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unsafe = c < 0x20 || c == 0x7f || c == '"' || c == '\\' || c == '/' || c == ':';
    ascii += unsafe || c >= 0x80 ? '_' : ch;
    plain = plain && c < 0x80;
    if (std::isalnum(c) != 0 || std::string_view("!#$&+-.^_`|~").find(ch) != std::string::npos) {
      exact += ch;
    } else if (!unsafe || c >= 0x80) {
      exact.append({'%', hex[c >> 4], hex[c & 15]});
    } else {
      exact += '_';
    }
  }
  if (!ascii.empty() && ascii.front() == '.') {
    ascii.front() = '_';  // not a hidden file
  }
  if (ascii.empty()) {
    ascii = "session";
  }
  std::string out = "attachment; filename=\"" + ascii + ".har\"";
  if (!plain) {
    out += "; filename*=UTF-8''" + exact + ".har";
  }
  return out;
}

}  // namespace hark::api::har
