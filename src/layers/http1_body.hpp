#pragma once
// Moving one HTTP/1.x message body between two streams (private to src/layers): parse what is
// buffered, show the decoded pieces to capture, forward the raw bytes verbatim, read more —
// each read bounded by the exchange's deadline for that side (SPEC §2: the same deadlines hold
// between body chunks).

#include "connection.hpp"

#include "hark/layers/http1_parser.hpp"

#include <array>
#include <chrono>

namespace hark::layers {

/** How a body pump ended. */
enum class pump_status {
  done,
  handed_off,  ///< stopped early at the caller's request (the rest is spliced)
  spliced,     ///< the rest of the body went through splice(2)
  source_closed,
  source_error,
  sink_error,
  protocol_error,
  timeout  ///< the source sent nothing for `body_deadline::timeout`
};

/** The deadline armed before each read of a body, and for how long. */
struct body_deadline {
  net::watchdog::deadline* deadline = nullptr;
  std::chrono::seconds timeout{};
};

/** Writes `prefix` then `bytes` with one gather write. */
inline asio::awaitable<boost::system::error_code> write_two(net::duplex to, std::string_view prefix,
                                                            std::string_view bytes) {
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(prefix), asio::buffer(bytes)};
  auto [ec, n] = co_await to.write(buffers);
  co_return ec;
}

/** Moves one message body from `from` to `to`: parses what is buffered, hands the decoded body
 *  pieces to `on_body`, writes the raw consumed bytes (after `prefix`, sent with the first
 *  write), reads more until the parser is done. Stops early, with everything read so far
 *  written, when `hand_off()` says so. */
template <bool IsRequest, class OnBody, class HandOff>
asio::awaitable<pump_status> pump_body(net::duplex from, net::byte_buffer& buf,
                                       http1::message_parser<IsRequest>& p, net::duplex to,
                                       std::string_view prefix, body_deadline d, OnBody on_body,
                                       HandOff hand_off) {
  for (;;) {
    if (!buf.empty() && !p.is_done()) {
      boost::system::error_code ec;
      const auto n = p.put(buf.data(), ec);
      if (ec && ec != boost::beast::http::error::need_more) {
        co_return pump_status::protocol_error;
      }
      for (auto piece : p.body_pieces()) {
        on_body(piece);
      }
      if (n > 0 || !prefix.empty()) {
        if (co_await write_two(to, prefix, buf.data().substr(0, n))) {
          co_return pump_status::sink_error;
        }
        prefix = {};
        buf.consume(n);
      }
    }
    if (p.is_done()) {
      break;
    }
    if (prefix.empty() && buf.empty() && hand_off()) {
      co_return pump_status::handed_off;
    }
    auto* space = buf.prepare(64 * 1024);
    d.deadline->reset_fired();
    d.deadline->arm(d.timeout, from.socket());  // an assignment: no syscall per read
    auto [ec, n] = co_await from.read_some(asio::buffer(space, buf.free_space()));
    d.deadline->disarm();
    if (ec == asio::error::eof && p.need_eof()) {
      boost::system::error_code eof_ec;
      p.put_eof(eof_ec);
      break;
    }
    if (ec) {
      if (d.deadline->fired()) {
        co_return pump_status::timeout;
      }
      co_return ec == asio::error::eof ? pump_status::source_closed : pump_status::source_error;
    }
    buf.commit(n);
  }
  if (!prefix.empty() && co_await write_two(to, prefix, {})) {
    co_return pump_status::sink_error;
  }
  co_return pump_status::done;
}

}  // namespace hark::layers
