#pragma once
// Private to src/store: session rows, shared by the catalog's session half and the HAR import
// (which creates its session in the transaction that inserts the entries).

#include "hark/store/catalog.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace hark::store {

/** Inserts a new session with a UUID v4 id, active and recording when `active` (the caller
 *  deactivates the others first). Call inside a transaction or alone. */
session insert_session(database& db, const std::string& name, bool active, std::int64_t now_ms);

/** The session `id`, nullopt if unknown. */
std::optional<session> load_session(database& db, const std::string& id);

}  // namespace hark::store
