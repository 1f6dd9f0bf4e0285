#include "exchange.hpp"

#include <spdlog/spdlog.h>

namespace hark::layers {

namespace {

double ms_between(exchange::steady::time_point a, exchange::steady::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

failure_answer answer_for(errc code, const std::string& message) {
  failure_answer a;
  a.code = code;
  if (code == errc::upstream_timeout) {
    a.status = 504;
    a.reason = "Gateway Timeout";
  }
  a.body = message + "\n";
  return a;
}

capture::flow_error make_error(errc code, std::string message) {
  return capture::flow_error{std::string(to_string(code)), std::move(message)};
}

exchange::exchange(client_connection& c, const exchange_target& t, proxy_metrics::protocol p)
    : sink_(c.services.sink), metrics_(c.services.metrics), protocol_(p), target_(t) {
  flow_.connection = &c.info;
  flow_.scheme = t.scheme;
  flow_.host = t.host;
  flow_.port = t.port;
  flow_.url = t.url;
  flow_.tls = c.tls_details;
  flow_.timings.started_at = std::chrono::system_clock::now();
  flow_.started = steady::now();
}

exchange::~exchange() {
  if (!finished_ && flow_.sink_state != nullptr) {
    // Only an exception unwinds an exchange unfinished; its layer logs it.
    finish(make_error(errc::internal_error, "hark: the exchange failed unexpectedly"));
  }
}

void exchange::upstream_acquired(const acquired_upstream& a, steady::time_point asked_at,
                                 std::string upstream_version) {
  flow_.timings.blocked = ms_between(asked_at, steady::now());
  flow_.timings.dns = a.dns_ms;
  flow_.timings.connect = a.connect_ms;
  flow_.timings.ssl = a.ssl_ms;
  if (a.connection) {
    flow_.remote_addr = capture::to_net_address(a.connection->remote);
  }
  flow_.upstream_http_version = std::move(upstream_version);
}

void exchange::request_sent() {
  wait_start_ = steady::now();
  flow_.timings.send = ms_between(send_start_, wait_start_);
}

void exchange::response_head(const capture::http_head& head) {
  head_at_ = steady::now();
  flow_.timings.wait = ms_between(wait_start_, head_at_);
  status_ = head.status;
  sink_.on_response_head(flow_, head);
}

void exchange::request_done_at(steady::time_point t) {
  // The request body may still flow after the response started (a streaming upload): the send
  // phase is the time the request took beyond waiting for and receiving the response.
  const double total = ms_between(send_start_, t);
  flow_.timings.send =
      std::max(0.0, total - flow_.timings.wait.value_or(0) - flow_.timings.receive.value_or(0));
}

void exchange::response_end(const capture::header_list& trailers) {
  flow_.timings.receive = ms_between(head_at_, steady::now());
  sink_.on_response_end(flow_, trailers);
}

void exchange::finish(std::optional<capture::flow_error> error) {
  if (finished_) {
    return;
  }
  finished_ = true;
  metrics_.count_request(protocol_, status_, error.has_value());
  sink_.on_flow_end(flow_, capture::flow_outcome{std::move(error)});
}

}  // namespace hark::layers
