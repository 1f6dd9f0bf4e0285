#include "hark/core/ids.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace {

bool all_of_set(const std::string& s, std::string_view allowed) {
  return std::all_of(s.begin(), s.end(),
                     [&](char c) { return allowed.find(c) != std::string_view::npos; });
}

TEST(ids, ulid_has_26_crockford_characters) {
  const auto id = hark::ids::new_ulid();
  EXPECT_EQ(id.size(), 26u);
  EXPECT_TRUE(all_of_set(id, "0123456789ABCDEFGHJKMNPQRSTVWXYZ")) << id;
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
    ASSERT_EQ(id.size(), 36u) << id;
    for (std::size_t dash : {8u, 13u, 18u, 23u}) {
      ASSERT_EQ(id[dash], '-') << id;
    }
    std::string hex = id;
    hex.erase(std::remove(hex.begin(), hex.end(), '-'), hex.end());
    ASSERT_TRUE(all_of_set(hex, "0123456789abcdef")) << id;
    ASSERT_EQ(id[14], '4') << id;                                                    // version 4
    ASSERT_NE(std::string_view("89ab").find(id[19]), std::string_view::npos) << id;  // variant
    ASSERT_TRUE(seen.insert(id).second);
  }
}

}  // namespace
