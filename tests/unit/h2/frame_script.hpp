#pragma once
// Byte scripts for the HTTP/2 frame log's tests: frames built by hand (RFC 9113 §4.1), frames
// made by a real nghttp2 client session, and a flow_sink that keeps the batches it is given.

#include "hark/capture/flow.hpp"
#include "hark/h2/frame_record.hpp"

#include <nghttp2/nghttp2.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hark::h2::test {

inline constexpr std::string_view preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/** One frame: 9-byte header then `payload`. */
inline std::string frame(std::uint8_t type, std::uint8_t flags, std::uint32_t stream_id,
                         std::string_view payload) {
  const auto n = static_cast<std::uint32_t>(payload.size());
  std::string out = {static_cast<char>(n >> 16),
                     static_cast<char>(n >> 8),
                     static_cast<char>(n),
                     static_cast<char>(type),
                     static_cast<char>(flags),
                     static_cast<char>(stream_id >> 24),
                     static_cast<char>(stream_id >> 16),
                     static_cast<char>(stream_id >> 8),
                     static_cast<char>(stream_id)};
  out.append(payload);
  return out;
}

/** `value` as 4 big-endian bytes. */
inline std::string u32(std::uint32_t value) {
  return {static_cast<char>(value >> 24), static_cast<char>(value >> 16),
          static_cast<char>(value >> 8), static_cast<char>(value)};
}

/** A SETTINGS entry: identifier (2 bytes) and value (4 bytes). */
inline std::string setting(std::uint16_t id, std::uint32_t value) {
  return std::string{static_cast<char>(id >> 8), static_cast<char>(id)} + u32(value);
}

/** Keeps every batch handed to it (copied: the tap's records are left in place), and sets
 *  `session` as the batch's session the first time, as the recorder does. */
class batch_sink final : public capture::flow_sink {
 public:
  std::vector<capture::h2_frame_batch> batches;
  std::string session = "session-1";
  bool take_records = false;  ///< move the records out, as the recorder does

  void on_request_head(capture::flow&, const capture::http_head&) override {}
  void on_request_body(capture::flow&, std::string_view) override {}
  void on_request_end(capture::flow&, const capture::header_list&) override {}
  void on_response_head(capture::flow&, const capture::http_head&) override {}
  void on_response_body(capture::flow&, std::string_view) override {}
  void on_response_end(capture::flow&, const capture::header_list&) override {}
  void on_flow_end(capture::flow&, const capture::flow_outcome&) override {}
  void on_h2_frames(capture::h2_frame_batch& batch) override {
    if (batch.session_id.empty()) {
      batch.session_id = session;
    }
    batches.push_back(batch);
    if (take_records) {
      std::string taken = std::move(batch.records);
    }
  }

  /** Every record of every batch, in order. */
  std::vector<frame_record> records() const {
    std::vector<frame_record> out;
    for (const auto& b : batches) {
      frame_record_reader reader(b.records);
      while (auto r = reader.next()) {
        out.push_back(*r);
      }
    }
    return out;
  }
};

/** What a real nghttp2 client session writes first: the preface, its SETTINGS, a PING and a GET
 *  request on stream 1 (HEADERS with END_STREAM | END_HEADERS), submitted before the PING. */
inline std::string nghttp2_client_bytes() {
  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session* session = nullptr;
  nghttp2_session_client_new(&session, callbacks, nullptr);
  nghttp2_session_callbacks_del(callbacks);
  const nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 100},
                                             {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 4 << 20}};
  nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, settings, 2);
  auto header = [](const char* name, const char* value) {
    return nghttp2_nv{reinterpret_cast<std::uint8_t*>(const_cast<char*>(name)),
                      reinterpret_cast<std::uint8_t*>(const_cast<char*>(value)),
                      std::char_traits<char>::length(name), std::char_traits<char>::length(value),
                      NGHTTP2_NV_FLAG_NONE};
  };
  const nghttp2_nv request[] = {header(":method", "GET"), header(":scheme", "https"),
                                header(":authority", "example.com"), header(":path", "/")};
  nghttp2_submit_request(session, nullptr, request, 4, nullptr, nullptr);
  const std::uint8_t opaque[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  nghttp2_submit_ping(session, NGHTTP2_FLAG_NONE, opaque);
  std::string out;
  for (;;) {
    const std::uint8_t* data = nullptr;
    const auto n = nghttp2_session_mem_send(session, &data);
    if (n <= 0) {
      break;
    }
    out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
  }
  nghttp2_session_del(session);
  return out;
}

}  // namespace hark::h2::test
