#include "hark/net/byte_buffer.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <string_view>

namespace {

using hark::net::byte_buffer;

/** prepare + copy + commit, as a socket read would. */
void append(byte_buffer& b, std::string_view bytes) {
  char* space = b.prepare(bytes.size());
  ASSERT_GE(b.free_space(), bytes.size());
  std::memcpy(space, bytes.data(), bytes.size());
  b.commit(bytes.size());
}

TEST(net_byte_buffer, starts_empty_with_the_initial_capacity_free) {
  byte_buffer b(64);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.data(), "");
  EXPECT_EQ(b.free_space(), 64u);
}

TEST(net_byte_buffer, commit_appends_and_consume_drops_a_prefix) {
  byte_buffer b(64);
  append(b, "GET / HTTP/1.1\r\n");
  append(b, "\r\n");
  EXPECT_EQ(b.data(), "GET / HTTP/1.1\r\n\r\n");
  b.consume(4);
  EXPECT_EQ(b.data(), "/ HTTP/1.1\r\n\r\n");
  EXPECT_EQ(b.size(), 14u);
  EXPECT_FALSE(b.empty());
}

TEST(net_byte_buffer, consuming_everything_rewinds_to_the_start) {
  byte_buffer b(32);
  append(b, "0123456789");
  b.consume(10);
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.free_space(), 32u);  // the whole storage is free again, no move needed
}

TEST(net_byte_buffer, prepare_with_enough_room_keeps_data_in_place) {
  byte_buffer b(32);
  append(b, "abcdef");
  b.consume(2);
  const char* before = b.data().data();
  b.prepare(8);
  EXPECT_EQ(b.data().data(), before);
  EXPECT_EQ(b.data(), "cdef");
}

TEST(net_byte_buffer, prepare_compacts_a_consumed_prefix_before_growing) {
  byte_buffer b(16);
  append(b, "0123456789abcdef");  // full
  b.consume(12);                  // "cdef" left at offset 12
  EXPECT_EQ(b.free_space(), 0u);
  char* space = b.prepare(12);
  EXPECT_EQ(b.data(), "cdef");
  EXPECT_EQ(b.free_space(), 12u);  // compacted: no growth was needed
  EXPECT_EQ(space, b.data().data() + 4);
  std::string_view("ghijklmnopqr").copy(space, 12);
  b.commit(12);
  EXPECT_EQ(b.data(), "cdefghijklmnopqr");
}

TEST(net_byte_buffer, prepare_grows_when_compaction_is_not_enough) {
  byte_buffer b(8);
  append(b, "abcdefgh");
  b.consume(3);
  char* space = b.prepare(100);
  EXPECT_GE(b.free_space(), 100u);
  EXPECT_EQ(b.data(), "defgh");
  std::memset(space, 'x', 100);
  b.commit(100);
  EXPECT_EQ(b.data(), "defgh" + std::string(100, 'x'));
}

TEST(net_byte_buffer, clear_drops_everything) {
  byte_buffer b(16);
  append(b, "abc");
  b.clear();
  EXPECT_TRUE(b.empty());
  EXPECT_EQ(b.data(), "");
}

TEST(net_byte_buffer, many_partial_reads_and_consumes_keep_the_byte_stream_intact) {
  byte_buffer b(16);
  std::string in;
  std::string out;
  for (int i = 0; i < 500; ++i) {
    const std::string piece(static_cast<std::size_t>(i % 23 + 1), static_cast<char>('a' + i % 26));
    in += piece;
    append(b, piece);
    const auto take = b.size() / 2 + (i % 3);
    const auto n = std::min(take, b.size());
    out.append(b.data().substr(0, n));
    b.consume(n);
  }
  out.append(b.data());
  EXPECT_EQ(out, in);
}

}  // namespace
