// hark::h2::session keeps constant memory over any number of streams: nghttp2's allocations are
// counted through nghttp2_mem, and Hark's own per-stream state through open_streams().
#include "session_test_support.hpp"

#include <cstdlib>
#include <cstring>

namespace {

using namespace hark::h2;
using namespace hark::h2::test;

/** Counts nghttp2's live allocations and bytes. Each block carries its size in a header. */
struct allocation_counter {
  std::size_t live_blocks = 0;
  std::size_t live_bytes = 0;

  static constexpr std::size_t header = alignof(std::max_align_t);

  static void* do_malloc(std::size_t size, void* user) {
    auto& c = *static_cast<allocation_counter*>(user);
    auto* block = static_cast<unsigned char*>(std::malloc(size + header));
    if (block == nullptr) {
      return nullptr;
    }
    std::memcpy(block, &size, sizeof size);
    ++c.live_blocks;
    c.live_bytes += size;
    return block + header;
  }
  static void do_free(void* ptr, void* user) {
    if (ptr == nullptr) {
      return;
    }
    auto& c = *static_cast<allocation_counter*>(user);
    auto* block = static_cast<unsigned char*>(ptr) - header;
    std::size_t size = 0;
    std::memcpy(&size, block, sizeof size);
    --c.live_blocks;
    c.live_bytes -= size;
    std::free(block);
  }
  static void* do_calloc(std::size_t n, std::size_t size, void* user) {
    void* p = do_malloc(n * size, user);
    if (p != nullptr) {
      std::memset(p, 0, n * size);
    }
    return p;
  }
  static void* do_realloc(void* ptr, std::size_t size, void* user) {
    void* fresh = do_malloc(size, user);
    if (fresh != nullptr && ptr != nullptr) {
      std::size_t old = 0;
      std::memcpy(&old, static_cast<unsigned char*>(ptr) - header, sizeof old);
      std::memcpy(fresh, ptr, std::min(old, size));
      do_free(ptr, user);
    }
    return fresh;
  }

  nghttp2_mem mem() { return {this, do_malloc, do_free, do_calloc, do_realloc}; }
};

/** `batches` × `per_batch` request/response streams, each with a small body both ways. */
void run_streams(session& client, session& server, int batches, int per_batch) {
  std::vector<std::int32_t> ids;
  for (int b = 0; b < batches; ++b) {
    ids.clear();
    for (int i = 0; i < per_batch; ++i) {
      const std::int32_t id =
          client.submit_request(get_request("/item/" + std::to_string(i)), false);
      ASSERT_GT(id, 0);
      ASSERT_TRUE(client.submit_data(id, "request body", true));
      ids.push_back(id);
    }
    pump(client, server);
    for (auto id : ids) {
      server.consume(id, 12);
      ASSERT_TRUE(
          server.submit_response(id, {{":status", "200"}, {"content-type", "text/plain"}}, false));
      ASSERT_TRUE(server.submit_data(id, "response body", true));
    }
    pump(client, server);
    for (auto id : ids) {
      client.consume(id, 13);
    }
    ASSERT_EQ(events_of<stream_closed_event>(client).size(), static_cast<std::size_t>(per_batch));
    client.clear_events();
    server.clear_events();
  }
}

TEST(h2_session_memory, one_hundred_thousand_streams_keep_constant_memory) {
  allocation_counter counter;
  nghttp2_mem mem = counter.mem();
  session server(role::server, settings{}, &mem);
  session client(role::client, settings{}, &mem);
  pump(client, server);

  run_streams(client, server, 10, 100);  // warm up: buffers and tables at their working size
  const std::size_t blocks = counter.live_blocks;
  const std::size_t bytes = counter.live_bytes;
  EXPECT_GT(blocks, 0u);  // the counter sees nghttp2's allocations

  run_streams(client, server, 1000, 100);  // 100 000 more streams
  EXPECT_EQ(client.open_streams(), 0u);
  EXPECT_EQ(server.open_streams(), 0u);
  EXPECT_EQ(client.unconsumed(), 0u);
  EXPECT_EQ(server.unconsumed(), 0u);
  // HPACK tables and buffers may settle a little differently; streams must not accumulate
  // (100 000 retained streams would be tens of megabytes).
  RecordProperty("nghttp2_live_blocks_after_1k_streams", std::to_string(blocks));
  RecordProperty("nghttp2_live_bytes_after_1k_streams", std::to_string(bytes));
  RecordProperty("nghttp2_live_blocks_after_101k_streams", std::to_string(counter.live_blocks));
  RecordProperty("nghttp2_live_bytes_after_101k_streams", std::to_string(counter.live_bytes));
  EXPECT_LE(counter.live_blocks, blocks + 8);
  EXPECT_LE(counter.live_bytes, bytes + 16 * 1024);
  EXPECT_EQ(client.submit_request(get_request(), true) % 2, 1);
}

}  // namespace
