#pragma once
// Helpers shared by the store benchmarks: CPU time of the whole process (the writer runs on its
// own thread, which Google Benchmark's CPU column does not see) and scratch directories.

#include <sys/resource.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace hark::bench {

/** User + system CPU seconds of every thread of this process so far. */
inline double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& t) {
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

/** CPU seconds used so far by the threads of this process named `name` (pthread_setname_np),
 *  summed; threads that have exited are not counted. */
inline double thread_cpu_seconds(const std::string& name) {
  double total = 0;
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::string comm;
    std::getline(std::ifstream(task.path() / "comm"), comm);
    if (comm != name) {
      continue;
    }
    std::string stat;
    std::getline(std::ifstream(task.path() / "stat"), stat);
    // Fields after the parenthesised name: state is field 3, utime 14, stime 15.
    std::istringstream fields(stat.substr(stat.rfind(')') + 2));
    std::string skip;
    for (int i = 3; i < 14; ++i) {
      fields >> skip;
    }
    double utime = 0;
    double stime = 0;
    fields >> utime >> stime;
    total += (utime + stime) / tick;
  }
  return total;
}

/** Where benchmarks keep their databases: $HARK_BENCH_DIR, else $TMPDIR (or /tmp). */
inline std::filesystem::path scratch_root() {
  if (const char* dir = std::getenv("HARK_BENCH_DIR"); dir != nullptr && *dir != '\0') {
    return dir;
  }
  return std::filesystem::temp_directory_path();
}

/** A directory removed with its contents on destruction. */
class scratch_dir {
 public:
  explicit scratch_dir(const std::string& name) : path_(scratch_root() / name) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;

  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/** Bytes of the database file and its WAL. */
inline std::uintmax_t database_bytes(const std::filesystem::path& db) {
  std::uintmax_t total = 0;
  for (const char* suffix : {"", "-wal"}) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(db.string() + suffix, ec);
    total += ec ? 0 : size;
  }
  return total;
}

}  // namespace hark::bench
