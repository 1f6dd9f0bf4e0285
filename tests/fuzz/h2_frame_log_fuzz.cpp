// libFuzzer target for the HTTP/2 frame log: the frame tap fed arbitrary bytes in arbitrary
// pieces on both directions of either leg, then the decoder over every batch it produced and
// over the raw input read as packed records.
//
//   cmake -DCMAKE_CXX_COMPILER=clang++-14 … && ninja hark_h2_frame_log_fuzz
//   ./tests/fuzz/hark_h2_frame_log_fuzz -max_total_time=60 corpus/
//
// Input: byte 0 chooses the leg and the tap's bounds, byte 1 seeds the piece sizes; the rest is
// the bytes. Invariants checked beyond "no crash, no sanitizer report": every batch is whole
// records (no corrupt tail), its frame_count matches its records, sequences count up from 0,
// no kept payload exceeds its frame's length or the bound, and every description serializes.
#include "hark/h2/frame_log.hpp"
#include "hark/h2/frame_tap.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

namespace {

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

/** Checks each batch as it is handed over, and decodes it. */
class checking_sink final : public hark::capture::flow_sink {
 public:
  explicit checking_sink(std::size_t max_payload) : max_payload_(max_payload) {}

  void on_request_head(hark::capture::flow&, const hark::capture::http_head&) override {}
  void on_request_body(hark::capture::flow&, std::string_view) override {}
  void on_request_end(hark::capture::flow&, const hark::capture::header_list&) override {}
  void on_response_head(hark::capture::flow&, const hark::capture::http_head&) override {}
  void on_response_body(hark::capture::flow&, std::string_view) override {}
  void on_response_end(hark::capture::flow&, const hark::capture::header_list&) override {}
  void on_flow_end(hark::capture::flow&, const hark::capture::flow_outcome&) override {}

  void on_h2_frames(hark::capture::h2_frame_batch& batch) override {
    check(batch.sequence == next_sequence_++);
    check(batch.frame_count > 0);
    hark::h2::frame_record_reader reader(batch.records);
    std::uint32_t count = 0;
    while (const auto r = reader.next()) {
      ++count;
      check(r->payload.size() <= r->length);
      check(r->payload.size() <= max_payload_);
      check(r->stream_id <= 0x7fff'ffffu);
    }
    check(!reader.corrupt());
    check(count == batch.frame_count);
    const auto events = hark::h2::describe_frames(batch.records);
    check(events.size() == count);
    (void)events.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  }

 private:
  std::size_t max_payload_;
  std::uint32_t next_sequence_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) {
    return 0;
  }
  const auto mode = data[0];
  std::uint32_t seed = data[1];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 2), size - 2);

  hark::h2::frame_tap_limits limits;
  if ((mode & 0x2) != 0) {  // small bounds, so that short inputs reach them too
    limits.max_payload = 7;
    limits.max_batch_frames = 3;
    limits.max_batch_bytes = 64;
  }
  checking_sink sink(limits.max_payload);
  {
    const auto leg =
        (mode & 0x1) != 0 ? hark::capture::h2_leg::upstream : hark::capture::h2_leg::client;
    hark::h2::frame_tap tap(sink, "01FUZZ", leg, std::nullopt, limits);
    std::size_t at = 0;
    while (at < bytes.size()) {
      seed = seed * 1103515245u + 12345u;
      const std::size_t piece = 1 + (seed >> 16) % 64;
      const auto part = bytes.substr(at, piece);
      ((seed >> 8) & 1) != 0 && (mode & 0x4) != 0 ? tap.sent(part) : tap.received(part);
      at += part.size();
      if ((seed & 0xff) == 0) {
        tap.publish();
      }
    }
    if ((mode & 0x8) != 0) {
      tap.flush();
    }
  }  // otherwise the destructor flushes

  // The raw input as packed records: the decoder must take any bytes.
  const auto events = hark::h2::describe_frames(bytes);
  (void)events.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  return 0;
}
