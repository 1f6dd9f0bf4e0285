#include "hark/core/ids.hpp"

#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <stdexcept>

namespace hark::ids {
namespace {

void random_bytes(unsigned char* out, int n) {
  if (RAND_bytes(out, n) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
}

// ULID encoding is specified at github.com/ulid/spec; no Debian library provides it.
constexpr char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

// 128-bit arithmetic keeps the base32 encoding a simple loop; GCC's __int128 is an extension.
__extension__ typedef unsigned __int128 uint128;

struct ulid_state {
  std::uint64_t last_ms = 0;
  std::array<unsigned char, 10> random{};
};

std::string encode(std::uint64_t ms, const std::array<unsigned char, 10>& rnd) {
  // 128 bits: 48-bit time, 80-bit randomness, written as 26 base32 digits (130 bits).
  uint128 v = static_cast<uint128>(ms & 0xFFFFFFFFFFFFULL) << 80;
  for (int i = 0; i < 10; ++i) {
    v |= static_cast<uint128>(rnd[static_cast<std::size_t>(i)]) << (8 * (9 - i));
  }
  std::string out(26, '0');
  for (int i = 25; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = crockford[static_cast<unsigned>(v & 31)];
    v >>= 5;
  }
  return out;
}

}  // namespace

std::string new_ulid(std::chrono::system_clock::time_point at) {
  thread_local ulid_state state;
  const auto ms = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(at.time_since_epoch()).count());
  if (ms == state.last_ms) {
    // Same millisecond: increment the random part so ids stay sortable (ULID monotonicity).
    for (int i = 9; i >= 0; --i) {
      if (++state.random[static_cast<std::size_t>(i)] != 0) {
        break;
      }
    }
  } else {
    state.last_ms = ms;
    random_bytes(state.random.data(), static_cast<int>(state.random.size()));
  }
  return encode(ms, state.random);
}

std::string new_ulid() {
  return new_ulid(std::chrono::system_clock::now());
}

std::string new_uuid_v4() {
  std::array<unsigned char, 16> b{};
  random_bytes(b.data(), static_cast<int>(b.size()));
  b[6] = static_cast<unsigned char>((b[6] & 0x0F) | 0x40);  // version 4
  b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);  // RFC 4122 variant
  char buf[37];
  std::snprintf(buf, sizeof buf,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return buf;
}

}  // namespace hark::ids
