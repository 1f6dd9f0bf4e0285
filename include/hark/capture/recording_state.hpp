#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace hark::capture {

/** Which session new traffic goes into. Written by the API thread when sessions change, read by
 *  every proxy worker at the start of each exchange. */
class recording_state {
 public:
  /** The active session id when it is recording, else nullopt (traffic relayed, not stored). */
  std::optional<std::string> target() const {
    std::lock_guard lock(mutex_);
    if (active_ && recording_) {
      return active_;
    }
    return std::nullopt;
  }

  /** Sets the active session (nullopt: none) and whether it records. */
  void set(std::optional<std::string> active_session, bool recording) {
    std::lock_guard lock(mutex_);
    active_ = std::move(active_session);
    recording_ = recording;
  }

 private:
  mutable std::mutex mutex_;
  std::optional<std::string> active_;
  bool recording_ = false;
};

}  // namespace hark::capture
