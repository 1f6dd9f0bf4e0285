#include "hark/net/splice.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>

namespace hark::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t pipe_size = 1 << 20;

/** A pipe pair closed on scope exit. */
struct pipe_pair {
  int fd[2] = {-1, -1};
  pipe_pair() {
    if (::pipe2(fd, O_NONBLOCK | O_CLOEXEC) == 0) {
      ::fcntl(fd[1], F_SETPIPE_SZ, static_cast<int>(pipe_size));  // best effort
    }
  }
  ~pipe_pair() {
    for (int f : fd) {
      if (f >= 0) {
        ::close(f);
      }
    }
  }
  pipe_pair(const pipe_pair&) = delete;
  pipe_pair& operator=(const pipe_pair&) = delete;
};

boost::system::error_code last_error() {
  return {errno, boost::system::system_category()};
}

}  // namespace

asio::awaitable<std::pair<boost::system::error_code, std::uint64_t>> splice_bytes(
    tcp::socket& from, tcp::socket& to, std::uint64_t count) {
  constexpr auto token = asio::as_tuple(asio::use_awaitable);
  pipe_pair pipe;
  if (pipe.fd[0] < 0) {
    co_return std::pair{last_error(), std::uint64_t{0}};
  }
  boost::system::error_code ec;
  from.native_non_blocking(true, ec);
  to.native_non_blocking(true, ec);
  std::uint64_t delivered = 0;
  std::size_t in_pipe = 0;
  while (delivered < count) {
    const auto want = std::min<std::uint64_t>(count - delivered - in_pipe, pipe_size);
    if (want > 0) {
      const auto r = ::splice(from.native_handle(), nullptr, pipe.fd[1], nullptr,
                              static_cast<std::size_t>(want), SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (r == 0) {
        co_return std::pair{boost::system::error_code(asio::error::eof), delivered};
      }
      if (r > 0) {
        in_pipe += static_cast<std::size_t>(r);
      } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
        co_return std::pair{last_error(), delivered};
      } else if (in_pipe == 0) {
        auto [wec] = co_await from.async_wait(tcp::socket::wait_read, token);
        if (wec) {
          co_return std::pair{wec, delivered};
        }
        continue;
      }
    }
    while (in_pipe > 0) {
      const auto w = ::splice(pipe.fd[0], nullptr, to.native_handle(), nullptr, in_pipe,
                              SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (w > 0) {
        in_pipe -= static_cast<std::size_t>(w);
        delivered += static_cast<std::uint64_t>(w);
      } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        auto [wec] = co_await to.async_wait(tcp::socket::wait_write, token);
        if (wec) {
          co_return std::pair{wec, delivered};
        }
      } else {
        co_return std::pair{
            w == 0 ? boost::system::error_code(asio::error::broken_pipe) : last_error(), delivered};
      }
    }
  }
  co_return std::pair{boost::system::error_code{}, delivered};
}

}  // namespace hark::net
