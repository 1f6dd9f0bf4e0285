#include "hark/capture/recorder.hpp"

#include "hark/core/ids.hpp"
#include "hark/core/time.hpp"

#include <algorithm>
#include <cctype>

namespace hark::capture {

std::string http_version_string(unsigned version) {
  switch (version) {
    case 10:
      return "HTTP/1.0";
    case 11:
      return "HTTP/1.1";
    case 20:
      return "HTTP/2";
    default:
      return "HTTP/" + std::to_string(version / 10) + "." + std::to_string(version % 10);
  }
}

net_address to_net_address(const boost::asio::ip::tcp::endpoint& ep) {
  auto addr = ep.address();
  if (addr.is_v6() && addr.to_v6().is_v4_mapped()) {
    addr = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, addr.to_v6());
  }
  return net_address{addr.to_string(), ep.port()};
}

namespace {

/** The entry being built for one flow. */
struct capture_state final : flow_state {
  entry_record record;
  std::uint64_t request_bytes = 0;
  std::uint64_t response_bytes = 0;
};

/** What an upgraded flow keeps after its entry is submitted: where its messages go. */
struct websocket_state final : flow_state {
  std::string entry_id;
  std::string session_id;
  std::int64_t next_seq = 0;
};

capture_state* state_of(flow& f) {
  return static_cast<capture_state*>(f.sink_state.get());
}

/** Appends what still fits under the cap; marks the body truncated when something does not. */
void capture_bytes(std::string& body, bool& truncated, std::string_view bytes, std::uint64_t cap) {
  const auto room = cap > body.size() ? cap - body.size() : 0;
  if (body.size() + std::min<std::uint64_t>(room, bytes.size()) > body.capacity()) {
    // Grow by 1.5 up to the cap instead of doubling past it: a body near the cap must not hold
    // twice its size while the string reallocates.
    body.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(
        cap, std::max<std::uint64_t>(body.size() + bytes.size(), body.capacity() * 3 / 2))));
  }
  if (bytes.size() > room) {
    truncated = true;
  }
  body.append(bytes.data(), static_cast<std::size_t>(std::min<std::uint64_t>(room, bytes.size())));
}

/** The request path as the seed means it: origin-form, even when the client used absolute-form. */
std::string path_of(const std::string& target) {
  if (!target.empty() && target.front() == '/') {
    return target;
  }
  const auto scheme_end = target.find("://");
  if (scheme_end == std::string::npos) {
    return target;  // authority-form or `*`
  }
  const auto path_start = target.find('/', scheme_end + 3);
  return path_start == std::string::npos ? "/" : target.substr(path_start);
}

}  // namespace

recorder::recorder(record_queue& queue, const recording_state& state,
                   std::uint64_t max_body_capture)
    : queue_(queue), state_(state), max_body_capture_(max_body_capture) {}

void recorder::on_tls_connection(tls_connection_log& log) {
  // The session is fixed by the first log of a connection (its handshake): a later update
  // goes to the same session even if recording moved on since.
  if (log.session_id.empty()) {
    auto session = state_.target();
    if (!session) {
      return;
    }
    log.session_id = std::move(*session);
  }
  queue_.submit_tls(tls_connection_log(log));
}

void recorder::on_h2_frames(h2_frame_batch& batch) {
  // As for TLS logs: the session recording at the connection's first recorded batch keeps
  // the whole log, so that one connection's frames never spread over two sessions.
  if (batch.session_id.empty()) {
    auto session = state_.target();
    if (!session) {
      return;
    }
    batch.session_id = std::move(*session);
  }
  h2_frame_batch out;
  out.connection_id = batch.connection_id;
  out.session_id = batch.session_id;
  out.leg = batch.leg;
  out.client_addr = batch.client_addr;
  out.sequence = batch.sequence;
  out.frame_count = batch.frame_count;
  out.first_at = batch.first_at;
  out.records = std::move(batch.records);  // the tap starts its next batch afresh
  queue_.submit_h2(std::move(out));
}

void recorder::on_request_head(flow& f, const http_head& head) {
  auto session = state_.target();
  if (!session) {
    return;  // not recording: the exchange is relayed and nothing is kept
  }
  auto state = std::make_unique<capture_state>();
  auto& r = state->record;
  r.id = ids::new_ulid(f.timings.started_at);
  r.session_id = std::move(*session);
  r.url = f.url;
  r.host = f.host;
  if (f.connection != nullptr) {
    r.client_addr = to_net_address(f.connection->client);
    r.process = f.connection->process;
  }
  r.http_version = http_version_string(head.version);
  r.request.method = head.method;
  r.request.path = path_of(head.target);
  r.request.http_version = r.http_version;
  r.request.headers = head.fields;
  f.sink_state = std::move(state);
}

void recorder::on_request_body(flow& f, std::string_view bytes) {
  if (auto* s = state_of(f)) {
    s->request_bytes += bytes.size();
    capture_bytes(s->record.request_body, s->record.request.body_truncated, bytes,
                  max_body_capture_);
  }
}

void recorder::on_request_end(flow& f, const header_list& trailers) {
  if (auto* s = state_of(f)) {
    s->record.request.trailers = trailers;
  }
}

void recorder::on_response_head(flow& f, const http_head& head) {
  if (auto* s = state_of(f)) {
    auto& resp = s->record.response.emplace();
    resp.http_version = http_version_string(head.version);
    resp.status_code = head.status;
    resp.status_text = head.reason;
    resp.headers = head.fields;
  }
}

void recorder::on_response_body(flow& f, std::string_view bytes) {
  if (auto* s = state_of(f); s != nullptr && s->record.response) {
    s->response_bytes += bytes.size();
    capture_bytes(s->record.response_body, s->record.response->body_truncated, bytes,
                  max_body_capture_);
  }
}

bool recorder::wants_response_body(const flow& f) const {
  const auto* s = static_cast<const capture_state*>(f.sink_state.get());
  return s != nullptr && s->record.response_body.size() < max_body_capture_;
}

void recorder::on_response_body_skipped(flow& f, std::uint64_t count) {
  if (auto* s = state_of(f); s != nullptr && s->record.response) {
    s->response_bytes += count;
    if (count > 0) {
      s->record.response->body_truncated = true;
    }
  }
}

void recorder::on_response_end(flow& f, const header_list& trailers) {
  if (auto* s = state_of(f); s != nullptr && s->record.response) {
    s->record.response->trailers = trailers;
  }
}

void recorder::on_flow_end(flow& f, const flow_outcome& outcome) {
  auto* s = state_of(f);
  if (s == nullptr) {
    return;
  }
  auto& r = s->record;
  r.request.body_size = s->request_bytes;
  if (r.response) {
    r.response->body_size = s->response_bytes;
  }
  r.remote_addr = f.remote_addr;
  r.upstream_http_version = f.upstream_http_version;
  r.http2 = f.http2;
  r.upstream_http2 = f.upstream_http2;
  r.is_websocket = f.is_websocket;
  if (f.pushed) {
    r.transaction_type = "push_promise";
  }
  r.tls = f.tls;
  r.timings = f.timings;
  r.duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - f.started)
          .count();
  r.error = outcome.error;
  if (f.is_websocket && !outcome.error) {
    // The entry (request and 101) is complete; its messages follow it to the store one by one.
    auto ws = std::make_unique<websocket_state>();
    ws->entry_id = r.id;
    ws->session_id = r.session_id;
    queue_.submit(std::move(r));
    f.sink_state = std::move(ws);
    return;
  }
  queue_.submit(std::move(r));
  f.sink_state.reset();
}

void recorder::on_ws_message(flow& f, ws::message&& m) {
  auto* ws = dynamic_cast<websocket_state*>(f.sink_state.get());
  if (ws == nullptr) {
    return;  // the upgrade was not recorded
  }
  ws_message_record r;
  r.entry_id = ws->entry_id;
  r.session_id = ws->session_id;
  r.seq = ws->next_seq++;
  r.from_client = m.from == ws::side::client;
  r.started_us = timefmt::unix_us(m.started);
  r.ended_us = timefmt::unix_us(m.ended);
  r.type = ws::type_name(m.type);
  r.payload = std::move(m.payload);
  r.truncated = m.truncated;
  r.wire_bytes = m.wire_size;
  queue_.submit_ws(std::move(r));
}

}  // namespace hark::capture
