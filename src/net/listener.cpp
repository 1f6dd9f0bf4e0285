#include "hark/net/listener.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

namespace hark::net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

listener::listener(std::vector<asio::io_context*> workers, const tcp::endpoint& endpoint,
                   accept_handler on_accept)
    : workers_(std::move(workers)), acceptor_(*workers_.front()), on_accept_(std::move(on_accept)) {
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
  });
}

// A callback rather than a coroutine: the accept loop is the one place where the completion
// must move the socket to another thread's io_context, which async_accept(executor) does.
void listener::accept_one() {
  const auto index = next_;
  next_ = (next_ + 1) % workers_.size();
  acceptor_.async_accept(
      *workers_[index], [this, index](boost::system::error_code ec, tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) {
          return;
        }
        if (ec) {
          // EMFILE and friends: log and keep accepting rather than dying.
          spdlog::warn("accept failed: {}", ec.message());
        } else {
          asio::post(*workers_[index], [this, index, s = std::move(socket)]() mutable {
            on_accept_(std::move(s), index);
          });
        }
        accept_one();
      });
}

}  // namespace hark::net
