#include "hark/core/log_sink.hpp"

#include <spdlog/common.h>

#include <cerrno>
#include <cstring>

namespace hark {

namespace {

/** Opens for appending with close-on-exec; nullptr and errno on failure. */
std::FILE* open_append(const std::filesystem::path& path) noexcept {
  return std::fopen(path.c_str(), "ae");
}

}  // namespace

reopenable_file_sink::reopenable_file_sink(std::filesystem::path path)
    : path_(std::move(path)), file_(open_append(path_)) {
  if (file_ == nullptr) {
    spdlog::throw_spdlog_ex("cannot open log file " + path_.string(), errno);
  }
}

reopenable_file_sink::~reopenable_file_sink() {
  if (file_ != nullptr) {
    std::fclose(file_);
  }
}

std::string reopenable_file_sink::reopen() noexcept {
  // Opened before the lock: a slow filesystem does not hold up the threads that log.
  std::FILE* fresh = open_append(path_);
  if (fresh == nullptr) {
    return std::strerror(errno);
  }
  std::FILE* old = nullptr;
  {
    std::lock_guard lock(mutex_);
    old = file_;
    file_ = fresh;
  }
  std::fclose(old);
  return {};
}

void reopenable_file_sink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t formatted;
  formatter_->format(msg, formatted);
  // A full disk loses log lines, never the daemon: the write's result is not an error here.
  (void)std::fwrite(formatted.data(), 1, formatted.size(), file_);
}

void reopenable_file_sink::flush_() {
  std::fflush(file_);
}

}  // namespace hark
