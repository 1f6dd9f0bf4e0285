#include "hark/core/base64.hpp"
#include "hark/core/json_writer.hpp"

#include <gtest/gtest.h>

namespace {

using hark::base64::decode;
using hark::base64::encode;

TEST(base64, rfc4648_test_vectors) {
  const std::pair<std::string, std::string> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, coded] : vectors) {
    EXPECT_EQ(encode(plain), coded);
    EXPECT_EQ(decode(coded), plain);
  }
}

TEST(base64, round_trips_every_byte_value) {
  std::string all;
  for (int i = 0; i < 256; ++i) {
    all.push_back(static_cast<char>(i));
  }
  EXPECT_EQ(decode(encode(all)), all);
  std::string appended = "x";
  hark::base64::encode_append(appended, "fo");
  EXPECT_EQ(appended, "xZm8=");
}

TEST(base64, decode_ignores_whitespace_and_missing_padding) {
  EXPECT_EQ(decode("Zm9v\r\nYmE="), "fooba");
  EXPECT_EQ(decode("Zm9vYmE"), "fooba");
  EXPECT_EQ(decode("Zg"), "f");
}

TEST(base64, decode_rejects_what_is_not_base64) {
  EXPECT_FALSE(decode("Zm9v!"));
  EXPECT_FALSE(decode("Z"));  // a lone character encodes no byte
  EXPECT_FALSE(decode("Zm9v\x80"));
}

TEST(utf8, validates_as_rfc3629_says) {
  using hark::json::is_valid_utf8;
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii text, long enough for the word loop"));
  EXPECT_TRUE(is_valid_utf8("h\xC3\xA9llo \xF0\x9F\x98\x80 and more ascii after it"));
  EXPECT_TRUE(is_valid_utf8(std::string_view("nul\0inside", 10)));
  EXPECT_FALSE(is_valid_utf8("\xFF"));
  EXPECT_FALSE(is_valid_utf8("0123456789abcdef\xC3"));  // truncated at the end
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));          // surrogate
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));              // overlong
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));      // past U+10FFFF
}

}  // namespace
