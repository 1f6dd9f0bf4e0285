// TLS control and observations: GET /api/tls/failures, GET/POST/DELETE /api/passthrough
// (SPEC §6.5, §6.6).

#include "reply.hpp"

#include "hark/core/time.hpp"
#include "hark/tls/handshake_log.hpp"

namespace hark::api {

namespace {

ojson pattern_json(const capture::passthrough_pattern& p) {
  ojson out;
  out["id"] = p.id;
  out["pattern"] = p.pattern;
  return out;
}

ojson named_json(const std::optional<capture::named_u16>& value) {
  return value ? ojson{{"value", value->value}, {"name", value->name}} : ojson(nullptr);
}

ojson optional_text(const std::optional<std::string>& value) {
  return value ? ojson(*value) : ojson(nullptr);
}

/** One logged message: where and when it was seen, then its decoding (type and fields). */
ojson event_json(const capture::tls_message& m) {
  ojson out;
  out["at"] = timefmt::iso8601(m.at);
  out["leg"] = m.leg == capture::tls_leg::client ? "client" : "upstream";
  out["side"] = m.side == capture::tls_side::client ? "client" : "server";
  const auto decoded = tls::describe_tls_message(m.content_type, m.bytes, m.version == 0x0304);
  out["type"] = decoded.at("type");
  for (const auto& [key, value] : decoded.items()) {
    if (key != "type") {
      out[key] = ojson(value);
    }
  }
  return out;
}

response registry_missing() {
  return error_reply(http::status::service_unavailable, "TLS interception is not running");
}

}  // namespace

ojson tls_connection_json(const capture::tls_connection_log& log) {
  const auto& d = log.details;
  ojson out;
  out["connectionId"] = log.connection_id;
  out["sessionId"] = log.session_id;
  out["at"] = timefmt::iso8601(log.at);
  out["clientAddr"] = capture::net_address_json(log.client_addr);
  out["sni"] = optional_text(log.sni);
  out["alpn"] = optional_text(log.alpn);
  out["tlsVersion"] = named_json(d.tls_version);
  out["cipherSuite"] = named_json(d.cipher_suite);
  out["ja3"] = d.ja3 ? ojson{{"string", d.ja3->string}, {"hash", d.ja3->hash}} : ojson(nullptr);
  out["ja4"] = d.ja4 ? ojson{{"raw", d.ja4->raw}, {"hashed", d.ja4->hashed}} : ojson(nullptr);
  out["failure"] = optional_text(log.failure);
  ojson events = ojson::array();
  for (const auto& m : log.messages) {
    events.push_back(event_json(m));
  }
  out["events"] = std::move(events);
  return out;
}

response get_tls_connection(call& c) {
  const auto log = c.ctx.catalog.get_tls_connection(c.segment(1));
  if (!log) {
    return error_reply(http::status::not_found, "TLS connection not found");
  }
  return json_reply(http::status::ok, tls_connection_json(*log));
}

response get_tls_failures(call& c) {
  if (c.ctx.tls == nullptr) {
    return registry_missing();
  }
  ojson list = ojson::array();
  for (const auto& f : c.ctx.tls->failures()) {
    list.push_back(capture::tls_failure_json(f));
  }
  ojson out;
  out["failures"] = std::move(list);
  return json_reply(http::status::ok, out);
}

response list_passthrough(call& c) {
  if (c.ctx.tls == nullptr) {
    return registry_missing();
  }
  ojson list = ojson::array();
  for (const auto& p : c.ctx.tls->passthrough()) {
    list.push_back(pattern_json(p));
  }
  ojson out;
  out["patterns"] = std::move(list);
  return json_reply(http::status::ok, out);
}

response add_passthrough(call& c) {
  if (c.ctx.tls == nullptr) {
    return registry_missing();
  }
  const auto body = parse_object_body(c.req);
  if (!body) {
    return error_reply(http::status::bad_request, "Invalid JSON body");
  }
  if (!body->contains("pattern")) {
    return error_reply(http::status::bad_request, "Field 'pattern' is required");
  }
  if (auto wrong = check_string_field(*body, "pattern")) {
    return std::move(*wrong);
  }
  auto pattern = (*body)["pattern"].get<std::string>();
  if (!capture::tls_registry::valid_pattern(pattern)) {
    return error_reply(http::status::bad_request,
                       "Invalid pattern: use a host name like example.com or *.example.com");
  }
  return json_reply(http::status::created, pattern_json(c.ctx.tls->add_passthrough(pattern)));
}

response delete_passthrough(call& c) {
  if (c.ctx.tls == nullptr) {
    return registry_missing();
  }
  if (!c.ctx.tls->remove_passthrough(c.segment(1))) {
    return error_reply(http::status::not_found, "Pattern not found");
  }
  return success_reply();
}

}  // namespace hark::api
