#pragma once
// accept_backoff: how long an accept loop pauses after accept() failed for lack of descriptors
// or memory (SPEC §2, "Resources"). Shared by the proxy listener and the API server; header-only
// so that a build without the net module (build/fuzz) still has it.

#include <boost/system/error_code.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>

namespace hark::net {

/** Decides how long accepting pauses after a resource failure. Sans-I/O: the listener feeds it
 *  the outcome of each accept and asks it for the next pause. */
class accept_backoff {
 public:
  static constexpr std::chrono::milliseconds first_pause{500};
  static constexpr std::chrono::milliseconds longest_pause{4000};

  /** True for the errors that mean "no descriptor or memory now" (pause), false for errors of
   *  one connection (ECONNABORTED, EPERM…) after which the next accept may well succeed. */
  static bool is_resource_error(const boost::system::error_code& ec) noexcept {
    if (ec.category() != boost::system::system_category()) {
      return false;
    }
    const int e = ec.value();
    return e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM;
  }

  /** A failed accept with a resource error: returns the pause to take now. Consecutive pauses
   *  without a successful accept in between double, up to longest_pause. */
  std::chrono::milliseconds on_resource_error() noexcept {
    const auto pause = next_;
    next_ = std::min(next_ * 2, longest_pause);
    ++pauses_;
    return pause;
  }
  /** A successful accept: the next failure starts again from first_pause. */
  void on_success() noexcept { next_ = first_pause; }

  /** Pauses taken since the listener started. */
  std::uint64_t pauses() const noexcept { return pauses_; }

 private:
  std::chrono::milliseconds next_ = first_pause;
  std::uint64_t pauses_ = 0;
};

}  // namespace hark::net
