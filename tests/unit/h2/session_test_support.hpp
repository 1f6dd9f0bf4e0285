#pragma once
// Byte-script helpers for the hark::h2::session tests: pump two sessions against each other in
// memory, split output into frames, and build raw frames (with literal HPACK blocks) by hand.

#include "hark/h2/session.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace hark::h2::test {

inline constexpr std::string_view client_magic = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/** One frame as found on the wire. */
struct wire_frame {
  std::uint8_t type = 0;
  std::uint8_t flags = 0;
  std::int32_t stream = 0;
  std::string payload;
};

/** Frames of `bytes` (the client magic, when present, is skipped). */
inline std::vector<wire_frame> frames_of(std::string_view bytes) {
  if (bytes.substr(0, client_magic.size()) == client_magic) {
    bytes.remove_prefix(client_magic.size());
  }
  std::vector<wire_frame> frames;
  while (bytes.size() >= 9) {
    const auto u = [&](std::size_t i) { return static_cast<std::uint8_t>(bytes[i]); };
    const std::size_t len = (std::size_t{u(0)} << 16) | (std::size_t{u(1)} << 8) | u(2);
    if (bytes.size() < 9 + len) {
      break;
    }
    wire_frame f;
    f.type = u(3);
    f.flags = u(4);
    f.stream =
        static_cast<std::int32_t>(((std::uint32_t{u(5)} & 0x7f) << 24) |
                                  (std::uint32_t{u(6)} << 16) | (std::uint32_t{u(7)} << 8) | u(8));
    f.payload = std::string(bytes.substr(9, len));
    frames.push_back(std::move(f));
    bytes.remove_prefix(9 + len);
  }
  return frames;
}

inline std::uint32_t be32(std::string_view p, std::size_t at) {
  return (std::uint32_t{static_cast<std::uint8_t>(p[at])} << 24) |
         (std::uint32_t{static_cast<std::uint8_t>(p[at + 1])} << 16) |
         (std::uint32_t{static_cast<std::uint8_t>(p[at + 2])} << 8) |
         std::uint32_t{static_cast<std::uint8_t>(p[at + 3])};
}

/** The error code of the first GOAWAY among `frames`, or nullopt. */
inline std::optional<std::uint32_t> goaway_code(const std::vector<wire_frame>& frames) {
  for (const auto& f : frames) {
    if (f.type == NGHTTP2_GOAWAY && f.payload.size() >= 8) {
      return be32(f.payload, 4);
    }
  }
  return std::nullopt;
}

/** The error code of the first RST_STREAM on `stream` among `frames`, or nullopt. */
inline std::optional<std::uint32_t> rst_code(const std::vector<wire_frame>& frames,
                                             std::int32_t stream) {
  for (const auto& f : frames) {
    if (f.type == NGHTTP2_RST_STREAM && f.stream == stream && f.payload.size() == 4) {
      return be32(f.payload, 0);
    }
  }
  return std::nullopt;
}

/** Everything `s` wants to send now. */
inline std::string drain(session& s) {
  std::string all;
  for (std::string_view out = s.pending_output(); !out.empty(); out = s.pending_output()) {
    all.append(out);
    s.consume_output(out.size());
  }
  return all;
}

/** Moves bytes both ways until neither side has anything to send. */
inline void pump(session& a, session& b) {
  for (int round = 0; round < 100000; ++round) {
    const std::string ab = drain(a);
    if (!ab.empty()) {
      ASSERT_TRUE(b.receive(ab).ok);
    }
    const std::string ba = drain(b);
    if (!ba.empty()) {
      ASSERT_TRUE(a.receive(ba).ok);
    }
    if (ab.empty() && ba.empty()) {
      return;
    }
  }
  FAIL() << "sessions never went quiet";
}

template <class Event>
std::vector<Event> events_of(session& s) {
  std::vector<Event> found;
  for (auto& ev : s.events()) {
    if (auto* e = std::get_if<Event>(&ev)) {
      found.push_back(*e);
    }
  }
  return found;
}

// ---- raw frames ----

inline std::string frame(std::uint8_t type, std::uint8_t flags, std::int32_t stream,
                         std::string_view payload) {
  std::string f;
  const auto len = static_cast<std::uint32_t>(payload.size());
  f.push_back(static_cast<char>(len >> 16));
  f.push_back(static_cast<char>(len >> 8));
  f.push_back(static_cast<char>(len));
  f.push_back(static_cast<char>(type));
  f.push_back(static_cast<char>(flags));
  const auto id = static_cast<std::uint32_t>(stream);
  f.push_back(static_cast<char>(id >> 24));
  f.push_back(static_cast<char>(id >> 16));
  f.push_back(static_cast<char>(id >> 8));
  f.push_back(static_cast<char>(id));
  f.append(payload);
  return f;
}

inline std::string u32(std::uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

/** HPACK integer (RFC 7541 §5.1) with an `prefix_bits` prefix and `first` high bits. */
inline std::string hpack_int(std::size_t v, int prefix_bits, std::uint8_t first) {
  const std::size_t max = (std::size_t{1} << prefix_bits) - 1;
  std::string out;
  if (v < max) {
    out.push_back(static_cast<char>(first | v));
    return out;
  }
  out.push_back(static_cast<char>(first | max));
  v -= max;
  while (v >= 128) {
    out.push_back(static_cast<char>((v % 128) + 128));
    v /= 128;
  }
  out.push_back(static_cast<char>(v));
  return out;
}

inline std::string hpack_string(std::string_view s) {
  return hpack_int(s.size(), 7, 0) + std::string(s);
}

/** A literal field without indexing (RFC 7541 §6.2.2), new name. */
inline std::string hpack_literal(std::string_view name, std::string_view value) {
  return std::string(1, '\0') + hpack_string(name) + hpack_string(value);
}

/** A header block of literal fields. */
inline std::string hpack_block(const capture::header_list& fields) {
  std::string block;
  for (const auto& [name, value] : fields) {
    block += hpack_literal(name, value);
  }
  return block;
}

inline capture::header_list get_request(std::string path = "/") {
  return {{":method", "GET"},
          {":scheme", "https"},
          {":authority", "example.test"},
          {":path", std::move(path)}};
}

/** Client preface: magic, empty SETTINGS. */
inline std::string client_preface() {
  return std::string(client_magic) + frame(NGHTTP2_SETTINGS, 0, 0, "");
}

inline std::string settings_ack() {
  return frame(NGHTTP2_SETTINGS, NGHTTP2_FLAG_ACK, 0, "");
}

}  // namespace hark::h2::test
