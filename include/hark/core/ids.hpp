#pragma once
// Identifiers: ULIDs for entries and connections, UUID v4 for sessions.

#include <chrono>
#include <string>

namespace hark::ids {

/** A new ULID (26 Crockford base32 characters, millisecond time prefix, 80 random bits).
 *  Monotonic within one thread: ids made in the same millisecond sort in creation order. */
std::string new_ulid();

/** A ULID for the given time (used by tests and importers). */
std::string new_ulid(std::chrono::system_clock::time_point at);

/** A new random UUID version 4 in canonical lowercase 8-4-4-4-12 form. */
std::string new_uuid_v4();

}  // namespace hark::ids
