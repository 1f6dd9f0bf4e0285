#include "hark/capture/entry_json.hpp"

#include "hark/core/time.hpp"

namespace hark::capture {
namespace {

using nlohmann::json;

template <class T>
json or_null(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

/** `[[name, value], …]` in the order received. */
json headers_json(const header_list& headers) {
  json out = json::array();
  for (const auto& [name, value] : headers) {
    out.push_back(json::array({name, value}));
  }
  return out;
}

json address_json(const std::optional<net_address>& address) {
  if (!address) {
    return nullptr;
  }
  return {{"ip", address->ip}, {"port", or_null(address->port)}};
}

json named_json(const std::optional<named_u16>& named) {
  if (!named) {
    return nullptr;
  }
  return {{"value", named->value}, {"name", named->name}};
}

json stream_json(const std::optional<http2_ref>& ref) {
  if (!ref) {
    return nullptr;
  }
  return {{"connectionId", ref->connection_id}, {"streamId", ref->stream_id}};
}

json request_json(const request_record& r) {
  return {
      {"method", or_null(r.method)},
      {"path", or_null(r.path)},
      {"httpVersion", or_null(r.http_version)},
      {"headers", headers_json(r.headers)},
      {"bodySize", or_null(r.body_size)},
      {"bodyTruncated", r.body_truncated},
      {"trailers", headers_json(r.trailers)},
  };
}

json response_json(const std::optional<response_record>& r) {
  if (!r) {
    return nullptr;
  }
  return {
      {"httpVersion", or_null(r->http_version)}, {"statusCode", or_null(r->status_code)},
      {"statusText", or_null(r->status_text)},   {"headers", headers_json(r->headers)},
      {"bodySize", or_null(r->body_size)},       {"bodyTruncated", r->body_truncated},
      {"trailers", headers_json(r->trailers)},
  };
}

/** The seed's TlsSettings: never null itself, every member null for plain HTTP. */
json tls_json(const tls_details& tls) {
  json ja3 = nullptr;
  if (tls.ja3) {
    ja3 = {{"string", tls.ja3->string}, {"hash", tls.ja3->hash}};
  }
  json ja4 = nullptr;
  if (tls.ja4) {
    ja4 = {{"raw", tls.ja4->raw}, {"hashed", tls.ja4->hashed}};
  }
  return {
      {"connectionId", or_null(tls.connection_id)},
      {"tlsVersion", named_json(tls.tls_version)},
      {"cipherSuite", named_json(tls.cipher_suite)},
      {"ja3", std::move(ja3)},
      {"ja4", std::move(ja4)},
  };
}

json timings_json(const timing_record& t) {
  return {
      {"startedAt", timefmt::iso8601(t.started_at)},
      {"blocked", or_null(t.blocked)},
      {"dns", or_null(t.dns)},
      {"connect", or_null(t.connect)},
      {"send", or_null(t.send)},
      {"wait", or_null(t.wait)},
      {"receive", or_null(t.receive)},
      {"ssl", or_null(t.ssl)},
  };
}

/** The resolved process if the lookup has finished; never waits. */
json process_json(const std::shared_future<std::optional<process_info>>& process) {
  if (!process.valid() || process.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    return nullptr;
  }
  try {
    const auto& info = process.get();
    if (!info) {
      return nullptr;
    }
    return {{"pid", info->pid}, {"name", or_null(info->name)}};
  } catch (const std::exception&) {
    return nullptr;  // the resolver went away (broken promise): unknown, like not local
  }
}

json error_json(const std::optional<flow_error>& error) {
  if (!error) {
    return nullptr;
  }
  return {{"code", error->code}, {"message", error->message}};
}

}  // namespace

json to_json(const entry_record& record) {
  return {
      {"id", record.id},
      {"url", record.url},
      {"clientAddr", address_json(record.client_addr)},
      {"remoteAddr", address_json(record.remote_addr)},
      {"httpVersion", record.http_version},
      {"transactionType", record.transaction_type},
      {"request", request_json(record.request)},
      {"response", response_json(record.response)},
      {"isWebSocket", record.is_websocket},
      {"tls", tls_json(record.tls)},
      {"http2", stream_json(record.http2)},
      {"timings", timings_json(record.timings)},
      {"process", process_json(record.process)},
      // Extensions (SPEC §6.2); they never replace a seed field.
      {"sessionId", record.session_id},
      {"error", error_json(record.error)},
      {"upstreamHttpVersion", or_null(record.upstream_http_version)},
      {"upstreamHttp2", stream_json(record.upstream_http2)},
      {"duration", or_null(record.duration_ms)},
  };
}

}  // namespace hark::capture
