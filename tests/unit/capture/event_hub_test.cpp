// event_hub without any I/O: publish, filters, wake-ups, overflow drops, close, and the
// no-subscriber path.

#include "hark/capture/event_hub.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace hark::capture {
namespace {

using events = std::vector<std::shared_ptr<const event>>;

/** Everything waiting for `sub`, and its state. */
std::pair<events, event_hub::state> take_all(event_hub::subscription& sub) {
  events out;
  const auto status = sub.take(out, SIZE_MAX);
  return {std::move(out), status};
}

TEST(event_hub, names_as_the_spec_spells_them) {
  for (std::size_t i = 0; i < event_type_count; ++i) {
    const auto type = static_cast<event_type>(i);
    EXPECT_NE(event_type_bits(event_name(type)) & event_filter::bit(type), 0u);
  }
  EXPECT_EQ(event_name(event_type::entry), "entry");
  EXPECT_EQ(event_name(event_type::session_created), "session");
  EXPECT_EQ(event_name(event_type::session_deleted), "session");
  EXPECT_EQ(event_name(event_type::websocket_message), "websocket");
  EXPECT_EQ(event_name(event_type::tls_failure), "tls_failure");
  EXPECT_EQ(event_type_bits("session"), event_filter::bit(event_type::session_created) |
                                            event_filter::bit(event_type::session_updated) |
                                            event_filter::bit(event_type::session_deleted));
  EXPECT_EQ(event_type_bits("session.created"), 0u);
  EXPECT_EQ(event_type_bits(""), 0u);
}

TEST(event_hub, publishing_without_subscribers_does_nothing) {
  event_hub hub;
  EXPECT_FALSE(hub.has_subscribers());
  EXPECT_EQ(hub.publish(event_type::entry, "s", "{}"), 0u);
  EXPECT_EQ(hub.published_total(), 0u);
  {
    const auto sub = hub.subscribe({});
    EXPECT_TRUE(hub.has_subscribers());
    EXPECT_EQ(hub.subscriber_count(), 1u);
  }
  EXPECT_FALSE(hub.has_subscribers());
  EXPECT_EQ(hub.live_subscriptions(), 0u);
  EXPECT_EQ(hub.publish(event_type::entry, "s", "{}"), 0u);
}

TEST(event_hub, delivers_in_order_with_increasing_ids) {
  event_hub hub;
  const auto sub = hub.subscribe({});
  EXPECT_EQ(hub.publish(event_type::session_created, "s1", R"({"id":"s1"})"), 1u);
  EXPECT_EQ(hub.publish(event_type::entry, "s1", R"({"id":"e1"})"), 2u);
  auto [got, status] = take_all(*sub);
  EXPECT_EQ(status, event_hub::state::open);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0]->id, 1u);
  EXPECT_EQ(got[0]->type, event_type::session_created);
  EXPECT_EQ(got[0]->session_id, "s1");
  EXPECT_EQ(got[0]->data, R"({"id":"s1"})");
  EXPECT_EQ(got[1]->id, 2u);
  EXPECT_EQ(got[1]->type, event_type::entry);
  EXPECT_TRUE(take_all(*sub).first.empty());
  EXPECT_EQ(hub.published_total(), 2u);
}

TEST(event_hub, every_subscriber_gets_the_same_event) {
  event_hub hub;
  const auto a = hub.subscribe({});
  const auto b = hub.subscribe({});
  hub.publish(event_type::entry, "s", "{}");
  const auto got_a = take_all(*a).first;
  const auto got_b = take_all(*b).first;
  ASSERT_EQ(got_a.size(), 1u);
  ASSERT_EQ(got_b.size(), 1u);
  EXPECT_EQ(got_a[0], got_b[0]);  // shared, not copied per subscriber
}

TEST(event_hub, filters_by_session_and_type) {
  event_hub hub;
  event_filter only_s1;
  only_s1.session_id = "s1";
  event_filter only_sessions;
  only_sessions.types = event_filter::bit(event_type::session_created) |
                        event_filter::bit(event_type::session_deleted);
  const auto by_session = hub.subscribe(only_s1);
  const auto by_type = hub.subscribe(only_sessions);

  hub.publish(event_type::entry, "s1", "1");
  hub.publish(event_type::entry, "s2", "2");
  hub.publish(event_type::session_created, "s2", "3");
  hub.publish(event_type::tls_failure, "", "4");  // about no session
  hub.publish(event_type::session_deleted, "s1", "5");

  std::vector<std::string> seen;
  for (const auto& ev : take_all(*by_session).first) {
    seen.push_back(ev->data);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"1", "5"}));
  seen.clear();
  for (const auto& ev : take_all(*by_type).first) {
    seen.push_back(ev->data);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"3", "5"}));
}

TEST(event_hub, event_nobody_wants_gets_no_id) {
  event_hub hub;
  event_filter only_s1;
  only_s1.session_id = "s1";
  const auto sub = hub.subscribe(only_s1);
  EXPECT_EQ(hub.publish(event_type::entry, "s2", "{}"), 0u);
  EXPECT_EQ(hub.publish(event_type::entry, "s1", "{}"), 1u);
  EXPECT_EQ(hub.published_total(), 1u);
}

TEST(event_hub, wakes_once_until_the_queue_is_emptied) {
  event_hub hub;
  const auto sub = hub.subscribe({});
  int wakes = 0;
  sub->set_wake([&] { ++wakes; });
  EXPECT_EQ(wakes, 0);  // nothing waiting yet
  hub.publish(event_type::entry, "s", "a");
  hub.publish(event_type::entry, "s", "b");
  EXPECT_EQ(wakes, 1);
  take_all(*sub);
  hub.publish(event_type::entry, "s", "c");
  EXPECT_EQ(wakes, 2);
}

TEST(event_hub, set_wake_reports_events_already_waiting) {
  event_hub hub;
  const auto sub = hub.subscribe({});
  hub.publish(event_type::entry, "s", "early");
  int wakes = 0;
  sub->set_wake([&] { ++wakes; });
  EXPECT_EQ(wakes, 1);
}

TEST(event_hub, take_stops_at_its_byte_budget_but_moves_at_least_one) {
  event_hub hub;
  const auto sub = hub.subscribe({});
  int wakes = 0;
  sub->set_wake([&] { ++wakes; });
  for (int i = 0; i < 3; ++i) {
    hub.publish(event_type::entry, "s", std::string(100, 'x'));
  }
  events out;
  sub->take(out, 10);
  EXPECT_EQ(out.size(), 1u);
  hub.publish(event_type::entry, "s", "more");
  EXPECT_EQ(wakes, 1);  // not empty in between: the consumer is still draining
  sub->take(out, 150);
  EXPECT_EQ(out.size(), 3u);
  sub->take(out, SIZE_MAX);
  EXPECT_EQ(out.size(), 4u);
}

TEST(event_hub, subscriber_over_its_event_limit_is_dropped_and_freed) {
  event_hub_options options;
  options.max_queued_events = 3;
  event_hub hub(options);
  const auto slow = hub.subscribe({});
  const auto fast = hub.subscribe({});
  int slow_wakes = 0;
  slow->set_wake([&] { ++slow_wakes; });
  for (int i = 0; i < 3; ++i) {
    hub.publish(event_type::entry, "s", "e");
    take_all(*fast);
  }
  EXPECT_EQ(hub.dropped_total(), 0u);
  hub.publish(event_type::entry, "s", "overflow");
  EXPECT_EQ(hub.dropped_total(), 1u);
  EXPECT_EQ(hub.subscriber_count(), 1u);
  EXPECT_EQ(slow_wakes, 2);  // events waiting, then the drop

  auto [got, status] = take_all(*slow);
  EXPECT_EQ(status, event_hub::state::dropped);
  EXPECT_TRUE(got.empty());  // the backlog was freed at the drop
  hub.publish(event_type::entry, "s", "later");
  EXPECT_EQ(take_all(*slow).second, event_hub::state::dropped);
  EXPECT_TRUE(take_all(*slow).first.empty());

  auto [fast_got, fast_status] = take_all(*fast);
  EXPECT_EQ(fast_status, event_hub::state::open);
  ASSERT_EQ(fast_got.size(), 2u);
  EXPECT_EQ(fast_got[0]->data, "overflow");
  EXPECT_EQ(fast_got[1]->data, "later");
}

TEST(event_hub, subscriber_over_its_byte_limit_is_dropped_but_a_lone_large_event_is_kept) {
  event_hub_options options;
  options.max_queued_bytes = 100;
  event_hub hub(options);
  const auto sub = hub.subscribe({});
  hub.publish(event_type::entry, "s", std::string(500, 'x'));  // alone: kept
  auto [got, status] = take_all(*sub);
  EXPECT_EQ(status, event_hub::state::open);
  EXPECT_EQ(got.size(), 1u);

  hub.publish(event_type::entry, "s", std::string(60, 'x'));
  hub.publish(event_type::entry, "s", std::string(60, 'x'));  // 120 > 100
  EXPECT_EQ(take_all(*sub).second, event_hub::state::dropped);
  EXPECT_EQ(hub.dropped_total(), 1u);
}

TEST(event_hub, close_ends_every_subscription_and_later_ones) {
  event_hub hub;
  const auto sub = hub.subscribe({});
  int wakes = 0;
  sub->set_wake([&] { ++wakes; });
  hub.publish(event_type::entry, "s", "pending");
  hub.close();
  EXPECT_EQ(wakes, 2);
  EXPECT_FALSE(hub.has_subscribers());
  auto [got, status] = take_all(*sub);
  EXPECT_EQ(status, event_hub::state::closed);
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(hub.publish(event_type::entry, "s", "after"), 0u);

  const auto late = hub.subscribe({});
  EXPECT_EQ(take_all(*late).second, event_hub::state::closed);
  EXPECT_FALSE(hub.has_subscribers());
  EXPECT_EQ(hub.live_subscriptions(), 2u);
  hub.close();  // idempotent
}

TEST(event_hub, no_wake_after_the_subscription_is_gone) {
  event_hub hub;
  int wakes = 0;
  {
    const auto sub = hub.subscribe({});
    sub->set_wake([&] { ++wakes; });
  }
  hub.publish(event_type::entry, "s", "x");
  hub.close();
  EXPECT_EQ(wakes, 0);
}

TEST(event_hub, concurrent_publishers_keep_ids_in_queue_order) {
  event_hub_options options;
  options.max_queued_events = 1'000'000;
  event_hub hub(options);
  const auto sub = hub.subscribe({});
  constexpr int per_thread = 2000;
  std::vector<std::thread> publishers;
  for (int t = 0; t < 4; ++t) {
    publishers.emplace_back([&hub, t] {
      for (int i = 0; i < per_thread; ++i) {
        hub.publish(event_type::entry, std::to_string(t), "{}");
      }
    });
  }
  events got;
  while (got.size() < 4u * per_thread) {
    sub->take(got, SIZE_MAX);
    std::this_thread::yield();
  }
  for (auto& t : publishers) {
    t.join();
  }
  ASSERT_EQ(got.size(), 4u * per_thread);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i]->id, i + 1) << "at " << i;
  }
}

}  // namespace
}  // namespace hark::capture
