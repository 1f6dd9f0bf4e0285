#pragma once
// Test helper: builds ClientHello byte scripts (handshake message and TLS records) by hand, so
// the tests state every byte that matters, GREASE values and broken lengths included.

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace hark::tls::test {

inline std::string u8(unsigned value) {
  return std::string(1, static_cast<char>(value & 0xff));
}
inline std::string u16(unsigned value) {
  return u8(value >> 8) + u8(value);
}
inline std::string u24(unsigned value) {
  return u8(value >> 16) + u16(value & 0xffff);
}
inline std::string vec8(const std::string& body) {
  return u8(body.size()) + body;
}
inline std::string vec16(const std::string& body) {
  return u16(body.size()) + body;
}

inline std::string u16_list(const std::vector<std::uint16_t>& values) {
  std::string out;
  for (const std::uint16_t v : values) {
    out += u16(v);
  }
  return out;
}

inline std::string from_hex(const std::string& hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) {
    out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  }
  return out;
}

/** Wraps a handshake `message` into records of content type `type`: fragments of the given
 *  sizes, the last record taking the rest (one record when `sizes` is empty). */
inline std::string records(const std::string& message, std::vector<std::size_t> sizes = {},
                           std::uint16_t version = 0x0301, std::uint8_t type = 22) {
  std::string out;
  std::size_t pos = 0;
  sizes.push_back(message.size());
  for (const std::size_t size : sizes) {
    const std::string fragment = message.substr(pos, size);
    pos += fragment.size();
    out += u8(type) + u16(version) + vec16(fragment);
    if (pos == message.size()) {
      break;
    }
  }
  return out;
}

/** A ClientHello under construction. Defaults: legacy_version 0x0303, random 0x00..0x1f, empty
 *  session id, one cipher suite (0x1301), compression {0}, no extensions block. */
class hello_builder {
 public:
  hello_builder& version(std::uint16_t v) {
    version_ = v;
    return *this;
  }
  hello_builder& session_id(std::string id) {
    session_id_ = std::move(id);
    return *this;
  }
  hello_builder& ciphers(std::vector<std::uint16_t> suites) {
    ciphers_ = std::move(suites);
    return *this;
  }
  hello_builder& compression(std::string methods) {
    compression_ = std::move(methods);
    return *this;
  }
  /** Appends an extension with raw `data`. */
  hello_builder& extension(std::uint16_t type, const std::string& data = {}) {
    extensions_ += u16(type) + vec16(data);
    has_extensions_ = true;
    return *this;
  }
  /** An empty extensions block (length 0) rather than none. */
  hello_builder& empty_extensions() {
    has_extensions_ = true;
    return *this;
  }
  hello_builder& sni(const std::string& host) {
    return extension(0x0000, vec16(u8(0) + vec16(host)));
  }
  hello_builder& alpn(const std::vector<std::string>& protocols) {
    std::string list;
    for (const std::string& p : protocols) {
      list += vec8(p);
    }
    return extension(0x0010, vec16(list));
  }
  hello_builder& groups(const std::vector<std::uint16_t>& values) {
    return extension(0x000a, vec16(u16_list(values)));
  }
  hello_builder& point_formats(const std::string& formats) {
    return extension(0x000b, vec8(formats));
  }
  hello_builder& signature_algorithms(const std::vector<std::uint16_t>& values) {
    return extension(0x000d, vec16(u16_list(values)));
  }
  hello_builder& supported_versions(const std::vector<std::uint16_t>& values) {
    return extension(0x002b, vec8(u16_list(values)));
  }
  hello_builder& psk_modes(const std::string& modes) { return extension(0x002d, vec8(modes)); }
  /** key_share with one entry per (group, key length); key bytes are 0x42. */
  hello_builder& key_share(const std::vector<std::pair<std::uint16_t, std::size_t>>& shares) {
    std::string list;
    for (const auto& [group, length] : shares) {
      list += u16(group) + vec16(std::string(length, '\x42'));
    }
    return extension(0x0033, vec16(list));
  }

  /** The ClientHello body (without the handshake header). */
  std::string body() const {
    std::string random;
    for (int i = 0; i < 32; ++i) {
      random += static_cast<char>(i);
    }
    std::string out =
        u16(version_) + random + vec8(session_id_) + vec16(u16_list(ciphers_)) + vec8(compression_);
    if (has_extensions_) {
      out += vec16(extensions_);
    }
    return out;
  }
  /** The handshake message: type 1, 24-bit length, body. */
  std::string message() const { return u8(1) + u24(body().size()) + body(); }
  /** The message in one record (or fragmented at `sizes`). */
  std::string wire(std::vector<std::size_t> sizes = {}) const {
    return records(message(), std::move(sizes));
  }

 private:
  std::uint16_t version_ = 0x0303;
  std::string session_id_;
  std::vector<std::uint16_t> ciphers_{0x1301};
  std::string compression_ = std::string(1, '\0');
  std::string extensions_;
  bool has_extensions_ = false;
};

}  // namespace hark::tls::test
