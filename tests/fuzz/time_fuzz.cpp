// libFuzzer target for the time and cookie parsers: the API's time filter (ISO 8601 or Unix
// milliseconds, src/core/time.cpp), cookie dates (RFC 6265 §5.1.1) and Cookie / Set-Cookie
// headers as HAR export reads them (src/api/har_cookies.cpp).
//
//   ./tests/fuzz/hark_time_fuzz -max_total_time=60 corpus/
//
// Invariants beyond "no crash, no sanitizer report": an accepted ISO time prints back (ISO
// 8601, milliseconds) to a text that parses to the same instant at millisecond precision, and
// names a real calendar day; cookie parsing is total (any header gives cookies, none throws).
#include "../../src/api/har.hpp"
#include "hark/core/time.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

void check(bool condition) {
  if (!condition) {
    std::abort();
  }
}

void check_time(std::string_view text) {
  const auto us = hark::timefmt::parse_time_us(text);
  if (!us) {
    return;
  }
  // Years 0000-9999 print in four digits; beyond them the round trip has no text form.
  constexpr std::int64_t year_10000_us = 253402300800LL * 1'000'000;
  constexpr std::int64_t year_0_us = -62167219200LL * 1'000'000;
  if (*us < year_0_us || *us >= year_10000_us) {
    return;
  }
  const std::string printed = hark::timefmt::iso8601_from_us(*us);
  const auto again = hark::timefmt::parse_time_us(printed);
  check(again.has_value());
  const auto floor_ms = [](std::int64_t v) { return v >= 0 ? v / 1000 : (v - 999) / 1000; };
  check(floor_ms(*again) == floor_ms(*us));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  check_time(input);
  (void)hark::api::har::parse_http_date(input);
  const hark::capture::header_list request{{"Cookie", std::string(input)}};
  for (const auto& c : hark::api::har::request_cookies(request)) {
    check(c.name.size() + c.value.size() <= input.size());
  }
  const hark::capture::header_list response{{"Set-Cookie", std::string(input)}};
  const auto received = hark::timefmt::clock::time_point{} + std::chrono::hours(24 * 365 * 56);
  for (const auto& c : hark::api::har::response_cookies(response, received)) {
    check(c.name.size() + c.value.size() <= input.size());
    // A four-digit year prints as 24 characters (2026-02-28T15:00:00.000Z); a Max-Age of
    // centuries has no such form to check.
    if (c.expires && c.expires->size() == 24) {
      check(hark::timefmt::parse_time_us(*c.expires).has_value());
    }
  }
  return 0;
}
