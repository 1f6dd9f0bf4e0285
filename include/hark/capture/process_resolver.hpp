#pragma once
// Finds the local process that owns a client's TCP socket (Linux /proc), off the relay path.

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

  /** Queues a lookup of the process owning the socket whose local end is `client` and remote
   *  end is `proxy` (the address the client connected to). Never blocks. The future yields
   *  nullopt when the client is not on this machine or no process could be found. */
  std::shared_future<std::optional<process_info>> resolve(
      const boost::asio::ip::tcp::endpoint& client, const boost::asio::ip::tcp::endpoint& proxy);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace hark::capture
