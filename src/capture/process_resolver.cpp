#include "hark/capture/process_resolver.hpp"

#include "sock_diag.hpp"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

// How a client's process is found (Linux), in two steps:
//
//  1. on the worker, when the connection is accepted (the client socket surely exists then):
//     the kernel's exact 4-tuple lookup (sock_diag) gives the client socket's inode and uid;
//  2. on the resolver thread, the inode is looked for among the descriptors of a few processes,
//     in an order that finds it at once in the common cases, so that no full /proc walk happens
//     per connection:
//       a. the processes that owned earlier clients (a browser, a test runner);
//       b. the processes created since the previous lookup, newest first (a one-shot `curl -x`):
//          pids are handed out in sequence, and the kernel publishes the last one;
//       c. only when both miss, every process (a long-running program's first connection).
//     Hark's own pid is looked at last (a self-proxied daemon, the tests).

namespace hark::capture {
namespace {

namespace ip = boost::asio::ip;
using result_type = std::optional<process_info>;

// Beyond this many pending lookups the resolver is not keeping up; new ones get nullopt rather
// than growing memory without bound.
constexpr std::size_t max_pending = 10'000;
// Processes remembered as earlier clients (step a).
constexpr std::size_t max_recent_clients = 32;
// New pids looked at in step b before falling back to the full walk (a fork storm).
constexpr int max_new_pids = 4096;

bool is_loopback(const ip::address& address) {
  if (address.is_v4()) {
    return address.to_v4().is_loopback();
  }
  const ip::address_v6 v6 = address.to_v6();
  return v6.is_loopback() ||
         (v6.is_v4_mapped() && ip::make_address_v4(ip::v4_mapped, v6).is_loopback());
}

/** Reads one decimal number from a /proc file; nullopt when absent. */
std::optional<long> read_number(const char* path) {
  std::FILE* f = std::fopen(path, "re");
  if (f == nullptr) {
    return std::nullopt;
  }
  long value = 0;
  const bool ok = std::fscanf(f, "%ld", &value) == 1;
  std::fclose(f);
  return ok ? std::optional(value) : std::nullopt;
}

enum class scan_result { found, not_found, gone };

/** Looks for the wanted inodes among `pid`'s descriptors, recording `pid` as the owner of each
 *  one found. `gone` when the process no longer exists (or cannot be read: another user's). */
scan_result scan_fds(int pid, std::map<unsigned long, int>& owners, std::size_t& unowned) {
  char dir_path[32];
  std::snprintf(dir_path, sizeof dir_path, "/proc/%d/fd", pid);
  DIR* dir = ::opendir(dir_path);
  if (dir == nullptr) {
    return scan_result::gone;
  }
  const int dir_fd = ::dirfd(dir);
  bool found = false;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') {
      continue;
    }
    std::array<char, 64> target{};
    const ssize_t n = ::readlinkat(dir_fd, e->d_name, target.data(), target.size() - 1);
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
      found = true;
      if (--unowned == 0) {
        break;
      }
    }
  }
  ::closedir(dir);
  return found ? scan_result::found : scan_result::not_found;
}

/** The process (thread group) of task `tid`; `tid` itself when unknown. A thread's id is a pid
 *  too: /proc/TID exists (unlisted) and shows its process's descriptors. */
int thread_group_of(int tid) {
  char path[40];
  std::snprintf(path, sizeof path, "/proc/%d/status", tid);
  std::FILE* f = std::fopen(path, "re");
  if (f == nullptr) {
    return tid;
  }
  int tgid = tid;
  std::array<char, 256> line{};
  while (std::fgets(line.data(), line.size(), f) != nullptr) {
    if (std::sscanf(line.data(), "Tgid: %d", &tgid) == 1) {
      break;
    }
  }
  std::fclose(f);
  return tgid;
}

std::vector<int> list_pids() {
  std::vector<int> pids;
  DIR* dir = ::opendir("/proc");
  if (dir == nullptr) {
    return pids;
  }
  while (const dirent* e = ::readdir(dir)) {
    const std::string_view name(e->d_name);
    int pid = 0;
    const auto [p, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
    if (ec == std::errc{} && p == name.data() + name.size() && pid > 0) {
      pids.push_back(pid);
    }
  }
  ::closedir(dir);
  return pids;
}

std::optional<std::string> read_comm(int pid) {
  char path[32];
  std::snprintf(path, sizeof path, "/proc/%d/comm", pid);
  std::FILE* f = std::fopen(path, "re");
  if (f == nullptr) {
    return std::nullopt;
  }
  std::array<char, 64> buffer{};
  const bool ok = std::fgets(buffer.data(), buffer.size(), f) != nullptr;
  std::fclose(f);
  if (!ok) {
    return std::nullopt;
  }
  std::string name(buffer.data());
  while (!name.empty() && (name.back() == '\n' || name.back() == ' ' || name.back() == '\t')) {
    name.pop_back();
  }
  return name;
}

/** The inode → pid search of step 2, with what it remembers between lookups. Used by the
 *  resolver thread only. */
class owner_finder {
 public:
  owner_finder() : self_(static_cast<int>(::getpid())) {
    last_pid_ = static_cast<int>(read_number("/proc/sys/kernel/ns_last_pid").value_or(0));
    pid_max_ = static_cast<int>(read_number("/proc/sys/kernel/pid_max").value_or(4'194'304));
  }

  /** Fills the owner (0: none found) of every inode in `owners`. */
  void find(std::map<unsigned long, int>& owners) {
    std::size_t unowned = owners.size();
    std::set<int> scanned{self_};
    scan_recent(owners, unowned, scanned);
    if (unowned != 0) {
      scan_new(owners, unowned, scanned);
    }
    if (unowned != 0) {
      for (const int pid : list_pids()) {
        if (unowned == 0) {
          break;
        }
        if (scanned.insert(pid).second) {
          note(pid, scan_fds(pid, owners, unowned));
        }
      }
    }
    if (unowned != 0) {
      scan_fds(self_, owners, unowned);
    }
  }

 private:
  int self_;
  int last_pid_ = 0;
  int pid_max_ = 0;
  std::deque<int> recent_;  ///< earlier clients' pids, most recent first

  /** Step a; forgets the processes that have exited. */
  void scan_recent(std::map<unsigned long, int>& owners, std::size_t& unowned,
                   std::set<int>& scanned) {
    const std::deque<int> recent = recent_;
    for (const int pid : recent) {
      if (unowned == 0) {
        return;
      }
      scanned.insert(pid);
      const scan_result r = scan_fds(pid, owners, unowned);
      if (r == scan_result::gone) {
        std::erase(recent_, pid);
      } else {
        note(pid, r);
      }
    }
  }

  /** Step b: the pids handed out since the previous lookup, newest first. */
  void scan_new(std::map<unsigned long, int>& owners, std::size_t& unowned,
                std::set<int>& scanned) {
    const auto newest = read_number("/proc/sys/kernel/ns_last_pid");
    if (!newest || *newest <= 0) {
      return;
    }
    const int last = static_cast<int>(*newest);
    int pid = last;
    for (int n = 0; n < max_new_pids && pid != last_pid_ && unowned != 0; ++n) {
      if (scanned.insert(pid).second && scan_fds(pid, owners, unowned) == scan_result::found) {
        owned_by_process(pid, owners, unowned);
      }
      pid = pid > 1 ? pid - 1 : pid_max_ - 1;  // pids wrap around below pid_max
    }
    last_pid_ = last;
  }

  /** The new pid `tid` was found owning sockets; it may be a thread (threads take pids from
   *  the same sequence): the owner is its process. Our own process is not an answer here, it
   *  comes last (find()). */
  void owned_by_process(int tid, std::map<unsigned long, int>& owners, std::size_t& unowned) {
    const int tgid = thread_group_of(tid);
    for (auto& [inode, owner] : owners) {
      if (owner != tid) {
        continue;
      }
      if (tgid == self_) {
        owner = 0;
        ++unowned;
      } else {
        owner = tgid;
      }
    }
    if (tgid != self_) {
      note(tgid, scan_result::found);
    }
  }

  /** Remembers a process found owning a client socket. */
  void note(int pid, scan_result r) {
    if (r != scan_result::found) {
      return;
    }
    std::erase(recent_, pid);
    recent_.push_front(pid);
    if (recent_.size() > max_recent_clients) {
      recent_.pop_back();
    }
  }
};

}  // namespace

// ---------------------------------------------------------------------------------------------

struct process_resolver::impl {
  struct job {
    unsigned long inode = 0;
    std::promise<result_type> promise;
    bool done = false;
  };

  sock_diag diag_;  // used by the workers, under its own mutex
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<job> queue_;  // guarded by mutex_
  bool stopping_ = false;  // guarded by mutex_
  owner_finder finder_;    // resolver thread only
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

  /** One search for the whole batch: a scanned process serves every job. */
  void resolve_batch(std::deque<job>& batch) {
    std::map<unsigned long, int> owners;
    for (const job& j : batch) {
      owners.emplace(j.inode, 0);
    }
    finder_.find(owners);
    std::map<int, std::optional<std::string>> names;
    for (job& j : batch) {
      const int pid = owners.at(j.inode);
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
  impl::job j;
  std::shared_future<result_type> future = j.promise.get_future().share();
  // A remote client's process is on another machine: answer at once, without asking the kernel.
  if (!is_loopback(client.address())) {
    impl::complete(j, std::nullopt);
    return future;
  }
  // Now, while the client socket surely exists: a client that sends one request and exits may
  // be gone by the time the resolver thread runs, but its socket's inode is known.
  const auto owner = impl_->diag_.find(client, proxy);
  // Another user's descriptors cannot be read without privileges: no search for them.
  if (!owner || (owner->uid != ::geteuid() && ::geteuid() != 0)) {
    impl::complete(j, std::nullopt);
    return future;
  }
  j.inode = owner->inode;
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
