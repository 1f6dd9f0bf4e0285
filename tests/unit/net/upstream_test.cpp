// upstream_pool over real loopback sockets, connect_upstream's error values, and the watchdog.

#include "hark/net/upstream.hpp"
#include "hark/net/watchdog.hpp"

#include <gtest/gtest.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <poll.h>

#include <chrono>
#include <optional>
#include <string>

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using hark::net::upstream_connection;
using hark::net::upstream_pool;
using namespace std::chrono_literals;

/** One origin-side acceptor; connect() hands out the proxy side of a new connection and keeps
 *  the origin side in `peers`. */
struct loopback_origin {
  asio::io_context io;
  tcp::acceptor acceptor{io, tcp::endpoint(asio::ip::address_v4::loopback(), 0)};
  std::vector<tcp::socket> peers;

  upstream_connection connect(const std::string& key = "127.0.0.1:1") {
    tcp::socket s(io);
    s.connect(acceptor.local_endpoint());
    peers.push_back(acceptor.accept());
    const auto remote = s.remote_endpoint();
    return upstream_connection{std::move(s), key, remote};
  }
};

/** Waits (bounded) until `s` is readable: the peer's FIN or bytes have arrived. */
bool wait_readable(tcp::socket& s) {
  pollfd p{s.native_handle(), POLLIN, 0};
  return ::poll(&p, 1, 2000) == 1;
}

TEST(net_upstream, key_is_host_colon_port_with_brackets_for_ipv6) {
  EXPECT_EQ(hark::net::upstream_key("example.com", 80), "example.com:80");
  EXPECT_EQ(hark::net::upstream_key("::1", 8080), "[::1]:8080");
}

TEST(net_upstream_pool, empty_pool_has_nothing_to_take) {
  upstream_pool pool;
  EXPECT_FALSE(pool.take("127.0.0.1:1"));
  EXPECT_EQ(pool.idle_count(), 0u);
}

TEST(net_upstream_pool, given_back_connection_is_taken_again_marked_reused) {
  loopback_origin origin;
  upstream_pool pool;
  auto conn = origin.connect();
  const auto local = conn.socket.local_endpoint();
  pool.give_back(std::move(conn));
  EXPECT_EQ(pool.idle_count(), 1u);
  EXPECT_FALSE(pool.take("127.0.0.1:2"));  // another key
  auto again = pool.take("127.0.0.1:1");
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->reused);
  EXPECT_EQ(again->socket.local_endpoint(), local);
  EXPECT_EQ(pool.idle_count(), 0u);
  EXPECT_FALSE(pool.take("127.0.0.1:1"));
}

TEST(net_upstream_pool, connection_closed_by_the_peer_is_not_handed_out) {
  loopback_origin origin;
  upstream_pool pool;
  auto good = origin.connect();
  auto closed = origin.connect();
  const auto good_local = good.socket.local_endpoint();
  const auto closed_fd = closed.socket.native_handle();
  pool.give_back(std::move(good));
  pool.give_back(std::move(closed));  // the most recent one: taken first if it looked open
  origin.peers[1].close();
  // Wait until the FIN has reached the pooled socket; nobody reads it, the pool must notice.
  pollfd fin{closed_fd, POLLIN, 0};
  ASSERT_EQ(::poll(&fin, 1, 2000), 1);
  auto taken = pool.take("127.0.0.1:1");
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->socket.local_endpoint(), good_local);
  EXPECT_EQ(pool.idle_count(), 0u);
}

TEST(net_upstream_pool, connection_with_unexpected_bytes_waiting_is_not_handed_out) {
  loopback_origin origin;
  upstream_pool pool;
  auto conn = origin.connect();
  asio::write(origin.peers[0], asio::buffer(std::string_view("HTTP/1.1 408 Timeout\r\n\r\n")));
  ASSERT_TRUE(wait_readable(conn.socket));
  pool.give_back(std::move(conn));
  EXPECT_FALSE(pool.take("127.0.0.1:1"));
  EXPECT_EQ(pool.idle_count(), 0u);
}

TEST(net_upstream_pool, connection_idle_longer_than_the_ttl_is_closed) {
  loopback_origin origin;
  upstream_pool pool(64, 0s);  // every idle connection is already too old
  pool.give_back(origin.connect());
  EXPECT_EQ(pool.idle_count(), 1u);
  EXPECT_FALSE(pool.take("127.0.0.1:1"));
  EXPECT_EQ(pool.idle_count(), 0u);
  // The pool closed it: the origin sees EOF.
  ASSERT_TRUE(wait_readable(origin.peers[0]));
  char c = 0;
  boost::system::error_code ec;
  origin.peers[0].read_some(asio::buffer(&c, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
}

TEST(net_upstream_pool, keeps_at_most_max_idle_per_key) {
  loopback_origin origin;
  upstream_pool pool(2);
  for (int i = 0; i < 3; ++i) {
    pool.give_back(origin.connect("a:1"));
  }
  pool.give_back(origin.connect("b:1"));
  EXPECT_EQ(pool.idle_count(), 3u);
  // The third connection for a:1 was closed, not kept.
  ASSERT_TRUE(wait_readable(origin.peers[2]));
  char c = 0;
  boost::system::error_code ec;
  origin.peers[2].read_some(asio::buffer(&c, 1), ec);
  EXPECT_EQ(ec, asio::error::eof);
  EXPECT_TRUE(pool.take("a:1"));
  EXPECT_TRUE(pool.take("a:1"));
  EXPECT_FALSE(pool.take("a:1"));
  EXPECT_TRUE(pool.take("b:1"));
}

TEST(net_upstream_pool, closed_socket_is_not_kept) {
  loopback_origin origin;
  upstream_pool pool;
  auto conn = origin.connect();
  conn.socket.close();
  pool.give_back(std::move(conn));
  EXPECT_EQ(pool.idle_count(), 0u);
}

// ---------------------------------------------------------------------------------------------
// connect_upstream and the watchdog, driven on an io_context with a bounded run.

asio::awaitable<void> connect_into(std::string host, std::uint16_t port,
                                   hark::net::connect_outcome& out) {
  hark::net::watchdog dog(co_await asio::this_coro::executor);
  using namespace asio::experimental::awaitable_operators;
  auto result =
      co_await (hark::net::connect_upstream(std::move(host), port, 2s, dog.main()) || dog.run());
  out = std::move(std::get<0>(result));
}

TEST(net_upstream, connect_succeeds_and_measures_connect_time) {
  asio::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  hark::net::connect_outcome out;
  asio::co_spawn(io, connect_into("127.0.0.1", acceptor.local_endpoint().port(), out),
                 asio::detached);
  io.run_for(5s);
  ASSERT_TRUE(out.connection);
  EXPECT_EQ(out.error, hark::errc::ok);
  EXPECT_EQ(out.connection->key, "127.0.0.1:" + std::to_string(acceptor.local_endpoint().port()));
  EXPECT_EQ(out.connection->remote, acceptor.local_endpoint());
  EXPECT_FALSE(out.connection->reused);
  EXPECT_TRUE(out.connect_ms);
  EXPECT_FALSE(out.dns_ms);  // an IP literal is not resolved
}

TEST(net_upstream, refused_connect_is_connect_failed_with_the_spec_message) {
  asio::io_context io;
  std::uint16_t port = 0;
  {
    tcp::acceptor probe(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    port = probe.local_endpoint().port();
  }  // closed: nothing listens there now
  hark::net::connect_outcome out;
  asio::co_spawn(io, connect_into("127.0.0.1", port, out), asio::detached);
  io.run_for(5s);
  EXPECT_FALSE(out.connection);
  EXPECT_EQ(out.error, hark::errc::connect_failed);
  EXPECT_EQ(out.message,
            "hark: cannot connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
}

asio::awaitable<void> read_under_watchdog(tcp::socket& s, hark::net::watchdog& dog,
                                          std::chrono::milliseconds timeout,
                                          boost::system::error_code& out) {
  dog.arm(timeout, s);
  char c = 0;
  auto [ec, n] =
      co_await s.async_read_some(asio::buffer(&c, 1), asio::as_tuple(asio::use_awaitable));
  dog.disarm();
  out = ec;
}

asio::awaitable<void> watched_read(tcp::socket& s, std::chrono::milliseconds timeout,
                                   boost::system::error_code& out, bool& fired) {
  hark::net::watchdog dog(co_await asio::this_coro::executor);
  using namespace asio::experimental::awaitable_operators;
  co_await (read_under_watchdog(s, dog, timeout, out) || dog.run());
  fired = dog.fired();
}

TEST(net_watchdog, a_passed_deadline_closes_the_socket) {
  loopback_origin origin;
  auto conn = origin.connect();
  boost::system::error_code ec;
  bool fired = false;
  const auto t0 = std::chrono::steady_clock::now();
  asio::co_spawn(origin.io, watched_read(conn.socket, 50ms, ec, fired), asio::detached);
  origin.io.run_for(5s);
  EXPECT_TRUE(fired);
  EXPECT_EQ(ec, asio::error::operation_aborted);
  EXPECT_FALSE(conn.socket.is_open());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST(net_watchdog, data_before_the_deadline_does_not_fire) {
  loopback_origin origin;
  auto conn = origin.connect();
  asio::write(origin.peers[0], asio::buffer(std::string_view("x")));
  boost::system::error_code ec;
  bool fired = true;
  asio::co_spawn(origin.io, watched_read(conn.socket, 1000ms, ec, fired), asio::detached);
  origin.io.run_for(5s);
  EXPECT_FALSE(fired);
  EXPECT_FALSE(ec);
  EXPECT_TRUE(conn.socket.is_open());
}

asio::awaitable<void> read_one(tcp::socket& s) {
  char c = 0;
  co_await s.async_read_some(asio::buffer(&c, 1), asio::as_tuple(asio::use_awaitable));
}

// Two deadlines of one watchdog, as an exchange holds for its client and upstream reads: only
// the one that passes fires, and only its socket is closed.
asio::awaitable<void> two_reads(tcp::socket& quick, tcp::socket& slow, bool& quick_fired,
                                bool& slow_fired) {
  hark::net::watchdog dog(co_await asio::this_coro::executor);
  hark::net::watchdog::deadline a(dog);
  hark::net::watchdog::deadline b(dog);
  using namespace asio::experimental::awaitable_operators;
  a.arm(50ms, quick);
  b.arm(10s, slow);
  co_await (read_one(quick) || dog.run());
  quick_fired = a.fired();
  slow_fired = b.fired();
}

TEST(net_watchdog, each_deadline_fires_alone_and_closes_only_its_socket) {
  loopback_origin origin;
  auto quick = origin.connect();
  auto slow = origin.connect();
  bool quick_fired = false;
  bool slow_fired = true;
  asio::co_spawn(origin.io, two_reads(quick.socket, slow.socket, quick_fired, slow_fired),
                 asio::detached);
  origin.io.run_for(5s);
  EXPECT_TRUE(quick_fired);
  EXPECT_FALSE(slow_fired);
  EXPECT_FALSE(quick.socket.is_open());
  EXPECT_TRUE(slow.socket.is_open());
}

asio::awaitable<void> action_after(std::chrono::milliseconds timeout, int& calls) {
  hark::net::watchdog dog(co_await asio::this_coro::executor);
  hark::net::watchdog::deadline d(dog);
  d.arm(timeout, [&calls] { ++calls; });
  asio::steady_timer wait(co_await asio::this_coro::executor, 300ms);
  using namespace asio::experimental::awaitable_operators;
  co_await (wait.async_wait(asio::use_awaitable) || dog.run());
}

TEST(net_watchdog, a_deadline_with_an_action_runs_it_once) {
  asio::io_context io;
  int calls = 0;
  asio::co_spawn(io, action_after(20ms, calls), asio::detached);
  io.run_for(5s);
  EXPECT_EQ(calls, 1);
}

asio::awaitable<void> disarmed_action(int& calls) {
  hark::net::watchdog dog(co_await asio::this_coro::executor);
  hark::net::watchdog::deadline d(dog);
  d.arm(20ms, [&calls] { ++calls; });
  d.disarm();
  asio::steady_timer wait(co_await asio::this_coro::executor, 200ms);
  using namespace asio::experimental::awaitable_operators;
  co_await (wait.async_wait(asio::use_awaitable) || dog.run());
}

TEST(net_watchdog, a_disarmed_deadline_never_fires) {
  asio::io_context io;
  int calls = 0;
  asio::co_spawn(io, disarmed_action(calls), asio::detached);
  io.run_for(5s);
  EXPECT_EQ(calls, 0);
}

// The sweeper closes idle connections on its own, with no take() of their key.
TEST(net_upstream_pool, idle_connections_are_swept_without_any_further_use) {
  loopback_origin origin;
  upstream_pool pool(64, 1s);
  pool.give_back(origin.connect("a:1"));
  pool.give_back(origin.connect("b:1"));
  EXPECT_EQ(pool.idle_count(), 2u);
  origin.io.run_for(2500ms);  // the sweeper runs every ttl / 2
  EXPECT_EQ(pool.idle_count(), 0u);
  for (auto& peer : origin.peers) {
    ASSERT_TRUE(wait_readable(peer));
    char c = 0;
    boost::system::error_code ec;
    peer.read_some(asio::buffer(&c, 1), ec);
    EXPECT_EQ(ec, asio::error::eof);
  }
}

TEST(net_upstream_pool, sweep_keeps_fresh_open_connections) {
  loopback_origin origin;
  upstream_pool pool(64, 30s);
  pool.give_back(origin.connect("a:1"));
  EXPECT_EQ(pool.sweep(), 0u);
  EXPECT_EQ(pool.idle_count(), 1u);
}

}  // namespace
