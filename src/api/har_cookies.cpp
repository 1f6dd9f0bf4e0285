// HAR cookies from the captured headers: `Cookie` request headers (RFC 6265 §5.4) and
// `Set-Cookie` response headers with their attributes (§5.2), dates parsed by §5.1.1.
#include "har.hpp"

#include <boost/beast/core/string.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>

namespace hark::api::har {
namespace {

/** ASCII case-insensitive equality. Not boost::beast::iequals: Boost 1.81's reads one byte past
 *  both strings when they differ in case at the last one (found by hark_time_fuzz: a cookie
 *  date ending in a month name, a heap-buffer-overflow read). */
bool iequals(std::string_view a, std::string_view b) {
  const auto lower = [](unsigned char c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) {
           return lower(static_cast<unsigned char>(x)) == lower(static_cast<unsigned char>(y));
         });
}

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t");
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = s.find_last_not_of(" \t");
  return s.substr(first, last - first + 1);
}

/** `name=value` split at the first `=`; a piece without one is a name with an empty value. */
cookie name_value(std::string_view pair) {
  const auto eq = pair.find('=');
  cookie c;
  c.name = trim(pair.substr(0, eq));
  if (eq != std::string_view::npos) {
    c.value = trim(pair.substr(eq + 1));
  }
  return c;
}

// ---- RFC 6265 §5.1.1 cookie dates ----------------------------------------------------------

bool is_delimiter(unsigned char c) {
  return c == 0x09 || (c >= 0x20 && c <= 0x2f) || (c >= 0x3b && c <= 0x40) ||
         (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

/** 1 to `max` digits at the start of `token`, then none: their value, or nullopt. */
std::optional<int> leading_number(std::string_view& token, std::size_t min, std::size_t max) {
  std::size_t n = 0;
  while (n < token.size() && is_digit(token[n])) {
    ++n;
  }
  if (n < min || n > max) {
    return std::nullopt;
  }
  int value = 0;
  std::from_chars(token.data(), token.data() + n, value);
  token.remove_prefix(n);
  return value;
}

/** `hms-time = time-field ":" time-field ":" time-field` */
bool read_time(std::string_view token, std::array<int, 3>& hms) {
  for (std::size_t i = 0; i < 3; ++i) {
    const auto field = leading_number(token, 1, 2);
    if (!field) {
      return false;
    }
    hms[i] = *field;
    if (i < 2) {
      if (token.empty() || token.front() != ':') {
        return false;
      }
      token.remove_prefix(1);
    }
  }
  return true;
}

std::optional<int> read_month(std::string_view token) {
  static constexpr std::array<std::string_view, 12> months = {
      "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"};
  if (token.size() < 3) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < months.size(); ++i) {
    if (iequals(token.substr(0, 3), months[i])) {
      return static_cast<int>(i) + 1;
    }
  }
  return std::nullopt;
}

struct date_parts {
  std::optional<std::array<int, 3>> time;
  std::optional<int> day;
  std::optional<int> month;
  std::optional<int> year;
};

/** One date-token, tried as time, day, month, then year, each only until found (§5.1.1). */
void read_token(std::string_view token, date_parts& parts) {
  std::array<int, 3> hms{};
  if (!parts.time && read_time(token, hms)) {
    parts.time = hms;
    return;
  }
  auto rest = token;
  if (!parts.day) {
    if (const auto day = leading_number(rest, 1, 2)) {
      parts.day = day;
      return;
    }
  }
  if (!parts.month) {
    if (const auto month = read_month(token)) {
      parts.month = month;
      return;
    }
  }
  rest = token;
  if (!parts.year) {
    parts.year = leading_number(rest, 2, 4);
  }
}

std::string iso(timefmt::clock::time_point t) {
  return timefmt::iso8601(t);
}

/** `t` as a clock time point, or the last (first) one the clock can represent when `t` is later
 *  (earlier): RFC 6265 §5.2.1 and §5.2.2 allow it, and system_clock counts nanoseconds in 64
 *  bits (years 1678-2262), so converting an expiry in 4042 would overflow. */
timefmt::clock::time_point clamp_to_clock(std::chrono::sys_seconds t) {
  using clock = timefmt::clock;
  const auto latest = std::chrono::floor<std::chrono::seconds>(clock::time_point::max());
  const auto earliest = std::chrono::ceil<std::chrono::seconds>(clock::time_point::min());
  if (t >= latest) {
    return clock::time_point::max();
  }
  if (t <= earliest) {
    return clock::time_point::min();
  }
  return std::chrono::time_point_cast<clock::duration>(t);
}

/** Applies one `Set-Cookie` attribute to `c`. `max_age` is kept apart: it wins over Expires. */
void apply_attribute(cookie& c, std::string_view attribute, timefmt::clock::time_point received,
                     std::optional<std::string>& max_age) {
  const auto eq = attribute.find('=');
  const auto name = trim(attribute.substr(0, eq));
  const auto value =
      eq == std::string_view::npos ? std::string_view() : trim(attribute.substr(eq + 1));
  if (iequals(name, "expires")) {
    if (const auto at = parse_http_date(value)) {
      c.expires = iso(*at);
    }
  } else if (iequals(name, "max-age")) {
    long long seconds = 0;
    const auto* end = value.data() + value.size();
    const auto [ptr, ec] = std::from_chars(value.data(), end, seconds);
    if (ec == std::errc() && ptr == end && !value.empty()) {
      // §5.2.2: zero or less means "already expired": the earliest representable time.
      max_age =
          seconds <= 0
              ? iso(timefmt::clock::time_point{})
              : iso(clamp_to_clock(std::chrono::floor<std::chrono::seconds>(received) +
                                   std::chrono::seconds(std::min(seconds, 400LL * 86400 * 365))));
    }
  } else if (iequals(name, "domain")) {
    c.domain = std::string(value);
  } else if (iequals(name, "path")) {
    c.path = std::string(value);
  } else if (iequals(name, "secure")) {
    c.secure = true;
  } else if (iequals(name, "httponly")) {
    c.http_only = true;
  }
}

}  // namespace

std::optional<timefmt::clock::time_point> parse_http_date(std::string_view text) {
  date_parts parts;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_delimiter(static_cast<unsigned char>(text[i]))) {
      ++i;
    }
    const auto start = i;
    while (i < text.size() && !is_delimiter(static_cast<unsigned char>(text[i]))) {
      ++i;
    }
    if (i > start) {
      read_token(text.substr(start, i - start), parts);
    }
  }
  if (!parts.time || !parts.day || !parts.month || !parts.year) {
    return std::nullopt;
  }
  int year = *parts.year;
  year += year >= 70 && year <= 99 ? 1900 : year <= 69 ? 2000 : 0;
  const auto [hour, minute, second] = *parts.time;
  if (*parts.day < 1 || *parts.day > 31 || year < 1601 || hour > 23 || minute > 59 || second > 59) {
    return std::nullopt;
  }
  const std::chrono::year_month_day date{std::chrono::year{year},
                                         std::chrono::month{static_cast<unsigned>(*parts.month)},
                                         std::chrono::day{static_cast<unsigned>(*parts.day)}};
  if (!date.ok()) {
    return std::nullopt;
  }
  return clamp_to_clock(std::chrono::sys_days{date} + std::chrono::hours(hour) +
                        std::chrono::minutes(minute) + std::chrono::seconds(second));
}

std::vector<cookie> request_cookies(const capture::header_list& headers) {
  std::vector<cookie> out;
  for (const auto& [name, value] : headers) {
    if (!iequals(name, "cookie")) {
      continue;
    }
    std::string_view rest = value;
    while (!rest.empty()) {
      const auto semi = rest.find(';');
      const auto pair = trim(rest.substr(0, semi));
      if (!pair.empty()) {
        out.push_back(name_value(pair));
      }
      rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    }
  }
  return out;
}

std::vector<cookie> response_cookies(const capture::header_list& headers,
                                     timefmt::clock::time_point received) {
  std::vector<cookie> out;
  for (const auto& [name, value] : headers) {
    if (!iequals(name, "set-cookie")) {
      continue;
    }
    std::string_view rest = value;
    const auto semi = rest.find(';');
    auto c = name_value(rest.substr(0, semi));
    std::optional<std::string> max_age;
    rest = semi == std::string_view::npos ? std::string_view() : rest.substr(semi + 1);
    while (!rest.empty()) {
      const auto next = rest.find(';');
      apply_attribute(c, rest.substr(0, next), received, max_age);
      rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 1);
    }
    if (max_age) {
      c.expires = std::move(max_age);
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace hark::api::har
