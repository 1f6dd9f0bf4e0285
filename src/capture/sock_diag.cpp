#include "sock_diag.hpp"

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace hark::capture {

namespace {

namespace ip = boost::asio::ip;

struct diag_request {
  nlmsghdr header;
  inet_diag_req_v2 body;
};

/** Fills `words` (network order, as the kernel compares them) and returns the address family:
 *  IPv4 for an IPv4 or v4-mapped address, IPv6 otherwise. */
int put_address(const ip::address& address, __be32 (&words)[4]) {
  std::memset(words, 0, sizeof words);
  if (address.is_v4() || address.to_v6().is_v4_mapped()) {
    const ip::address_v4 v4 =
        address.is_v4() ? address.to_v4() : ip::make_address_v4(ip::v4_mapped, address.to_v6());
    const auto bytes = v4.to_bytes();
    std::memcpy(&words[0], bytes.data(), bytes.size());
    return AF_INET;
  }
  const auto bytes = address.to_v6().to_bytes();
  std::memcpy(words, bytes.data(), bytes.size());
  return AF_INET6;
}

}  // namespace

sock_diag::sock_diag() noexcept
    : fd_(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG)) {
  // The kernel answers at once; the timeout only keeps a worker from waiting forever on a
  // reply that cannot come.
  if (fd_ >= 0) {
    const timeval timeout{0, 100'000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  }
}

sock_diag::~sock_diag() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

std::optional<socket_owner> sock_diag::find(const ip::tcp::endpoint& local,
                                            const ip::tcp::endpoint& remote) noexcept {
  diag_request request{};
  const int family = put_address(local.address(), request.body.id.idiag_src);
  if (put_address(remote.address(), request.body.id.idiag_dst) != family) {
    return std::nullopt;  // an IPv4 end with an IPv6 one: no such socket
  }
  request.header.nlmsg_len = sizeof request;
  request.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  request.header.nlmsg_flags = NLM_F_REQUEST;  // no NLM_F_DUMP: the exact 4-tuple lookup
  request.body.sdiag_family = static_cast<std::uint8_t>(family);
  request.body.sdiag_protocol = IPPROTO_TCP;
  request.body.idiag_states = ~0u;
  request.body.id.idiag_sport = htons(local.port());
  request.body.id.idiag_dport = htons(remote.port());
  request.body.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  request.body.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;

  std::lock_guard lock(mutex_);
  if (fd_ < 0) {
    return std::nullopt;
  }
  request.header.nlmsg_seq = ++sequence_;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd_, &request, sizeof request, 0, reinterpret_cast<const sockaddr*>(&kernel),
               sizeof kernel) != static_cast<ssize_t>(sizeof request)) {
    return std::nullopt;
  }
  // The reply is one message: the socket's inet_diag_msg, or an error (ENOENT: no such socket).
  // Replies to earlier requests cannot be pending (one lookup at a time, each read to its end),
  // but the sequence number is checked anyway.
  alignas(nlmsghdr) std::array<char, 8192> buffer{};
  for (;;) {
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < static_cast<ssize_t>(sizeof(nlmsghdr))) {
      return std::nullopt;
    }
    const auto* reply = reinterpret_cast<const nlmsghdr*>(buffer.data());
    if (!NLMSG_OK(reply, static_cast<unsigned>(n)) || reply->nlmsg_seq != sequence_) {
      continue;
    }
    if (reply->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
        reply->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) {
      return std::nullopt;
    }
    const auto* msg = static_cast<const inet_diag_msg*>(NLMSG_DATA(reply));
    if (msg->idiag_inode == 0) {
      return std::nullopt;
    }
    return socket_owner{msg->idiag_inode, msg->idiag_uid};
  }
}

}  // namespace hark::capture
