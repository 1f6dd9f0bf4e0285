#pragma once
// h2_pump: the writing half shared by both ends of Hark's HTTP/2 connections (private to
// src/layers) — the client connection (http2_layer) and each upstream one (h2_upstream). One
// coroutine takes what the sans-I/O session has to send, logs it in the frame tap and writes it;
// it sleeps on a timer that wake() cancels, and never misses a wake-up that happens while a pass
// runs (woken_).

#include "connection.hpp"

#include "hark/h2/frame_tap.hpp"
#include "hark/h2/session.hpp"

#include <boost/asio/steady_timer.hpp>

#include <string>
#include <string_view>

namespace hark::layers {

class h2_pump {
 public:
  explicit h2_pump(const asio::any_io_executor& ex) : wake_(ex) {}

  /** The session has something to send (or the connection's state changed). */
  void wake() {
    woken_ = true;
    wake_.cancel();
  }

  /** The reader stopped: the writer flushes what is left and ends. */
  void reading_done() {
    reading_done_ = true;
    wake();
  }

  /** Bytes read from the peer, into the frame log and the session. */
  static h2::receive_result receive(h2::session& session, h2::frame_tap& tap,
                                    std::string_view bytes) {
    tap.received(bytes);
    return session.receive(bytes);
  }

  /** Writes what `session` has to send to `io` until the reader is done or the session wants
   *  nothing more, then closes the socket (which ends a reader still waiting). `dispatch()`
   *  handles the events framing produced (DATA may close streams); `written()` runs after each
   *  write. Both run on the connection's thread; the owner outlives the coroutine. */
  template <class Dispatch, class Written>
  asio::awaitable<void> write_loop(h2::session& session, h2::frame_tap& tap, net::duplex io,
                                   Dispatch dispatch, Written written) {
    for (;;) {
      woken_ = false;
      // A copy: the session may change while the bytes are being written.
      const auto pending = session.pending_output();
      out_.assign(pending);
      session.consume_output(pending.size());
      // Logged before dispatch(): the frames that close the last streams are in the batch the
      // owner publishes when its connection goes idle.
      tap.sent(out_);
      dispatch();
      if (!out_.empty()) {
        if (auto [ec, n] = co_await io.write(asio::buffer(out_)); ec) {
          break;
        }
        written();
        continue;
      }
      if (reading_done_ || (!session.want_read() && !session.want_write())) {
        break;
      }
      if (woken_) {
        continue;  // something was submitted while this pass ran (dispatch() above)
      }
      wake_.expires_at(asio::steady_timer::time_point::max());
      co_await wake_.async_wait(use_nothrow);
    }
    boost::system::error_code ignored;
    io.socket().close(ignored);
  }

 private:
  asio::steady_timer wake_;
  std::string out_;
  bool reading_done_ = false;
  bool woken_ = false;  ///< wake() since the writer last looked at the session
};

}  // namespace hark::layers
