#pragma once
// Private to src/store: how a TLS connection log is kept at rest (one row of tls_connections,
// the log as CBOR, zstd-compressed above the body threshold).

#include "hark/capture/tls_log.hpp"
#include "hark/store/database.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace hark::store {

/** The log as CBOR (RFC 8949, nlohmann's encoder): raw messages are byte strings. */
std::string encode_tls_log(const capture::tls_connection_log& log);
/** Reverses encode_tls_log. Throws store_error on bytes it did not produce. */
capture::tls_connection_log decode_tls_log(std::string_view cbor);

/** Inserts or replaces the row of `log.connection_id`; nothing when its session is gone. */
void insert_tls_log(database& db, const capture::tls_connection_log& log,
                    std::size_t compress_threshold);
/** The stored log of connection `id`, or nullopt. Throws store_error. */
std::optional<capture::tls_connection_log> load_tls_log(database& db, const std::string& id);

}  // namespace hark::store
