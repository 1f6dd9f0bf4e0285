// JA3, JA4 and the decoded ClientHello of the TLS connection log. The fingerprint algorithms are
// written by hand (no well-kept C/C++ library has them); MD5 and SHA-256 are OpenSSL EVP.
#include "hark/tls/fingerprint.hpp"

#include "hark/tls/names.hpp"

#include "wire.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace hark::tls {
namespace {

using detail::printable;
using detail::to_hex;

constexpr std::uint16_t ext_server_name = 0x0000;
constexpr std::uint16_t ext_supported_groups = 0x000a;
constexpr std::uint16_t ext_ec_point_formats = 0x000b;
constexpr std::uint16_t ext_signature_algorithms = 0x000d;
constexpr std::uint16_t ext_alpn = 0x0010;
constexpr std::uint16_t ext_padding = 0x0015;
constexpr std::uint16_t ext_supported_versions = 0x002b;
constexpr std::uint16_t ext_psk_key_exchange_modes = 0x002d;
constexpr std::uint16_t ext_key_share = 0x0033;

/** JA4's stand-in for the hash of an empty list ("makes it clear … a field has no values"). */
constexpr std::string_view ja4_empty_hash = "000000000000";
constexpr std::size_t ja4_hash_length = 12;

std::string hex4(std::uint16_t value) {
  char text[8];
  std::snprintf(text, sizeof text, "%04x", static_cast<unsigned>(value));
  return text;
}

/** Lowercase hex digest of `data`; `md` is EVP_md5() or EVP_sha256(). */
std::string hex_digest(const EVP_MD* md, std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (md == nullptr || EVP_Digest(data.data(), data.size(), digest, &length, md, nullptr) != 1) {
    throw std::runtime_error("OpenSSL digest failed while computing a TLS fingerprint");
  }
  return to_hex(std::string_view(reinterpret_cast<const char*>(digest), length));
}

/** `values` without GREASE, decimal, joined by '-' (JA3's list form). */
template <class T>
std::string ja3_list(const std::vector<T>& values) {
  std::string out;
  for (const T value : values) {
    if constexpr (sizeof(T) == 2) {
      if (is_grease(value)) {
        continue;
      }
    }
    if (!out.empty()) {
      out += '-';
    }
    out += std::to_string(value);
  }
  return out;
}

/** `values` (already GREASE-free) as 4-digit lowercase hex, joined by ',' (JA4's list form). */
std::string ja4_list(const std::vector<std::uint16_t>& values) {
  std::string out;
  for (const std::uint16_t value : values) {
    if (!out.empty()) {
      out += ',';
    }
    out += hex4(value);
  }
  return out;
}

std::vector<std::uint16_t> without_grease(const std::vector<std::uint16_t>& values) {
  std::vector<std::uint16_t> out;
  std::copy_if(values.begin(), values.end(), std::back_inserter(out),
               [](std::uint16_t v) { return !is_grease(v); });
  return out;
}

/** JA4 "TLS Version": the highest non-GREASE supported_versions value when the extension is
 *  there, else the ClientHello's legacy_version (the record version is never used). */
std::string_view ja4_version(const client_hello& hello) {
  std::uint16_t version = hello.legacy_version;
  const std::vector<std::uint16_t> supported = without_grease(hello.supported_versions);
  if (!supported.empty()) {
    version = *std::max_element(supported.begin(), supported.end());
  }
  switch (version) {
    case 0x0304:
      return "13";
    case 0x0303:
      return "12";
    case 0x0302:
      return "11";
    case 0x0301:
      return "10";
    case 0x0300:
      return "s3";
    case 0x0002:
      return "s2";
    case 0xfeff:
      return "d1";
    case 0xfefd:
      return "d2";
    case 0xfefc:
      return "d3";
    default:
      return "00";
  }
}

bool is_ascii_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/** JA4 "ALPN Extension Value": first and last characters of the first protocol name; "00"
 *  without one; when either end byte is not alphanumeric, the first and last characters of the
 *  name's hex form instead (0x30 0xAB → "3b"). */
std::string ja4_alpn(const client_hello& hello) {
  if (hello.alpn.empty() || hello.alpn.front().empty()) {
    return "00";
  }
  const std::string& name = hello.alpn.front();
  const auto first = static_cast<unsigned char>(name.front());
  const auto last = static_cast<unsigned char>(name.back());
  if (is_ascii_alnum(first) && is_ascii_alnum(last)) {
    return {static_cast<char>(first), static_cast<char>(last)};
  }
  const std::string hex = to_hex(name);
  return {hex.front(), hex.back()};
}

std::string two_digits(std::size_t count) {
  const std::size_t capped = std::min<std::size_t>(count, 99);
  return {static_cast<char>('0' + capped / 10), static_cast<char>('0' + capped % 10)};
}

std::string ja4_hash(const std::string& list) {
  if (list.empty()) {
    return std::string(ja4_empty_hash);
  }
  return hex_digest(EVP_sha256(), list).substr(0, ja4_hash_length);
}

template <class T, class Namer>
nlohmann::json named_list(const std::vector<T>& values, Namer namer) {
  nlohmann::json out = nlohmann::json::array();
  for (const T value : values) {
    out.push_back(named(value, namer(value)));
  }
  return out;
}

/** The decoded fields of one extension. The conveniences of `hello` hold the decoding of the
 *  one extension of each type (parse_client_hello rejects duplicates). */
void describe_extension(const tls_extension& ext, const client_hello& hello, nlohmann::json& out) {
  if (is_grease(ext.type)) {
    out["data"] = to_hex(ext.data);
    return;
  }
  switch (ext.type) {
    case ext_server_name: {
      nlohmann::json names = nlohmann::json::array();
      for (const std::string& name : hello.server_names) {
        names.push_back(printable(name));
      }
      out["serverNames"] = std::move(names);
      return;
    }
    case ext_alpn: {
      nlohmann::json protocols = nlohmann::json::array();
      for (const std::string& protocol : hello.alpn) {
        protocols.push_back(printable(protocol));
      }
      out["protocols"] = std::move(protocols);
      return;
    }
    case ext_supported_groups:
      out["groups"] = named_list(hello.supported_groups, group_name);
      return;
    case ext_signature_algorithms:
      out["algorithms"] = named_list(hello.signature_algorithms, signature_scheme_name);
      return;
    case ext_supported_versions:
      out["versions"] = named_list(hello.supported_versions, version_name);
      return;
    case ext_psk_key_exchange_modes:
      out["modes"] = named_list(hello.psk_key_exchange_modes, psk_key_exchange_mode_name);
      return;
    case ext_ec_point_formats:
      out["formats"] = named_list(hello.ec_point_formats, ec_point_format_name);
      return;
    case ext_key_share: {
      nlohmann::json shares = nlohmann::json::array();
      for (const key_share_entry& share : hello.key_shares) {
        shares.push_back({{"group", named(share.group, group_name(share.group))},
                          {"keyExchangeLength", share.key_exchange_length}});
      }
      out["shares"] = std::move(shares);
      return;
    }
    case ext_padding:
      out["length"] = ext.data.size();
      return;
    default:
      out["data"] = to_hex(ext.data);
      return;
  }
}

}  // namespace

ja3_result ja3(const client_hello& hello) {
  std::vector<std::uint16_t> extension_types;
  extension_types.reserve(hello.extensions.size());
  for (const tls_extension& ext : hello.extensions) {
    extension_types.push_back(ext.type);
  }
  ja3_result result;
  result.string = std::to_string(hello.legacy_version) + ',' + ja3_list(hello.cipher_suites) + ',' +
                  ja3_list(extension_types) + ',' + ja3_list(hello.supported_groups) + ',' +
                  ja3_list(hello.ec_point_formats);
  result.hash = hex_digest(EVP_md5(), result.string);
  return result;
}

ja4_result ja4(const client_hello& hello, bool quic) {
  std::vector<std::uint16_t> ciphers = without_grease(hello.cipher_suites);
  std::vector<std::uint16_t> extensions;
  std::size_t extension_count = 0;
  for (const tls_extension& ext : hello.extensions) {
    if (is_grease(ext.type)) {
      continue;
    }
    ++extension_count;  // SNI and ALPN count here, but are left out of the hashed list
    if (ext.type != ext_server_name && ext.type != ext_alpn) {
      extensions.push_back(ext.type);
    }
  }
  std::sort(ciphers.begin(), ciphers.end());
  std::sort(extensions.begin(), extensions.end());

  std::string part_a = quic ? "q" : "t";
  part_a += ja4_version(hello);
  part_a += hello.has_extension(ext_server_name) ? 'd' : 'i';
  part_a += two_digits(ciphers.size()) + two_digits(extension_count) + ja4_alpn(hello);

  const std::string part_b = ja4_list(ciphers);
  std::string part_c = ja4_list(extensions);
  // Signature algorithms in wire order; with none, the string ends without the underscore.
  const std::string signatures = ja4_list(without_grease(hello.signature_algorithms));
  if (!signatures.empty()) {
    part_c += '_' + signatures;
  }

  ja4_result result;
  result.raw = part_a + '_' + part_b + '_' + part_c;
  result.hashed = part_a + '_' + ja4_hash(part_b) + '_' + ja4_hash(part_c);
  return result;
}

nlohmann::json describe(const client_hello& hello) {
  nlohmann::json extensions = nlohmann::json::array();
  for (const tls_extension& ext : hello.extensions) {
    nlohmann::json entry = {{"type", named(ext.type, extension_name(ext.type))}};
    describe_extension(ext, hello, entry);
    extensions.push_back(std::move(entry));
  }
  return {
      {"version", named(hello.legacy_version, version_name(hello.legacy_version))},
      {"random", to_hex(hello.random)},
      {"sessionId", to_hex(hello.session_id)},
      {"cipherSuites", named_list(hello.cipher_suites, cipher_suite_name)},
      {"compressionMethods", named_list(hello.compression_methods, compression_method_name)},
      {"extensions", std::move(extensions)},
  };
}

}  // namespace hark::tls
