#pragma once
// ws::parser: the sans-I/O RFC 6455 reader of one direction of a WebSocket connection. It
// observes the bytes as they are relayed, in any split, and hands complete messages to a
// message_sink. It never writes, never blocks and never throws for anything a peer sends.
//
//   ┌──────────────► head ──(2…14 bytes: length form, mask)──► payload ──(declared length)──┐
//   │                                                                                       │
//   └───────────────────────────── frame end: message step ◄────────────────────────────────┘
//
// Frames become messages (§5.4): a data frame starts one (text/binary), continuations extend
// it, FIN ends it; control frames (close/ping/pong, §5.5) may come between fragments and are
// messages of their own. Payloads are unmasked (§5.3), inflated when RSV1 marks a compressed
// message (RFC 7692), and kept up to the capture cap: bytes past it are counted, not kept.
// Nothing is ever allocated from a declared length — a frame declaring 2^63 bytes costs what
// actually arrives, capped.
//
// Protocol violations do not stop the reading (the framing stays readable): the offending
// frame or message is recorded as `unknown` with the reason in message::error, and the next
// frame is read as usual. The peers, not Hark, decide what to do about them.

#include "hark/ws/deflate.hpp"
#include "hark/ws/message.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hark::ws {

class parser {
 public:
  using clock = message::clock;

  /** Reads what `from` sends. `deflate`: the parameters of the connection's permessage-deflate
   *  (RSV1 is a violation when it is not enabled). `max_capture`: payload bytes kept per
   *  message. `sink` must outlive the parser. */
  parser(side from, const deflate_params& deflate, std::uint64_t max_capture, message_sink& sink);

  /** The next bytes of this direction, exactly as relayed; `now` stamps the frames that start or
   *  end in them. Any split is fine (one byte at a time included). */
  void feed(std::string_view bytes, clock::time_point now);
  void feed(std::string_view bytes) { feed(bytes, clock::now()); }

  /** The direction ended (EOF or error): a message still being received is handed over with
   *  what arrived of it, marked truncated. The parser reads nothing more afterwards. */
  void finish(clock::time_point now);

  /** Frames read so far (for tests and metrics). */
  std::uint64_t frames() const noexcept { return frames_; }

 private:
  enum class state { head, payload, finished };

  /** One message being assembled: a data message spans frames, a control frame is its own. */
  struct assembly {
    bool active = false;
    bool compressed = false;  ///< RSV1 on its first frame, with deflate enabled
    message msg;
  };

  /** Parses the head in head_ once complete; returns the bytes of `bytes` it used. */
  std::size_t read_head(std::string_view bytes, clock::time_point now);
  void begin_frame(clock::time_point now);
  /** The protocol violation of the frame just read, if any (empty otherwise). */
  std::string violation(std::uint64_t length, bool rsv23) const;
  void frame_payload(std::string_view masked);
  void end_frame(clock::time_point now);
  void end_data_message(clock::time_point now);
  void emit(assembly& a, clock::time_point now);
  /** Appends payload bytes of the current frame's message under the cap. */
  void keep(assembly& a, std::string_view bytes);
  assembly& current() { return to_control_ ? control_ : data_; }

  side from_;
  std::uint64_t cap_;
  message_sink& sink_;
  bool deflate_enabled_;
  std::optional<inflater> inflater_;

  state state_ = state::head;
  std::array<unsigned char, 14> head_{};  ///< 2 + 8 (64-bit length) + 4 (mask) at most
  std::size_t head_size_ = 0;
  // The frame being read.
  bool fin_ = false;
  bool rsv1_ = false;
  unsigned opcode_ = 0;
  bool masked_ = false;
  std::array<unsigned char, 4> mask_{};
  std::uint64_t remaining_ = 0;
  std::uint64_t mask_offset_ = 0;  ///< payload bytes of this frame already unmasked
  bool to_control_ = false;        ///< this frame's payload goes to control_, not data_
  std::uint64_t frames_ = 0;

  assembly data_;     ///< text/binary message, possibly fragmented
  assembly control_;  ///< control frame, or a frame recorded as `unknown` on its own
};

}  // namespace hark::ws
