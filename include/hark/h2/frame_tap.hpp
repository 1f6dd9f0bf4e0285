#pragma once
// frame_tap: the HTTP/2 frame log's capture side (SPEC §4, §6.5). Sans-I/O: the HTTP/2 layer
// shows it the bytes of one connection as they pass, in both directions, and it cuts them into
// frames (RFC 9113 §4.1) and appends one packed record per frame (h2/frame_record.hpp) to a
// batch that goes to the flow_sink when it is full, old, or the connection ends.
//
// Hand-written: nghttp2 (and every other HTTP/2 library) hands its user decoded headers and
// data, never the frames as they were on the wire, which is what the log shows.
//
// Cost on the relay thread per frame: reading its 9-byte header and appending a 24-byte record
// (plus the payload of frames other than DATA, up to max_payload); no allocation per frame and
// no decoding (frames are decoded when the API reads them, h2/frame_log.hpp).
//
//   bytes ──► [client preface, client→server only] ──► header (9 bytes, in any pieces)
//                                                        │
//               ◄── next frame ── payload (kept up to max_payload; DATA: only its pad length)

#include "hark/capture/flow.hpp"
#include "hark/capture/h2_frame_log.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hark::h2 {

/** Bounds of the tap's memory: the batch it fills and the payload it keeps per frame. */
struct frame_tap_limits {
  /** Payload bytes kept of a frame other than DATA; the rest is counted in `length` only. */
  std::size_t max_payload = 16 * 1024;
  /** A batch goes to the sink once it holds this many frames… */
  std::uint32_t max_batch_frames = 256;
  /** …or this many bytes of records… */
  std::size_t max_batch_bytes = 64 * 1024;
  /** …or when a frame completes this long after the batch's first one. */
  std::chrono::milliseconds max_batch_age{1000};
};

class frame_tap {
 public:
  /** Starts the frame log of one HTTP/2 connection: Hark's connection with the client (`leg`
   *  client, `client_addr` the client's socket) or one of its connections with an origin (`leg`
   *  upstream). `connection_id` is the connection's ULID (ids::new_ulid()), the one its entries
   *  carry in `http2` / `upstreamHttp2`. `sink` must outlive the tap; it is called on the
   *  thread that calls received(), sent(), publish() and flush(). */
  frame_tap(capture::flow_sink& sink, std::string connection_id, capture::h2_leg leg,
            std::optional<capture::net_address> client_addr = std::nullopt,
            frame_tap_limits limits = {});
  /** Calls flush() if it was not called: the sink must still be alive. */
  ~frame_tap();
  frame_tap(const frame_tap&) = delete;
  frame_tap& operator=(const frame_tap&) = delete;

  /** Bytes Hark read from the peer of this connection, as read (any split: a frame header may
   *  come in pieces). On the client leg they start with the client preface, which is skipped;
   *  bytes that are not the preface stop the log of that direction (the connection is not
   *  HTTP/2 and will be closed). The bytes are not kept: they may change after the call. */
  void received(std::string_view bytes);
  /** Bytes Hark wrote (or is about to write) to the peer of this connection, in order. On the
   *  upstream leg they start with the client preface, which is skipped. */
  void sent(std::string_view bytes);
  /** Hands the frames logged so far to the sink now, e.g. on a timer so that a quiet
   *  connection's last frames become visible before the next batch fills. Optional. */
  void publish();
  /** The connection has ended: a frame cut short is logged with what arrived of it, and the
   *  last batch goes to the sink. Later calls of received() and sent() are ignored. */
  void flush();

  const std::string& connection_id() const noexcept { return batch_.connection_id; }

 private:
  /** The frame splitter of one direction of the connection. */
  struct direction {
    capture::h2_side side = capture::h2_side::client;
    std::size_t preface_left = 0;  ///< bytes of the client preface still to skip
    bool broken = false;           ///< not HTTP/2: nothing more is logged in this direction
    unsigned char header[9]{};
    std::size_t header_have = 0;
    bool in_payload = false;  ///< a header has been read; its payload is passing
    std::int64_t at_us = 0;
    std::uint32_t length = 0;
    std::uint32_t left = 0;  ///< payload bytes still to pass
    std::size_t keep = 0;    ///< payload bytes to keep in total
    std::string payload;     ///< the kept bytes so far; its capacity is reused frame after frame
  };

  direction& client_to_server() noexcept;
  void feed(direction& d, std::string_view bytes);
  std::string_view skip_preface(direction& d, std::string_view bytes);
  std::string_view read_header(direction& d, std::string_view bytes);
  std::string_view read_payload(direction& d, std::string_view bytes);
  void finish_frame(direction& d);
  std::int64_t now_us();

  capture::flow_sink& sink_;
  frame_tap_limits limits_;
  capture::h2_frame_batch batch_;
  std::int64_t first_at_us_ = 0;
  std::int64_t call_at_us_ = -1;  ///< the time of the current received()/sent() call, once read
  direction from_peer_;
  direction to_peer_;
  bool finished_ = false;
};

}  // namespace hark::h2
