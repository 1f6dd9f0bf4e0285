// hark_tls_fingerprint: Hark's ClientHello reader and fingerprints as a filter, for
// tests/integration/test_ja4_reference.py (which compares them with a reference implementation).
//
//   hark_tls_fingerprint [--describe] < hellos.hex
//
// Each input line is the hex of the bytes a client sent (its TLS records). Each output line is
// one JSON object: {"status": "complete"|"need_more"|"not_tls"|"malformed", "consumed": N,
// "error": "…"} plus, when complete, "ja3": {string, hash}, "ja4": {raw, hashed},
// "legacyVersion", "cipherSuites", "extensions" (types, wire order), "sni", "alpnHex" (names as
// hex), and with
// --describe the connection log form under "describe". Exit status 2 on a line that is not hex.
#include "hark/tls/client_hello.hpp"
#include "hark/tls/fingerprint.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

namespace {

std::optional<std::string> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return std::nullopt;
  }
  std::string out;
  out.reserve(hex.size() / 2);
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    if (!std::isxdigit(static_cast<unsigned char>(hex[i])) ||
        !std::isxdigit(static_cast<unsigned char>(hex[i + 1]))) {
      return std::nullopt;
    }
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  }
  return out;
}

std::string_view status_name(hark::tls::parse_status status) {
  switch (status) {
    case hark::tls::parse_status::need_more:
      return "need_more";
    case hark::tls::parse_status::complete:
      return "complete";
    case hark::tls::parse_status::not_tls:
      return "not_tls";
    case hark::tls::parse_status::malformed:
      return "malformed";
  }
  return "unknown";
}

nlohmann::json fingerprint(const std::string& bytes, bool with_description) {
  const hark::tls::parse_result result = hark::tls::parse_client_hello(bytes);
  nlohmann::json out = {{"status", status_name(result.status)},
                        {"consumed", result.consumed},
                        {"error", result.error}};
  if (!result.hello) {
    return out;
  }
  const hark::tls::client_hello& hello = *result.hello;
  const hark::tls::ja3_result ja3 = hark::tls::ja3(hello);
  const hark::tls::ja4_result ja4 = hark::tls::ja4(hello);
  out["ja3"] = {{"string", ja3.string}, {"hash", ja3.hash}};
  out["ja4"] = {{"raw", ja4.raw}, {"hashed", ja4.hashed}};
  out["legacyVersion"] = hello.legacy_version;
  out["cipherSuites"] = hello.cipher_suites;
  nlohmann::json types = nlohmann::json::array();
  for (const hark::tls::tls_extension& ext : hello.extensions) {
    types.push_back(ext.type);
  }
  out["extensions"] = std::move(types);
  out["sni"] = hello.sni ? nlohmann::json(*hello.sni) : nlohmann::json(nullptr);
  if (with_description) {
    out["describe"] = hark::tls::describe(hello);
  }
  // ALPN names may be any bytes: hand them over as lowercase hex.
  nlohmann::json alpn_hex = nlohmann::json::array();
  for (const std::string& protocol : hello.alpn) {
    std::string hex;
    for (const char c : protocol) {
      static constexpr char digits[] = "0123456789abcdef";
      hex += digits[static_cast<unsigned char>(c) >> 4];
      hex += digits[static_cast<unsigned char>(c) & 0x0f];
    }
    alpn_hex.push_back(hex);
  }
  out["alpnHex"] = std::move(alpn_hex);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const bool with_description = argc > 1 && std::strcmp(argv[1], "--describe") == 0;
  std::string line;
  while (std::getline(std::cin, line)) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) {
      line.pop_back();
    }
    if (line.empty()) {
      continue;
    }
    const std::optional<std::string> bytes = from_hex(line);
    if (!bytes) {
      std::cerr << "hark_tls_fingerprint: not a hex string: " << line.substr(0, 40) << "\n";
      return 2;
    }
    // SNI bytes are the client's: invalid UTF-8 becomes U+FFFD rather than an exception.
    std::cout << fingerprint(*bytes, with_description)
                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
              << "\n"
              << std::flush;
  }
  return 0;
}
