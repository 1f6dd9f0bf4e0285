#include "resources.hpp"

#include <dirent.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>

namespace hark::app {

namespace {

/** fs.nr_open: setrlimit refuses a soft or hard limit above it, and an "unlimited" hard limit
 *  cannot become the soft one. */
std::uint64_t kernel_descriptor_cap() noexcept {
  std::uint64_t cap = 1u << 20;  // the kernel's default nr_open
  if (std::FILE* f = std::fopen("/proc/sys/fs/nr_open", "re")) {
    unsigned long long value = 0;
    if (std::fscanf(f, "%llu", &value) == 1 && value > 0) {
      cap = value;
    }
    std::fclose(f);
  }
  return cap;
}

}  // namespace

descriptor_limit raise_descriptor_limit() noexcept {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return {};
  }
  descriptor_limit out{limit.rlim_cur, limit.rlim_max, false};
  const rlim_t target = std::min<rlim_t>(limit.rlim_max, kernel_descriptor_cap());
  if (limit.rlim_cur < target) {
    rlimit raised = limit;
    raised.rlim_cur = target;
    if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) {
      out.soft = target;
      out.raised = true;
    }
  }
  return out;
}

std::size_t open_descriptors() noexcept {
  DIR* dir = ::opendir("/proc/self/fd");
  if (dir == nullptr) {
    return 0;
  }
  std::size_t n = 0;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] != '.') {
      ++n;
    }
  }
  ::closedir(dir);
  return n > 0 ? n - 1 : 0;  // minus the directory's own descriptor
}

std::size_t default_max_connections(std::uint64_t limit, std::size_t in_use) noexcept {
  const std::uint64_t reserve = 16 + limit / 32 + in_use;
  if (limit <= reserve + 2) {
    return 1;
  }
  return static_cast<std::size_t>((limit - reserve) / 2);
}

}  // namespace hark::app
