// GET /api/events — Server-Sent Events (SPEC §6.6): one event_hub subscription per response,
// its events written as SSE frames in HTTP/1.1 chunks.
//
//   next() ──► take() ─ events? ──────────────► "id: N\nevent: entry\ndata: {…}\n\n" …
//     ▲          │ dropped ───────────────────► "event: dropped\ndata: {…}\n\n", then the end
//     │          │ closed (daemon stopping) ──► the end (last chunk)
//     │          └ nothing: wait on the timer ─ woken by the hub ─┐
//     │                                       └ keep-alive due ───┼► ": keep-alive\n\n"
//     └───────────────────────────────────────────────────────────┘
//
// The hub wakes a waiting stream from the publishing thread by posting a timer cancel to the
// API thread; the stream always drains its queue before waiting, so a wake that comes while it
// is busy writing loses nothing.

#include "reply.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>
#include <memory>
#include <utility>

namespace hark::api {
namespace {

namespace net = boost::asio;
using capture::event_hub;

inline constexpr auto use_nothrow = net::as_tuple(net::use_awaitable);

/** Payload bytes taken from the queue per chunk: large enough to batch a burst of entries, small
 *  enough that one chunk never holds a whole backlog. */
constexpr std::size_t chunk_budget = std::size_t{64} << 10;

constexpr std::string_view keep_alive_frame = ": keep-alive\n\n";
constexpr std::string_view dropped_frame = "event: dropped\ndata: {\"reason\":\"queue_full\"}\n\n";

/** Appends `data` as `data:` lines. The payloads are compact JSON (no line breaks), but SSE
 *  ends a field at CR, LF or CRLF, so any that did occur would start a new `data:` line
 *  (which the client joins back with LF) instead of corrupting the frame. */
void append_data(std::string& out, std::string_view data) {
  for (;;) {
    const auto end = data.find_first_of("\r\n");
    out.append("data: ").append(data.substr(0, end)).append("\n");
    if (end == std::string_view::npos) {
      return;
    }
    const auto skip = data.compare(end, 2, "\r\n") == 0 ? 2 : 1;
    data.remove_prefix(end + skip);
  }
}

/** One SSE frame: `id`, `event`, `data` lines and the blank line that dispatches it. */
void append_frame(std::string& out, const capture::event& ev) {
  char digits[24];
  const auto [end, ec] = std::to_chars(std::begin(digits), std::end(digits), ev.id);
  out.append("id: ").append(digits, end).append("\n");
  out.append("event: ").append(capture::event_name(ev.type)).append("\n");
  append_data(out, ev.data);
  out.append("\n");
}

/** The body of one /api/events response. Lives on the API thread; owns its subscription, so
 *  the subscriber goes away with the response (client gone, write failed, daemon stopping). */
class event_stream final : public body_stream {
 public:
  event_stream(std::unique_ptr<event_hub::subscription> subscription,
               std::chrono::milliseconds keepalive)
      : subscription_(std::move(subscription)), keepalive_(keepalive) {}

  net::awaitable<std::string> next() override {
    if (ended_) {
      co_return std::string();
    }
    if (!timer_) {
      co_await start();
    }
    for (;;) {
      batch_.clear();
      const auto status = subscription_->take(batch_, chunk_budget);
      if (!batch_.empty()) {
        co_return frames();
      }
      if (status == event_hub::state::dropped) {
        ended_ = true;
        co_return std::string(dropped_frame);
      }
      if (status == event_hub::state::closed) {
        ended_ = true;
        co_return std::string();
      }
      timer_->expires_at(last_sent_ + keepalive_);
      auto [ec] = co_await timer_->async_wait(use_nothrow);
      if (!ec) {  // the deadline passed, not a wake: nothing was sent for `keepalive_`
        last_sent_ = std::chrono::steady_clock::now();
        co_return std::string(keep_alive_frame);
      }
    }
  }

 private:
  /** Makes the timer on the executor running the stream, and has the hub wake it there. */
  net::awaitable<void> start() {
    const auto executor = co_await net::this_coro::executor;
    timer_ = std::make_shared<net::steady_timer>(executor);
    last_sent_ = std::chrono::steady_clock::now();
    // Called on the publishing thread: only post. The weak pointer makes a wake that arrives
    // after the response ended a no-op.
    subscription_->set_wake([executor, weak = std::weak_ptr<net::steady_timer>(timer_)] {
      net::post(executor, [weak] {
        if (const auto timer = weak.lock()) {
          timer->cancel();
        }
      });
    });
  }

  std::string frames() {
    std::size_t size = 0;
    for (const auto& ev : batch_) {
      size += ev->data.size() + 64;
    }
    std::string out;
    out.reserve(size);
    for (const auto& ev : batch_) {
      append_frame(out, *ev);
    }
    batch_.clear();
    last_sent_ = std::chrono::steady_clock::now();
    return out;
  }

  std::unique_ptr<event_hub::subscription> subscription_;
  std::chrono::milliseconds keepalive_;
  std::shared_ptr<net::steady_timer> timer_;  ///< made by the first next(), on its executor
  std::chrono::steady_clock::time_point last_sent_{};
  std::vector<std::shared_ptr<const capture::event>> batch_;
  bool ended_ = false;
};

/** `?types=entry,session` into the filter's bit set; the 400 reply for an unknown
 *  name. Absent or empty: every type. */
std::optional<response> read_types(const call& c, capture::event_filter& filter) {
  const auto text = c.param("types");
  if (!text) {
    return std::nullopt;
  }
  filter.types = 0;
  std::string_view rest(*text);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    const auto name = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (name.empty()) {
      continue;
    }
    const auto bits = capture::event_type_bits(name);
    if (bits == 0) {
      return error_reply(http::status::bad_request,
                         "Invalid types filter: unknown event type '" + std::string(name) + "'");
    }
    filter.types |= bits;
  }
  if (filter.types == 0) {
    filter.types = capture::event_filter{}.types;
  }
  return std::nullopt;
}

/** `?sessionId=<id|active>` into the filter; the 404 reply for an unknown session. `active` is
 *  resolved once, now: the stream keeps following that session if another is activated. */
std::optional<response> read_session(const call& c, capture::event_filter& filter) {
  const auto sid = c.param("sessionId");
  if (!sid) {
    return std::nullopt;
  }
  auto id = resolve_session_id(c.ctx, *sid);
  if (!id) {
    return error_reply(http::status::not_found, "No active session");
  }
  if (!c.ctx.catalog.get_session(*id)) {
    return error_reply(http::status::not_found, "Session not found");
  }
  filter.session_id = std::move(*id);
  return std::nullopt;
}

}  // namespace

response get_events(call& c) {
  if (c.ctx.events == nullptr) {
    return error_reply(http::status::service_unavailable, "Events are not available");
  }
  capture::event_filter filter;
  if (auto bad = read_types(c, filter)) {
    return std::move(*bad);
  }
  if (auto bad = read_session(c, filter)) {
    return std::move(*bad);
  }
  // Subscribed before the head is sent: a client that has the head misses no later event.
  c.stream = std::make_unique<event_stream>(c.ctx.events->subscribe(std::move(filter)),
                                            c.ctx.events_keepalive);
  response res{http::status::ok, 11};
  res.set(http::field::content_type, "text/event-stream");
  res.set(http::field::cache_control, "no-cache");
  res.set("X-Accel-Buffering", "no");  // reverse proxies (nginx) must not hold the stream back
  return res;
}

}  // namespace hark::api
