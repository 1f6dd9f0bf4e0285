#pragma once
// listener: accepts on one endpoint and hands each socket to the next worker io_context.
//
// Two resource guards sit in the accept loop (SPEC §2, "Resources"):
//  - a connection cap: past `max_connections` open client connections, a new client is accepted
//    and closed at once (a best-effort 503 first), so that the descriptors left stay for the
//    API, the store and upstream connects;
//  - accept backoff: when accept() fails for lack of descriptors or memory (EMFILE, ENFILE,
//    ENOBUFS, ENOMEM) the loop pauses (500 ms, doubling up to 4 s while it keeps failing) and
//    logs one line per pause, instead of retrying at once and spinning a core on the pending
//    connection that the kernel reports readable again and again.

#include "hark/net/accept_backoff.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

namespace hark::net {

struct listener_options {
  /** Client connections open at once beyond which new ones are refused; 0: no cap. */
  std::size_t max_connections = 0;
  /** Open client connections now (decremented by whoever closes them); required with a cap. */
  const std::atomic<std::uint64_t>* open_connections = nullptr;
  /** Incremented for each client refused because of the cap (may be null). */
  std::atomic<std::uint64_t>* refused_connections = nullptr;
  /** Incremented for each pause of the accept loop (may be null). */
  std::atomic<std::uint64_t>* accept_pauses = nullptr;
};

class listener {
 public:
  /** Called on the worker's thread with a socket bound to that worker's executor. */
  using accept_handler = std::function<void(boost::asio::ip::tcp::socket&&, std::size_t worker)>;

  /** Binds and listens on `endpoint` (throws boost::system::system_error, e.g. address_in_use).
   *  The acceptor runs on `workers[0]`. */
  listener(std::vector<boost::asio::io_context*> workers,
           const boost::asio::ip::tcp::endpoint& endpoint, accept_handler on_accept,
           listener_options options = {});

  boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

  /** Starts the accept loop. */
  void start();
  /** Stops accepting (connections already accepted go on). Call from any thread. */
  void stop();

 private:
  std::vector<boost::asio::io_context*> workers_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer pause_timer_;
  accept_handler on_accept_;
  listener_options options_;
  accept_backoff backoff_;
  std::size_t next_ = 0;
  std::uint64_t refused_ = 0;  ///< refusals since the last refusal was logged
  std::chrono::steady_clock::time_point refusal_logged_{};
  void accept_one();
  void on_accepted(boost::system::error_code ec, boost::asio::ip::tcp::socket socket,
                   std::size_t index);
  void pause(const boost::system::error_code& ec);
  void refuse(boost::asio::ip::tcp::socket& socket);
};

}  // namespace hark::net
