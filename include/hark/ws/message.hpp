#pragma once
// ws::message: one WebSocket message as Hark records it (SPEC §5, the seed's WebSocketMessage),
// reassembled from its frames, unmasked and inflated.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace hark::ws {

/** Who sent a message: `client` is the side that opened the connection. */
enum class side : std::uint8_t { client, server };

/** The seed's payload types. `unknown` is a frame Hark could not make sense of: a reserved
 *  opcode or RSV bit, a continuation without a message, text that is not UTF-8, a close frame
 *  of one byte, a control frame over 125 bytes, a payload that does not inflate. */
enum class message_type : std::uint8_t { text, binary, close, ping, pong, unknown };

/** `text`, `binary`, `close`, `ping`, `pong`, `unknown`. */
std::string_view type_name(message_type type) noexcept;

struct message {
  using clock = std::chrono::system_clock;

  side from = side::client;
  message_type type = message_type::binary;
  clock::time_point started;  ///< header of the first frame seen
  clock::time_point ended;    ///< end of the last frame
  /** At most the capture cap of the payload: text as UTF-8; close: the 2-byte status code
   *  (network order) then the reason, as on the wire (RFC 6455 §5.5.1); the others: the
   *  application data (inflated when the message was compressed). */
  std::string payload;
  std::uint64_t size = 0;       ///< payload bytes in all (the kept ones and those past the cap)
  std::uint64_t wire_size = 0;  ///< frame payload bytes as relayed (compressed, when deflated)
  bool truncated = false;       ///< bytes past the cap were counted, not kept; or cut by EOF
  /** Why the message is `unknown` or incomplete (a protocol violation, a failed inflate), for
   *  logs and tests; empty for a well-formed message. */
  std::string error;
};

/** Receives the messages of a connection as they complete, in the order they completed on
 *  their side. Called on the thread that feeds the bytes; must not block. */
class message_sink {
 public:
  virtual ~message_sink() = default;
  /** Takes the message (its payload may be moved from). */
  virtual void on_message(message&& m) = 0;
};

}  // namespace hark::ws
