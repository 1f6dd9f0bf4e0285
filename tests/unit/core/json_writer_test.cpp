#include "hark/core/json_writer.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

std::string escaped(std::string_view s) {
  std::string out;
  hark::json::append_string(out, s);
  return out;
}

TEST(json_writer, nested_objects_and_arrays_are_well_formed) {
  std::string out;
  hark::json::writer w(out);
  w.begin_object().key("a").value(1).key("b").begin_array().value("x").null().value(true);
  w.begin_object().end_object().end_array().key("c").value(std::optional<int>{}).end_object();
  EXPECT_EQ(out, R"({"a":1,"b":["x",null,true,{}],"c":null})");
  EXPECT_TRUE(nlohmann::json::accept(out));
}

TEST(json_writer, escapes_quotes_backslashes_and_controls) {
  EXPECT_EQ(escaped("a\"b\\c"), R"("a\"b\\c")");
  EXPECT_EQ(escaped("\n\r\t"), R"("\n\r\t")");
  EXPECT_EQ(escaped(std::string_view("\x01\x1f", 2)), R"("\u0001\u001f")");
}

TEST(json_writer, keeps_valid_utf8_and_replaces_invalid_bytes) {
  EXPECT_EQ(escaped("h\xC3\xA9llo \xF0\x9F\x98\x80"), "\"h\xC3\xA9llo \xF0\x9F\x98\x80\"");
  EXPECT_EQ(escaped("\xFF"), "\"\xEF\xBF\xBD\"");
  EXPECT_EQ(escaped("a\xC3"), "\"a\xEF\xBF\xBD\"");  // truncated sequence
  EXPECT_EQ(escaped("\xED\xA0\x80"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\"");  // surrogate
  EXPECT_EQ(escaped("\xC0\xAF"), "\"\xEF\xBF\xBD\xEF\xBF\xBD\"");                  // overlong
  // Whatever the input, the output parses as JSON.
  std::string all;
  for (int i = 0; i < 256; ++i) {
    all.push_back(static_cast<char>(i));
  }
  EXPECT_TRUE(nlohmann::json::accept(escaped(all)));
}

TEST(json_writer, numbers_round_trip) {
  std::string out;
  hark::json::writer w(out);
  w.begin_array().value(0.016386).value(std::int64_t{-5}).value(std::uint64_t{1} << 63);
  w.value(1.0 / 0.0).end_array();
  const auto parsed = nlohmann::json::parse(out);
  EXPECT_DOUBLE_EQ(parsed[0].get<double>(), 0.016386);
  EXPECT_EQ(parsed[1].get<std::int64_t>(), -5);
  EXPECT_EQ(parsed[2].get<std::uint64_t>(), std::uint64_t{1} << 63);
  EXPECT_TRUE(parsed[3].is_null());
}

}  // namespace
