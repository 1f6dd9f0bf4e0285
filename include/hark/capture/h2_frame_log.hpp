#pragma once
// h2_frame_batch: what the HTTP/2 frame log keeps of one connection, a batch at a time (SPEC §4,
// §6.5). The proxy packs each frame into a compact record while it relays (h2/frame_record.hpp);
// frames are decoded only when read (h2/frame_log.hpp), and a connection's log leaves the relay
// in bounded batches, so that a connection open for days holds constant memory.

#include "hark/capture/entry_record.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace hark::capture {

/** Which of Hark's two connections the frames were seen on: the one with the client, or one
 *  with an origin. */
enum class h2_leg : std::uint8_t { client = 0, upstream = 1 };
/** Who sent a frame: the HTTP/2 client or the HTTP/2 server of that connection. */
enum class h2_side : std::uint8_t { client = 0, server = 1 };

/** Consecutive frames of one HTTP/2 connection, in the order Hark saw them. */
struct h2_frame_batch {
  std::string connection_id;  ///< ULID: the entries' `http2` / `upstreamHttp2` connectionId
  /** The session that was recording when the connection's first batch was handed over; set by
   *  the sink then, and kept for the connection's later batches. Empty until then. */
  std::string session_id;
  h2_leg leg = h2_leg::client;
  std::optional<net_address> client_addr;  ///< the client of Hark's client-side connection
  std::uint32_t sequence = 0;              ///< 0 for a connection's first batch, then +1 each
  std::uint32_t frame_count = 0;           ///< records in `records`
  std::chrono::system_clock::time_point first_at{};  ///< time of the first record
  std::string records;  ///< packed frame records (h2/frame_record.hpp), oldest first
};

}  // namespace hark::capture
