#pragma once
// Decoding of the TLS messages kept in the TLS connection log (SPEC §3, §6.5): the proxy stores
// each message as raw bytes while it relays (cheap on the relay path), and the API decodes them
// when a user asks (GET /api/tls/:connectionId, JSON-RPC tls/get_connection).
//
// Hand-written for the same reason as client_hello.hpp: OpenSSL decodes handshake messages only
// inside a live handshake. Certificates themselves are decoded by OpenSSL (d2i_X509).

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace hark::tls {

inline constexpr std::uint8_t content_type_alert = 21;
inline constexpr std::uint8_t content_type_handshake = 22;

/** RFC 8446 §4 handshake type names ("client_hello", "server_hello", "certificate", …);
 *  unknown types are "unknown_0x" plus two hex digits. */
std::string handshake_type_name(std::uint8_t type);

/** One message of the log, decoded: `{"type": …}` plus the fields of its kind.
 *
 *  - alert (`content_type` 21, 2 bytes): `level` and `description` as `{value, name}`;
 *  - client_hello: as describe(client_hello);
 *  - server_hello / hello_retry_request: `version`, `random`, `sessionId`, `cipherSuite`,
 *    `compressionMethod`, `extensions` (selected version, key share group, ALPN protocol…);
 *  - encrypted_extensions: `extensions`;
 *  - certificate: `certificates`, the chain in order, each with `subject`, `issuer`,
 *    `serialNumber`, `notBefore`, `notAfter`, `subjectAltNames`, `sha256` and `pem`;
 *  - anything else: `data` as lowercase hex.
 *
 *  `handshake` is the whole handshake message (4-byte header included). `tls13` says how to
 *  read a certificate message (TLS 1.3 adds a request context and per-certificate
 *  extensions). A message that does not decode gets `error` (why) and `data` (hex) instead of
 *  its fields. Never throws except std::bad_alloc. */
nlohmann::json describe_tls_message(std::uint8_t content_type, std::string_view bytes, bool tls13);

}  // namespace hark::tls
