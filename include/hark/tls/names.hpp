#pragma once
// Human-readable names for TLS code points, from the IANA TLS registries
// (https://www.iana.org/assignments/tls-parameters, tls-extensiontype-values), as shown in the
// TLS connection log and as the `name` of NamedU16/NamedU8 values
// (`{"value":772,"name":"TLSv1.3"}`).
//
// Every function returns a name for every value: GREASE values (RFC 8701) are "grease", and a
// value missing from the tables is "unknown_0x" plus its lowercase hex digits (4 for 16-bit
// values, 2 for 8-bit ones), e.g. "unknown_0x5a5b".

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <utility>

namespace hark::tls {

/** Protocol versions as OpenSSL spells them (SSL_get_version): "SSLv3", "TLSv1", "TLSv1.1",
 *  "TLSv1.2", "TLSv1.3"; also "SSLv2", "DTLSv1", "DTLSv1.2", "DTLSv1.3". */
std::string version_name(std::uint16_t value);
/** IANA cipher suite names: "TLS_AES_128_GCM_SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256". */
std::string cipher_suite_name(std::uint16_t value);
/** IANA extension names: "server_name", "key_share", "encrypted_client_hello",
 *  "application_settings" (17513, not IANA-registered but widely sent), "renegotiation_info". */
std::string extension_name(std::uint16_t value);
/** IANA supported group names: "x25519", "secp256r1", "X25519MLKEM768", "ffdhe2048". */
std::string group_name(std::uint16_t value);
/** IANA signature scheme names: "ecdsa_secp256r1_sha256", "rsa_pss_rsae_sha256"; the TLS 1.2
 *  (hash, signature) pairs with SHA-1 and SHA-224 as OpenSSL names them ("rsa_pkcs1_sha1"). */
std::string signature_scheme_name(std::uint16_t value);
/** IANA alert description names: "handshake_failure", "unknown_ca", "certificate_unknown". */
std::string alert_name(std::uint8_t value);
/** "psk_ke", "psk_dhe_ke" (RFC 8446 §4.2.9). */
std::string psk_key_exchange_mode_name(std::uint8_t value);
/** "uncompressed", "ansiX962_compressed_prime", "ansiX962_compressed_char2" (RFC 8422). */
std::string ec_point_format_name(std::uint8_t value);
/** "null", "DEFLATE" (RFC 3749). */
std::string compression_method_name(std::uint8_t value);

/** `{"value": value, "name": name}`: the NamedU16 and NamedU8 shape of the API. */
inline nlohmann::json named(std::uint16_t value, std::string name) {
  return nlohmann::json{{"value", value}, {"name", std::move(name)}};
}

}  // namespace hark::tls
