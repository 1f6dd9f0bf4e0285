#pragma once
// Private to src/tls: a bounds-checked reader over TLS wire bytes (RFC 8446 §3 presentation
// language) and the hex/printable renderings of the TLS connection log. Hand-written: the
// vectors and integers of TLS are a few lines each, and OpenSSL's PACKET API is internal.

#include "hark/core/hex.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hark::tls::detail {

inline std::uint8_t byte_at(std::string_view bytes, std::size_t index) {
  return static_cast<std::uint8_t>(bytes[index]);
}

/** A bounds-checked big-endian cursor over a byte range. Every read either succeeds and
 *  advances, or fails and leaves the cursor where it was. */
class reader {
 public:
  explicit reader(std::string_view bytes) : bytes_(bytes) {}

  bool empty() const noexcept { return bytes_.empty(); }
  std::size_t remaining() const noexcept { return bytes_.size(); }

  bool read_u8(std::uint8_t& out) noexcept {
    if (bytes_.empty()) {
      return false;
    }
    out = byte_at(bytes_, 0);
    bytes_.remove_prefix(1);
    return true;
  }

  bool read_u16(std::uint16_t& out) noexcept {
    if (bytes_.size() < 2) {
      return false;
    }
    out = static_cast<std::uint16_t>(byte_at(bytes_, 0) << 8 | byte_at(bytes_, 1));
    bytes_.remove_prefix(2);
    return true;
  }

  bool read_bytes(std::size_t count, std::string_view& out) noexcept {
    if (bytes_.size() < count) {
      return false;
    }
    out = bytes_.substr(0, count);
    bytes_.remove_prefix(count);
    return true;
  }

  bool read_u24(std::uint32_t& out) noexcept {
    if (bytes_.size() < 3) {
      return false;
    }
    out = static_cast<std::uint32_t>(byte_at(bytes_, 0) << 16 | byte_at(bytes_, 1) << 8 |
                                     byte_at(bytes_, 2));
    bytes_.remove_prefix(3);
    return true;
  }

  /** A `<0..2^(8*prefix_bytes)-1>` vector of RFC 8446 §3.4: length prefix, then that many
   *  bytes. `prefix_bytes` is 1, 2 or 3. */
  bool read_vector(std::size_t prefix_bytes, std::string_view& out) noexcept {
    reader saved = *this;
    std::uint32_t length = 0;
    bool ok = false;
    if (prefix_bytes == 1) {
      std::uint8_t n = 0;
      ok = read_u8(n);
      length = n;
    } else if (prefix_bytes == 2) {
      std::uint16_t n = 0;
      ok = read_u16(n);
      length = n;
    } else {
      ok = read_u24(length);
    }
    if (!ok || !read_bytes(length, out)) {
      *this = saved;
      return false;
    }
    return true;
  }

 private:
  std::string_view bytes_;
};

using hark::to_hex;

/** Bytes a client chose (SNI, ALPN names) as JSON-safe text: printable ASCII as is, any other
 *  byte as `\xHH`, since nlohmann::json refuses to serialize invalid UTF-8. */
inline std::string printable(std::string_view bytes) {
  std::string out;
  for (const char c : bytes) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte < 0x7f && byte != '\\') {
      out += c;
    } else {
      out += "\\x" + to_hex(std::string_view(&c, 1));
    }
  }
  return out;
}

}  // namespace hark::tls::detail
