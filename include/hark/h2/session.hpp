#pragma once
// hark::h2::session — a sans-I/O HTTP/2 endpoint over nghttp2, for both sides of Hark: facing a
// client (role::server) and facing an origin (role::client). Bytes in, bytes out, events out; no
// sockets, no Asio. The connection's coroutine driver pumps it:
//
//        receive(bytes) ──► events() ──► driver (relays heads, DATA, resets, GOAWAY)
//                                          │ submit_response / submit_request / submit_data /
//                                          │ submit_trailers / submit_rst / submit_goaway / consume
//        pending_output() ◄────────────────┘
//        consume_output(n) after the socket took n bytes
//
//   connection:  [open] ──GOAWAY sent or received, streams done──► [done: !want_read &&
//   !want_write]
//                  │
//                  └── bad input (receive() not ok) ──► [closing: GOAWAY queued, write only]
//   stream:      idle ─HEADERS─► open ─END_STREAM both ways / RST_STREAM─► closed (state freed)
//
// Flow control is manual (nghttp2_option_set_no_auto_window_update): a stream's window reopens
// only when the driver consume()s the DATA it passed on, so a slow reader slows its own stream.
// The connection window reopens as DATA arrives while the driver holds less than
// `settings::connection_window` unconsumed bytes across all streams, so one stalled stream does
// not stall the others and the driver's buffering stays bounded per connection.
//
// Closed streams are not retained (nghttp2_option_set_no_closed_streams) and their send queues
// are freed on close: a connection that carries any number of streams keeps constant memory.

#include "hark/capture/entry_record.hpp"

#include <nghttp2/nghttp2.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

namespace hark::h2 {

/** Which end of the connection Hark is: server faces a client, client faces an origin. */
enum class role { server, client };

/** What Hark advertises in its SETTINGS and the limits it enforces on the peer. */
struct settings {
  /** SETTINGS_MAX_CONCURRENT_STREAMS; peer streams beyond it are refused. */
  std::uint32_t max_concurrent_streams = 100;
  /** SETTINGS_INITIAL_WINDOW_SIZE: per-stream receive window. */
  std::uint32_t stream_window = 4u << 20;
  /** Connection receive window, opened by a WINDOW_UPDATE on stream 0 after SETTINGS. */
  std::uint32_t connection_window = 16u << 20;
  /** SETTINGS_MAX_HEADER_LIST_SIZE (RFC 9113 §6.5.2 accounting: name + value + 32 per field).
   *  A larger request head is answered with 431; any other larger head resets its stream with
   *  ENHANCE_YOUR_CALM. */
  std::uint32_t max_header_list_size = 64u << 10;
  /** SETTINGS_HEADER_TABLE_SIZE: the HPACK dynamic table the peer may make Hark keep. */
  std::uint32_t header_table_size = 4096;
  /** Client role: SETTINGS_ENABLE_PUSH, whether the origin may push. */
  bool enable_push = false;
  /** Server role: SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441), extended CONNECT accepted. */
  bool enable_connect_protocol = true;

  // Abuse limits (issue of RFC 9113 §10.5). Each ends the connection with GOAWAY.
  /** Decoded bytes of one header block beyond which the block is an HPACK bomb:
   *  GOAWAY ENHANCE_YOUR_CALM. */
  std::uint32_t max_decoded_header_block = 256u << 10;
  /** RST_STREAM frames from the peer, token bucket (rapid reset, CVE-2023-44487): `reset_burst`
   *  tokens, `reset_rate` more per second; an empty bucket → GOAWAY ENHANCE_YOUR_CALM. */
  std::uint32_t reset_burst = 1000;
  std::uint32_t reset_rate = 33;
  /** SETTINGS ACKs and PING ACKs queued but not yet sent (control-frame flood): beyond it,
   *  GOAWAY ENHANCE_YOUR_CALM. */
  std::size_t max_outbound_ack = 1000;
  /** Entries accepted in one SETTINGS frame. */
  std::size_t max_settings_entries = 32;
  /** CONTINUATION frames accepted after one HEADERS (CVE-2024-27316 class). */
  std::size_t max_continuations = 8;
};

/** What a received header block is. */
enum class head_kind {
  request,        ///< server role: a request head (stream opened by the client)
  response,       ///< client role: a final response head, also of a pushed stream
  informational,  ///< client role: a 1xx head; the final response follows
  trailers,       ///< either role: trailer fields; always end_stream
  push_promise,   ///< client role: PUSH_PROMISE on `stream_id`, the promised request head
};

/** A complete header block (HEADERS + CONTINUATION, or PUSH_PROMISE). */
struct headers_event {
  std::int32_t stream_id = 0;
  head_kind kind = head_kind::request;
  /** Pseudo-headers first, then fields, in wire order (names are lower case in HTTP/2). */
  capture::header_list fields;
  bool end_stream = false;
  std::int32_t promised_stream_id = 0;  ///< push_promise: the reserved stream
};

/** DATA received. Consecutive DATA of a stream is merged into one event. The driver calls
 *  consume(stream_id, n) for every byte once it has passed it on or dropped it, also after the
 *  stream closed: until then the bytes count against the connection's buffering bound. */
struct data_event {
  std::int32_t stream_id = 0;
  std::string bytes;
  bool end_stream = false;
};

/** RST_STREAM received from the peer. A stream_closed_event follows. */
struct reset_event {
  std::int32_t stream_id = 0;
  std::uint32_t error_code = 0;
};

/** A stream closed (either way; error_code NO_ERROR when it ended normally). Its state is gone:
 *  submit_* on it fail from now on. */
struct stream_closed_event {
  std::int32_t stream_id = 0;
  std::uint32_t error_code = 0;
};

/** GOAWAY received from the peer. Streams above last_stream_id were not processed by it. */
struct goaway_event {
  std::int32_t last_stream_id = 0;
  std::uint32_t error_code = 0;
  std::string debug;
};

/** The peer's SETTINGS arrived (read them with remote_setting()). */
struct settings_event {};

using event = std::variant<headers_event, data_event, reset_event, stream_closed_event,
                           goaway_event, settings_event>;

/** The outcome of receive(). */
struct receive_result {
  std::size_t consumed = 0;
  /** False when the input broke the protocol or a limit: GOAWAY is queued, the session reads
   *  nothing more (want_read() is false) and only wants to write that GOAWAY out. */
  bool ok = true;
  /** When !ok: why, for the connection's log (nghttp2's message or Hark's limit). */
  std::string reason;
};

class session {
 public:
  /** Creates the endpoint and queues what it sends first: the client connection preface
   *  (client role), SETTINGS from `s`, and a WINDOW_UPDATE opening the connection window.
   *  `mem` (tests only) routes nghttp2's allocations; it must outlive the session. Throws
   *  std::bad_alloc when nghttp2 cannot allocate. */
  session(role r, const settings& s, nghttp2_mem* mem = nullptr);
  ~session();
  session(const session&) = delete;
  session& operator=(const session&) = delete;

  /** Feeds bytes received from the peer (nghttp2_session_mem_recv). Events produced are
   *  appended to events(). After a result that is not ok, further calls consume nothing. */
  receive_result receive(std::string_view bytes);

  /** Events produced by receive() and pending_output() since the last clear_events(), oldest
   *  first. The driver may move strings out of them. */
  std::vector<event>& events() noexcept { return events_; }
  /** Empties events(), keeping its capacity. */
  void clear_events() noexcept { events_.clear(); }

  /** Bytes to send to the peer, gathered from nghttp2_session_mem_send up to ~64 KiB; empty
   *  when there is nothing to send now. Valid until the next call on the session. Framing DATA
   *  may close streams, so it can append events. */
  std::string_view pending_output();
  /** The first `n` bytes of pending_output() were written to the peer. */
  void consume_output(std::size_t n) noexcept;

  /** True while the peer may still send something Hark will read. */
  bool want_read() const;
  /** True while there is something to send (now or once flow control allows). Both false: the
   *  connection is done and the driver closes it. */
  bool want_write() const;

  // ---- server role ----

  /** Submits the response head on a client-opened (or pushed) stream: a 1xx head (`:status`
   *  1xx, then a final head later) or the final head, with END_STREAM when `end_stream`; else
   *  the body follows with submit_data() and submit_trailers(). False when the stream is gone
   *  or nghttp2 refused the head. */
  bool submit_response(std::int32_t stream, const capture::header_list& fields, bool end_stream);

  /** Sends PUSH_PROMISE for `request_fields` (pseudo-headers first) on `parent` and returns the
   *  promised stream id, on which the driver then calls submit_response(). 0 when the client
   *  disabled push, or in client role, or when nghttp2 refused. */
  std::int32_t submit_push_promise(std::int32_t parent, const capture::header_list& request_fields);

  // ---- client role ----

  /** Opens a stream with the request head `fields` (pseudo-headers first; `:protocol` only when
   *  the origin advertised SETTINGS_ENABLE_CONNECT_PROTOCOL). Without `end_stream` the body
   *  follows with submit_data() / submit_trailers(). Returns the stream id, or a negative
   *  nghttp2 error when refused (GOAWAY received, no stream ids left, extended CONNECT not
   *  enabled by the origin, server role). Streams above the origin's MAX_CONCURRENT_STREAMS
   *  wait in nghttp2 until one closes. */
  std::int32_t submit_request(const capture::header_list& fields, bool end_stream);

  // ---- both roles ----

  /** Appends a copy of `bytes` to the stream's send queue; it is framed as flow control allows.
   *  `end_stream` ends the stream after them. False when the stream is gone or its head was
   *  sent with END_STREAM. */
  bool submit_data(std::int32_t stream, std::string_view bytes, bool end_stream);

  /** Ends the stream with trailer fields after the queued data: DATA without END_STREAM, then
   *  HEADERS with END_STREAM (what gRPC's status needs). False when the stream is gone. */
  bool submit_trailers(std::int32_t stream, const capture::header_list& fields);

  /** Bytes submitted on `stream` and not yet framed: the driver's back-pressure signal (stop
   *  reading the other side while it is large). 0 for an unknown stream. */
  std::size_t queued(std::int32_t stream) const;

  /** The driver passed `n` received DATA bytes of `stream` on (or dropped them): only now the
   *  stream's window reopens (WINDOW_UPDATE), and the connection's once the driver holds less
   *  than a connection window. Every received byte must be consumed, also of streams closed or
   *  reset since; bytes beyond what was received are ignored. */
  void consume(std::int32_t stream, std::size_t n);

  /** Resets the stream with `code` (RST_STREAM). A stream_closed_event follows once sent. */
  void submit_rst(std::int32_t stream, std::uint32_t code);

  /** Sends GOAWAY with `code` and `debug` data, naming the last stream Hark processed: streams
   *  up to it run to completion, then the session is done. */
  void submit_goaway(std::uint32_t code, std::string_view debug = {});

  /** The peer's value of a setting (its default until the peer's SETTINGS arrive). */
  std::uint32_t remote_setting(nghttp2_settings_id id) const;

  /** Streams with state in this session: open, half closed, reserved, and requests submitted
   *  but waiting for a slot under the peer's MAX_CONCURRENT_STREAMS. A shared upstream
   *  connection has room while this is below remote_setting(MAX_CONCURRENT_STREAMS). */
  std::size_t open_streams() const noexcept { return streams_.size(); }

  /** The error code of the GOAWAY Hark sent, once framed; nullopt before. */
  std::optional<std::uint32_t> local_goaway_code() const noexcept { return local_goaway_code_; }

  /** Bytes of received DATA the driver has not consume()d yet, over all streams. */
  std::size_t unconsumed() const noexcept { return unconsumed_total_; }

  role side() const noexcept { return role_; }

 private:
  friend struct session_callbacks;

  /** What Hark keeps per stream: the send queue and receive accounting. */
  struct stream_state {
    std::string send_queue;  ///< submitted, not yet framed (from send_offset)
    std::size_t send_offset = 0;
    bool end_queued = false;    ///< END_STREAM after the queue
    bool has_trailers = false;  ///< trailers after the queue
    capture::header_list trailers;
    bool has_provider = false;      ///< a data provider is attached (body may follow the head)
    bool deferred = false;          ///< the provider returned NGHTTP2_ERR_DEFERRED
    std::size_t unconsumed = 0;     ///< received DATA not consume()d yet
    bool discard = false;           ///< answered by the session itself (431): DATA is dropped
    std::uint32_t local_error = 0;  ///< why Hark reset it, reported at close (oversized head)
  };

  /** The header block being received (one at a time, RFC 9113 §4.3). */
  struct incoming_head {
    std::int32_t stream_id = 0;
    capture::header_list fields;
    std::size_t list_size = 0;  ///< RFC 9113 §6.5.2 size
    std::size_t decoded = 0;    ///< bytes decoded (for the bomb limit)
    bool oversized = false;
  };

  struct nghttp2_deleter {
    void operator()(nghttp2_session* s) const noexcept { nghttp2_session_del(s); }
  };

  void submit_initial_settings();
  bool attach_provider(std::int32_t stream, const capture::header_list& fields, bool end_stream,
                       bool informational);
  const nghttp2_nv* to_nv(const capture::header_list& fields);
  void resume(std::int32_t stream, stream_state& st);
  void fail(std::uint32_t code, std::string reason);
  void fill_output();
  void on_data_received(std::int32_t stream, std::size_t n);
  void release_connection_window();
  bool take_reset_token();

  role role_;
  settings settings_;
  std::unique_ptr<nghttp2_session, nghttp2_deleter> session_;
  std::unordered_map<std::int32_t, stream_state> streams_;
  /** Received DATA of closed streams that the driver has not consume()d yet. */
  std::unordered_map<std::int32_t, std::size_t> closed_unconsumed_;
  std::vector<event> events_;
  std::vector<nghttp2_nv> nv_;  ///< scratch for to_nv()
  incoming_head head_;
  std::string out_;
  std::size_t out_offset_ = 0;
  std::size_t unconsumed_total_ = 0;
  std::size_t deferred_connection_ = 0;  ///< received bytes whose connection window is withheld
  double reset_tokens_ = 0;
  std::chrono::steady_clock::time_point reset_refill_;
  bool failed_ = false;  ///< bad input: GOAWAY queued, nothing more is read
  bool broken_ = false;  ///< nghttp2 failed fatally (out of memory): nothing more at all
  std::string fail_reason_;
  std::string last_error_;  ///< nghttp2's last error message (error_callback2)
  std::optional<std::pair<std::uint32_t, std::string>> driver_goaway_;  ///< submit_goaway()'s
  std::optional<std::uint32_t> local_goaway_code_;
};

}  // namespace hark::h2
