#include "hark/net/watchdog.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace hark::net {

namespace asio = boost::asio;

void watchdog::arm(clock::duration timeout, asio::ip::tcp::socket& target) {
  target_ = &target;
  deadline_ = clock::now() + timeout;
  if (deadline_ < scheduled_) {
    timer_.cancel();  // the sleeping watchdog wakes and re-sleeps towards the earlier deadline
  }
}

asio::awaitable<void> watchdog::run() {
  for (;;) {
    scheduled_ =
        deadline_ == clock::time_point::max() ? clock::now() + std::chrono::hours(1) : deadline_;
    timer_.expires_at(scheduled_);
    // Woken by the deadline or by arm() cancelling the wait: either way, look at the clock.
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) {
      co_return;  // the connection ended
    }
    if (clock::now() >= deadline_ && target_ != nullptr) {
      deadline_ = clock::time_point::max();
      fired_ = true;
      boost::system::error_code ignored;
      target_->close(ignored);
    }
  }
}

}  // namespace hark::net
