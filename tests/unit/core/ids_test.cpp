#include "hark/core/ids.hpp"

#include <gtest/gtest.h>

#include <regex>
#include <set>

namespace {

TEST(ids, ulid_has_26_crockford_characters) {
  const auto id = hark::ids::new_ulid();
  EXPECT_TRUE(std::regex_match(id, std::regex("[0-9A-HJKMNP-TV-Z]{26}"))) << id;
}

TEST(ids, ulids_sort_in_creation_order) {
  std::string previous = hark::ids::new_ulid();
  for (int i = 0; i < 10000; ++i) {
    auto next = hark::ids::new_ulid();
    ASSERT_LT(previous, next);
    previous = std::move(next);
  }
}

TEST(ids, uuid_v4_is_canonical_and_unique) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto id = hark::ids::new_uuid_v4();
    ASSERT_TRUE(std::regex_match(
        id, std::regex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")))
        << id;
    ASSERT_TRUE(seen.insert(id).second);
  }
}

}  // namespace
