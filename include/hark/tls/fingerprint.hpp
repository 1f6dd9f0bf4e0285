#pragma once
// Views derived from a parsed ClientHello: the JA3 and JA4 client fingerprints, and the decoded
// form shown in the TLS connection log (SPEC §3, §6.5).
//
// JA3: https://github.com/salesforce/ja3 (README, "How it works").
// JA4: FoxIO's specification, technical_details/JA4.md in https://github.com/FoxIO-LLC/ja4.
// No well-kept C/C++ library computes either, so both are written here by hand; the hashes
// themselves are OpenSSL EVP (MD5, SHA-256).

#include "hark/tls/client_hello.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace hark::tls {

struct ja3_result {
  /** `SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats`, e.g.
   *  `771,4865-4866-4867,0-23-65281-10-11,29-23-24,0`. */
  std::string string;
  std::string hash;  ///< lowercase hex MD5 of `string`
};

struct ja4_result {
  /** The `ja4_r` form: ciphers and extensions sorted, unhashed, e.g.
   *  `t13d1516h2_002f,0035,…_0005,000a,…_0403,0804,…`. */
  std::string raw;
  /** The `ja4` form, e.g. `t13d1516h2_8daaf6152771_e5627efa2ab1`. */
  std::string hashed;
};

/** JA3 of `hello`: the decimal legacy_version, then cipher suites, extension types, supported
 *  groups and EC point formats, each dash-separated in wire order with GREASE values removed.
 *  Throws std::runtime_error if OpenSSL cannot compute MD5 (e.g. a FIPS-only provider). */
ja3_result ja3(const client_hello& hello);

/** JA4 of `hello` per the FoxIO spec; `quic` selects the `q` prefix (TLS inside QUIC Initial
 *  packets) instead of `t`. GREASE values are ignored everywhere, counts are capped at 99, and
 *  an empty list hashes to `000000000000`. Throws std::runtime_error if SHA-256 fails. */
ja4_result ja4(const client_hello& hello, bool quic = false);

/** The decoded ClientHello of the TLS connection log: `version` and every cipher suite,
 *  group, signature scheme and version as `{value, name}`; `random` and `sessionId` as
 *  lowercase hex; `extensions` in wire order, each `{type: {value, name}, …}` plus the fields
 *  of its kind (`serverNames`, `protocols`, `groups`, `algorithms`, `shares`, `versions`,
 *  `modes`, `formats`, `length` for padding) or `data` as lowercase hex for the others. */
nlohmann::json describe(const client_hello& hello);

}  // namespace hark::tls
