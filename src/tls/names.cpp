// Names of TLS code points. The tables are transcribed from the IANA registries
// (https://www.iana.org/assignments/tls-parameters/tls-parameters.xhtml and
// https://www.iana.org/assignments/tls-extensiontype-values/tls-extensiontype-values.xhtml),
// sorted by value (checked at compile time) and searched by binary search.
#include "hark/tls/names.hpp"

#include "hark/tls/client_hello.hpp"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <string_view>

namespace hark::tls {
namespace {

struct named_entry {
  std::uint16_t value;
  std::string_view name;
};

constexpr bool by_value(const named_entry& a, const named_entry& b) {
  return a.value < b.value;
}

// Protocol versions, as OpenSSL's SSL_get_version() spells them.
constexpr named_entry versions[] = {
    {0x0002, "SSLv2"},    {0x0300, "SSLv3"},    {0x0301, "TLSv1"},
    {0x0302, "TLSv1.1"},  {0x0303, "TLSv1.2"},  {0x0304, "TLSv1.3"},
    {0xfefc, "DTLSv1.3"}, {0xfefd, "DTLSv1.2"}, {0xfeff, "DTLSv1"},
};

// Cipher suites: TLS Cipher Suites registry (tls-parameters-4); the suites OpenSSL, BoringSSL,
// NSS, Schannel and SecureTransport offer, plus their older neighbours. Not listed: export,
// DES, IDEA, SEED, GOST, ARIA-CBC and most CAMELLIA suites (named unknown_0x…).
constexpr named_entry cipher_suites[] = {
    {0x0000, "TLS_NULL_WITH_NULL_NULL"},
    {0x0001, "TLS_RSA_WITH_NULL_MD5"},
    {0x0002, "TLS_RSA_WITH_NULL_SHA"},
    {0x0004, "TLS_RSA_WITH_RC4_128_MD5"},
    {0x0005, "TLS_RSA_WITH_RC4_128_SHA"},
    {0x000a, "TLS_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0x000d, "TLS_DH_DSS_WITH_3DES_EDE_CBC_SHA"},
    {0x0010, "TLS_DH_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0x0013, "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA"},
    {0x0016, "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0x0018, "TLS_DH_anon_WITH_RC4_128_MD5"},
    {0x001b, "TLS_DH_anon_WITH_3DES_EDE_CBC_SHA"},
    {0x002c, "TLS_PSK_WITH_NULL_SHA"},
    {0x002d, "TLS_DHE_PSK_WITH_NULL_SHA"},
    {0x002e, "TLS_RSA_PSK_WITH_NULL_SHA"},
    {0x002f, "TLS_RSA_WITH_AES_128_CBC_SHA"},
    {0x0030, "TLS_DH_DSS_WITH_AES_128_CBC_SHA"},
    {0x0031, "TLS_DH_RSA_WITH_AES_128_CBC_SHA"},
    {0x0032, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA"},
    {0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA"},
    {0x0034, "TLS_DH_anon_WITH_AES_128_CBC_SHA"},
    {0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA"},
    {0x0036, "TLS_DH_DSS_WITH_AES_256_CBC_SHA"},
    {0x0037, "TLS_DH_RSA_WITH_AES_256_CBC_SHA"},
    {0x0038, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA"},
    {0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA"},
    {0x003a, "TLS_DH_anon_WITH_AES_256_CBC_SHA"},
    {0x003b, "TLS_RSA_WITH_NULL_SHA256"},
    {0x003c, "TLS_RSA_WITH_AES_128_CBC_SHA256"},
    {0x003d, "TLS_RSA_WITH_AES_256_CBC_SHA256"},
    {0x003e, "TLS_DH_DSS_WITH_AES_128_CBC_SHA256"},
    {0x003f, "TLS_DH_RSA_WITH_AES_128_CBC_SHA256"},
    {0x0040, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256"},
    {0x0041, "TLS_RSA_WITH_CAMELLIA_128_CBC_SHA"},
    {0x0045, "TLS_DHE_RSA_WITH_CAMELLIA_128_CBC_SHA"},
    {0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256"},
    {0x0068, "TLS_DH_DSS_WITH_AES_256_CBC_SHA256"},
    {0x0069, "TLS_DH_RSA_WITH_AES_256_CBC_SHA256"},
    {0x006a, "TLS_DHE_DSS_WITH_AES_256_CBC_SHA256"},
    {0x006b, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256"},
    {0x006c, "TLS_DH_anon_WITH_AES_128_CBC_SHA256"},
    {0x006d, "TLS_DH_anon_WITH_AES_256_CBC_SHA256"},
    {0x0084, "TLS_RSA_WITH_CAMELLIA_256_CBC_SHA"},
    {0x0088, "TLS_DHE_RSA_WITH_CAMELLIA_256_CBC_SHA"},
    {0x008a, "TLS_PSK_WITH_RC4_128_SHA"},
    {0x008b, "TLS_PSK_WITH_3DES_EDE_CBC_SHA"},
    {0x008c, "TLS_PSK_WITH_AES_128_CBC_SHA"},
    {0x008d, "TLS_PSK_WITH_AES_256_CBC_SHA"},
    {0x008e, "TLS_DHE_PSK_WITH_RC4_128_SHA"},
    {0x008f, "TLS_DHE_PSK_WITH_3DES_EDE_CBC_SHA"},
    {0x0090, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA"},
    {0x0091, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA"},
    {0x0092, "TLS_RSA_PSK_WITH_RC4_128_SHA"},
    {0x0093, "TLS_RSA_PSK_WITH_3DES_EDE_CBC_SHA"},
    {0x0094, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA"},
    {0x0095, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA"},
    {0x009c, "TLS_RSA_WITH_AES_128_GCM_SHA256"},
    {0x009d, "TLS_RSA_WITH_AES_256_GCM_SHA384"},
    {0x009e, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"},
    {0x009f, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384"},
    {0x00a0, "TLS_DH_RSA_WITH_AES_128_GCM_SHA256"},
    {0x00a1, "TLS_DH_RSA_WITH_AES_256_GCM_SHA384"},
    {0x00a2, "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256"},
    {0x00a3, "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384"},
    {0x00a4, "TLS_DH_DSS_WITH_AES_128_GCM_SHA256"},
    {0x00a5, "TLS_DH_DSS_WITH_AES_256_GCM_SHA384"},
    {0x00a6, "TLS_DH_anon_WITH_AES_128_GCM_SHA256"},
    {0x00a7, "TLS_DH_anon_WITH_AES_256_GCM_SHA384"},
    {0x00a8, "TLS_PSK_WITH_AES_128_GCM_SHA256"},
    {0x00a9, "TLS_PSK_WITH_AES_256_GCM_SHA384"},
    {0x00aa, "TLS_DHE_PSK_WITH_AES_128_GCM_SHA256"},
    {0x00ab, "TLS_DHE_PSK_WITH_AES_256_GCM_SHA384"},
    {0x00ac, "TLS_RSA_PSK_WITH_AES_128_GCM_SHA256"},
    {0x00ad, "TLS_RSA_PSK_WITH_AES_256_GCM_SHA384"},
    {0x00ae, "TLS_PSK_WITH_AES_128_CBC_SHA256"},
    {0x00af, "TLS_PSK_WITH_AES_256_CBC_SHA384"},
    {0x00b0, "TLS_PSK_WITH_NULL_SHA256"},
    {0x00b1, "TLS_PSK_WITH_NULL_SHA384"},
    {0x00b2, "TLS_DHE_PSK_WITH_AES_128_CBC_SHA256"},
    {0x00b3, "TLS_DHE_PSK_WITH_AES_256_CBC_SHA384"},
    {0x00b4, "TLS_DHE_PSK_WITH_NULL_SHA256"},
    {0x00b5, "TLS_DHE_PSK_WITH_NULL_SHA384"},
    {0x00b6, "TLS_RSA_PSK_WITH_AES_128_CBC_SHA256"},
    {0x00b7, "TLS_RSA_PSK_WITH_AES_256_CBC_SHA384"},
    {0x00b8, "TLS_RSA_PSK_WITH_NULL_SHA256"},
    {0x00b9, "TLS_RSA_PSK_WITH_NULL_SHA384"},
    {0x00c6, "TLS_SM4_GCM_SM3"},
    {0x00c7, "TLS_SM4_CCM_SM3"},
    {0x00ff, "TLS_EMPTY_RENEGOTIATION_INFO_SCSV"},
    {0x1301, "TLS_AES_128_GCM_SHA256"},
    {0x1302, "TLS_AES_256_GCM_SHA384"},
    {0x1303, "TLS_CHACHA20_POLY1305_SHA256"},
    {0x1304, "TLS_AES_128_CCM_SHA256"},
    {0x1305, "TLS_AES_128_CCM_8_SHA256"},
    {0x1306, "TLS_AEGIS_256_SHA512"},
    {0x1307, "TLS_AEGIS_128L_SHA256"},
    {0x5600, "TLS_FALLBACK_SCSV"},
    {0xc001, "TLS_ECDH_ECDSA_WITH_NULL_SHA"},
    {0xc002, "TLS_ECDH_ECDSA_WITH_RC4_128_SHA"},
    {0xc003, "TLS_ECDH_ECDSA_WITH_3DES_EDE_CBC_SHA"},
    {0xc004, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA"},
    {0xc005, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA"},
    {0xc006, "TLS_ECDHE_ECDSA_WITH_NULL_SHA"},
    {0xc007, "TLS_ECDHE_ECDSA_WITH_RC4_128_SHA"},
    {0xc008, "TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA"},
    {0xc009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"},
    {0xc00a, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"},
    {0xc00b, "TLS_ECDH_RSA_WITH_NULL_SHA"},
    {0xc00c, "TLS_ECDH_RSA_WITH_RC4_128_SHA"},
    {0xc00d, "TLS_ECDH_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0xc00e, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA"},
    {0xc00f, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA"},
    {0xc010, "TLS_ECDHE_RSA_WITH_NULL_SHA"},
    {0xc011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA"},
    {0xc012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0xc013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"},
    {0xc014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"},
    {0xc015, "TLS_ECDH_anon_WITH_NULL_SHA"},
    {0xc016, "TLS_ECDH_anon_WITH_RC4_128_SHA"},
    {0xc017, "TLS_ECDH_anon_WITH_3DES_EDE_CBC_SHA"},
    {0xc018, "TLS_ECDH_anon_WITH_AES_128_CBC_SHA"},
    {0xc019, "TLS_ECDH_anon_WITH_AES_256_CBC_SHA"},
    {0xc01a, "TLS_SRP_SHA_WITH_3DES_EDE_CBC_SHA"},
    {0xc01b, "TLS_SRP_SHA_RSA_WITH_3DES_EDE_CBC_SHA"},
    {0xc01c, "TLS_SRP_SHA_DSS_WITH_3DES_EDE_CBC_SHA"},
    {0xc01d, "TLS_SRP_SHA_WITH_AES_128_CBC_SHA"},
    {0xc01e, "TLS_SRP_SHA_RSA_WITH_AES_128_CBC_SHA"},
    {0xc01f, "TLS_SRP_SHA_DSS_WITH_AES_128_CBC_SHA"},
    {0xc020, "TLS_SRP_SHA_WITH_AES_256_CBC_SHA"},
    {0xc021, "TLS_SRP_SHA_RSA_WITH_AES_256_CBC_SHA"},
    {0xc022, "TLS_SRP_SHA_DSS_WITH_AES_256_CBC_SHA"},
    {0xc023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256"},
    {0xc024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384"},
    {0xc025, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256"},
    {0xc026, "TLS_ECDH_ECDSA_WITH_AES_256_CBC_SHA384"},
    {0xc027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256"},
    {0xc028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"},
    {0xc029, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256"},
    {0xc02a, "TLS_ECDH_RSA_WITH_AES_256_CBC_SHA384"},
    {0xc02b, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"},
    {0xc02c, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"},
    {0xc02d, "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256"},
    {0xc02e, "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384"},
    {0xc02f, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
    {0xc030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"},
    {0xc031, "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256"},
    {0xc032, "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384"},
    {0xc033, "TLS_ECDHE_PSK_WITH_RC4_128_SHA"},
    {0xc034, "TLS_ECDHE_PSK_WITH_3DES_EDE_CBC_SHA"},
    {0xc035, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA"},
    {0xc036, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA"},
    {0xc037, "TLS_ECDHE_PSK_WITH_AES_128_CBC_SHA256"},
    {0xc038, "TLS_ECDHE_PSK_WITH_AES_256_CBC_SHA384"},
    {0xc039, "TLS_ECDHE_PSK_WITH_NULL_SHA"},
    {0xc03a, "TLS_ECDHE_PSK_WITH_NULL_SHA256"},
    {0xc03b, "TLS_ECDHE_PSK_WITH_NULL_SHA384"},
    {0xc050, "TLS_RSA_WITH_ARIA_128_GCM_SHA256"},
    {0xc051, "TLS_RSA_WITH_ARIA_256_GCM_SHA384"},
    {0xc052, "TLS_DHE_RSA_WITH_ARIA_128_GCM_SHA256"},
    {0xc053, "TLS_DHE_RSA_WITH_ARIA_256_GCM_SHA384"},
    {0xc056, "TLS_DHE_DSS_WITH_ARIA_128_GCM_SHA256"},
    {0xc057, "TLS_DHE_DSS_WITH_ARIA_256_GCM_SHA384"},
    {0xc05c, "TLS_ECDHE_ECDSA_WITH_ARIA_128_GCM_SHA256"},
    {0xc05d, "TLS_ECDHE_ECDSA_WITH_ARIA_256_GCM_SHA384"},
    {0xc060, "TLS_ECDHE_RSA_WITH_ARIA_128_GCM_SHA256"},
    {0xc061, "TLS_ECDHE_RSA_WITH_ARIA_256_GCM_SHA384"},
    {0xc06a, "TLS_PSK_WITH_ARIA_128_GCM_SHA256"},
    {0xc06b, "TLS_PSK_WITH_ARIA_256_GCM_SHA384"},
    {0xc06c, "TLS_DHE_PSK_WITH_ARIA_128_GCM_SHA256"},
    {0xc06d, "TLS_DHE_PSK_WITH_ARIA_256_GCM_SHA384"},
    {0xc06e, "TLS_RSA_PSK_WITH_ARIA_128_GCM_SHA256"},
    {0xc06f, "TLS_RSA_PSK_WITH_ARIA_256_GCM_SHA384"},
    {0xc09c, "TLS_RSA_WITH_AES_128_CCM"},
    {0xc09d, "TLS_RSA_WITH_AES_256_CCM"},
    {0xc09e, "TLS_DHE_RSA_WITH_AES_128_CCM"},
    {0xc09f, "TLS_DHE_RSA_WITH_AES_256_CCM"},
    {0xc0a0, "TLS_RSA_WITH_AES_128_CCM_8"},
    {0xc0a1, "TLS_RSA_WITH_AES_256_CCM_8"},
    {0xc0a2, "TLS_DHE_RSA_WITH_AES_128_CCM_8"},
    {0xc0a3, "TLS_DHE_RSA_WITH_AES_256_CCM_8"},
    {0xc0a4, "TLS_PSK_WITH_AES_128_CCM"},
    {0xc0a5, "TLS_PSK_WITH_AES_256_CCM"},
    {0xc0a6, "TLS_DHE_PSK_WITH_AES_128_CCM"},
    {0xc0a7, "TLS_DHE_PSK_WITH_AES_256_CCM"},
    {0xc0a8, "TLS_PSK_WITH_AES_128_CCM_8"},
    {0xc0a9, "TLS_PSK_WITH_AES_256_CCM_8"},
    {0xc0aa, "TLS_PSK_DHE_WITH_AES_128_CCM_8"},
    {0xc0ab, "TLS_PSK_DHE_WITH_AES_256_CCM_8"},
    {0xc0ac, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM"},
    {0xc0ad, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM"},
    {0xc0ae, "TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8"},
    {0xc0af, "TLS_ECDHE_ECDSA_WITH_AES_256_CCM_8"},
    {0xcca8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xcca9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xccaa, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256"},
    {0xccab, "TLS_PSK_WITH_CHACHA20_POLY1305_SHA256"},
    {0xccac, "TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256"},
    {0xccad, "TLS_DHE_PSK_WITH_CHACHA20_POLY1305_SHA256"},
    {0xccae, "TLS_RSA_PSK_WITH_CHACHA20_POLY1305_SHA256"},
    {0xd001, "TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256"},
    {0xd002, "TLS_ECDHE_PSK_WITH_AES_256_GCM_SHA384"},
    {0xd003, "TLS_ECDHE_PSK_WITH_AES_128_CCM_8_SHA256"},
    {0xd005, "TLS_ECDHE_PSK_WITH_AES_128_CCM_SHA256"},
};

// ExtensionType Values registry; 17513 and 17613 are BoringSSL's application_settings (ALPS,
// old and new code points), sent by Chrome but not IANA-registered.
constexpr named_entry extensions[] = {
    {0x0000, "server_name"},
    {0x0001, "max_fragment_length"},
    {0x0002, "client_certificate_url"},
    {0x0003, "trusted_ca_keys"},
    {0x0004, "truncated_hmac"},
    {0x0005, "status_request"},
    {0x0006, "user_mapping"},
    {0x0007, "client_authz"},
    {0x0008, "server_authz"},
    {0x0009, "cert_type"},
    {0x000a, "supported_groups"},
    {0x000b, "ec_point_formats"},
    {0x000c, "srp"},
    {0x000d, "signature_algorithms"},
    {0x000e, "use_srtp"},
    {0x000f, "heartbeat"},
    {0x0010, "application_layer_protocol_negotiation"},
    {0x0011, "status_request_v2"},
    {0x0012, "signed_certificate_timestamp"},
    {0x0013, "client_certificate_type"},
    {0x0014, "server_certificate_type"},
    {0x0015, "padding"},
    {0x0016, "encrypt_then_mac"},
    {0x0017, "extended_master_secret"},
    {0x0018, "token_binding"},
    {0x0019, "cached_info"},
    {0x001a, "tls_lts"},
    {0x001b, "compress_certificate"},
    {0x001c, "record_size_limit"},
    {0x001d, "pwd_protect"},
    {0x001e, "pwd_clear"},
    {0x001f, "password_salt"},
    {0x0020, "ticket_pinning"},
    {0x0021, "tls_cert_with_extern_psk"},
    {0x0022, "delegated_credential"},
    {0x0023, "session_ticket"},
    {0x0024, "TLMSP"},
    {0x0025, "TLMSP_proxying"},
    {0x0026, "TLMSP_delegate"},
    {0x0027, "supported_ekt_ciphers"},
    {0x0029, "pre_shared_key"},
    {0x002a, "early_data"},
    {0x002b, "supported_versions"},
    {0x002c, "cookie"},
    {0x002d, "psk_key_exchange_modes"},
    {0x002f, "certificate_authorities"},
    {0x0030, "oid_filters"},
    {0x0031, "post_handshake_auth"},
    {0x0032, "signature_algorithms_cert"},
    {0x0033, "key_share"},
    {0x0034, "transparency_info"},
    {0x0035, "connection_id_deprecated"},
    {0x0036, "connection_id"},
    {0x0037, "external_id_hash"},
    {0x0038, "external_session_id"},
    {0x0039, "quic_transport_parameters"},
    {0x003a, "ticket_request"},
    {0x003b, "dnssec_chain"},
    {0x003c, "sequence_number_encryption_algorithms"},
    {0x003d, "rrc"},
    {0x003e, "tls_flags"},
    {0x4469, "application_settings"},
    {0x44cd, "application_settings"},
    {0xfd00, "ech_outer_extensions"},
    {0xfe0d, "encrypted_client_hello"},
    {0xff01, "renegotiation_info"},
};

// Supported Groups registry (tls-parameters-8).
constexpr named_entry groups[] = {
    {0x0001, "sect163k1"},
    {0x0002, "sect163r1"},
    {0x0003, "sect163r2"},
    {0x0004, "sect193r1"},
    {0x0005, "sect193r2"},
    {0x0006, "sect233k1"},
    {0x0007, "sect233r1"},
    {0x0008, "sect239k1"},
    {0x0009, "sect283k1"},
    {0x000a, "sect283r1"},
    {0x000b, "sect409k1"},
    {0x000c, "sect409r1"},
    {0x000d, "sect571k1"},
    {0x000e, "sect571r1"},
    {0x000f, "secp160k1"},
    {0x0010, "secp160r1"},
    {0x0011, "secp160r2"},
    {0x0012, "secp192k1"},
    {0x0013, "secp192r1"},
    {0x0014, "secp224k1"},
    {0x0015, "secp224r1"},
    {0x0016, "secp256k1"},
    {0x0017, "secp256r1"},
    {0x0018, "secp384r1"},
    {0x0019, "secp521r1"},
    {0x001a, "brainpoolP256r1"},
    {0x001b, "brainpoolP384r1"},
    {0x001c, "brainpoolP512r1"},
    {0x001d, "x25519"},
    {0x001e, "x448"},
    {0x001f, "brainpoolP256r1tls13"},
    {0x0020, "brainpoolP384r1tls13"},
    {0x0021, "brainpoolP512r1tls13"},
    {0x0022, "GC256A"},
    {0x0023, "GC256B"},
    {0x0024, "GC256C"},
    {0x0025, "GC256D"},
    {0x0026, "GC512A"},
    {0x0027, "GC512B"},
    {0x0028, "GC512C"},
    {0x0029, "curveSM2"},
    {0x0100, "ffdhe2048"},
    {0x0101, "ffdhe3072"},
    {0x0102, "ffdhe4096"},
    {0x0103, "ffdhe6144"},
    {0x0104, "ffdhe8192"},
    {0x0200, "MLKEM512"},
    {0x0201, "MLKEM768"},
    {0x0202, "MLKEM1024"},
    {0x11eb, "SecP256r1MLKEM768"},
    {0x11ec, "X25519MLKEM768"},
    {0x11ed, "SecP384r1MLKEM1024"},
    {0x6399, "X25519Kyber768Draft00"},
    {0x639a, "SecP256r1Kyber768Draft00"},
    {0xff01, "arbitrary_explicit_prime_curves"},
    {0xff02, "arbitrary_explicit_char2_curves"},
};

// SignatureScheme registry (tls-signaturescheme); 0x0201…0x0303 are TLS 1.2 (hash, signature)
// pairs of RFC 5246 §7.4.1.4.1, named as OpenSSL names them.
constexpr named_entry signature_schemes[] = {
    {0x0201, "rsa_pkcs1_sha1"},
    {0x0202, "dsa_sha1"},
    {0x0203, "ecdsa_sha1"},
    {0x0301, "rsa_pkcs1_sha224"},
    {0x0302, "dsa_sha224"},
    {0x0303, "ecdsa_sha224"},
    {0x0401, "rsa_pkcs1_sha256"},
    {0x0402, "dsa_sha256"},
    {0x0403, "ecdsa_secp256r1_sha256"},
    {0x0420, "rsa_pkcs1_sha256_legacy"},
    {0x0501, "rsa_pkcs1_sha384"},
    {0x0502, "dsa_sha384"},
    {0x0503, "ecdsa_secp384r1_sha384"},
    {0x0520, "rsa_pkcs1_sha384_legacy"},
    {0x0601, "rsa_pkcs1_sha512"},
    {0x0602, "dsa_sha512"},
    {0x0603, "ecdsa_secp521r1_sha512"},
    {0x0620, "rsa_pkcs1_sha512_legacy"},
    {0x0704, "eccsi_sha256"},
    {0x0705, "iso_ibs1"},
    {0x0706, "iso_ibs2"},
    {0x0707, "iso_chinese_ibs"},
    {0x0708, "sm2sig_sm3"},
    {0x0709, "gostr34102012_256a"},
    {0x070a, "gostr34102012_256b"},
    {0x070b, "gostr34102012_256c"},
    {0x070c, "gostr34102012_256d"},
    {0x070d, "gostr34102012_512a"},
    {0x070e, "gostr34102012_512b"},
    {0x070f, "gostr34102012_512c"},
    {0x0804, "rsa_pss_rsae_sha256"},
    {0x0805, "rsa_pss_rsae_sha384"},
    {0x0806, "rsa_pss_rsae_sha512"},
    {0x0807, "ed25519"},
    {0x0808, "ed448"},
    {0x0809, "rsa_pss_pss_sha256"},
    {0x080a, "rsa_pss_pss_sha384"},
    {0x080b, "rsa_pss_pss_sha512"},
    {0x081a, "ecdsa_brainpoolP256r1tls13_sha256"},
    {0x081b, "ecdsa_brainpoolP384r1tls13_sha384"},
    {0x081c, "ecdsa_brainpoolP512r1tls13_sha512"},
    {0x0904, "mldsa44"},
    {0x0905, "mldsa65"},
    {0x0906, "mldsa87"},
};

// Alerts registry (tls-parameters-6).
constexpr named_entry alerts[] = {
    {0, "close_notify"},
    {10, "unexpected_message"},
    {20, "bad_record_mac"},
    {21, "decryption_failed"},
    {22, "record_overflow"},
    {30, "decompression_failure"},
    {40, "handshake_failure"},
    {41, "no_certificate"},
    {42, "bad_certificate"},
    {43, "unsupported_certificate"},
    {44, "certificate_revoked"},
    {45, "certificate_expired"},
    {46, "certificate_unknown"},
    {47, "illegal_parameter"},
    {48, "unknown_ca"},
    {49, "access_denied"},
    {50, "decode_error"},
    {51, "decrypt_error"},
    {52, "too_many_cids_requested"},
    {60, "export_restriction"},
    {70, "protocol_version"},
    {71, "insufficient_security"},
    {80, "internal_error"},
    {86, "inappropriate_fallback"},
    {90, "user_canceled"},
    {100, "no_renegotiation"},
    {109, "missing_extension"},
    {110, "unsupported_extension"},
    {111, "certificate_unobtainable"},
    {112, "unrecognized_name"},
    {113, "bad_certificate_status_response"},
    {114, "bad_certificate_hash_value"},
    {115, "unknown_psk_identity"},
    {116, "certificate_required"},
    {120, "no_application_protocol"},
    {121, "ech_required"},
};

// PskKeyExchangeMode (RFC 8446 §4.2.9), ECPointFormat (tls-parameters-9), and
// CompressionMethod (comp-meth-ids) registries.
constexpr named_entry psk_modes[] = {{0, "psk_ke"}, {1, "psk_dhe_ke"}};
constexpr named_entry point_formats[] = {
    {0, "uncompressed"}, {1, "ansiX962_compressed_prime"}, {2, "ansiX962_compressed_char2"}};
constexpr named_entry compression_methods[] = {{0, "null"}, {1, "DEFLATE"}};

static_assert(std::is_sorted(std::begin(versions), std::end(versions), by_value));
static_assert(std::is_sorted(std::begin(cipher_suites), std::end(cipher_suites), by_value));
static_assert(std::is_sorted(std::begin(extensions), std::end(extensions), by_value));
static_assert(std::is_sorted(std::begin(groups), std::end(groups), by_value));
static_assert(std::is_sorted(std::begin(signature_schemes), std::end(signature_schemes), by_value));
static_assert(std::is_sorted(std::begin(alerts), std::end(alerts), by_value));

std::string unknown(unsigned value, int digits) {
  char text[16];
  std::snprintf(text, sizeof text, "unknown_0x%0*x", digits, value);
  return text;
}

/** The name of `value` in `table`, "unknown_0x…" (`digits` hex digits) when absent. */
template <std::size_t N>
std::string lookup(const named_entry (&table)[N], std::uint16_t value, int digits) {
  const named_entry key{value, {}};
  const auto* it = std::lower_bound(std::begin(table), std::end(table), key, by_value);
  if (it != std::end(table) && it->value == value) {
    return std::string(it->name);
  }
  return unknown(value, digits);
}

/** For the 16-bit registries RFC 8701 reserves GREASE values in. */
template <std::size_t N>
std::string lookup_greased(const named_entry (&table)[N], std::uint16_t value) {
  if (is_grease(value)) {
    return "grease";
  }
  return lookup(table, value, 4);
}

}  // namespace

std::string version_name(std::uint16_t value) {
  return lookup_greased(versions, value);
}
std::string cipher_suite_name(std::uint16_t value) {
  return lookup_greased(cipher_suites, value);
}
std::string extension_name(std::uint16_t value) {
  return lookup_greased(extensions, value);
}
std::string group_name(std::uint16_t value) {
  return lookup_greased(groups, value);
}

std::string signature_scheme_name(std::uint16_t value) {
  return lookup_greased(signature_schemes, value);
}

std::string alert_name(std::uint8_t value) {
  return lookup(alerts, value, 2);
}

std::string psk_key_exchange_mode_name(std::uint8_t value) {
  if (is_grease_u8(value)) {
    return "grease";
  }
  return lookup(psk_modes, value, 2);
}

std::string ec_point_format_name(std::uint8_t value) {
  return lookup(point_formats, value, 2);
}

std::string compression_method_name(std::uint8_t value) {
  return lookup(compression_methods, value, 2);
}

}  // namespace hark::tls
