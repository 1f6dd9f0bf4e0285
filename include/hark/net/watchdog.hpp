#pragma once
// watchdog: one timer per client connection enforcing every deadline armed on it.
//
// Each exchange (an HTTP/1 request/response, an HTTP/2 stream) owns `deadline`s registered with
// its connection's watchdog: one for reading the client, one for reading the upstream, so that a
// request body and a response body that flow at the same time are each bounded. Arming is an
// assignment (no timer syscall) unless the new deadline is earlier than the one the timer sleeps
// towards; the watchdog coroutine runs beside the connection's coroutine
// (`co_await (serve() || dog.run())`), so it ends with it.

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <vector>

namespace hark::net {

class watchdog {
 public:
  using clock = std::chrono::steady_clock;

  /** One deadline, registered with a watchdog for the deadline's lifetime (which must end
   *  before the watchdog's). Not copyable: exchanges hold theirs by value. */
  class deadline {
   public:
    explicit deadline(watchdog& dog);
    ~deadline();
    deadline(const deadline&) = delete;
    deadline& operator=(const deadline&) = delete;

    /** From now on, if `timeout` passes before the next arm()/disarm(), `target` is closed (its
     *  pending operations fail with operation_aborted) and fired() becomes true. */
    void arm(clock::duration timeout, boost::asio::ip::tcp::socket& target);
    /** The same with an action instead of a socket: `on_fire` runs on the connection's thread
     *  when the deadline passes (an HTTP/2 stream resets itself). */
    void arm(clock::duration timeout, std::function<void()> on_fire);
    /** No deadline until the next arm(). */
    void disarm() noexcept { at_ = clock::time_point::max(); }
    /** Whether the deadline passed since the last reset_fired(). */
    bool fired() const noexcept { return fired_; }
    void reset_fired() noexcept { fired_ = false; }

   private:
    friend class watchdog;
    void fire();

    watchdog& dog_;
    clock::time_point at_ = clock::time_point::max();
    boost::asio::ip::tcp::socket* target_ = nullptr;
    std::function<void()> on_fire_;
    bool fired_ = false;
  };

  explicit watchdog(const boost::asio::any_io_executor& ex);

  /** The connection's own deadline (request heads, handshakes, connects outside exchanges). */
  deadline& main() noexcept { return main_; }
  void arm(clock::duration timeout, boost::asio::ip::tcp::socket& target) {
    main_.arm(timeout, target);
  }
  void disarm() noexcept { main_.disarm(); }
  bool fired() const noexcept { return main_.fired(); }
  void reset_fired() noexcept { main_.reset_fired(); }

  /** Runs until cancelled (by the `||` it is awaited in). */
  boost::asio::awaitable<void> run();

 private:
  void armed(clock::time_point at);
  clock::time_point earliest() const noexcept;

  boost::asio::steady_timer timer_;
  clock::time_point scheduled_ = clock::time_point::max();
  std::vector<deadline*> deadlines_;  ///< registered, a handful per connection
  deadline main_;
};

}  // namespace hark::net
