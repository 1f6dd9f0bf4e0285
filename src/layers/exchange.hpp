#pragma once
// exchange: one request/response as every wire sees it — an HTTP/1 exchange or an HTTP/2 stream
// (private to src/layers). Capture (flow_sink), timings, metrics and Hark's own failure answers
// are written here once; the wire code (http1_exchange.cpp, the HTTP/2 layer) moves bytes and
// reports what it saw:
//
//   request_head ─► request_body* ─► request_end
//        upstream_acquired ─► response_head ─► response_body* ─► response_end
//                                                                   └──────────► finish()
//   any point ─► finish(error)   (a synthetic answer when no response started: answer_for())

#include "connection.hpp"

#include "hark/capture/flow.hpp"
#include "hark/core/errc.hpp"
#include "hark/core/metrics.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace hark::layers {

/** Where an exchange goes. */
struct exchange_target {
  std::string scheme = "http";  ///< as the client used it: http, https, ws, wss
  std::string host;             ///< lowercase; IPv6 without brackets
  std::uint16_t port = 80;
  std::string origin_form;  ///< request target sent upstream (path and query)
  std::string url;          ///< as the client meant it
  bool local = false;       ///< for Hark itself (onboarding page, CA download)
};

/** Hark's own response to an exchange that failed before its response started (SPEC §2). */
struct failure_answer {
  int status = 502;
  std::string_view reason = "Bad Gateway";
  errc code = errc::upstream_reset;
  std::string body;  ///< the message and a newline
};

/** 504 for timeouts, 502 for everything else. */
failure_answer answer_for(errc code, const std::string& message);

capture::flow_error make_error(errc code, std::string message);

/** The upstream an exchange got: a connection (with the phases of connecting it, when it is
 *  new) or the error to answer with. */
struct acquired_upstream {
  std::optional<net::upstream_connection> connection;
  std::optional<capture::flow_error> error;
  std::optional<double> dns_ms, connect_ms, ssl_ms;
};

class exchange {
 public:
  using steady = std::chrono::steady_clock;

  /** Starts the flow of one exchange on `c` (the connection must outlive it). */
  exchange(client_connection& c, const exchange_target& t, proxy_metrics::protocol p);
  /** An exchange dropped before finish() (an exception unwound it) is recorded as failed. */
  ~exchange();
  exchange(const exchange&) = delete;
  exchange& operator=(const exchange&) = delete;

  capture::flow& flow() noexcept { return flow_; }
  const exchange_target& target() const noexcept { return target_; }

  void request_head(const capture::http_head& head) { sink_.on_request_head(flow_, head); }
  void request_body(std::string_view bytes) { sink_.on_request_body(flow_, bytes); }
  void request_end(const capture::header_list& trailers) { sink_.on_request_end(flow_, trailers); }

  /** The upstream chosen: its address and the phases of connecting it. */
  void upstream_acquired(const acquired_upstream& a, steady::time_point asked_at,
                         std::string upstream_version);
  /** The request starts going upstream (send timing starts). */
  void request_sending() { send_start_ = wait_start_ = steady::now(); }
  /** A bodiless request is all upstream: send ends, wait starts. */
  void request_sent();
  /** The final response head arrived: wait timing, and the head to capture. */
  void response_head(const capture::http_head& head);
  void response_body(std::string_view bytes) { sink_.on_response_body(flow_, bytes); }
  bool wants_response_body() const { return sink_.wants_response_body(flow_); }
  void response_body_skipped(std::uint64_t n) { sink_.on_response_body_skipped(flow_, n); }
  void response_end(const capture::header_list& trailers);
  bool response_started() const noexcept { return status_ != 0; }
  /** The request body ended after the response head: the send phase ends here. */
  void request_done_at(steady::time_point t);

  /** The last event: completed (no error) or failed. Counts the request in /metrics. */
  void finish(std::optional<capture::flow_error> error = {});
  bool finished() const noexcept { return finished_; }

 private:
  capture::flow_sink& sink_;
  proxy_metrics& metrics_;
  proxy_metrics::protocol protocol_;
  exchange_target target_;
  capture::flow flow_;
  steady::time_point send_start_{};
  steady::time_point wait_start_{};
  steady::time_point head_at_{};
  int status_ = 0;
  bool finished_ = false;
};

}  // namespace hark::layers
