#pragma once
// Private to entry_listing*.cpp: the SQL pieces and costs that the listing's planner
// (entry_listing.cpp) and its search half (entry_listing_search.cpp) share.

#include "statement.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace hark::store::listing {

// The condition of the partial index entries_unusual (migration 3), word for word: a query uses
// that index only when its WHERE clause contains this same expression.
inline constexpr std::string_view unusual_condition =
    "(method NOT IN ('GET', 'POST') OR http_version NOT IN ('HTTP/1.1', 'HTTP/2') "
    "OR is_websocket = 1 OR error_code IS NOT NULL)";
inline constexpr std::string_view unusual_counts_condition =
    "(method COLLATE NOCASE NOT IN ('GET', 'POST') OR http_version NOT IN ('HTTP/1.1', "
    "'HTTP/2') OR is_websocket = 1 OR is_error = 1)";

// Relative costs of reading one entry for a page: through an index that holds every filtered
// column, and by its row (a table lookup: a page read and a record decode).
inline constexpr double index_read = 0.05;
inline constexpr double row_read = 1.0;

// Sessions whose entries a query leaves out of a `q` count one by one (see index_count).
inline constexpr std::size_t max_excluded_sessions = 32;

/** `text` as a LIKE pattern that matches it literally (used with ESCAPE '\'). */
inline std::string like_literal(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    if (c == '%' || c == '_' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

inline std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/** `404` → [404, 404]; `5xx` → [500, 599]. Throws std::invalid_argument otherwise. */
inline std::pair<std::int64_t, std::int64_t> status_range(std::string_view status) {
  const auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (status.size() == 3 && digit(status[0]) && digit(status[1]) && digit(status[2])) {
    const std::int64_t code = std::stoll(std::string(status));
    return {code, code};
  }
  if (status.size() == 3 && digit(status[0]) && lowercase(status.substr(1)) == "xx") {
    const std::int64_t base = std::int64_t{status[0] - '0'} * 100;
    return {base, base + 99};
  }
  throw std::invalid_argument("invalid status filter: " + std::string(status));
}

inline bool is_domain_pattern(const std::string& host) {
  return host.rfind("*.", 0) == 0;
}

inline std::int64_t single_int(statement& st) {
  return st.step() ? st.column_int64(0) : 0;
}

}  // namespace hark::store::listing
