#pragma once
// Private to src/store: the opaque keyset cursor of GET /api/sessions/:sid/entries.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hark::store {

/** The sort key of the last entry of a page: entries are ordered by (started_us, row). */
struct cursor_position {
  std::int64_t started_us = 0;
  std::int64_t row = 0;
};

/** base64url (RFC 4648 §5, unpadded) of `started_us:row`: opaque to clients, safe in a URL. */
std::string encode_cursor(const cursor_position& position);

/** nullopt for anything encode_cursor could not have produced. */
std::optional<cursor_position> decode_cursor(std::string_view text);

}  // namespace hark::store
