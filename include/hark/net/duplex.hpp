#pragma once
// duplex: one byte stream of a connection, plain TCP or TLS, behind one pair of operations, so
// that the HTTP/1 relay is written once for http and https.
//
// read_some() and write() return the underlying operation's awaitable itself (the same type in
// every case), so there is no extra coroutine frame per I/O.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <cstddef>
#include <tuple>

namespace hark::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

/** TLS over a socket owned elsewhere (client side: the session owns the socket). */
using tls_over_socket = asio::ssl::stream<tcp::socket&>;
/** TLS owning its socket (upstream side). */
using tls_owning_socket = asio::ssl::stream<tcp::socket>;

using io_result = std::tuple<boost::system::error_code, std::size_t>;

class duplex {
 public:
  explicit duplex(tcp::socket& s) noexcept : socket_(&s) {}
  explicit duplex(tls_over_socket& s) noexcept : socket_(&s.next_layer()), over_(&s) {}
  explicit duplex(tls_owning_socket& s) noexcept : socket_(&s.next_layer()), owning_(&s) {}

  /** The TCP socket underneath (for deadlines, shutdown, addresses). */
  tcp::socket& socket() const noexcept { return *socket_; }
  bool is_tls() const noexcept { return over_ != nullptr || owning_ != nullptr; }

  asio::awaitable<io_result> read_some(asio::mutable_buffer buffer) const {
    constexpr auto token = asio::as_tuple(asio::use_awaitable);
    if (over_ != nullptr) {
      return over_->async_read_some(buffer, token);
    }
    if (owning_ != nullptr) {
      return owning_->async_read_some(buffer, token);
    }
    return socket_->async_read_some(buffer, token);
  }

  /** Writes all of `buffers`. */
  template <class ConstBufferSequence>
  asio::awaitable<io_result> write(const ConstBufferSequence& buffers) const {
    constexpr auto token = asio::as_tuple(asio::use_awaitable);
    if (over_ != nullptr) {
      return asio::async_write(*over_, buffers, token);
    }
    if (owning_ != nullptr) {
      return asio::async_write(*owning_, buffers, token);
    }
    return asio::async_write(*socket_, buffers, token);
  }

 private:
  tcp::socket* socket_;
  tls_over_socket* over_ = nullptr;
  tls_owning_socket* owning_ = nullptr;
};

}  // namespace hark::net
