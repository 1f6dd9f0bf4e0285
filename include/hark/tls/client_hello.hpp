#pragma once
// A sans-I/O TLS ClientHello reader: bytes in, a decoded ClientHello out. No sockets, no OpenSSL
// state. The proxy feeds it the bytes a client sent after CONNECT (peeked, not consumed: the
// same bytes are later handed to OpenSSL), so it can read SNI and ALPN before choosing what to
// do, and compute the JA3/JA4 fingerprints (fingerprint.hpp) from the raw hello.
//
// OpenSSL offers no API to parse a ClientHello from a buffer without a handshake in progress
// (SSL_client_hello_get* only works inside its callback, after it has consumed the bytes), and
// no well-kept library does this sans-I/O, so the reader is written by hand, strictly after
// RFC 8446 §4.1.2 (ClientHello), §5.1 (record layer) and RFC 6066/7301/8701 (extensions).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hark::tls {

/** One extension as sent: its type and its raw `extension_data`. */
struct tls_extension {
  std::uint16_t type = 0;
  std::string data;
};

/** One KeyShareEntry of the key_share extension (RFC 8446 §4.2.8). */
struct key_share_entry {
  std::uint16_t group = 0;
  std::size_t key_exchange_length = 0;
};

/** A ClientHello as the client sent it: every list in wire order, GREASE values kept. */
struct client_hello {
  std::uint16_t legacy_version = 0;
  std::string random;      ///< the 32 raw bytes
  std::string session_id;  ///< raw bytes, 0..32
  std::vector<std::uint16_t> cipher_suites;
  std::vector<std::uint8_t> compression_methods;
  std::vector<tls_extension> extensions;
  /** The whole handshake message (4-byte header and body), reassembled across records. */
  std::string raw;

  // Decoded conveniences. Each is empty when its extension is absent; an extension that is
  // present is always well-formed (the parser rejects it otherwise).
  std::optional<std::string> sni;         ///< first host_name of server_name
  std::vector<std::string> server_names;  ///< every host_name of server_name, in order
  std::vector<std::string> alpn;          ///< protocol names, raw bytes, in order
  std::vector<std::uint16_t> supported_versions;
  std::vector<std::uint16_t> supported_groups;
  std::vector<std::uint16_t> signature_algorithms;
  std::vector<std::uint8_t> ec_point_formats;
  std::vector<key_share_entry> key_shares;
  std::vector<std::uint8_t> psk_key_exchange_modes;

  /** The extension of that type, or nullptr. Types are unique (the parser enforces it). */
  const tls_extension* find_extension(std::uint16_t type) const noexcept;
  bool has_extension(std::uint16_t type) const noexcept { return find_extension(type) != nullptr; }
};

enum class parse_status {
  need_more,  ///< a prefix of a plausible ClientHello: call again with more bytes
  complete,   ///< `hello` is set, `consumed` is the length of the records that carried it
  not_tls,    ///< the first record is not a TLS handshake record (plain HTTP, SSLv2, …)
  malformed,  ///< a TLS handshake record, but not a valid ClientHello: `error` says why
};

struct parse_result {
  parse_status status = parse_status::need_more;
  /** On `complete`: bytes of the TLS records that carried the whole ClientHello (headers
   *  included). Otherwise 0. */
  std::size_t consumed = 0;
  std::optional<client_hello> hello;
  std::string error;  ///< on `not_tls` and `malformed`: a precise, human-readable reason
};

/** Largest ClientHello body accepted (the handshake length field), a denial-of-service bound:
 *  real hellos stay under 2 KiB, and post-quantum key shares under 8 KiB. */
inline constexpr std::size_t max_client_hello_length = std::size_t{64} * 1024;
/** Largest TLSPlaintext.length accepted: 2^14 plus the 2048 bytes of slack RFC 5246 §6.2.3
 *  allowed for compressed records (lenient; RFC 8446 §5.1 says 2^14). */
inline constexpr std::size_t max_record_length = 16384 + 2048;

/** Reads the ClientHello at the start of `input`, the bytes a client sent so far.
 *
 *  Stateless and pure: call it again with the grown buffer after `need_more`. The handshake
 *  message may be fragmented over several handshake records (content type 22, record version
 *  0x0300–0x0304); the records that carry it must hold nothing else. Whatever follows those
 *  records (early data, a ChangeCipherSpec) is not looked at. `input` is not retained: the
 *  result owns copies of everything. Never throws on any input except std::bad_alloc. */
parse_result parse_client_hello(std::string_view input);

/** True for the GREASE values of RFC 8701 §2 (0x0A0A, 0x1A1A, … 0xFAFA), reserved in the
 *  cipher suite, extension, named group, signature scheme and version registries. */
constexpr bool is_grease(std::uint16_t value) noexcept {
  return (value & 0x0f0f) == 0x0a0a && (value >> 8) == (value & 0xff);
}

/** True for the one-byte GREASE values of RFC 8701 §2 for PSK key exchange modes
 *  (0x0B, 0x2A, 0x49, 0x68, 0x87, 0xA6, 0xC5, 0xE4). */
constexpr bool is_grease_u8(std::uint8_t value) noexcept {
  return value % 0x1f == 0x0b;
}

}  // namespace hark::tls
