#pragma once
// Blocking loopback sockets for byte-script tests: the test thread plays the client, a scripted
// origin thread plays the server, and the proxy runs on its own io_context thread.
//
// Plain POSIX calls with poll() deadlines rather than Asio: Asio's synchronous operations wait
// without a deadline, and a test that hangs instead of failing is a defect. Every wait here is
// bounded by `wait_limit`; on timeout a read returns what arrived so far and the test's
// assertion shows the difference.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

namespace hark::test {

inline constexpr std::chrono::milliseconds wait_limit{5000};

/** One end of a TCP connection driven by a test script. */
class script_socket {
 public:
  explicit script_socket(int fd) : fd_(fd) {}
  script_socket(script_socket&& other) noexcept
      : fd_(std::exchange(other.fd_, -1)),
        buffered_(std::move(other.buffered_)),
        eof_(other.eof_) {}
  script_socket& operator=(script_socket&&) = delete;
  ~script_socket() { close(); }

  /** Connects to 127.0.0.1:`port`. Throws when the connection cannot be made. */
  static script_socket connect(std::uint16_t port) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + " failed");
    }
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return script_socket(fd);
  }

  /** Sends all of `bytes`; false when the peer is gone. */
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) {
        continue;
      }
      if (n <= 0) {
        return false;
      }
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  /** Everything up to and including `delimiter`, or what arrived before EOF/timeout. */
  std::string read_until(std::string_view delimiter) {
    std::size_t at = 0;
    while ((at = buffered_.find(delimiter)) == std::string::npos) {
      if (!fill()) {
        return take(buffered_.size());
      }
    }
    return take(at + delimiter.size());
  }

  /** Exactly `n` bytes, or what arrived before EOF/timeout. */
  std::string read_exact(std::size_t n) {
    while (buffered_.size() < n) {
      if (!fill()) {
        break;
      }
    }
    return take(std::min(n, buffered_.size()));
  }

  /** Whatever is available once at least one byte arrived ("" at EOF/timeout). */
  std::string read_some() {
    if (buffered_.empty()) {
      fill();
    }
    return take(buffered_.size());
  }

  /** Everything until the peer closes (eof() tells whether it did within the limit). */
  std::string read_to_eof() {
    while (fill()) {
    }
    return take(buffered_.size());
  }

  /** Whether the peer closed (after the bytes already read); waits for it, bounded. */
  bool at_eof() {
    if (buffered_.empty() && !eof_) {
      fill();
    }
    return buffered_.empty() && eof_;
  }
  bool eof() const noexcept { return eof_; }

  void shutdown_send() { ::shutdown(fd_, SHUT_WR); }

  void close() {
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }

  int native_handle() const noexcept { return fd_; }

 private:
  /** One receive, waiting up to wait_limit. False at EOF, error or timeout. */
  bool fill() {
    if (eof_ || fd_ < 0) {
      return false;
    }
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait_limit.count())) != 1) {
      return false;
    }
    char chunk[16 * 1024];
    const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) {
      eof_ = true;  // EOF or reset: nothing more will come
      return false;
    }
    buffered_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  std::string take(std::size_t n) {
    std::string out = buffered_.substr(0, n);
    buffered_.erase(0, n);
    return out;
  }

  int fd_ = -1;
  std::string buffered_;
  bool eof_ = false;
};

/** A listening socket on 127.0.0.1, port chosen by the kernel. */
class script_listener {
 public:
  script_listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 16) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1:0");
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  script_listener(const script_listener&) = delete;
  script_listener& operator=(const script_listener&) = delete;
  ~script_listener() { ::close(fd_); }

  std::uint16_t port() const noexcept { return port_; }

  /** The next connection, or nullopt when none arrives within `wait`. */
  std::optional<script_socket> accept(std::chrono::milliseconds wait = wait_limit) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) != 1) {
      return std::nullopt;
    }
    const int fd = ::accept(fd_, nullptr, nullptr);
    if (fd < 0) {
      return std::nullopt;
    }
    return script_socket(fd);
  }

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

/** An origin server whose behaviour is a script run on its own thread. What the script records
 *  may be read by the test after join() (the join orders the accesses). */
class scripted_origin {
 public:
  explicit scripted_origin(std::function<void(script_listener&)> script)
      : thread_([this, s = std::move(script)] { s(listener_); }) {}
  scripted_origin(const scripted_origin&) = delete;
  scripted_origin& operator=(const scripted_origin&) = delete;
  ~scripted_origin() { join(); }

  std::uint16_t port() const noexcept { return listener_.port(); }
  void join() {
    if (thread_.joinable()) {
      thread_.join();
    }
  }

 private:
  script_listener listener_;
  std::thread thread_;
};

/** A port on 127.0.0.1 where nothing listens (bound once, then released). */
inline std::uint16_t unused_port() {
  const script_listener probe;
  return probe.port();
}

}  // namespace hark::test
