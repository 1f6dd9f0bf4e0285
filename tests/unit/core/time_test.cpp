#include "hark/core/time.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <ctime>

namespace {

using hark::timefmt::clock;

TEST(timefmt, iso8601_has_milliseconds_and_z) {
  EXPECT_EQ(hark::timefmt::iso8601_from_us(1709136000123456), "2024-02-28T16:00:00.123Z");
  EXPECT_EQ(hark::timefmt::iso8601_from_us(0), "1970-01-01T00:00:00.000Z");
}

TEST(timefmt, parses_iso_and_milliseconds) {
  EXPECT_EQ(hark::timefmt::parse_time_us("2024-02-28T16:00:00.123Z"), 1709136000123000);
  EXPECT_EQ(hark::timefmt::parse_time_us("2024-02-28T17:00:00+01:00"), 1709136000000000);
  EXPECT_EQ(hark::timefmt::parse_time_us("1709136000123"), 1709136000123000);
  EXPECT_EQ(hark::timefmt::parse_time_us("2024-02-28"), 1709078400000000);
  EXPECT_FALSE(hark::timefmt::parse_time_us("yesterday"));
  EXPECT_FALSE(hark::timefmt::parse_time_us("2024-13-01T00:00:00Z"));
  EXPECT_FALSE(hark::timefmt::parse_time_us(""));
}

TEST(timefmt, rejects_impossible_dates_and_malformed_offsets) {
  EXPECT_FALSE(hark::timefmt::parse_time_us("2026-02-31T00:00:00Z"));
  EXPECT_FALSE(hark::timefmt::parse_time_us("2026-02-29"));  // 2026 is no leap year
  EXPECT_FALSE(hark::timefmt::parse_time_us("1900-02-29"));  // nor is 1900
  EXPECT_FALSE(hark::timefmt::parse_time_us("2026-04-31"));
  EXPECT_EQ(hark::timefmt::parse_time_us("2024-02-29"), 1709164800000000);
  EXPECT_EQ(hark::timefmt::parse_time_us("2000-02-29"), 951782400000000);
  EXPECT_EQ(hark::timefmt::parse_time_us("2026-12-31"), 1798675200000000);
  EXPECT_FALSE(hark::timefmt::parse_time_us("2024-02-28T17:00:00+0100"));
  EXPECT_FALSE(hark::timefmt::parse_time_us("2024-02-28T17:00:00+24:00"));
  EXPECT_FALSE(hark::timefmt::parse_time_us("2024-02-28T17:00:00+01:60"));
  EXPECT_FALSE(hark::timefmt::parse_time_us("2024-02-28T17:00"));
  EXPECT_FALSE(hark::timefmt::parse_time_us("2024-02-28T24:00:00Z"));
  EXPECT_FALSE(hark::timefmt::parse_time_us("99999999999999999"));  // µs beyond 64 bits
  EXPECT_EQ(hark::timefmt::parse_time_us("9223372036854775"), 9223372036854775000);
}

TEST(timefmt, default_session_name_uses_us_12_hour_format) {
  setenv("TZ", "UTC", 1);
  tzset();
  // 2026-02-28 15:00:00 UTC
  const auto t = clock::from_time_t(1772290800);
  EXPECT_EQ(hark::timefmt::default_session_name(t), "Session 2/28/2026, 3:00:00 PM");
  const auto midnight = clock::from_time_t(1772236800);  // 2026-02-28 00:00:00
  EXPECT_EQ(hark::timefmt::default_session_name(midnight), "Session 2/28/2026, 12:00:00 AM");
}

}  // namespace
