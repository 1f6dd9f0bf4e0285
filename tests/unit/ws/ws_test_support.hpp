#pragma once
// Byte scripts for the WebSocket tests: frames built by hand (RFC 6455 §5.2), DEFLATE by zlib.

#include "hark/ws/message.hpp"

#include <zlib.h>

#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace hark::ws::test {

/** 0, 16 or 64: which length form to use (0 picks the shortest). */
struct frame_spec {
  unsigned opcode = 0x1;
  bool fin = true;
  bool rsv1 = false;
  bool rsv2 = false;
  std::optional<std::array<unsigned char, 4>> mask;
  int length_form = 0;
};

inline std::string frame(const frame_spec& s, std::string_view payload) {
  std::string out;
  out +=
      static_cast<char>((s.fin ? 0x80 : 0) | (s.rsv1 ? 0x40 : 0) | (s.rsv2 ? 0x20 : 0) | s.opcode);
  const unsigned char mask_bit = s.mask ? 0x80 : 0;
  const auto n = payload.size();
  const int form = s.length_form != 0 ? s.length_form : n < 126 ? 7 : n <= 0xFFFF ? 16 : 64;
  if (form == 7) {
    out += static_cast<char>(mask_bit | n);
  } else if (form == 16) {
    out += static_cast<char>(mask_bit | 126);
    out += static_cast<char>((n >> 8) & 0xFF);
    out += static_cast<char>(n & 0xFF);
  } else {
    out += static_cast<char>(mask_bit | 127);
    for (int i = 7; i >= 0; --i) {
      out += static_cast<char>((static_cast<std::uint64_t>(n) >> (8 * i)) & 0xFF);
    }
  }
  if (s.mask) {
    out.append(reinterpret_cast<const char*>(s.mask->data()), 4);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const auto b = static_cast<unsigned char>(payload[i]);
    out += static_cast<char>(s.mask ? b ^ (*s.mask)[i & 3] : b);
  }
  return out;
}

inline constexpr std::array<unsigned char, 4> client_mask{0x37, 0xFA, 0x21, 0x3D};

/** One sending side's compressor (RFC 7692 §7.2.1): raw DEFLATE, sync flush, tail removed. */
class deflater {
 public:
  deflater(int window_bits, bool context_takeover) : takeover_(context_takeover) {
    if (deflateInit2(&z_, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -window_bits, 8, Z_DEFAULT_STRATEGY) !=
        Z_OK) {
      throw std::runtime_error("deflateInit2");
    }
  }
  ~deflater() { deflateEnd(&z_); }
  deflater(const deflater&) = delete;
  deflater& operator=(const deflater&) = delete;

  std::string compress(std::string_view in) {
    std::string out;
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    std::array<unsigned char, 4096> buf;
    do {
      z_.next_out = buf.data();
      z_.avail_out = buf.size();
      deflate(&z_, Z_SYNC_FLUSH);
      out.append(reinterpret_cast<char*>(buf.data()), buf.size() - z_.avail_out);
    } while (z_.avail_out == 0);
    if (out.size() >= 4 && out.compare(out.size() - 4, 4, std::string("\0\0\xff\xff", 4)) == 0) {
      out.resize(out.size() - 4);
    }
    if (!takeover_) {
      deflateReset(&z_);
    }
    return out;
  }

 private:
  z_stream z_{};
  bool takeover_;
};

/** Collects what a parser or observer hands over. */
struct collector final : message_sink {
  std::vector<message> messages;
  void on_message(message&& m) override { messages.push_back(std::move(m)); }
};

}  // namespace hark::ws::test
