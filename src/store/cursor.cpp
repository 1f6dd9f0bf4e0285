#include "cursor.hpp"

#include <openssl/evp.h>

#include <charconv>

namespace hark::store {
namespace {

// Longer input cannot be two 64-bit integers and a colon.
constexpr std::size_t max_cursor_length = 64;

bool parse_int64(std::string_view text, std::int64_t& out) {
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc{} && ptr == end && !text.empty();
}

}  // namespace

std::string encode_cursor(const cursor_position& position) {
  const std::string plain =
      std::to_string(position.started_us) + ':' + std::to_string(position.row);
  std::string out(4 * ((plain.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(plain.data()),
                                static_cast<int>(plain.size()));
  out.resize(static_cast<std::size_t>(n));
  // OpenSSL writes the standard alphabet with padding; translate to base64url without it.
  for (char& c : out) {
    if (c == '+') {
      c = '-';
    } else if (c == '/') {
      c = '_';
    }
  }
  while (!out.empty() && out.back() == '=') {
    out.pop_back();
  }
  return out;
}

std::optional<cursor_position> decode_cursor(std::string_view text) {
  if (text.empty() || text.size() > max_cursor_length || text.size() % 4 == 1) {
    return std::nullopt;
  }
  std::string b64;
  b64.reserve(text.size() + 3);
  for (const char c : text) {
    if (c == '+' || c == '/' || c == '=') {
      return std::nullopt;  // not base64url: reject rather than guess
    }
    b64 += c == '-' ? '+' : c == '_' ? '/' : c;
  }
  std::size_t padding = 0;
  while (b64.size() % 4 != 0) {
    b64 += '=';
    ++padding;
  }
  std::string plain(b64.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(plain.data()),
                                reinterpret_cast<const unsigned char*>(b64.data()),
                                static_cast<int>(b64.size()));
  if (n < 0 || static_cast<std::size_t>(n) < padding) {
    return std::nullopt;  // a character outside the alphabet
  }
  // EVP_DecodeBlock counts the zero bytes that stand for the padding: drop them.
  plain.resize(static_cast<std::size_t>(n) - padding);
  const auto colon = plain.find(':');
  if (colon == std::string::npos) {
    return std::nullopt;
  }
  cursor_position position;
  const std::string_view view(plain);
  if (!parse_int64(view.substr(0, colon), position.started_us) ||
      !parse_int64(view.substr(colon + 1), position.row) || position.row <= 0) {
    return std::nullopt;
  }
  return position;
}

}  // namespace hark::store
