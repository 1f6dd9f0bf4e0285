#include "hark/capture/tls_registry.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace {

using hark::capture::tls_registry;

TEST(tls_registry, exact_and_subdomain_patterns) {
  EXPECT_TRUE(tls_registry::matches("example.com", "example.com"));
  EXPECT_TRUE(tls_registry::matches("example.com", "EXAMPLE.com"));
  EXPECT_FALSE(tls_registry::matches("example.com", "www.example.com"));
  EXPECT_TRUE(tls_registry::matches("*.example.com", "www.example.com"));
  EXPECT_TRUE(tls_registry::matches("*.example.com", "a.b.example.com"));
  EXPECT_FALSE(tls_registry::matches("*.example.com", "example.com"));
  EXPECT_FALSE(tls_registry::matches("*.example.com", "badexample.com"));
}

TEST(tls_registry, validates_patterns) {
  EXPECT_TRUE(tls_registry::valid_pattern("example.com"));
  EXPECT_TRUE(tls_registry::valid_pattern("*.example.com"));
  EXPECT_TRUE(tls_registry::valid_pattern("127.0.0.1"));
  EXPECT_TRUE(tls_registry::valid_pattern("::1"));
  EXPECT_FALSE(tls_registry::valid_pattern(""));
  EXPECT_FALSE(tls_registry::valid_pattern("*."));
  EXPECT_FALSE(tls_registry::valid_pattern("bad pattern"));
  EXPECT_FALSE(tls_registry::valid_pattern("a..b"));
  EXPECT_FALSE(tls_registry::valid_pattern(std::string(254, 'a')));
}

TEST(tls_registry, add_match_remove) {
  tls_registry r;
  const auto p = r.add_passthrough("*.bank.example");
  EXPECT_EQ(p.id.size(), 26u);
  EXPECT_TRUE(r.is_passthrough("www.bank.example"));
  ASSERT_EQ(r.passthrough().size(), 1u);
  EXPECT_FALSE(r.remove_passthrough("nope"));
  EXPECT_TRUE(r.remove_passthrough(p.id));
  EXPECT_FALSE(r.is_passthrough("www.bank.example"));
}

TEST(tls_registry, failures_are_bounded_and_newest_first) {
  tls_registry r(3);
  for (int i = 0; i < 5; ++i) {
    hark::capture::tls_failure f;
    f.connection_id = std::to_string(i);
    r.record_failure(std::move(f));
  }
  const auto list = r.failures();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].connection_id, "4");
  EXPECT_EQ(list[2].connection_id, "2");
  EXPECT_EQ(r.failure_count(), 5u);
}

TEST(tls_registry, concurrent_readers_and_writers) {
  tls_registry r;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&r, t] {
      for (int i = 0; i < 200; ++i) {
        const auto p = r.add_passthrough("h" + std::to_string(t) + ".example");
        (void)r.is_passthrough("h1.example");
        r.remove_passthrough(p.id);
      }
    });
  }
  for (auto& th : threads) {
    th.join();
  }
  EXPECT_TRUE(r.passthrough().empty());
}

}  // namespace
