// Cost of process attribution per connection (capture::process_resolver), with many other
// sockets open on the machine.
//
//   build/release/bench/hark_process_bench [other_sockets=10000] [connections=2000]
//
// A child process holds `other_sockets` loopback sockets (pairs connected to each other); a
// second child is the client: it connects, waits until this process closes the connection,
// and connects again. This process accepts, resolves the client's process, checks it is the
// client child, and closes. The CPU time of this process (every thread: the accept loop and the
// resolver's) is measured over all connections with and without the resolve; the difference per
// connection is the attribution's cost. For comparison it also times one read of
// /proc/net/tcp + /proc/net/tcp6, what each lookup cost before sock_diag.
#include "hark/capture/process_resolver.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace {

namespace net = boost::asio;
using tcp = net::ip::tcp;

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

void raise_limit() {
  rlimit l{};
  getrlimit(RLIMIT_NOFILE, &l);
  l.rlim_cur = l.rlim_max;
  setrlimit(RLIMIT_NOFILE, &l);
}

int loopback_socket(unsigned short port) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    _exit(3);
  }
  return fd;
}

/** A child holding `n` sockets (n/2 connected pairs) until killed. */
pid_t hold_sockets(int n) {
  const pid_t pid = fork();
  if (pid != 0) {
    return pid;
  }
  raise_limit();
  const int l = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(l, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(l, 4096) != 0 ||
      getsockname(l, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    _exit(2);
  }
  for (int i = 0; i < n / 2; ++i) {
    loopback_socket(ntohs(a.sin_port));
    if (accept(l, nullptr, nullptr) < 0) {
      _exit(4);
    }
  }
  pause();
  _exit(0);
}

/** The client child: `count` connections, one at a time, each until the server closes it. */
pid_t run_client(unsigned short port, int count) {
  const pid_t pid = fork();
  if (pid != 0) {
    return pid;
  }
  for (int i = 0; i < count; ++i) {
    const int fd = loopback_socket(port);
    char byte = 0;
    while (read(fd, &byte, 1) > 0) {
    }
    close(fd);
  }
  _exit(0);
}

/** Accepts `count` connections of a client child; resolves each when `resolve`. Returns the
 *  CPU seconds this process used. */
double serve(int count, bool resolve, hark::capture::process_resolver& resolver, int& found) {
  net::io_context io;
  tcp::acceptor acceptor(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
  const double before = cpu_seconds();
  const pid_t client = run_client(acceptor.local_endpoint().port(), count);
  for (int i = 0; i < count; ++i) {
    tcp::socket s(io);
    acceptor.accept(s);
    if (resolve) {
      const auto info = resolver.resolve(s.remote_endpoint(), s.local_endpoint()).get();
      found += info && info->pid == client ? 1 : 0;
    }
  }
  waitpid(client, nullptr, 0);
  return cpu_seconds() - before;
}

double proc_net_tcp_read_us() {
  const auto start = std::chrono::steady_clock::now();
  std::size_t lines = 0;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    for (std::string line; std::getline(in, line);) {
      ++lines;
    }
  }
  const auto us =
      std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
  std::printf("one read of /proc/net/tcp{,6}: %zu lines, %.0f us\n", lines, us);
  return us;
}

}  // namespace

int main(int argc, char** argv) {
  const int others = argc > 1 ? std::atoi(argv[1]) : 10'000;
  const int count = argc > 2 ? std::atoi(argv[2]) : 2'000;
  raise_limit();
  const pid_t holder = hold_sockets(others);
  // Wait until the holder's sockets exist: its fd count reaches `others`.
  for (int i = 0; i < 600; ++i) {
    std::size_t fds = 0;
    const std::string dir = "/proc/" + std::to_string(holder) + "/fd";
    if (auto* d = opendir(dir.c_str())) {
      while (readdir(d) != nullptr) {
        ++fds;
      }
      closedir(d);
    }
    if (fds >= static_cast<std::size_t>(others)) {
      break;
    }
    usleep(50'000);
  }
  proc_net_tcp_read_us();
  hark::capture::process_resolver resolver;
  int found = 0;
  const double base = serve(count, false, resolver, found);
  const double with = serve(count, true, resolver, found);
  kill(holder, SIGKILL);
  waitpid(holder, nullptr, 0);
  const double per_connection_us = (with - base) / count * 1e6;
  std::printf(
      "%d other sockets, %d connections: %.1f us CPU per connection without lookup, "
      "%.1f us with; attribution costs %.1f us; %d/%d found the client\n",
      others, count, base / count * 1e6, with / count * 1e6, per_connection_us, found, count);
  return found == count ? 0 : 1;
}
