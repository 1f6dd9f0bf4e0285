#pragma once
// Finds the local process that owns a client's TCP socket (Linux: the kernel's sock_diag lookup
// of the 4-tuple, then the owner of that socket inode among /proc/PID/fd), off the relay path.

#include "hark/capture/entry_record.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <future>
#include <memory>
#include <optional>

namespace hark::capture {

class process_resolver {
 public:
  /** Starts the resolver's own thread. */
  process_resolver();
  /** Stops the thread; pending futures become nullopt. */
  ~process_resolver();
  process_resolver(const process_resolver&) = delete;
  process_resolver& operator=(const process_resolver&) = delete;

  /** Looks up the process owning the socket whose local end is `client` and remote end is
   *  `proxy` (the address the client connected to). Call when the connection is accepted, from
   *  any thread: the client socket's inode is asked of the kernel at once (one netlink round
   *  trip, a few µs), and the search for its process is queued to the resolver's thread, so the
   *  answer holds even if the client exits right after its request. Never blocks for longer.
   *  The future yields nullopt when the client is not on this machine, belongs to another user
   *  (without privileges), or no process could be found. */
  std::shared_future<std::optional<process_info>> resolve(
      const boost::asio::ip::tcp::endpoint& client, const boost::asio::ip::tcp::endpoint& proxy);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace hark::capture
