#pragma once
// sock_diag: the kernel's answer to "which socket is this TCP 4-tuple?" (NETLINK_SOCK_DIAG,
// inet_diag exact lookup). One request and one reply per lookup, a hash lookup in the kernel:
// the cost does not grow with the number of sockets on the machine, unlike a /proc/net/tcp read.

#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <mutex>
#include <optional>

namespace hark::capture {

/** The socket that owns a 4-tuple: its inode (what /proc/PID/fd links name) and owner uid. */
struct socket_owner {
  unsigned long inode = 0;
  std::uint32_t uid = 0;
};

class sock_diag {
 public:
  /** Opens the netlink socket; without one (no permission, a kernel without sock_diag) every
   *  lookup answers nullopt. Never throws. */
  sock_diag() noexcept;
  ~sock_diag();
  sock_diag(const sock_diag&) = delete;
  sock_diag& operator=(const sock_diag&) = delete;

  /** The socket whose local end is `local` and remote end is `remote`, if it exists on this
   *  machine and is still held by a process (inode 0, an orphan after close(), gives nullopt).
   *  A v4-mapped IPv6 address is looked up as IPv4. Thread-safe (one lookup at a time); never
   *  throws. */
  std::optional<socket_owner> find(const boost::asio::ip::tcp::endpoint& local,
                                   const boost::asio::ip::tcp::endpoint& remote) noexcept;

 private:
  std::mutex mutex_;
  int fd_ = -1;                 // guarded by mutex_
  std::uint32_t sequence_ = 0;  // guarded by mutex_
};

}  // namespace hark::capture
