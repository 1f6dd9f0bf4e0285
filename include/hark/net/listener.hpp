#pragma once
// listener: accepts on one endpoint and hands each socket to the next worker io_context.

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <vector>

namespace hark::net {

class listener {
 public:
  /** Called on the worker's thread with a socket bound to that worker's executor. */
  using accept_handler = std::function<void(boost::asio::ip::tcp::socket&&, std::size_t worker)>;

  /** Binds and listens on `endpoint` (throws boost::system::system_error, e.g. address_in_use).
   *  The acceptor runs on `workers[0]`. */
  listener(std::vector<boost::asio::io_context*> workers,
           const boost::asio::ip::tcp::endpoint& endpoint, accept_handler on_accept);

  boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

  /** Starts the accept loop. */
  void start();
  /** Stops accepting (connections already accepted go on). Call from any thread. */
  void stop();

 private:
  std::vector<boost::asio::io_context*> workers_;
  boost::asio::ip::tcp::acceptor acceptor_;
  accept_handler on_accept_;
  std::size_t next_ = 0;
  void accept_one();
};

}  // namespace hark::net
