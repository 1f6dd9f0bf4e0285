#include "hark/net/listener.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <string_view>

namespace hark::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// A refused client is told why before the close, for the HTTP/1 request it is about to send;
// anything else (a TLS or SOCKS client) just sees the connection close.
constexpr std::string_view refusal_response =
    "HTTP/1.1 503 Service Unavailable\r\n"
    "Content-Type: text/plain\r\n"
    "X-Hark-Error: too_many_connections\r\n"
    "Connection: close\r\n"
    "Content-Length: 39\r\n"
    "\r\n"
    "hark: too many connections, try later\r\n";
static_assert(refusal_response.size() - refusal_response.find("\r\n\r\n") - 4 == 39);

// Refusals are logged at most this often, each line with the count since the previous one.
constexpr auto refusal_log_interval = std::chrono::seconds(10);

}  // namespace

listener::listener(std::vector<asio::io_context*> workers, const tcp::endpoint& endpoint,
                   accept_handler on_accept, listener_options options)
    : workers_(std::move(workers)),
      acceptor_(*workers_.front()),
      pause_timer_(*workers_.front()),
      on_accept_(std::move(on_accept)),
      options_(options) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
}

void listener::start() {
  accept_one();
}

void listener::stop() {
  asio::post(acceptor_.get_executor(), [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    pause_timer_.cancel();
  });
}

// A callback rather than a coroutine: the accept loop is the one place where the completion
// must move the socket to another thread's io_context, which async_accept(executor) does.
void listener::accept_one() {
  const auto index = next_;
  next_ = (next_ + 1) % workers_.size();
  acceptor_.async_accept(*workers_[index],
                         [this, index](boost::system::error_code ec, tcp::socket socket) {
                           on_accepted(ec, std::move(socket), index);
                         });
}

void listener::on_accepted(boost::system::error_code ec, tcp::socket socket, std::size_t index) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
    return;
  }
  if (accept_backoff::is_resource_error(ec)) {
    pause(ec);  // resumes accept_one() when the pause ends
    return;
  }
  if (ec) {
    // One connection's failure (ECONNABORTED: the client reset before accept; EPERM: a
    // firewall rule): the next accept may succeed at once.
    spdlog::debug("accept failed: {}", ec.message());
  } else {
    backoff_.on_success();
    const std::size_t open = options_.open_connections != nullptr
                                 ? static_cast<std::size_t>(options_.open_connections->load())
                                 : 0;
    if (options_.max_connections != 0 && open >= options_.max_connections) {
      refuse(socket);
    } else {
      asio::post(*workers_[index], [this, index, s = std::move(socket)]() mutable {
        on_accept_(std::move(s), index);
      });
    }
  }
  accept_one();
}

void listener::pause(const boost::system::error_code& ec) {
  const auto delay = backoff_.on_resource_error();
  if (options_.accept_pauses != nullptr) {
    options_.accept_pauses->fetch_add(1, std::memory_order_relaxed);
  }
  // One line per pause; the count says how many pauses (each one failed accept) there were so
  // far, so that a long exhaustion shows as a slowly growing number rather than a flood.
  spdlog::warn("accept failed: {}; not accepting for {} ms (pause {} since start)", ec.message(),
               delay.count(), backoff_.pauses());
  pause_timer_.expires_after(delay);
  pause_timer_.async_wait([this](boost::system::error_code wait_ec) {
    if (wait_ec == asio::error::operation_aborted || !acceptor_.is_open()) {
      return;
    }
    accept_one();
  });
}

void listener::refuse(tcp::socket& socket) {
  ++refused_;
  if (options_.refused_connections != nullptr) {
    options_.refused_connections->fetch_add(1, std::memory_order_relaxed);
  }
  const int fd = socket.native_handle();
  // Best effort and never blocking: whatever the client sent already is read and dropped (so
  // that the close is a FIN rather than a reset that could destroy the answer), then the 503.
  std::array<char, 4096> discard{};
  while (::recv(fd, discard.data(), discard.size(), MSG_DONTWAIT) > 0) {
  }
  (void)::send(fd, refusal_response.data(), refusal_response.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  boost::system::error_code ignored;
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
  const auto now = std::chrono::steady_clock::now();
  if (now - refusal_logged_ >= refusal_log_interval) {
    spdlog::warn("refused {} client connection(s): {} open, --max-connections is {}", refused_,
                 options_.open_connections != nullptr ? options_.open_connections->load() : 0,
                 options_.max_connections);
    refused_ = 0;
    refusal_logged_ = now;
  }
}

}  // namespace hark::net
