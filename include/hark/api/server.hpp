#pragma once
// The API listener: Beast HTTP/1.1 server on its own io_context, calling api::handle.

#include "hark/api/router.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace hark::api {

class server {
 public:
  /** Binds and listens on `endpoint` (port 0: any free port). Throws boost::system::system_error
   *  when the address is in use. Connections are served on `ioc`. */
  server(boost::asio::io_context& ioc, const boost::asio::ip::tcp::endpoint& endpoint,
         context& ctx);

  /** The bound endpoint (the chosen port when 0 was asked). */
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  /** Starts accepting (spawns the accept loop on `ioc`). */
  void start();

  /** Stops accepting; open connections end after their current response. */
  void stop();

 private:
  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  context& ctx_;
};

}  // namespace hark::api
