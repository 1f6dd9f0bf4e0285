#pragma once
// watchdog: one timer per connection enforcing whichever deadline is armed.
//
// Arming is an assignment (no timer syscall) unless the new deadline is earlier than the one the
// timer sleeps towards; the watchdog coroutine runs beside the connection's coroutine
// (`co_await (session() || dog.run())`), so it ends with it.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>

namespace hark::net {

class watchdog {
 public:
  using clock = std::chrono::steady_clock;

  explicit watchdog(const boost::asio::any_io_executor& ex) : timer_(ex) {}

  /** From now on, if `timeout` passes before the next arm()/disarm(), `target` is closed (its
   *  pending operations fail with operation_aborted) and fired() becomes true. */
  void arm(clock::duration timeout, boost::asio::ip::tcp::socket& target);

  /** No deadline until the next arm(). */
  void disarm() noexcept { deadline_ = clock::time_point::max(); }

  /** Whether a deadline passed since the last reset_fired(). */
  bool fired() const noexcept { return fired_; }
  void reset_fired() noexcept { fired_ = false; }

  /** Runs until cancelled (by the `||` it is awaited in). */
  boost::asio::awaitable<void> run();

 private:
  boost::asio::steady_timer timer_;
  clock::time_point deadline_ = clock::time_point::max();
  clock::time_point scheduled_ = clock::time_point::max();
  boost::asio::ip::tcp::socket* target_ = nullptr;
  bool fired_ = false;
};

}  // namespace hark::net
