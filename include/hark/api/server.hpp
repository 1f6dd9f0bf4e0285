#pragma once
// The API listener: Beast HTTP/1.1 server on its own io_context, calling api::handle.

#include "hark/api/router.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <memory>

namespace hark::api {

/** `ioc` must be run by one thread (handlers use `ctx` without locks). `ctx` must outlive every
 *  connection, and the server must outlive the running of `ioc`: destroy it after `ioc.run()`
 *  has returned (or before it was ever started). */
class server {
 public:
  /** Binds and listens on `endpoint` (port 0: any free port). Throws boost::system::system_error
   *  when the address is in use. Connections are served on `ioc`. */
  server(boost::asio::io_context& ioc, const boost::asio::ip::tcp::endpoint& endpoint,
         context& ctx);
  server(const server&) = delete;
  server& operator=(const server&) = delete;
  /** Closes the acceptor. */
  ~server();

  /** The bound endpoint (the chosen port when 0 was asked). */
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  /** Starts accepting (spawns the accept loop on `ioc`). */
  void start();

  /** Stops accepting; open connections end after their current response (an idle keep-alive
   *  connection ends at its 30 s read timeout, or when `ioc` stops). Closes `ctx.events`, so
   *  that open event streams end now. Callable from any thread. */
  void stop();

 private:
  boost::asio::io_context& ioc_;
  boost::asio::ip::tcp::acceptor acceptor_;
  context& ctx_;
  /** Set by stop(); read by every connection after each response. */
  std::shared_ptr<std::atomic<bool>> stopping_;
};

}  // namespace hark::api
