// Sessions API (SPEC §6.1, seed 000): paths, status codes, field names and error strings exactly
// as the seed gives them.

#include "reply.hpp"

#include "hark/core/time.hpp"

#include <utility>

namespace hark::api {
namespace {

/** The seed's Session object, fields in the seed's order. */
ojson session_json(const store::session& s) {
  return ojson{{"id", s.id},
               {"name", s.name},
               {"isActive", s.is_active},
               {"isRecording", s.is_recording},
               {"createdAt", s.created_at},
               {"updatedAt", s.updated_at},
               {"trafficCount", s.traffic_count},
               {"totalBytes", s.total_bytes}};
}

response session_reply(http::status status, const store::session& s) {
  return json_reply(status, session_json(s));
}

bool has_listeners(const context& ctx) {
  return ctx.events != nullptr && ctx.events->has_subscribers();
}

const char* action_of(capture::event_type type) {
  switch (type) {
    case capture::event_type::session_created:
      return "created";
    case capture::event_type::session_deleted:
      return "deleted";
    default:
      return "updated";
  }
}

/** Publishes the `session` event `{"action", "session"}` to /api/events subscribers, if any. */
void publish_session_event(context& ctx, capture::event_type type, const std::string& id,
                           ojson session) {
  if (has_listeners(ctx)) {
    ctx.events->publish(
        type, id, dump_json(ojson{{"action", action_of(type)}, {"session", std::move(session)}}));
  }
}

void publish_session(context& ctx, capture::event_type type, const store::session& s) {
  if (has_listeners(ctx)) {
    publish_session_event(ctx, type, s.id, session_json(s));
  }
}

/** The active session's id, looked up only when someone listens to events: activating another
 *  session deactivates it, which is a change of its own to announce. */
std::optional<std::string> active_id_if_listened(context& ctx) {
  if (!has_listeners(ctx)) {
    return std::nullopt;
  }
  auto active = ctx.catalog.active_session();
  return active ? std::optional(std::move(active->id)) : std::nullopt;
}

/** After `activated` became the active session: `session` updated for the one it replaced
 *  (now inactive), then for `activated`. */
void publish_activation(context& ctx, const std::optional<std::string>& previous,
                        const store::session& activated) {
  if (previous && *previous != activated.id) {
    publish_session_updated(ctx, *previous);
  }
  publish_session(ctx, capture::event_type::session_updated, activated);
}

response session_not_found() {
  return error_reply(http::status::not_found, "Session not found");
}

response invalid_json() {
  return error_reply(http::status::bad_request, "Invalid JSON body");
}

/** The PATCH body as a session_patch, or the 400 reply for it. */
std::optional<response> read_patch(const request& req, store::session_patch& patch) {
  const auto body = parse_object_body(req);
  if (!body) {
    return invalid_json();
  }
  if (auto bad = check_string_field(*body, "name")) {
    return bad;
  }
  if (auto bad = check_bool_field(*body, "isActive")) {
    return bad;
  }
  if (auto bad = check_bool_field(*body, "isRecording")) {
    return bad;
  }
  if (const auto it = body->find("name"); it != body->end()) {
    patch.name = it->get<std::string>();
  }
  if (const auto it = body->find("isActive"); it != body->end()) {
    patch.is_active = it->get<bool>();
  }
  if (const auto it = body->find("isRecording"); it != body->end()) {
    patch.is_recording = it->get<bool>();
  }
  return std::nullopt;
}

}  // namespace

void publish_session_created(context& ctx, const store::session& s) {
  publish_session(ctx, capture::event_type::session_created, s);
}

void publish_session_updated(context& ctx, const std::string& session_id) {
  if (!has_listeners(ctx)) {
    return;
  }
  if (const auto s = ctx.catalog.get_session(session_id)) {
    publish_session(ctx, capture::event_type::session_updated, *s);
  }
}

response list_sessions(call& c) {
  auto sessions = ojson::array();
  for (const auto& s : c.ctx.catalog.list_sessions()) {
    sessions.push_back(session_json(s));
  }
  return json_reply(http::status::ok, ojson{{"sessions", std::move(sessions)}});
}

response create_session(call& c) {
  const auto body = parse_object_body(c.req);
  if (!body) {
    return invalid_json();
  }
  if (auto bad = check_string_field(*body, "name")) {
    return std::move(*bad);
  }
  const auto now = timefmt::clock::now();
  // The seed's reference falls back to the generated name for a missing or empty name.
  std::string name = body->value("name", std::string());
  if (name.empty()) {
    name = timefmt::default_session_name(now);
  }
  // A new session is neither active nor recording, so the recording target does not change.
  const auto created = c.ctx.catalog.create_session(name, timefmt::unix_ms(now));
  publish_session(c.ctx, capture::event_type::session_created, created);
  return session_reply(http::status::created, created);
}

response get_active_session(call& c) {
  const auto active = c.ctx.catalog.active_session();
  if (!active) {
    return error_reply(http::status::not_found, "No active session");
  }
  return session_reply(http::status::ok, *active);
}

response get_session(call& c) {
  const auto s = c.ctx.catalog.get_session(c.segment(1));
  if (!s) {
    return session_not_found();
  }
  return session_reply(http::status::ok, *s);
}

response update_session(call& c) {
  store::session_patch patch;
  if (auto bad = read_patch(c.req, patch)) {
    return std::move(*bad);
  }
  const auto previous = patch.is_active == true ? active_id_if_listened(c.ctx) : std::nullopt;
  const auto updated = c.ctx.catalog.update_session(c.segment(1), patch, timefmt::now_ms());
  if (!updated) {
    return session_not_found();
  }
  sync_recording(c.ctx);
  publish_activation(c.ctx, previous, *updated);
  return session_reply(http::status::ok, *updated);
}

response activate_session(call& c) {
  const auto previous = active_id_if_listened(c.ctx);
  const auto activated = c.ctx.catalog.activate_session(c.segment(1), timefmt::now_ms());
  if (!activated) {
    return session_not_found();
  }
  sync_recording(c.ctx);
  publish_activation(c.ctx, previous, *activated);
  return session_reply(http::status::ok, *activated);
}

response delete_session(call& c) {
  const auto& id = c.segment(1);
  if (!c.ctx.catalog.delete_session(id)) {
    return session_not_found();
  }
  sync_recording(c.ctx);
  publish_session_event(c.ctx, capture::event_type::session_deleted, id, ojson{{"id", id}});
  return success_reply();
}

}  // namespace hark::api
