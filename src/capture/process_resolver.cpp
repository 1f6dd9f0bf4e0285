#include "hark/capture/process_resolver.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace hark::capture {
namespace {

namespace fs = std::filesystem;
namespace ip = boost::asio::ip;
using result_type = std::optional<process_info>;

// Beyond this many pending lookups the resolver is not keeping up; new ones get nullopt rather
// than growing memory without bound.
constexpr std::size_t max_pending = 10'000;

/** A TCP endpoint normalised to IPv6 (IPv4 as v4-mapped), so that a client seen by a dual-stack
 *  listener as ::ffff:127.0.0.1 matches its IPv4 socket in /proc/net/tcp, and vice versa. */
struct endpoint_key {
  ip::address_v6::bytes_type address{};
  std::uint16_t port = 0;
  auto operator<=>(const endpoint_key&) const = default;
};

using socket_pair = std::pair<endpoint_key, endpoint_key>;  ///< (local, remote)

endpoint_key key_of(const ip::tcp::endpoint& endpoint) {
  const ip::address& address = endpoint.address();
  const ip::address_v6 v6 =
      address.is_v4() ? ip::make_address_v6(ip::v4_mapped, address.to_v4()) : address.to_v6();
  return {v6.to_bytes(), endpoint.port()};
}

bool is_loopback(const ip::address& address) {
  if (address.is_v4()) {
    return address.to_v4().is_loopback();
  }
  const ip::address_v6 v6 = address.to_v6();
  return v6.is_loopback() ||
         (v6.is_v4_mapped() && ip::make_address_v4(ip::v4_mapped, v6).is_loopback());
}

bool parse_hex(std::string_view text, std::uint32_t& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 16);
  return ec == std::errc{} && end == text.data() + text.size();
}

/** Parses `0100007F:1F90` (tcp) or 32 hex digits + port (tcp6). The kernel prints each 32-bit
 *  word of the network-order address with %08X as a host-order integer, so the word's bytes in
 *  host memory are the address bytes; the port is an ordinary host-order number. */
std::optional<endpoint_key> parse_proc_endpoint(std::string_view text) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos || (colon != 8 && colon != 32)) {
    return std::nullopt;
  }
  std::array<unsigned char, 16> raw{};
  for (std::size_t word = 0; word < colon / 8; ++word) {
    std::uint32_t value = 0;
    if (!parse_hex(text.substr(word * 8, 8), value)) {
      return std::nullopt;
    }
    std::memcpy(raw.data() + word * 4, &value, sizeof value);
  }
  std::uint32_t port = 0;
  if (!parse_hex(text.substr(colon + 1), port) || port > 0xffff) {
    return std::nullopt;
  }
  endpoint_key key;
  key.port = static_cast<std::uint16_t>(port);
  if (colon == 8) {
    ip::address_v4::bytes_type v4{};
    std::copy_n(raw.begin(), 4, v4.begin());
    key.address = ip::make_address_v6(ip::v4_mapped, ip::address_v4(v4)).to_bytes();
  } else {
    std::copy(raw.begin(), raw.end(), key.address.begin());
  }
  return key;
}

/** Adds the inode of every socket in `/proc/net/tcp{,6}` whose (local, remote) is wanted. */
void find_inodes(const char* table, const std::set<socket_pair>& wanted,
                 std::map<socket_pair, unsigned long>& found) {
  std::ifstream in(table);
  std::string line;
  std::getline(in, line);  // column titles
  while (std::getline(in, line)) {
    // "sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ..."
    std::array<std::string_view, 10> fields{};
    std::string_view rest = line;
    std::size_t count = 0;
    while (count < fields.size()) {
      const std::size_t start = rest.find_first_not_of(' ');
      if (start == std::string_view::npos) {
        break;
      }
      rest.remove_prefix(start);
      const std::size_t end = std::min(rest.find(' '), rest.size());
      fields[count++] = rest.substr(0, end);
      rest.remove_prefix(end);
    }
    if (count < fields.size()) {
      continue;
    }
    const auto local = parse_proc_endpoint(fields[1]);
    const auto remote = parse_proc_endpoint(fields[2]);
    unsigned long inode = 0;
    const auto [end, ec] =
        std::from_chars(fields[9].data(), fields[9].data() + fields[9].size(), inode);
    if (!local || !remote || ec != std::errc{} || inode == 0) {
      continue;
    }
    if (const socket_pair pair{*local, *remote}; wanted.contains(pair)) {
      found.emplace(pair, inode);
    }
  }
}

std::vector<int> list_pids() {
  std::vector<int> pids;
  std::error_code ec;
  for (fs::directory_iterator it("/proc", ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    int pid = 0;
    const auto [p, parse_ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (parse_ec == std::errc{} && p == name.data() + name.size() && pid > 0) {
      pids.push_back(pid);
    }
  }
  std::sort(pids.begin(), pids.end());
  return pids;
}

/** Records `pid` as the owner of every still-unowned wanted inode among its open files. Other
 *  users' processes cannot be read without privileges and are skipped. */
void scan_fds(int pid, std::map<unsigned long, int>& owners, std::size_t& unowned) {
  std::error_code ec;
  const fs::path fd_dir = fs::path("/proc") / std::to_string(pid) / "fd";
  for (fs::directory_iterator it(fd_dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::array<char, 64> target{};
    const ssize_t n = ::readlink(it->path().c_str(), target.data(), target.size() - 1);
    const std::string_view link(target.data(), n > 0 ? static_cast<std::size_t>(n) : 0);
    constexpr std::string_view prefix = "socket:[";
    if (!link.starts_with(prefix) || !link.ends_with(']')) {
      continue;
    }
    const std::string_view digits = link.substr(prefix.size(), link.size() - prefix.size() - 1);
    unsigned long inode = 0;
    std::from_chars(digits.data(), digits.data() + digits.size(), inode);
    if (auto owner = owners.find(inode); owner != owners.end() && owner->second == 0) {
      owner->second = pid;
      if (--unowned == 0) {
        return;
      }
    }
  }
}

/** Maps each inode to a pid holding it (0 when none). A socket shared after fork() has several
 *  holders; our own pid is chosen only when no other process has the socket, since the daemon
 *  is rarely the client but tests (and a self-proxied daemon) can be. */
std::map<unsigned long, int> find_owners(const std::set<unsigned long>& inodes) {
  std::map<unsigned long, int> owners;
  for (const unsigned long inode : inodes) {
    owners.emplace(inode, 0);
  }
  std::size_t unowned = owners.size();
  const int self = static_cast<int>(::getpid());
  for (const int pid : list_pids()) {
    if (unowned == 0) {
      break;
    }
    if (pid != self) {
      scan_fds(pid, owners, unowned);
    }
  }
  if (unowned != 0) {
    scan_fds(self, owners, unowned);
  }
  return owners;
}

std::optional<std::string> read_comm(int pid) {
  std::ifstream in(fs::path("/proc") / std::to_string(pid) / "comm");
  std::string name;
  if (!std::getline(in, name)) {
    return std::nullopt;
  }
  while (!name.empty() && (name.back() == ' ' || name.back() == '\r' || name.back() == '\t')) {
    name.pop_back();
  }
  return name;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct process_resolver::impl {
  struct job {
    socket_pair sockets;  ///< (client, proxy): the client socket's (local, remote)
    std::promise<result_type> promise;
    bool done = false;
  };

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<job> queue_;  // guarded by mutex_
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;

  /** Completes a job once; never throws. */
  static void complete(job& j, result_type value) noexcept {
    if (j.done) {
      return;
    }
    j.done = true;
    try {
      j.promise.set_value(std::move(value));
    } catch (...) {
    }
  }

  void run() noexcept {
    for (;;) {
      std::deque<job> batch;
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) {
          return;
        }
        batch.swap(queue_);
      }
      try {
        resolve_batch(batch);
      } catch (...) {
        // Allocation failure or similar: whatever is not yet answered stays unknown (below).
      }
      for (job& j : batch) {
        complete(j, std::nullopt);
      }
    }
  }

  /** One pass over /proc for the whole batch: the tables and the fd scan serve every job. */
  static void resolve_batch(std::deque<job>& batch) {
    std::set<socket_pair> wanted;
    for (const job& j : batch) {
      wanted.insert(j.sockets);
    }
    std::map<socket_pair, unsigned long> inodes;
    find_inodes("/proc/net/tcp", wanted, inodes);
    find_inodes("/proc/net/tcp6", wanted, inodes);
    std::set<unsigned long> inode_set;
    for (const auto& [pair, inode] : inodes) {
      inode_set.insert(inode);
    }
    const std::map<unsigned long, int> owners = find_owners(inode_set);
    std::map<int, std::optional<std::string>> names;
    for (job& j : batch) {
      const auto inode = inodes.find(j.sockets);
      const int pid = inode == inodes.end() ? 0 : owners.at(inode->second);
      if (pid == 0) {
        complete(j, std::nullopt);
        continue;
      }
      auto name = names.find(pid);
      if (name == names.end()) {
        name = names.emplace(pid, read_comm(pid)).first;
      }
      complete(j, process_info{pid, name->second});
    }
  }
};

process_resolver::process_resolver() : impl_(std::make_unique<impl>()) {
  impl_->thread_ = std::thread([state = impl_.get()] { state->run(); });
}

process_resolver::~process_resolver() {
  {
    std::lock_guard lock(impl_->mutex_);
    impl_->stopping_ = true;
  }
  impl_->wake_.notify_one();
  impl_->thread_.join();
  for (impl::job& j : impl_->queue_) {
    impl::complete(j, std::nullopt);
  }
}

std::shared_future<result_type> process_resolver::resolve(const ip::tcp::endpoint& client,
                                                          const ip::tcp::endpoint& proxy) {
  impl::job j{{key_of(client), key_of(proxy)}, {}, false};
  std::shared_future<result_type> future = j.promise.get_future().share();
  // A remote client's process is on another machine: answer at once, without touching /proc.
  if (!is_loopback(client.address())) {
    impl::complete(j, std::nullopt);
    return future;
  }
  {
    std::lock_guard lock(impl_->mutex_);
    if (!impl_->stopping_ && impl_->queue_.size() < max_pending) {
      impl_->queue_.push_back(std::move(j));
      impl_->wake_.notify_one();
      return future;
    }
  }
  impl::complete(j, std::nullopt);
  return future;
}

}  // namespace hark::capture
