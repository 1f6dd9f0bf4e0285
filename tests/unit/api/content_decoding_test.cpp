// decode_content: each coding, stacks, truncation, failures and the decompression-bomb limit.

#include "hark/api/content_decoding.hpp"
#include "compress.hpp"

#include <gtest/gtest.h>

namespace hark::api::test {
namespace {

/** Text long enough to compress into several 64 KiB output chunks. */
std::string sample_text() {
  std::string text;
  for (int i = 0; text.size() < 300'000; ++i) {
    text += "line " + std::to_string(i) + ": the quick brown fox jumps over the lazy dog\n";
  }
  return text;
}

TEST(api_content_decoding, each_coding_round_trips) {
  const auto text = sample_text();
  const std::pair<std::string, std::string> cases[] = {
      {"gzip", gzip(text)},
      {"x-gzip", gzip(text)},
      {"deflate", zlib_wrapped(text)},
      {"deflate", raw_deflate(text)},
      {"br", brotli(text)},
      {"zstd", zstd(text)},
      {"identity", text},
      {"GZIP", gzip(text)},
      {" br ", brotli(text)},
  };
  for (const auto& [coding, body] : cases) {
    const auto result = decode_content(body, coding);
    EXPECT_TRUE(result.ok()) << coding << ": " << result.error;
    EXPECT_EQ(result.bytes, text) << coding;
  }
}

TEST(api_content_decoding, stacked_codings_are_undone_in_reverse) {
  const std::string text = "stacked body";
  // `Content-Encoding: gzip, br`: gzip was applied first, then br.
  auto result = decode_content(brotli(gzip(text)), "gzip, br");
  EXPECT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.bytes, text);
  result = decode_content(zstd(raw_deflate(text)), "deflate,zstd");
  EXPECT_EQ(result.bytes, text);
  // Applying the codings in the wrong order fails.
  EXPECT_FALSE(decode_content(brotli(gzip(text)), "br, gzip").ok());
}

TEST(api_content_decoding, concatenated_gzip_members) {
  const auto result = decode_content(gzip("first ") + gzip("second"), "gzip");
  EXPECT_TRUE(result.ok()) << result.error;
  EXPECT_EQ(result.bytes, "first second");
}

TEST(api_content_decoding, empty_and_no_coding) {
  EXPECT_EQ(decode_content("", "gzip").bytes, "");
  EXPECT_TRUE(decode_content("", "gzip").ok());
  EXPECT_EQ(decode_content("plain", "").bytes, "plain");
}

TEST(api_content_decoding, failures_name_the_coding) {
  auto result = decode_content("definitely not gzip", "gzip");
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.error.rfind("gzip: ", 0), 0u) << result.error;
  result = decode_content("not brotli at all, no", "br");
  EXPECT_EQ(result.error.rfind("br: ", 0), 0u) << result.error;
  result = decode_content("not zstd", "zstd");
  EXPECT_EQ(result.error.rfind("zstd: ", 0), 0u) << result.error;
  result = decode_content("x", "compress");
  EXPECT_EQ(result.error, "unsupported content-encoding: compress");
  EXPECT_TRUE(result.bytes.empty());
}

TEST(api_content_decoding, truncated_input_fails_unless_allowed) {
  const auto text = sample_text();
  for (const auto& [coding, body] : {std::pair<std::string, std::string>{"gzip", gzip(text)},
                                     {"br", brotli(text)},
                                     {"zstd", zstd(text)},
                                     {"deflate", zlib_wrapped(text)}}) {
    const auto cut = body.substr(0, body.size() / 2);
    const auto strict = decode_content(cut, coding);
    EXPECT_FALSE(strict.ok()) << coding;
    decode_options options;
    options.allow_truncated = true;
    const auto partial = decode_content(cut, coding, options);
    EXPECT_TRUE(partial.ok()) << coding << ": " << partial.error;
    EXPECT_FALSE(partial.bytes.empty()) << coding;
    EXPECT_EQ(text.compare(0, partial.bytes.size(), partial.bytes), 0) << coding;
  }
}

TEST(api_content_decoding, output_limit_stops_decompression_bombs) {
  const std::string zeros(8 << 20, '\0');  // 8 MiB of zeros compress to a few KiB
  decode_options options;
  options.max_output = 1 << 20;
  for (const auto& [coding, body] : {std::pair<std::string, std::string>{"gzip", gzip(zeros)},
                                     {"br", brotli(zeros)},
                                     {"zstd", zstd(zeros)}}) {
    ASSERT_LT(body.size(), 64u * 1024) << coding;
    const auto result = decode_content(body, coding, options);
    EXPECT_FALSE(result.ok()) << coding;
    EXPECT_NE(result.error.find("exceeds"), std::string::npos) << result.error;
    EXPECT_TRUE(result.bytes.empty());
  }
  options.max_output = zeros.size();
  EXPECT_TRUE(decode_content(gzip(zeros), "gzip", options).ok());
}

}  // namespace
}  // namespace hark::api::test
