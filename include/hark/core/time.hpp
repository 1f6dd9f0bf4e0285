#pragma once
// Time formats used by the API: Unix milliseconds for sessions, ISO 8601 for entries.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hark::timefmt {

using clock = std::chrono::system_clock;

/** Milliseconds since the Unix epoch. */
std::int64_t unix_ms(clock::time_point t) noexcept;
inline std::int64_t now_ms() noexcept {
  return unix_ms(clock::now());
}

/** Microseconds since the Unix epoch (the store's time unit for entries). */
std::int64_t unix_us(clock::time_point t) noexcept;

/** `2026-02-28T15:00:00.123Z` — UTC, millisecond precision. */
std::string iso8601(clock::time_point t);
std::string iso8601_from_us(std::int64_t unix_us);

/** Parses an ISO 8601 UTC time (`2026-02-28T15:00:00Z`, optional fraction, `Z` or ±hh:mm) or a
 *  plain number of Unix milliseconds. Returns microseconds since the epoch, nullopt if invalid. */
std::optional<std::int64_t> parse_time_us(std::string_view text);

/** The default session name, `Session 2/28/2026, 3:00:00 PM`, in the local time zone. */
std::string default_session_name(clock::time_point t);

}  // namespace hark::timefmt
