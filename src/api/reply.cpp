// Response builders and request-body helpers shared by the resource handlers.

#include "reply.hpp"

#include <utility>

namespace hark::api {

std::optional<std::string> call::param(std::string_view key) const {
  const auto it = params.find(boost::urls::string_view(key.data(), key.size()));
  if (it == params.end()) {
    return std::nullopt;
  }
  const auto param = *it;
  if (!param.has_value || param.value.empty()) {
    return std::nullopt;
  }
  return std::string(param.value);
}

std::string dump_json(const ojson& value) {
  return value.dump(-1, ' ', false, ojson::error_handler_t::replace);
}

std::string dump_json(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

response json_reply(http::status status, std::string body) {
  response res{status, 11};
  res.set(http::field::content_type, json_content_type);
  res.body() = std::move(body);
  return res;
}

response json_reply(http::status status, const ojson& value) {
  return json_reply(status, dump_json(value));
}

response error_reply(http::status status, std::string_view message) {
  return json_reply(status, ojson{{"error", message}});
}

response success_reply() {
  return json_reply(http::status::ok, ojson{{"success", true}});
}

std::optional<nlohmann::json> parse_object_body(const request& req) {
  // Like Express's json parser: no body means an empty object. Any JSON text is accepted
  // whatever the Content-Type, so that `curl -d '{…}'` without -H works too.
  if (req.body().empty()) {
    return nlohmann::json::object();
  }
  auto value = nlohmann::json::parse(req.body(), nullptr, false);
  if (value.is_discarded() || !value.is_object()) {
    return std::nullopt;
  }
  return value;
}

std::optional<response> check_string_field(const nlohmann::json& body, const char* name) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_string()) {
    return std::nullopt;
  }
  return error_reply(http::status::bad_request,
                     std::string("Field '") + name + "' must be a string");
}

std::optional<response> check_bool_field(const nlohmann::json& body, const char* name) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_boolean()) {
    return std::nullopt;
  }
  return error_reply(http::status::bad_request,
                     std::string("Field '") + name + "' must be a boolean");
}

void sync_recording(context& ctx) {
  auto active = ctx.catalog.active_session();
  if (!active) {
    ctx.recording.set(std::nullopt, false);
    return;
  }
  const bool recording = active->is_recording;
  ctx.recording.set(std::move(active->id), recording);
}

std::optional<std::string> resolve_session_id(context& ctx, const std::string& sid) {
  if (sid != "active") {
    return sid;
  }
  auto active = ctx.catalog.active_session();
  if (!active) {
    return std::nullopt;
  }
  return std::move(active->id);
}

response missing_in_session(context& ctx, const std::string& session_id, std::string_view what) {
  if (!ctx.catalog.get_session(session_id)) {
    return error_reply(http::status::not_found, "Session not found");
  }
  return error_reply(http::status::not_found, what);
}

}  // namespace hark::api
