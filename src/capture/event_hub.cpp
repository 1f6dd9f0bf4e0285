// event_hub: bounded per-subscriber queues behind one mutex. The lock is held only to move
// shared pointers around, never while a payload is built or a consumer writes, so a publisher
// waits at most for another publish() or a take() of the same hub.

#include "hark/capture/event_hub.hpp"

#include <algorithm>
#include <array>

namespace hark::capture {
namespace {

// SPEC §6.5, §6.6: one `session` event for its three changes (the data says which).
constexpr std::array<std::string_view, event_type_count> names{
    "entry", "session", "session", "session", "websocket", "tls_failure",
};

}  // namespace

std::string_view event_name(event_type type) noexcept {
  return names.at(static_cast<std::size_t>(type));
}

std::uint32_t event_type_bits(std::string_view name) noexcept {
  std::uint32_t bits = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) {
      bits |= event_filter::bit(static_cast<event_type>(i));
    }
  }
  return bits;
}

bool event_filter::accepts(event_type type, std::string_view event_session) const noexcept {
  if ((types & bit(type)) == 0) {
    return false;
  }
  return !session_id || *session_id == event_session;
}

// --- subscription --------------------------------------------------------------------------

event_hub::subscription::subscription(event_hub& hub, std::shared_ptr<subscriber> self)
    : hub_(hub), self_(std::move(self)) {}

event_hub::subscription::~subscription() {
  hub_.remove(self_);
}

void event_hub::subscription::set_wake(std::function<void()> wake) {
  std::lock_guard lock(hub_.mutex_);
  self_->wake = std::move(wake);
  // Events (or the end) that arrived before there was anyone to wake: say so now.
  if (!self_->queue.empty() || self_->status != state::open) {
    event_hub::wake(*self_);
  }
}

event_hub::state event_hub::subscription::take(std::vector<std::shared_ptr<const event>>& out,
                                               std::size_t max_bytes) {
  std::lock_guard lock(hub_.mutex_);
  auto& s = *self_;
  std::size_t moved = 0;
  while (!s.queue.empty() && (moved == 0 || moved < max_bytes)) {
    auto& ev = s.queue.front();
    moved += ev->data.size() + 1;  // +1: an empty payload still counts towards progress
    s.queued_bytes -= ev->data.size();
    out.push_back(std::move(ev));
    s.queue.pop_front();
  }
  if (s.queue.empty()) {
    s.wake_pending = false;  // the consumer will wait again only after seeing it empty
  }
  return s.status;
}

// --- hub -----------------------------------------------------------------------------------

event_hub::event_hub(event_hub_options options) : options_(options) {}

event_hub::~event_hub() = default;

std::unique_ptr<event_hub::subscription> event_hub::subscribe(event_filter filter) {
  auto s = std::make_shared<subscriber>();
  s->filter = std::move(filter);
  std::lock_guard lock(mutex_);
  live_subscriptions_.fetch_add(1, std::memory_order_relaxed);
  if (closed_) {
    s->status = state::closed;
  } else {
    subscribers_.push_back(s);
    open_subscribers_.store(subscribers_.size(), std::memory_order_relaxed);
  }
  return std::unique_ptr<subscription>(new subscription(*this, std::move(s)));
}

std::uint64_t event_hub::publish(event_type type, std::string session_id, std::string data) {
  if (!has_subscribers()) {
    return 0;
  }
  // Built outside the lock; the id is assigned under it so that ids follow queue order.
  auto ev = std::make_shared<event>();
  ev->type = type;
  ev->session_id = std::move(session_id);
  ev->data = std::move(data);
  std::lock_guard lock(mutex_);
  if (closed_) {
    return 0;
  }
  bool taken = false;
  ev->id = last_id_ + 1;
  const std::shared_ptr<const event> shared = ev;
  // Index loop: enqueue() may drop (and so erase) the subscriber at `i`.
  for (std::size_t i = 0; i < subscribers_.size();) {
    auto& s = *subscribers_[i];
    if (!s.filter.accepts(type, shared->session_id)) {
      ++i;
      continue;
    }
    taken = true;
    enqueue(s, shared);
    if (s.status == state::open) {
      ++i;
    } else {
      subscribers_.erase(subscribers_.begin() + static_cast<std::ptrdiff_t>(i));
    }
  }
  open_subscribers_.store(subscribers_.size(), std::memory_order_relaxed);
  if (!taken) {
    return 0;
  }
  ++last_id_;
  published_total_.fetch_add(1, std::memory_order_relaxed);
  return ev->id;
}

void event_hub::enqueue(subscriber& s, const std::shared_ptr<const event>& ev) {
  const auto size = ev->data.size();
  const bool full = s.queue.size() >= options_.max_queued_events ||
                    (!s.queue.empty() && s.queued_bytes + size > options_.max_queued_bytes);
  if (full) {
    dropped_total_.fetch_add(1, std::memory_order_relaxed);
    end(s, state::dropped);
    return;
  }
  s.queue.push_back(ev);
  s.queued_bytes += size;
  if (!s.wake_pending) {
    wake(s);
  }
}

void event_hub::end(subscriber& s, state why) {
  s.status = why;
  // What it had not read yet is no use now: free it at once rather than when it goes away.
  std::deque<std::shared_ptr<const event>>().swap(s.queue);
  s.queued_bytes = 0;
  wake(s);
}

void event_hub::wake(subscriber& s) {
  s.wake_pending = true;
  if (s.wake) {
    s.wake();
  }
}

void event_hub::close() {
  std::lock_guard lock(mutex_);
  if (closed_) {
    return;
  }
  closed_ = true;
  for (auto& s : subscribers_) {
    end(*s, state::closed);
  }
  subscribers_.clear();
  open_subscribers_.store(0, std::memory_order_relaxed);
}

void event_hub::remove(const std::shared_ptr<subscriber>& s) {
  std::lock_guard lock(mutex_);
  s->wake = nullptr;  // never called after the subscription is gone
  live_subscriptions_.fetch_sub(1, std::memory_order_relaxed);
  const auto it = std::find(subscribers_.begin(), subscribers_.end(), s);
  if (it != subscribers_.end()) {
    subscribers_.erase(it);
    open_subscribers_.store(subscribers_.size(), std::memory_order_relaxed);
  }
}

}  // namespace hark::capture
