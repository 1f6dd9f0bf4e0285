#pragma once
// event_hub: live notifications (entry committed, session changed, TLS failure) fanned out to
// the subscribers of GET /api/events. Sans-I/O: no sockets, no executors, no SSE framing.
//
//   store writer (after COMMIT) ─┐
//   API thread (session changes) ├─ publish() ──► one queue per subscriber (bounded)
//   proxy workers (TLS failures) ─┘                   │ wake() on "now has events"
//                                                     ▼
//                                      API thread: subscription::take() → SSE frames
//
// Publishing never blocks on a consumer: a subscriber whose queue is full is dropped (its
// queue freed, its state `dropped`), so a slow client can neither grow memory without bound
// nor slow the writer or the proxy. With no subscriber, publish() and has_subscribers() are
// one relaxed atomic load, so capture pays nothing for the feature when nobody listens.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hark::capture {

/** What an event says happened; its name on the wire is event_name(). */
enum class event_type : std::uint8_t {
  entry,              ///< "entry": an entry was committed; data is its SessionEntry
  session_created,    ///< "session", data {"action": "created", "session": Session}
  session_updated,    ///< "session", data {"action": "updated", "session": Session}
  session_deleted,    ///< "session", data {"action": "deleted", "session": {"id": …}}
  websocket_message,  ///< "websocket": reserved until WebSocket messages are stored
  tls_failure,        ///< "tls_failure": data is the TlsFailure of GET /api/tls/failures
};
inline constexpr std::size_t event_type_count = 6;

/** The SSE event name (SPEC §6.6): `entry`, `session`, `websocket`, `tls_failure`. */
std::string_view event_name(event_type type) noexcept;

/** One published event, shared read-only by every subscriber that accepts it. */
struct event {
  std::uint64_t id = 0;  ///< 1, 2, … in publishing order, per hub (so per daemon run)
  event_type type = event_type::entry;
  std::string session_id;  ///< the session it concerns; empty when none (tls_failure)
  std::string data;        ///< the payload, serialized JSON
};

/** Which events a subscriber receives. */
struct event_filter {
  /** Only events about this session (events about no session are then excluded too). */
  std::optional<std::string> session_id;
  /** Bit `1 << type` set: that type is wanted. */
  std::uint32_t types = (1u << event_type_count) - 1;

  static constexpr std::uint32_t bit(event_type type) noexcept {
    return 1u << static_cast<unsigned>(type);
  }
  bool accepts(event_type type, std::string_view event_session) const noexcept;
};

/** The filter bits of the types named `name` as event_name() spells it (`session` names three);
 *  0 for an unknown name. */
std::uint32_t event_type_bits(std::string_view name) noexcept;

struct event_hub_options {
  /** Events a subscriber may have waiting; one more and it is dropped. Above the store
   *  writer's largest transaction (4096 entries, published together after its COMMIT), so that
   *  a client that keeps up on average survives the burst of one commit. */
  std::size_t max_queued_events = 8192;
  /** Payload bytes a subscriber may have waiting (a lone event larger than this is still
   *  queued, so that one large entry does not drop an idle subscriber). Subscribers share the
   *  events they have in common: unfiltered subscribers hold suffixes of one sequence, so all
   *  of them together stay within this budget. */
  std::size_t max_queued_bytes = std::size_t{32} << 20;
};

class event_hub {
  struct subscriber;

 public:
  /** Where a subscription stands, as seen by its consumer. */
  enum class state {
    open,     ///< events flow
    dropped,  ///< it fell too far behind; nothing more will come
    closed,   ///< the hub was closed (daemon stopping); nothing more will come
  };

  /** A consumer's handle. Owned and used by one consumer thread; destroying it unsubscribes
   *  (after which its wake function is never called again). */
  class subscription {
   public:
    subscription(const subscription&) = delete;
    subscription& operator=(const subscription&) = delete;
    ~subscription();

    /** Sets the function called (on the publishing thread, under the hub's lock) when the
     *  queue goes from empty to non-empty, and when the subscription is dropped or closed.
     *  It must only schedule work (post to an executor) and never call into the hub. Called
     *  once right away when events are already waiting. Replaces any previous one. */
    void set_wake(std::function<void()> wake);

    /** Moves waiting events, oldest first, to the end of `out`, stopping once `max_bytes` of
     *  payload have been moved (at least one event is moved when any waits). Returns the state:
     *  when it is not `open`, the queue is empty and stays so. A consumer drains with take()
     *  before it waits for a wake, so that no event is left waiting unnoticed. */
    state take(std::vector<std::shared_ptr<const event>>& out,
               std::size_t max_bytes = std::size_t{64} << 10);

   private:
    friend class event_hub;
    subscription(event_hub& hub, std::shared_ptr<subscriber> self);

    event_hub& hub_;
    std::shared_ptr<subscriber> self_;
  };

  explicit event_hub(event_hub_options options = {});
  event_hub(const event_hub&) = delete;
  event_hub& operator=(const event_hub&) = delete;
  /** Every subscription must have been destroyed before the hub. */
  ~event_hub();

  /** A new subscriber that receives events published from now on that `filter` accepts. After
   *  close() the subscription is born `closed`. Callable from any thread. */
  std::unique_ptr<subscription> subscribe(event_filter filter);

  /** True when some subscriber may want events: callers test it before building a payload.
   *  One relaxed atomic load. */
  bool has_subscribers() const noexcept {
    return open_subscribers_.load(std::memory_order_relaxed) != 0;
  }

  /** Queues the event for every subscriber whose filter accepts it; a subscriber whose queue
   *  would overflow is dropped instead. Never blocks on a consumer; callable from any thread.
   *  Returns the event's id, 0 when no subscriber took it. */
  std::uint64_t publish(event_type type, std::string session_id, std::string data);

  /** Ends every subscription (`closed`) and makes later publish() calls no-ops; for shutdown,
   *  so that streams waiting for events end at once. Idempotent, callable from any thread. */
  void close();

  /** Subscribers neither dropped nor closed, for metrics. */
  std::size_t subscriber_count() const noexcept {
    return open_subscribers_.load(std::memory_order_relaxed);
  }
  /** Subscriptions not yet destroyed, whatever their state: at shutdown, the streams that are
   *  still ending. */
  std::size_t live_subscriptions() const noexcept {
    return live_subscriptions_.load(std::memory_order_relaxed);
  }
  /** Subscribers dropped for overflowing their queue since the hub was made. */
  std::uint64_t dropped_total() const noexcept {
    return dropped_total_.load(std::memory_order_relaxed);
  }
  /** Events published to at least one subscriber. */
  std::uint64_t published_total() const noexcept {
    return published_total_.load(std::memory_order_relaxed);
  }

 private:
  struct subscriber {
    event_filter filter;
    std::function<void()> wake;
    std::deque<std::shared_ptr<const event>> queue;
    std::size_t queued_bytes = 0;
    state status = state::open;
    bool wake_pending = false;  ///< woken since the consumer last emptied the queue
  };

  void enqueue(subscriber& s, const std::shared_ptr<const event>& ev);
  void end(subscriber& s, state why);
  void remove(const std::shared_ptr<subscriber>& s);
  static void wake(subscriber& s);

  event_hub_options options_;
  mutable std::mutex mutex_;
  std::vector<std::shared_ptr<subscriber>> subscribers_;  ///< the open ones; guarded
  std::uint64_t last_id_ = 0;                             ///< guarded
  bool closed_ = false;                                   ///< guarded
  std::atomic<std::size_t> open_subscribers_{0};
  std::atomic<std::size_t> live_subscriptions_{0};
  std::atomic<std::uint64_t> dropped_total_{0};
  std::atomic<std::uint64_t> published_total_{0};
};

}  // namespace hark::capture
