#include "hark/core/errc.hpp"

#include <gtest/gtest.h>

namespace {

TEST(errc, strings_round_trip) {
  for (int v = 0; v <= static_cast<int>(hark::errc::internal_error); ++v) {
    const auto e = static_cast<hark::errc>(v);
    EXPECT_EQ(hark::errc_from_string(hark::to_string(e)), e) << hark::to_string(e);
  }
  EXPECT_EQ(hark::errc_from_string("upstream_cert_invalid"), hark::errc::upstream_cert_invalid);
  EXPECT_FALSE(hark::errc_from_string("no_such_code"));
  EXPECT_FALSE(hark::errc_from_string(""));
}

TEST(errc, error_code_message_is_the_code_string) {
  const boost::system::error_code ec = hark::errc::dns_failed;
  EXPECT_EQ(ec.message(), "dns_failed");
  EXPECT_STREQ(ec.category().name(), "hark");
}

}  // namespace
