#pragma once
// recorder: the flow_sink that turns flow events into entry records for the store.

#include "hark/capture/flow.hpp"
#include "hark/capture/record_queue.hpp"
#include "hark/capture/recording_state.hpp"

#include <cstdint>

namespace hark::capture {

class recorder final : public flow_sink {
 public:
  /** `queue` and `state` must outlive the recorder. Bodies are copied up to `max_body_capture`
   *  bytes each; the rest is counted, not kept. */
  recorder(record_queue& queue, const recording_state& state, std::uint64_t max_body_capture);

  void on_request_head(flow& f, const http_head& head) override;
  void on_request_body(flow& f, std::string_view bytes) override;
  void on_request_end(flow& f, const header_list& trailers) override;
  void on_response_head(flow& f, const http_head& head) override;
  void on_response_body(flow& f, std::string_view bytes) override;
  bool wants_response_body(const flow& f) const override;
  void on_response_body_skipped(flow& f, std::uint64_t count) override;
  void on_response_end(flow& f, const header_list& trailers) override;
  void on_flow_end(flow& f, const flow_outcome& outcome) override;
  void on_tls_connection(tls_connection_log& log) override;
  void on_ws_message(flow& f, ws::message&& m) override;
  void on_h2_frames(h2_frame_batch& batch) override;

 private:
  record_queue& queue_;
  const recording_state& state_;
  std::uint64_t max_body_capture_;
};

}  // namespace hark::capture
