#include "hark/core/time.hpp"

#include <charconv>
#include <cstdint>
#include <cstdio>
#include <ctime>

namespace hark::timefmt {

std::int64_t unix_ms(clock::time_point t) noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

std::int64_t unix_us(clock::time_point t) noexcept {
  return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

std::string iso8601_from_us(std::int64_t us) {
  std::time_t secs = static_cast<std::time_t>(us / 1'000'000);
  auto ms = static_cast<int>((us % 1'000'000) / 1000);
  if (us < 0 && us % 1'000'000 != 0) {
    secs -= 1;
    ms = static_cast<int>(((us % 1'000'000) + 1'000'000) / 1000);
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[96];  // sized for any int values, so -Wformat-truncation can prove it fits
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
  return buf;
}

std::string iso8601(clock::time_point t) {
  return iso8601_from_us(unix_us(t));
}

namespace {

bool read_int(std::string_view& s, std::size_t digits, int& out) {
  if (s.size() < digits) {
    return false;
  }
  auto [p, ec] = std::from_chars(s.data(), s.data() + digits, out);
  if (ec != std::errc{} || p != s.data() + digits) {
    return false;
  }
  s.remove_prefix(digits);
  return true;
}

bool is_leap(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int days_in_month(int year, int mon) {
  constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return mon == 2 && is_leap(year) ? 29 : days[mon - 1];
}

bool expect(std::string_view& s, char c) {
  if (s.empty() || s.front() != c) {
    return false;
  }
  s.remove_prefix(1);
  return true;
}

}  // namespace

std::optional<std::int64_t> parse_time_us(std::string_view s) {
  if (!s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos) {
    std::int64_t ms = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), ms);
    // Beyond this many milliseconds the microseconds would not fit in 64 bits.
    constexpr std::int64_t max_ms = INT64_MAX / 1000;
    if (ec != std::errc{} || ms > max_ms) {
      return std::nullopt;
    }
    return ms * 1000;
  }
  std::tm tm{};
  int year = 0, mon = 0, day = 0, hour = 0, min = 0, sec = 0;
  if (!read_int(s, 4, year) || !expect(s, '-') || !read_int(s, 2, mon) || !expect(s, '-') ||
      !read_int(s, 2, day)) {
    return std::nullopt;
  }
  if (!s.empty()) {
    if (!(expect(s, 'T') || expect(s, ' ')) || !read_int(s, 2, hour) || !expect(s, ':') ||
        !read_int(s, 2, min) || !expect(s, ':') || !read_int(s, 2, sec)) {
      return std::nullopt;
    }
  }
  std::int64_t frac_us = 0;
  if (!s.empty() && s.front() == '.') {
    s.remove_prefix(1);
    int scale = 100000;
    std::size_t n = 0;
    while (n < s.size() && s[n] >= '0' && s[n] <= '9') {
      frac_us += (s[n] - '0') * scale;
      scale /= 10;
      ++n;
    }
    if (n == 0) {
      return std::nullopt;
    }
    s.remove_prefix(n);
  }
  std::int64_t offset_s = 0;
  if (!s.empty()) {
    if (s == "Z" || s == "z") {
      s = {};
    } else if (s.front() == '+' || s.front() == '-') {
      const int sign = s.front() == '-' ? -1 : 1;
      s.remove_prefix(1);
      int oh = 0, om = 0;
      // Extended format throughout (RFC 3339): the offset is ±hh:mm, as the date has dashes.
      if (!read_int(s, 2, oh) || !expect(s, ':') || !read_int(s, 2, om) || !s.empty() || oh > 23 ||
          om > 59) {
        return std::nullopt;
      }
      offset_s = sign * (oh * 3600 + om * 60);
    } else {
      return std::nullopt;
    }
  }
  // timegm() would roll `Feb 31` over into March: impossible dates are rejected instead.
  if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) || hour > 23 || min > 59 ||
      sec > 60) {
    return std::nullopt;
  }
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  const std::time_t t = timegm(&tm);
  return (static_cast<std::int64_t>(t) - offset_s) * 1'000'000 + frac_us;
}

std::string default_session_name(clock::time_point t) {
  const std::time_t secs = clock::to_time_t(t);
  std::tm tm{};
  localtime_r(&secs, &tm);
  const int hour12 = tm.tm_hour % 12 == 0 ? 12 : tm.tm_hour % 12;
  char buf[128];
  std::snprintf(buf, sizeof buf, "Session %d/%d/%d, %d:%02d:%02d %s", tm.tm_mon + 1, tm.tm_mday,
                tm.tm_year + 1900, hour12, tm.tm_min, tm.tm_sec, tm.tm_hour < 12 ? "AM" : "PM");
  return buf;
}

}  // namespace hark::timefmt
