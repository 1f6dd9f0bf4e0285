#pragma once
// Base64 (RFC 4648 §4, standard alphabet, padded) on OpenSSL's EVP codec: bodies in JSON-RPC
// answers and HAR documents.

#include <optional>
#include <string>
#include <string_view>

namespace hark::base64 {

/** Appends the base64 of `bytes` to `out`. */
void encode_append(std::string& out, std::string_view bytes);

inline std::string encode(std::string_view bytes) {
  std::string out;
  encode_append(out, bytes);
  return out;
}

/** The bytes `text` encodes; whitespace is ignored and padding may be omitted. nullopt when
 *  `text` holds a character outside the alphabet or cannot be a base64 length. */
std::optional<std::string> decode(std::string_view text);

}  // namespace hark::base64
