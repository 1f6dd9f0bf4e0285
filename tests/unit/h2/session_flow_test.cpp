// hark::h2::session flow control: windows reopen only when the driver consume()s, a stalled
// stream stops alone, and unconsumed data stays bounded per connection.
#include "session_test_support.hpp"

#include <map>

namespace {

using namespace hark::h2;
using namespace hark::h2::test;

/** Received DATA bytes per stream, from the client's events (cleared afterwards). */
std::map<std::int32_t, std::size_t> received(session& client,
                                             std::map<std::int32_t, bool>* ended = nullptr) {
  std::map<std::int32_t, std::size_t> bytes;
  for (const auto& d : events_of<data_event>(client)) {
    bytes[d.stream_id] += d.bytes.size();
    if (ended != nullptr && d.end_stream) {
      (*ended)[d.stream_id] = true;
    }
  }
  client.clear_events();
  return bytes;
}

struct h2_session_flow : ::testing::Test {
  settings client_settings;
  std::optional<session> server;
  std::optional<session> client;

  void start() {
    server.emplace(role::server, settings{});
    client.emplace(role::client, client_settings);
    pump(*client, *server);
  }

  /** Opens a stream and queues a `size`-byte response body on it. */
  std::int32_t download(std::size_t size) {
    const std::int32_t id = client->submit_request(get_request(), true);
    pump(*client, *server);
    EXPECT_TRUE(server->submit_response(id, {{":status", "200"}}, false));
    EXPECT_TRUE(server->submit_data(id, std::string(size, 'd'), true));
    return id;
  }
};

TEST_F(h2_session_flow, an_unconsumed_stream_window_stops_the_sender_until_consume) {
  client_settings.stream_window = 65535;
  start();
  const std::int32_t id = download(200000);
  pump(*client, *server);
  std::size_t got = received(*client)[id];
  EXPECT_EQ(got, 65535u);
  EXPECT_EQ(server->queued(id), 200000u - 65535u);
  EXPECT_EQ(client->unconsumed(), 65535u);

  std::size_t total = got;
  for (int round = 0; round < 10 && total < 200000; ++round) {
    client->consume(id, got);
    pump(*client, *server);
    got = received(*client)[id];
    EXPECT_GT(got, 0u);
    total += got;
  }
  EXPECT_EQ(total, 200000u);
  EXPECT_EQ(server->queued(id), 0u);
  EXPECT_EQ(server->open_streams(), 0u);
}

TEST_F(h2_session_flow, a_slow_reader_slows_only_its_own_stream) {
  client_settings.stream_window = 64 * 1024;
  client_settings.connection_window = 1 << 20;
  start();
  const std::int32_t slow = download(512 * 1024);
  const std::int32_t fast = download(512 * 1024);
  std::map<std::int32_t, std::size_t> total;
  std::map<std::int32_t, bool> ended;
  for (int round = 0; round < 100 && !ended[fast]; ++round) {
    pump(*client, *server);
    for (const auto& [id, n] : received(*client, &ended)) {
      total[id] += n;
      if (id == fast) {
        client->consume(id, n);
      }
    }
  }
  EXPECT_TRUE(ended[fast]);
  EXPECT_EQ(total[fast], 512u * 1024);
  EXPECT_EQ(total[slow], 64u * 1024);
  EXPECT_FALSE(ended[slow]);
  EXPECT_EQ(server->queued(slow), 512u * 1024 - 64 * 1024);

  client->consume(slow, total[slow]);
  pump(*client, *server);
  EXPECT_GT(received(*client)[slow], 0u);
}

TEST_F(h2_session_flow, unconsumed_data_stays_within_two_connection_windows) {
  client_settings.stream_window = 256 * 1024;
  client_settings.connection_window = 512 * 1024;
  start();
  std::vector<std::int32_t> ids;
  for (int i = 0; i < 8; ++i) {
    ids.push_back(download(256 * 1024));
  }
  pump(*client, *server);
  received(*client);
  // Eight stalled streams could hold 2 MiB; the withheld connection credit caps it.
  EXPECT_LE(client->unconsumed(), 2u * 512 * 1024);
  EXPECT_GE(client->unconsumed(), 512u * 1024);
  std::size_t queued = 0;
  for (auto id : ids) {
    queued += server->queued(id);
  }
  EXPECT_GT(queued, 0u);

  // Consuming everything lets every stream finish.
  for (int round = 0; round < 50 && (server->open_streams() > 0 || client->unconsumed() > 0);
       ++round) {
    for (auto id : ids) {
      client->consume(id, 1 << 30);
    }
    pump(*client, *server);
    received(*client);
  }
  EXPECT_EQ(server->open_streams(), 0u);
  EXPECT_EQ(client->open_streams(), 0u);
  EXPECT_EQ(client->unconsumed(), 0u);
}

TEST_F(h2_session_flow, data_submitted_later_resumes_a_deferred_stream) {
  start();
  const std::int32_t id = client->submit_request(get_request(), true);
  pump(*client, *server);
  server->submit_response(id, {{":status", "200"}}, false);
  pump(*client, *server);
  EXPECT_EQ(received(*client)[id], 0u);
  server->submit_data(id, "first", false);
  pump(*client, *server);
  EXPECT_EQ(received(*client)[id], 5u);
  server->submit_data(id, "second", true);
  pump(*client, *server);
  std::map<std::int32_t, bool> ended;
  EXPECT_EQ(received(*client, &ended)[id], 6u);
  EXPECT_TRUE(ended[id]);
}

}  // namespace
