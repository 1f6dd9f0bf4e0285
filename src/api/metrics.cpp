// GET /metrics — Prometheus text exposition format 0.0.4 (SPEC §6.6).

#include "reply.hpp"

#include <array>

namespace hark::api {

namespace {

void family(std::string& out, const char* name, const char* type, const char* help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void sample(std::string& out, const char* name, std::string_view labels, std::uint64_t value) {
  out.append(name);
  if (!labels.empty()) {
    out.append("{").append(labels).append("}");
  }
  out.append(" ").append(std::to_string(value)).append("\n");
}

void proxy_families(std::string& out, const proxy_metrics& m) {
  family(out, "hark_connections_open", "gauge", "Client connections open now.");
  sample(out, "hark_connections_open", "", m.connections_open.load());
  family(out, "hark_connections_total", "counter", "Client connections accepted.");
  sample(out, "hark_connections_total", "", m.connections_total.load());
  family(out, "hark_connections_refused_total", "counter",
         "Client connections closed at once because --max-connections were open.");
  sample(out, "hark_connections_refused_total", "", m.connections_refused.load());
  family(out, "hark_accept_pauses_total", "counter",
         "Pauses of the proxy's accept loop for lack of descriptors or memory.");
  sample(out, "hark_accept_pauses_total", "", m.accept_pauses.load());
  family(out, "hark_tunnels_relayed_total", "counter",
         "CONNECT tunnels relayed byte for byte (passthrough, unknown protocols).");
  sample(out, "hark_tunnels_relayed_total", "", m.tunnels_relayed.load());

  family(out, "hark_requests_total", "counter", "Exchanges by client protocol and outcome.");
  constexpr std::array<const char*, proxy_metrics::protocols> protocols{"http/1.1", "https/1.1",
                                                                        "h2c", "h2"};
  constexpr std::array<const char*, proxy_metrics::outcomes> outcomes{"1xx", "2xx", "3xx",
                                                                      "4xx", "5xx", "failed"};
  for (std::size_t p = 0; p < protocols.size(); ++p) {
    for (std::size_t o = 0; o < outcomes.size(); ++o) {
      const auto labels =
          std::string("protocol=\"") + protocols[p] + "\",status=\"" + outcomes[o] + "\"";
      sample(out, "hark_requests_total", labels, m.requests[p][o].load());
    }
  }
  family(out, "hark_body_bytes_total", "counter",
         "Body bytes relayed (chunked framing removed), by direction.");
  sample(out, "hark_body_bytes_total", "direction=\"request\"", m.request_body_bytes.load());
  sample(out, "hark_body_bytes_total", "direction=\"response\"", m.response_body_bytes.load());

  family(out, "hark_tls_failures_total", "counter",
         "TLS handshakes with clients that did not complete, by reason.");
  constexpr std::array<const char*, proxy_metrics::tls_failures> reasons{
      "client_alert", "invalid_client_hello", "closed_early", "handshake_error"};
  for (std::size_t r = 0; r < reasons.size(); ++r) {
    sample(out, "hark_tls_failures_total", std::string("reason=\"") + reasons[r] + "\"",
           m.tls_handshake_failures[r].load());
  }
}

void store_families(std::string& out, store::writer_stats& s) {
  family(out, "hark_store_queue_depth", "gauge",
         "Index lag: records in the capture log not yet indexed.");
  sample(out, "hark_store_queue_depth", "", s.queue_depth.load());
  family(out, "hark_store_index_lag_records", "gauge",
         "Records in the capture log not yet indexed into the database.");
  sample(out, "hark_store_index_lag_records", "", s.queue_depth.load());
  family(out, "hark_store_index_lag_seconds", "gauge",
         "How long the oldest record not yet indexed has waited.");
  out.append("hark_store_index_lag_seconds ")
      .append(std::to_string(s.index_lag_seconds()))
      .append("\n");
  family(out, "hark_capture_log_records_total", "counter", "Records appended to the capture log.");
  sample(out, "hark_capture_log_records_total", "", s.records_appended.load());
  family(out, "hark_store_index_lag_bytes", "gauge",
         "Bytes of capture log not yet indexed (a backlog from an earlier run included).");
  sample(out, "hark_store_index_lag_bytes", "", s.lag_bytes.load());
  family(out, "hark_capture_log_bytes", "gauge", "Bytes of capture log segments on disk.");
  sample(out, "hark_capture_log_bytes", "", s.log_bytes.load());
  family(out, "hark_capture_paused", "gauge",
         "1 while recording is paused (capture log over --capture-log-max, or a disk error).");
  sample(out, "hark_capture_paused", "", s.capture_paused.load() ? 1 : 0);
  family(out, "hark_capture_refused_total", "counter",
         "Records not recorded because recording was paused or the store had stopped.");
  sample(out, "hark_capture_refused_total", "", s.records_refused.load());
  family(out, "hark_store_entries_written_total", "counter", "Entries committed to the store.");
  sample(out, "hark_store_entries_written_total", "", s.entries_written.load());
  family(out, "hark_store_entries_dropped_total", "counter",
         "Entries lost to a failed write (a disk or database error); never for lack of memory.");
  sample(out, "hark_store_entries_dropped_total", "",
         s.entries_dropped.load() + s.log_records_lost.load());
  family(out, "hark_store_ws_messages_written_total", "counter",
         "WebSocket messages committed to the store.");
  sample(out, "hark_store_ws_messages_written_total", "", s.ws_messages_written.load());
  family(out, "hark_store_ws_messages_dropped_total", "counter",
         "WebSocket messages dropped (entry not stored, or a failed write).");
  sample(out, "hark_store_ws_messages_dropped_total", "", s.ws_messages_dropped.load());
  family(out, "hark_store_last_write_seconds", "gauge", "Duration of the last write transaction.");
  out.append("hark_store_last_write_seconds ")
      .append(std::to_string(static_cast<double>(s.last_batch_us.load()) / 1e6))
      .append("\n");
  family(out, "hark_store_ok", "gauge", "1 when the last write succeeded.");
  sample(out, "hark_store_ok", "", s.ok.load() ? 1 : 0);
}

void event_families(std::string& out, const capture::event_hub& events) {
  family(out, "hark_events_subscribers", "gauge", "Clients following GET /api/events now.");
  sample(out, "hark_events_subscribers", "", events.subscriber_count());
  family(out, "hark_events_dropped_subscribers_total", "counter",
         "Event subscribers dropped because their queue overflowed (a client reading too slowly).");
  sample(out, "hark_events_dropped_subscribers_total", "", events.dropped_total());
  family(out, "hark_events_published_total", "counter",
         "Events published to at least one subscriber.");
  sample(out, "hark_events_published_total", "", events.published_total());
}

}  // namespace

response get_metrics(context& ctx) {
  std::string out;
  if (ctx.metrics != nullptr) {
    proxy_families(out, *ctx.metrics);
  }
  if (ctx.writer_stats != nullptr) {
    store_families(out, *ctx.writer_stats);
  }
  if (ctx.events != nullptr) {
    event_families(out, *ctx.events);
  }
  response res{http::status::ok, 11};
  res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  res.body() = std::move(out);
  return res;
}

}  // namespace hark::api
