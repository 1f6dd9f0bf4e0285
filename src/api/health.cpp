// GET /api/health and the CA downloads (SPEC §6.6); none of them needs the API token.

#include "reply.hpp"

#include "hark/core/version.hpp"

#include <mutex>

namespace hark::api {
namespace {

ojson store_json(store::writer_stats* stats) {
  if (stats == nullptr) {
    return ojson{{"ok", true}, {"lastError", nullptr}};
  }
  const bool ok = stats->ok.load();
  std::string last_error;
  {
    std::lock_guard lock(stats->error_mutex);
    last_error = stats->last_error;
  }
  std::string pause_reason;
  {
    std::lock_guard lock(stats->error_mutex);
    pause_reason = stats->pause_reason;
  }
  ojson error = last_error.empty() ? ojson(nullptr) : ojson(last_error);
  // The capture log and the indexer behind it (SPEC §7): what waits to be indexed, and whether
  // recording is paused (log over --capture-log-max, or a disk error) and why.
  ojson capture{{"paused", stats->capture_paused.load()},
                {"pauseReason", pause_reason.empty() ? ojson(nullptr) : ojson(pause_reason)},
                {"logBytes", stats->log_bytes.load()},
                {"recordsAppended", stats->records_appended.load()},
                {"recordsIndexed", stats->records_indexed.load()},
                {"indexLagRecords", stats->queue_depth.load()},
                {"indexLagBytes", stats->lag_bytes.load()},
                {"indexLagSeconds", stats->index_lag_seconds()}};
  return ojson{{"ok", ok}, {"lastError", std::move(error)}, {"capture", std::move(capture)}};
}

/** Where clients send their traffic, for setting up a browser or a phone: the proxy's address
 *  (null when unknown) and where the CA certificate can be downloaded from. */
ojson proxy_json(const context& ctx) {
  ojson address = ctx.proxy_address.empty() ? ojson(nullptr) : ojson(ctx.proxy_address);
  return ojson{{"address", std::move(address)},
               {"caPem", "/api/ca.pem"},
               {"caDer", "/api/ca.der"},
               {"caThroughProxy", "http://hark.local/ca.pem"}};
}

/** Whether the other /api routes need the bearer token: a client (the web UI) asks for one
 *  before its first call instead of learning it from a 401. */
ojson auth_json(const context& ctx) {
  return ojson{{"tokenRequired", !ctx.api_token.empty()}};
}

response ca_reply(const std::string& bytes, std::string_view content_type) {
  if (bytes.empty()) {
    return error_reply(http::status::not_found, "CA not available");
  }
  response res{http::status::ok, 11};
  res.set(http::field::content_type, content_type);
  res.body() = bytes;
  return res;
}

}  // namespace

response get_health(call& c) {
  const auto uptime = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - c.ctx.started_at);
  // What the proxy does right now: the session it records into, if any. An active session
  // whose recording is paused reports {sessionId: null, isRecording: false}.
  const auto target = c.ctx.recording.target();
  ojson recording{{"sessionId", target ? ojson(*target) : ojson(nullptr)},
                  {"isRecording", target.has_value()}};
  return json_reply(http::status::ok, ojson{{"status", "ok"},
                                            {"version", hark::version},
                                            {"uptimeMs", uptime.count()},
                                            {"recording", std::move(recording)},
                                            {"proxy", proxy_json(c.ctx)},
                                            {"auth", auth_json(c.ctx)},
                                            {"store", store_json(c.ctx.writer_stats)}});
}

response get_ca_pem(call& c) {
  return ca_reply(c.ctx.ca_pem, "application/x-pem-file");
}

response get_ca_der(call& c) {
  return ca_reply(c.ctx.ca_der, "application/x-x509-ca-cert");
}

}  // namespace hark::api
