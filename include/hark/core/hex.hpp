#pragma once
// Bytes as lowercase hex digits (ids, tokens, digests, the search index's facet tokens).

#include <boost/algorithm/hex.hpp>

#include <iterator>
#include <string>
#include <string_view>

namespace hark {

inline std::string to_hex(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  boost::algorithm::hex_lower(bytes.begin(), bytes.end(), std::back_inserter(out));
  return out;
}

}  // namespace hark
