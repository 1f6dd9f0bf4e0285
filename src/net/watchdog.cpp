#include "hark/net/watchdog.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace hark::net {

namespace asio = boost::asio;

watchdog::deadline::deadline(watchdog& dog) : dog_(dog) {
  dog_.deadlines_.push_back(this);
}

watchdog::deadline::~deadline() {
  auto& all = dog_.deadlines_;
  all.erase(std::find(all.begin(), all.end(), this));
}

void watchdog::deadline::arm(clock::duration timeout, asio::ip::tcp::socket& target) {
  target_ = &target;
  on_fire_ = nullptr;
  at_ = clock::now() + timeout;
  dog_.armed(at_);
}

void watchdog::deadline::arm(clock::duration timeout, std::function<void()> on_fire) {
  target_ = nullptr;
  on_fire_ = std::move(on_fire);
  at_ = clock::now() + timeout;
  dog_.armed(at_);
}

void watchdog::deadline::fire() {
  at_ = clock::time_point::max();
  fired_ = true;
  if (target_ != nullptr) {
    boost::system::error_code ignored;
    target_->close(ignored);
  } else if (on_fire_) {
    on_fire_();
  }
}

watchdog::watchdog(const asio::any_io_executor& ex) : timer_(ex), main_(*this) {}

void watchdog::armed(clock::time_point at) {
  if (at < scheduled_) {
    timer_.cancel();  // the sleeping watchdog wakes and re-sleeps towards the earlier deadline
  }
}

watchdog::clock::time_point watchdog::earliest() const noexcept {
  auto at = clock::time_point::max();
  for (const auto* d : deadlines_) {
    at = std::min(at, d->at_);
  }
  return at;
}

asio::awaitable<void> watchdog::run() {
  std::vector<deadline*> due;
  for (;;) {
    const auto next = earliest();
    scheduled_ = next == clock::time_point::max() ? clock::now() + std::chrono::hours(1) : next;
    timer_.expires_at(scheduled_);
    // Woken by a deadline or by arm() cancelling the wait: either way, look at the clock.
    co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    auto cs = co_await asio::this_coro::cancellation_state;
    if (cs.cancelled() != asio::cancellation_type::none) {
      co_return;  // the connection ended
    }
    // Collected first: an action may end its exchange, which unregisters deadlines.
    const auto now = clock::now();
    due.clear();
    for (auto* d : deadlines_) {
      if (d->at_ <= now) {
        due.push_back(d);
      }
    }
    for (auto* d : due) {
      if (std::find(deadlines_.begin(), deadlines_.end(), d) != deadlines_.end()) {
        d->fire();
      }
    }
  }
}

}  // namespace hark::net
