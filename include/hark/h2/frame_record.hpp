#pragma once
// The packed form of one logged HTTP/2 frame, as the frame tap appends it to a batch and as the
// store keeps it at rest (before zstd). Fixed-size little-endian header, then the captured
// payload bytes:
//
//   offset  size  field
//   0       8     at: Unix microseconds (signed)
//   8       1     side: 0 client, 1 server (capture::h2_side)
//   9       1     type (RFC 9113 §4.1)
//   10      1     flags
//   11      1     reserved, 0
//   12      4     stream id (reserved bit cleared)
//   16      4     length: the frame's payload length as its header declared it
//   20      4     captured: payload bytes that follow (DATA: 0, or 1 for the pad length)
//   24      …     the first `captured` bytes of the payload

#include "hark/capture/h2_frame_log.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hark::h2 {

inline constexpr std::size_t frame_record_header_size = 24;

/** One record read back from a batch; `payload` views the batch's bytes. */
struct frame_record {
  std::int64_t at_us = 0;
  capture::h2_side side = capture::h2_side::client;
  std::uint8_t type = 0;
  std::uint8_t flags = 0;
  std::uint32_t stream_id = 0;
  std::uint32_t length = 0;
  std::string_view payload;  ///< the captured bytes: all of them, a prefix, or none
};

namespace detail {

inline void put_le(char* out, std::uint64_t value, std::size_t bytes) noexcept {
  for (std::size_t i = 0; i < bytes; ++i) {
    out[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  }
}

inline std::uint64_t get_le(const char* in, std::size_t bytes) noexcept {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < bytes; ++i) {
    value |= static_cast<std::uint64_t>(static_cast<unsigned char>(in[i])) << (8 * i);
  }
  return value;
}

}  // namespace detail

/** Appends a record header to `out`; the caller appends `captured` payload bytes after it. */
inline void append_frame_record_header(std::string& out, std::int64_t at_us, capture::h2_side side,
                                       std::uint8_t type, std::uint8_t flags,
                                       std::uint32_t stream_id, std::uint32_t length,
                                       std::uint32_t captured) {
  char header[frame_record_header_size];
  detail::put_le(header, static_cast<std::uint64_t>(at_us), 8);
  header[8] = static_cast<char>(side);
  header[9] = static_cast<char>(type);
  header[10] = static_cast<char>(flags);
  header[11] = 0;
  detail::put_le(header + 12, stream_id & 0x7fff'ffffu, 4);
  detail::put_le(header + 16, length, 4);
  detail::put_le(header + 20, captured, 4);
  out.append(header, sizeof header);
}

/** Reads the records of a batch one after the other. A batch that ends inside a record (bytes
 *  Hark did not write) ends the reading: next() returns nullopt and corrupt() is true. */
class frame_record_reader {
 public:
  explicit frame_record_reader(std::string_view records) noexcept : rest_(records) {}

  /** The next record, or nullopt at the end (or at corrupt bytes). */
  std::optional<frame_record> next() noexcept {
    if (rest_.size() < frame_record_header_size) {
      corrupt_ = !rest_.empty();
      rest_ = {};
      return std::nullopt;
    }
    const char* p = rest_.data();
    frame_record r;
    r.at_us = static_cast<std::int64_t>(detail::get_le(p, 8));
    r.side = p[8] == 0 ? capture::h2_side::client : capture::h2_side::server;
    r.type = static_cast<std::uint8_t>(p[9]);
    r.flags = static_cast<std::uint8_t>(p[10]);
    r.stream_id = static_cast<std::uint32_t>(detail::get_le(p + 12, 4));
    r.length = static_cast<std::uint32_t>(detail::get_le(p + 16, 4));
    const auto captured = static_cast<std::size_t>(detail::get_le(p + 20, 4));
    if (captured > rest_.size() - frame_record_header_size) {
      corrupt_ = true;
      rest_ = {};
      return std::nullopt;
    }
    r.payload = rest_.substr(frame_record_header_size, captured);
    rest_.remove_prefix(frame_record_header_size + captured);
    return r;
  }

  bool corrupt() const noexcept { return corrupt_; }

 private:
  std::string_view rest_;
  bool corrupt_ = false;
};

}  // namespace hark::h2
