#pragma once
// capture_record: the capture log's binary record format (SPEC §7), sans-I/O.
//
// One record per submission (an entry, a TLS connection log, a WebSocket message, a batch of an
// HTTP/2 connection's frame log), framed so that a reader can tell a whole record from a torn or
// damaged one:
//
//   offset 0   u32  payload size (bytes after the 12-byte header)
//          4   u32  CRC-32 (zlib) of bytes 8 … end of payload: type, version, reserved, payload
//          8   u8   record_type
//          9   u8   format version (capture_record_version)
//         10   u16  reserved, 0
//         12   …    payload
//
// Integers are little-endian, fixed width; a string is a u32 length and its bytes; an optional is
// a u8 (0 absent, 1 present) and then its value. An entry's payload starts with a fixed-size
// process slot, filled when the record is encoded if the process lookup has finished, else
// patched in place later (patch_process) by the thread that writes the log: the worker that
// encodes a record never waits for /proc. The checksum is computed last (seal_records), by that
// same thread, so the worker does not spend time on it either.

#include "hark/capture/entry_record.hpp"
#include "hark/capture/h2_frame_log.hpp"
#include "hark/capture/tls_log.hpp"
#include "hark/capture/ws_record.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace hark::store {

enum class record_type : std::uint8_t {
  entry = 1,       ///< capture::entry_record
  tls_log = 2,     ///< capture::tls_connection_log
  ws_message = 3,  ///< capture::ws_message_record
  h2_batch = 4,    ///< capture::h2_frame_batch
};

/** The format version written into every record; a reader refuses other versions. */
inline constexpr std::uint8_t capture_record_version = 1;
inline constexpr std::size_t record_header_size = 12;
/** Larger sizes are taken as damage (a body is captured up to --max-body-capture, 16 MiB). */
inline constexpr std::uint32_t max_record_payload = 1u << 30;
/** Offset of an entry's process slot in its record, and the slot's size: u8 state, u8 name
 *  length, i32 pid, 32 bytes of name (a /proc comm is at most 15). */
inline constexpr std::size_t process_slot_offset = record_header_size;
inline constexpr std::size_t process_slot_size = 38;

/** Appends one framed record (checksum not yet computed) to `out`. */
void append_record(std::string& out, const capture::entry_record& record);
void append_record(std::string& out, const capture::tls_connection_log& log);
void append_record(std::string& out, const capture::ws_message_record& message);
void append_record(std::string& out, const capture::h2_frame_batch& batch);

/** Whether the entry record framed at `frame` still waits for its process lookup. */
bool process_pending(const char* frame) noexcept;
/** Fills the process slot of the entry record framed at `frame` (nullopt: no local process). */
void patch_process(char* frame, const std::optional<capture::process_info>& process) noexcept;

/** Computes the checksum of every record in `data` (whole records, back to back). */
void seal_records(char* data, std::size_t size) noexcept;

/** What parse_frame found at the start of a byte range. */
enum class frame_status {
  ok,         ///< a whole record whose checksum matches
  truncated,  ///< fewer bytes than the header or the payload needs: a torn tail, or more to come
  corrupt,    ///< a header or checksum that does not hold (damage, or a write cut short)
};

struct frame_view {
  frame_status status = frame_status::truncated;
  record_type type = record_type::entry;
  std::string_view payload;  ///< when ok
  std::size_t size = 0;      ///< bytes of the whole record, header included, when ok
};

/** Looks at the record at the start of `bytes`. Never throws. */
frame_view parse_frame(std::string_view bytes) noexcept;

using capture_record = std::variant<capture::entry_record, capture::tls_connection_log,
                                    capture::ws_message_record, capture::h2_frame_batch>;

/** Decodes an ok frame's payload. An entry's `process` is a ready future. Throws
 *  std::runtime_error when the payload does not decode (a bug, or a format Hark does not know). */
capture_record decode_record(const frame_view& frame);

}  // namespace hark::store
