#include "hark/capture/process_resolver.hpp"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <vector>

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;
using hark::capture::process_info;
using hark::capture::process_resolver;
using namespace std::chrono_literals;

std::string own_comm() {
  std::ifstream in("/proc/self/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

std::optional<process_info> wait(const std::shared_future<std::optional<process_info>>& f) {
  EXPECT_EQ(f.wait_for(10s), std::future_status::ready);
  return f.get();
}

/** A listener and a connected client/server socket pair inside this process. */
struct loopback_pair {
  net::io_context io;
  tcp::acceptor acceptor{io};
  tcp::socket client{io};
  tcp::socket server{io};

  explicit loopback_pair(const tcp::endpoint& listen, const tcp::endpoint* connect_to = nullptr,
                         bool v6_only = true) {
    acceptor.open(listen.protocol());
    if (listen.address().is_v6()) {
      acceptor.set_option(net::ip::v6_only(v6_only));
    }
    acceptor.bind(listen);
    acceptor.listen();
    tcp::endpoint target = connect_to != nullptr ? *connect_to : acceptor.local_endpoint();
    target.port(acceptor.local_endpoint().port());
    client.connect(target);
    acceptor.accept(server);
  }
};

TEST(process_resolver, finds_this_process_for_an_ipv4_loopback_client) {
  loopback_pair pair(tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  process_resolver resolver;
  const auto info =
      wait(resolver.resolve(pair.client.local_endpoint(), pair.server.local_endpoint()));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->pid, getpid());
  EXPECT_EQ(info->name, own_comm());
}

TEST(process_resolver, finds_this_process_for_an_ipv6_loopback_client) {
  std::optional<loopback_pair> pair;
  try {
    pair.emplace(tcp::endpoint(net::ip::make_address("::1"), 0));
  } catch (const boost::system::system_error& e) {
    GTEST_SKIP() << "no IPv6 loopback: " << e.what();
  }
  process_resolver resolver;
  const auto info =
      wait(resolver.resolve(pair->client.local_endpoint(), pair->server.local_endpoint()));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->pid, getpid());
}

TEST(process_resolver, matches_v4_mapped_endpoints_of_a_dual_stack_listener) {
  // The proxy listens on [::] and sees the IPv4 client as ::ffff:127.0.0.1; the client's own
  // socket is listed in /proc/net/tcp (IPv4).
  std::optional<loopback_pair> pair;
  const tcp::endpoint v4_target(net::ip::make_address("127.0.0.1"), 0);
  try {
    pair.emplace(tcp::endpoint(net::ip::address_v6::any(), 0), &v4_target, false);
  } catch (const boost::system::system_error& e) {
    GTEST_SKIP() << "no dual-stack listener: " << e.what();
  }
  const tcp::endpoint client = pair->server.remote_endpoint();
  const tcp::endpoint proxy = pair->server.local_endpoint();
  ASSERT_TRUE(client.address().is_v6() && client.address().to_v6().is_v4_mapped());
  process_resolver resolver;
  const auto info = wait(resolver.resolve(client, proxy));
  ASSERT_TRUE(info);
  EXPECT_EQ(info->pid, getpid());
}

TEST(process_resolver, remote_clients_are_answered_at_once) {
  process_resolver resolver;
  const auto future = resolver.resolve(tcp::endpoint(net::ip::make_address("192.0.2.1"), 5),
                                       tcp::endpoint(net::ip::make_address("127.0.0.1"), 8888));
  ASSERT_EQ(future.wait_for(0s), std::future_status::ready);
  EXPECT_FALSE(future.get());
  const auto v6 = resolver.resolve(tcp::endpoint(net::ip::make_address("2001:db8::1"), 5),
                                   tcp::endpoint(net::ip::make_address("::1"), 8888));
  ASSERT_EQ(v6.wait_for(0s), std::future_status::ready);
  EXPECT_FALSE(v6.get());
}

TEST(process_resolver, unknown_socket_pair_yields_nullopt) {
  loopback_pair pair(tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  process_resolver resolver;
  // The right client endpoint with a wrong proxy port, and loopback endpoints nobody uses.
  tcp::endpoint wrong_proxy = pair.server.local_endpoint();
  wrong_proxy.port(static_cast<unsigned short>(wrong_proxy.port() == 1 ? 2 : 1));
  EXPECT_FALSE(wait(resolver.resolve(pair.client.local_endpoint(), wrong_proxy)));
  EXPECT_FALSE(wait(resolver.resolve(tcp::endpoint(net::ip::make_address("127.0.0.2"), 1),
                                     tcp::endpoint(net::ip::make_address("127.0.0.2"), 2))));
}

/** Forks a child named `name` that connects to 127.0.0.1:`port` and exits when the connection
 *  is closed by the other end. */
pid_t spawn_client(unsigned short port, const char* name) {
  const pid_t child = fork();
  if (child != 0) {
    return child;
  }
  // Only async-signal-safe calls here: the parent has other threads.
  prctl(PR_SET_NAME, name, 0, 0, 0);
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    _exit(1);
  }
  char byte = 0;
  while (read(fd, &byte, 1) > 0) {
  }
  _exit(0);  // the parent closed its end: done
}

TEST(process_resolver, finds_a_child_process_that_owns_the_client_socket) {
  loopback_pair listener(tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  const unsigned short port = listener.acceptor.local_endpoint().port();
  const pid_t child = spawn_client(port, "hark-rt-child");
  ASSERT_GE(child, 0);
  tcp::socket accepted(listener.io);
  listener.acceptor.accept(accepted);
  process_resolver resolver;
  const auto info = wait(resolver.resolve(accepted.remote_endpoint(), accepted.local_endpoint()));
  accepted.close();
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->pid, child);
  EXPECT_EQ(info->name, "hark-rt-child");
}

// One short-lived client after another (a loop of `curl -x`): each is a new process, found
// among the pids created since the previous lookup, never confused with the one before.
TEST(process_resolver, each_of_several_short_lived_clients_is_its_own_process) {
  loopback_pair listener(tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  const unsigned short port = listener.acceptor.local_endpoint().port();
  process_resolver resolver;
  for (int i = 0; i < 5; ++i) {
    const pid_t child = spawn_client(port, "hark-rt-short");
    ASSERT_GE(child, 0);
    tcp::socket accepted(listener.io);
    listener.acceptor.accept(accepted);
    const auto future = resolver.resolve(accepted.remote_endpoint(), accepted.local_endpoint());
    const auto info = wait(future);
    accepted.close();
    ASSERT_EQ(waitpid(child, nullptr, 0), child);
    ASSERT_TRUE(info) << i;
    EXPECT_EQ(info->pid, child) << i;
    EXPECT_EQ(info->name, "hark-rt-short");
  }
}

TEST(process_resolver, many_lookups_in_one_batch_all_complete) {
  loopback_pair pair(tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  process_resolver resolver;
  std::vector<std::shared_future<std::optional<process_info>>> futures;
  for (int i = 0; i < 200; ++i) {
    futures.push_back(resolver.resolve(pair.client.local_endpoint(), pair.server.local_endpoint()));
  }
  for (const auto& f : futures) {
    const auto info = wait(f);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->pid, getpid());
  }
}

TEST(process_resolver, destructor_completes_pending_lookups) {
  loopback_pair pair(tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  std::vector<std::shared_future<std::optional<process_info>>> futures;
  {
    process_resolver resolver;
    for (int i = 0; i < 1000; ++i) {
      futures.push_back(
          resolver.resolve(pair.client.local_endpoint(), pair.server.local_endpoint()));
    }
  }
  for (const auto& f : futures) {
    ASSERT_EQ(f.wait_for(0s), std::future_status::ready);
    const auto info = f.get();  // either resolved before the stop, or nullopt
    if (info) {
      EXPECT_EQ(info->pid, getpid());
    }
  }
}

}  // namespace
