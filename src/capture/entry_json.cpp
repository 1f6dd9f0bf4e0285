#include "hark/capture/entry_json.hpp"

#include "hark/core/json_writer.hpp"
#include "hark/core/time.hpp"

namespace hark::capture {
namespace {

/** `[[name, value], …]` in the order received. */
void write_headers(json::writer& w, const header_list& headers) {
  w.begin_array();
  for (const auto& [name, value] : headers) {
    w.begin_array().value(name).value(value).end_array();
  }
  w.end_array();
}

void write_address(json::writer& w, const std::optional<net_address>& address) {
  if (!address) {
    w.null();
    return;
  }
  w.begin_object().key("ip").value(address->ip).key("port");
  if (address->port) {
    w.value(static_cast<unsigned>(*address->port));
  } else {
    w.null();
  }
  w.end_object();
}

void write_named(json::writer& w, const std::optional<named_u16>& named) {
  if (!named) {
    w.null();
    return;
  }
  w.begin_object().key("value").value(static_cast<unsigned>(named->value));
  w.key("name").value(named->name).end_object();
}

void write_stream(json::writer& w, const std::optional<http2_ref>& ref) {
  if (!ref) {
    w.null();
    return;
  }
  w.begin_object().key("connectionId").value(ref->connection_id);
  w.key("streamId").value(static_cast<std::uint64_t>(ref->stream_id)).end_object();
}

void write_request(json::writer& w, const request_record& r) {
  w.begin_object();
  w.key("method").value(r.method);
  w.key("path").value(r.path);
  w.key("httpVersion").value(r.http_version);
  w.key("headers");
  write_headers(w, r.headers);
  w.key("bodySize").value(r.body_size);
  w.key("bodyTruncated").value(r.body_truncated);
  w.key("trailers");
  write_headers(w, r.trailers);
  w.end_object();
}

void write_response(json::writer& w, const std::optional<response_record>& r) {
  if (!r) {
    w.null();
    return;
  }
  w.begin_object();
  w.key("httpVersion").value(r->http_version);
  w.key("statusCode").value(r->status_code);
  w.key("statusText").value(r->status_text);
  w.key("headers");
  write_headers(w, r->headers);
  w.key("bodySize").value(r->body_size);
  w.key("bodyTruncated").value(r->body_truncated);
  w.key("trailers");
  write_headers(w, r->trailers);
  w.end_object();
}

/** The seed's TlsSettings: never null itself, every member null for plain HTTP. */
void write_tls(json::writer& w, const tls_details& tls) {
  w.begin_object();
  w.key("connectionId").value(tls.connection_id);
  w.key("tlsVersion");
  write_named(w, tls.tls_version);
  w.key("cipherSuite");
  write_named(w, tls.cipher_suite);
  w.key("ja3");
  if (tls.ja3) {
    w.begin_object().key("string").value(tls.ja3->string);
    w.key("hash").value(tls.ja3->hash).end_object();
  } else {
    w.null();
  }
  w.key("ja4");
  if (tls.ja4) {
    w.begin_object().key("raw").value(tls.ja4->raw);
    w.key("hashed").value(tls.ja4->hashed).end_object();
  } else {
    w.null();
  }
  w.end_object();
}

void write_timings(json::writer& w, const timing_record& t) {
  w.begin_object();
  w.key("startedAt").value(timefmt::iso8601(t.started_at));
  w.key("blocked").value(t.blocked);
  w.key("dns").value(t.dns);
  w.key("connect").value(t.connect);
  w.key("send").value(t.send);
  w.key("wait").value(t.wait);
  w.key("receive").value(t.receive);
  w.key("ssl").value(t.ssl);
  w.end_object();
}

/** The resolved process if the lookup has finished; never waits. */
void write_process(json::writer& w, const std::shared_future<std::optional<process_info>>& p) {
  if (!p.valid() || p.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    w.null();
    return;
  }
  try {
    const auto& info = p.get();
    if (!info) {
      w.null();
      return;
    }
    w.begin_object().key("pid").value(info->pid).key("name").value(info->name).end_object();
  } catch (const std::exception&) {
    w.null();  // the resolver went away (broken promise): unknown, like not local
  }
}

void write_error(json::writer& w, const std::optional<flow_error>& error) {
  if (!error) {
    w.null();
    return;
  }
  w.begin_object().key("code").value(error->code).key("message").value(error->message);
  w.end_object();
}

}  // namespace

std::string to_json_string(const entry_record& record) {
  std::string out;
  out.reserve(2048);
  append_json_string(out, record);
  return out;
}

void append_json_string(std::string& out, const entry_record& record) {
  json::writer w(out);
  // Seed fields first, in the seed's order.
  w.begin_object();
  w.key("id").value(record.id);
  w.key("url").value(record.url);
  w.key("clientAddr");
  write_address(w, record.client_addr);
  w.key("remoteAddr");
  write_address(w, record.remote_addr);
  w.key("httpVersion").value(record.http_version);
  w.key("transactionType").value(record.transaction_type);
  w.key("request");
  write_request(w, record.request);
  w.key("response");
  write_response(w, record.response);
  w.key("isWebSocket").value(record.is_websocket);
  w.key("tls");
  write_tls(w, record.tls);
  w.key("http2");
  write_stream(w, record.http2);
  w.key("timings");
  write_timings(w, record.timings);
  w.key("process");
  write_process(w, record.process);
  // Extensions (SPEC §6.2); they never replace a seed field.
  w.key("sessionId").value(record.session_id);
  w.key("error");
  write_error(w, record.error);
  w.key("upstreamHttpVersion").value(record.upstream_http_version);
  w.key("upstreamHttp2");
  write_stream(w, record.upstream_http2);
  w.key("duration").value(record.duration_ms);
  w.end_object();
}

nlohmann::json to_json(const entry_record& record) {
  return nlohmann::json::parse(to_json_string(record));
}

}  // namespace hark::capture
