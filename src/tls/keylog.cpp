#include "hark/tls/keylog.hpp"

#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace hark::tls {
namespace {

/** The SSL_CTX ex_data slot holding the keylog_file*; allocated once per process. The slot
 *  does not own its value, so it has no free function. */
int keylog_index() noexcept {
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

/** SSL_CTX_set_keylog_callback target: OpenSSL calls it during handshakes, on whatever thread
 *  drives the connection. */
void keylog_callback(const SSL* ssl, const char* line) noexcept {
  auto* file = static_cast<keylog_file*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), keylog_index()));
  if (file != nullptr && line != nullptr) {
    file->write_line(line);
  }
}

}  // namespace

keylog_file::keylog_file(const std::filesystem::path& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    throw std::runtime_error("cannot open the key log file " + path.string() + ": " +
                             std::generic_category().message(errno));
  }
}

keylog_file::~keylog_file() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

void keylog_file::write_line(const char* line) noexcept {
  char newline = '\n';
  iovec parts[2] = {{const_cast<char*>(line), std::strlen(line)}, {&newline, 1}};
  const std::size_t total = parts[0].iov_len + 1;
  const std::lock_guard lock(mutex_);
  std::size_t done = 0;
  while (done < total) {
    // Skip what an earlier partial write already delivered (rare on a regular file).
    iovec rest[2];
    int count = 0;
    std::size_t skip = done;
    for (const iovec& part : parts) {
      if (skip >= part.iov_len) {
        skip -= part.iov_len;
        continue;
      }
      rest[count++] = {static_cast<char*>(part.iov_base) + skip, part.iov_len - skip};
      skip = 0;
    }
    const ssize_t n = ::writev(fd_, rest, count);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return;
    }
    done += static_cast<std::size_t>(n);
  }
}

void attach_keylog(SSL_CTX* ctx, keylog_file* file) {
  const int index = keylog_index();
  if (index < 0 || SSL_CTX_set_ex_data(ctx, index, file) != 1) {
    throw std::runtime_error("cannot attach the key log file to a TLS context");
  }
  SSL_CTX_set_keylog_callback(ctx, file != nullptr ? keylog_callback : nullptr);
}

}  // namespace hark::tls
