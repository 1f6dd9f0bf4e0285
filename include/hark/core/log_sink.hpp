#pragma once
// reopenable_file_sink: an spdlog sink appending to a file that SIGHUP can reopen (log rotation).
//
// The daemon's logger keeps this one sink for its whole life; a reopen swaps the sink's FILE*
// under the sink's own mutex (the one spdlog already takes around every write), so worker
// threads logging at that moment write to the old file or the new one, never to a logger being
// replaced (spdlog documents set_default_logger() while other threads log as unsafe).

#include <spdlog/sinks/base_sink.h>

#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>

namespace hark {

class reopenable_file_sink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  /** Opens `path` for appending, creating it. Throws spdlog::spdlog_ex when it cannot be
   *  opened. */
  explicit reopenable_file_sink(std::filesystem::path path);
  ~reopenable_file_sink() override;
  reopenable_file_sink(const reopenable_file_sink&) = delete;
  reopenable_file_sink& operator=(const reopenable_file_sink&) = delete;

  /** Opens the path again (a rotated file was moved away: a new one is created) and switches
   *  to it. Call from any thread. On failure the old file is kept, and the reason returned;
   *  an empty string means success. Never throws. */
  std::string reopen() noexcept;

  const std::filesystem::path& path() const noexcept { return path_; }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;

 private:
  std::filesystem::path path_;
  std::FILE* file_ = nullptr;  // guarded by base_sink::mutex_
};

}  // namespace hark
