// Cookie dates and Set-Cookie attributes (src/api/har_cookies.cpp), with the inputs the fuzzers
// found (tests/fuzz/time_fuzz.cpp).
#include "../../../src/api/har.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace hark::api::har;

TEST(har_cookies, a_date_beyond_the_clock_is_its_last_instant) {
  // Expires in 4042: system_clock's nanoseconds end in 2262 (RFC 6265 §5.2.1 allows the last
  // representable date); converting it used to overflow.
  const auto at = parse_http_date("Thu, 21 Oct 4042 07:28:00 GMT");
  ASSERT_TRUE(at);
  EXPECT_EQ(*at, hark::timefmt::clock::time_point::max());
  const auto cookies = response_cookies(
      {{"Set-Cookie", "id=a; Expires=Thu, 21 Oct 4042 07:28:00 GMT"}}, hark::timefmt::clock::now());
  ASSERT_EQ(cookies.size(), 1u);
  ASSERT_TRUE(cookies[0].expires);
  EXPECT_TRUE(cookies[0].expires->starts_with("2262-04-11T")) << *cookies[0].expires;
}

TEST(har_cookies, ordinary_dates_and_case_insensitive_attributes) {
  const auto cookies = response_cookies(
      {{"Set-Cookie", "a=1; EXPIRES=Wed, 21 Oct 2015 07:28:00 GMT; pAtH=/x; HttpOnly; SECURE"}},
      hark::timefmt::clock::now());
  ASSERT_EQ(cookies.size(), 1u);
  EXPECT_EQ(cookies[0].expires, "2015-10-21T07:28:00.000Z");
  EXPECT_EQ(cookies[0].path, "/x");
  EXPECT_TRUE(cookies[0].http_only);
  EXPECT_TRUE(cookies[0].secure);
}

TEST(har_cookies, a_month_name_ending_the_value_is_read_within_it) {
  // The fuzzer's input: a date ending in a month name differing in case at its last letter,
  // which Boost 1.81's iequals read one byte past. Under ASan this is a heap read overflow.
  const std::string text = "Tphu,\"isa42 OcT";
  EXPECT_FALSE(parse_http_date(std::string_view(text)));
  EXPECT_FALSE(parse_http_date("1 jaN"));
}

}  // namespace
