// TLS control and observations: GET /api/tls/failures, GET/POST/DELETE /api/passthrough
// (SPEC §6.5, §6.6).

#include "reply.hpp"

namespace hark::api {

namespace {

ojson pattern_json(const capture::passthrough_pattern& p) {
  ojson out;
  out["id"] = p.id;
  out["pattern"] = p.pattern;
  return out;
}

response registry_missing() {
  return error_reply(http::status::service_unavailable, "TLS interception is not running");
}

}  // namespace

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
