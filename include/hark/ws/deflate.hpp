#pragma once
// permessage-deflate (RFC 7692): the parameters a 101 response agreed on, and the inflater that
// turns one direction's compressed messages back into their payload for the record. The
// compressed bytes themselves are relayed untouched; only the record is inflated.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "hark/capture/entry_record.hpp"

struct z_stream_s;

namespace hark::ws {

/** What the server accepted in its `Sec-WebSocket-Extensions` (RFC 7692 §7.1). */
struct deflate_params {
  bool enabled = false;
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  int server_max_window_bits = 15;  ///< the server's compression window (8…15)
  int client_max_window_bits = 15;  ///< the client's compression window (8…15)
};

/** The permessage-deflate parameters of a 101 response's `Sec-WebSocket-Extensions` field(s)
 *  (`enabled` false when the server accepted none, or a malformed one: then Hark records the
 *  frames as they are, and a peer sending RSV1 is recorded as `unknown`). */
deflate_params negotiated_deflate(const capture::header_list& response_fields);

/** Inflates the messages of one direction, each a raw DEFLATE stream ended by the
 *  0x00 0x00 0xff 0xff tail that RFC 7692 §7.2.1 strips. With context takeover the window
 *  carries over from message to message; without, each message starts afresh. */
class inflater {
 public:
  /** `window_bits` as negotiated for the sending side (8…15); `context_takeover` false when the
   *  sender agreed to `*_no_context_takeover`. */
  inflater(int window_bits, bool context_takeover);
  ~inflater();
  inflater(const inflater&) = delete;
  inflater& operator=(const inflater&) = delete;

  /** Inflates `in` (part of the current message), appending to `out` what fits under `cap`
   *  bytes of `out` and counting everything in `total`. Never allocates past the cap: output
   *  goes through a fixed scratch buffer. False once the stream is invalid (zlib's message in
   *  error()); the rest of the message is then ignored. */
  bool feed(std::string_view in, std::string& out, std::uint64_t cap, std::uint64_t& total);
  /** The message's last frame has been fed: adds the stripped tail, and resets the window if
   *  there is no context takeover (or the message failed). False if the stream is invalid. */
  bool end_message(std::string& out, std::uint64_t cap, std::uint64_t& total);
  /** Why the last feed() failed; empty if it did not. */
  const std::string& error() const noexcept { return error_; }

 private:
  void reset();

  struct z_deleter {
    void operator()(z_stream_s* z) const noexcept;
  };
  std::unique_ptr<z_stream_s, z_deleter> z_;
  bool context_takeover_;
  bool failed_ = false;
  std::string error_;
};

}  // namespace hark::ws
