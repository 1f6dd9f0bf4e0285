#include "hark/core/base64.hpp"

#include <openssl/evp.h>

#include <algorithm>

namespace hark::base64 {
namespace {

// EVP_EncodeBlock and EVP_DecodeBlock take int lengths: large inputs go in slices, a multiple
// of 3 input bytes (encode) or 4 characters (decode) so that no padding falls inside.
constexpr std::size_t encode_slice = std::size_t{3} << 22;
constexpr std::size_t decode_slice = std::size_t{4} << 22;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

}  // namespace

void encode_append(std::string& out, std::string_view bytes) {
  const std::size_t start = out.size();
  // One byte more than the encoding: EVP_EncodeBlock writes a NUL after each slice.
  out.resize(start + 4 * ((bytes.size() + 2) / 3) + 1);
  std::size_t written = start;
  for (std::size_t at = 0; at < bytes.size(); at += encode_slice) {
    const auto n = std::min(encode_slice, bytes.size() - at);
    written += static_cast<std::size_t>(EVP_EncodeBlock(
        reinterpret_cast<unsigned char*>(out.data() + written),
        reinterpret_cast<const unsigned char*>(bytes.data() + at), static_cast<int>(n)));
  }
  out.resize(written);
}

std::optional<std::string> decode(std::string_view text) {
  std::string clean;
  clean.reserve(text.size() + 3);
  std::copy_if(text.begin(), text.end(), std::back_inserter(clean),
               [](char c) { return !is_space(c); });
  if (clean.size() % 4 == 1) {
    return std::nullopt;
  }
  while (clean.size() % 4 != 0) {
    clean += '=';
  }
  const std::size_t padding =
      clean.empty() ? 0 : (clean.back() == '=' ? 1 : 0) + (clean.ends_with("==") ? 1 : 0);
  std::string out(clean.size() / 4 * 3, '\0');
  std::size_t written = 0;
  for (std::size_t at = 0; at < clean.size(); at += decode_slice) {
    const auto n = std::min(decode_slice, clean.size() - at);
    const int got = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data() + written),
                                    reinterpret_cast<const unsigned char*>(clean.data() + at),
                                    static_cast<int>(n));
    if (got < 0) {
      return std::nullopt;
    }
    written += static_cast<std::size_t>(got);
  }
  // EVP_DecodeBlock counts the zero bytes that stand for the padding: drop them.
  out.resize(written - std::min(written, padding));
  return out;
}

}  // namespace hark::base64
