#pragma once
// NSS key log output (SSLKEYLOGFILE / --keylog FILE): TLS secrets of both sides, so that Wireshark
// can decrypt a capture of Hark's traffic.

#include <openssl/ssl.h>

#include <filesystem>
#include <mutex>

namespace hark::tls {

/** An NSS key log file opened for appending. Lines from any number of threads and TLS contexts
 *  are written whole, one write(2) each on an O_APPEND descriptor, so they never interleave. */
class keylog_file {
 public:
  /** Opens (creating with mode 0600 when missing; an existing file keeps its mode) `path` for
   *  appending. Throws std::runtime_error naming the path when it cannot be opened. */
  explicit keylog_file(const std::filesystem::path& path);
  ~keylog_file();
  keylog_file(const keylog_file&) = delete;
  keylog_file& operator=(const keylog_file&) = delete;

  /** Appends `line` and a newline. Thread-safe; never throws: a failed write is dropped (the
   *  key log is a debugging aid, never a reason to fail a connection). */
  void write_line(const char* line) noexcept;

  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
  std::mutex mutex_;
  int fd_ = -1;
};

/** Makes every connection of `ctx` write its secrets to `file` (SSL_CTX_set_keylog_callback;
 *  the file is found through the context's ex_data). `file` is not owned and must outlive
 *  `ctx` and every SSL made from it; nullptr detaches. Call before any SSL is made from `ctx`.
 *  Throws std::runtime_error when the ex_data slot cannot be set. */
void attach_keylog(SSL_CTX* ctx, keylog_file* file);

}  // namespace hark::tls
