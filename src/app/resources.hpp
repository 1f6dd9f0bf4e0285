#pragma once
// Process resources the daemon sizes itself by: the descriptor limit (SPEC §2, "Resources").

#include <cstddef>
#include <cstdint>

namespace hark::app {

/** The descriptor limit in effect after raise_descriptor_limit(). */
struct descriptor_limit {
  std::uint64_t soft = 0;  ///< RLIMIT_NOFILE's soft limit now
  std::uint64_t hard = 0;  ///< its hard limit
  bool raised = false;     ///< true when the soft limit was raised at start
};

/** Raises the soft RLIMIT_NOFILE to the hard limit (capped at what the kernel accepts,
 *  fs.nr_open) and returns the limit in effect. Call once at start, before threads open files.
 *  Never throws: a limit that cannot be raised is kept. */
descriptor_limit raise_descriptor_limit() noexcept;

/** Descriptors this process has open now (entries of /proc/self/fd); 0 when unknown. */
std::size_t open_descriptors() noexcept;

/** The default --max-connections for `limit` descriptors of which `in_use` are already open:
 *  each proxied connection may hold two (client and upstream), and a reserve of
 *  16 + limit/32 stays for the API's clients, the store's files and TLS certificate loads.
 *  Never less than 1. */
std::size_t default_max_connections(std::uint64_t limit, std::size_t in_use) noexcept;

}  // namespace hark::app
