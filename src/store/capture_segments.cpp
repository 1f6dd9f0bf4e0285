// capture_segments: the capture log's segment files, written with write(2) and read back with
// pread(2) (diagram in the header).
#include "hark/store/capture_segments.hpp"

#include "hark/store/capture_record.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <system_error>

namespace hark::store {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view segment_suffix = ".hcl";
// A reader's smallest read: enough for many small records per system call.
constexpr std::size_t min_read = 256 << 10;

[[noreturn]] void throw_errno(int error, const std::string& what) {
  throw std::system_error(error, std::generic_category(), what);
}

/** The segment number of a file name like `0000000000000001.hcl`, or 0. */
std::uint64_t segment_number(const fs::path& name) {
  const std::string s = name.filename().string();
  if (s.size() != 16 + segment_suffix.size() || !s.ends_with(segment_suffix)) {
    return 0;
  }
  std::uint64_t n = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + 16, n, 16);
  return ec == std::errc{} && p == s.data() + 16 ? n : 0;
}

}  // namespace

capture_segments::capture_segments(fs::path dir, std::uint64_t segment_bytes, bool sync_rotated)
    : dir_(std::move(dir)), segment_bytes_(segment_bytes), sync_rotated_(sync_rotated) {
  fs::create_directories(dir_);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> found;
  for (const auto& e : fs::directory_iterator(dir_)) {
    if (const auto n = segment_number(e.path()); n != 0 && e.is_regular_file()) {
      found.emplace_back(n, e.file_size());
    }
  }
  std::sort(found.begin(), found.end());
  std::uint64_t bytes = 0;
  for (const auto& [n, size] : found) {
    segments_.push_back(n);
    sizes_.push_back(size);
    bytes += size;
  }
  disk_bytes_ = bytes;
  open_segment(segments_.empty() ? 1 : segments_.back() + 1);
}

capture_segments::~capture_segments() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

fs::path capture_segments::segment_path(std::uint64_t segment) const {
  char name[32];
  std::snprintf(name, sizeof name, "%016llx", static_cast<unsigned long long>(segment));
  return dir_ / (std::string(name) + std::string(segment_suffix));
}

void capture_segments::open_segment(std::uint64_t segment) {
  const auto path = segment_path(segment);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) {
    throw_errno(errno, "cannot create " + path.string());
  }
  if (fd_ >= 0) {
    if (sync_rotated_) {
      ::fdatasync(fd_);  // a failure shows at the next sync() of the new segment, if anywhere
    }
    ::close(fd_);
  }
  fd_ = fd;
  std::lock_guard lock(mutex_);
  if (!segments_.empty() && segments_.back() == current_) {
    sizes_.back() = size_;
  }
  segments_.push_back(segment);
  sizes_.push_back(0);
  current_ = segment;
  size_ = 0;
}

void capture_segments::append(std::string_view records) {
  std::uint64_t size = 0;
  std::uint64_t current = 0;
  {
    std::lock_guard lock(mutex_);
    size = size_;
    current = current_;
  }
  if (size > 0 && size + records.size() > segment_bytes_) {
    open_segment(current + 1);
    size = 0;
  }
  std::size_t done = 0;
  while (done < records.size()) {
    const ssize_t n = ::write(fd_, records.data() + done, records.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      const int error = n < 0 ? errno : ENOSPC;
      // Cut the segment back to its last whole record, so that a later append follows it.
      if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) {
        (void)0;  // the reader stops at the end published below, whatever follows it
      }
      throw_errno(error, "cannot write the capture log");
    }
    done += static_cast<std::size_t>(n);
  }
  disk_bytes_ += records.size();
  std::lock_guard lock(mutex_);
  size_ = size + records.size();
}

void capture_segments::sync() {
  if (::fdatasync(fd_) != 0) {
    throw_errno(errno, "cannot sync the capture log");
  }
}

log_position capture_segments::end() const noexcept {
  std::lock_guard lock(mutex_);
  return {current_, size_};
}

std::uint64_t capture_segments::bytes_after(log_position pos) const {
  std::lock_guard lock(mutex_);
  std::uint64_t bytes = 0;
  for (std::size_t i = 0; i < segments_.size(); ++i) {
    if (segments_[i] < pos.segment) {
      continue;
    }
    const std::uint64_t size = segments_[i] == current_ ? size_ : sizes_[i];
    const std::uint64_t start = segments_[i] == pos.segment ? pos.offset : 0;
    bytes += size > start ? size - start : 0;
  }
  return bytes;
}

std::uint64_t capture_segments::first_segment() const {
  std::lock_guard lock(mutex_);
  return segments_.empty() ? current_ : segments_.front();
}

std::uint64_t capture_segments::next_segment(std::uint64_t segment) const {
  std::lock_guard lock(mutex_);
  const auto it = std::upper_bound(segments_.begin(), segments_.end(), segment);
  return it == segments_.end() ? 0 : *it;
}

void capture_segments::remove_before(std::uint64_t segment) {
  std::lock_guard lock(mutex_);
  while (!segments_.empty() && segments_.front() < segment && segments_.front() != current_) {
    std::error_code ec;
    fs::remove(segment_path(segments_.front()), ec);  // already gone: nothing to free
    disk_bytes_ -= std::min(disk_bytes_.load(), sizes_.front());
    segments_.erase(segments_.begin());
    sizes_.erase(sizes_.begin());
  }
}

capture_reader::capture_reader(const capture_segments& segments) : segments_(segments) {}

capture_reader::~capture_reader() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

bool capture_reader::open(std::uint64_t segment) {
  if (fd_ >= 0 && open_segment_ == segment) {
    return true;
  }
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  fd_ = ::open(segments_.segment_path(segment).c_str(), O_RDONLY | O_CLOEXEC);
  open_segment_ = segment;
  return fd_ >= 0;
}

log_position capture_reader::read(log_position from, log_position limit, std::size_t max_bytes,
                                  std::vector<log_record>& out) {
  log_position pos = from;
  for (;;) {
    pos = std::max(pos, log_position{segments_.first_segment(), 0});
    if (pos >= limit) {
      return pos;
    }
    const bool live = pos.segment == limit.segment;
    const auto next_segment = [&] {
      const auto next = segments_.next_segment(pos.segment);
      return next == 0 ? limit : log_position{next, 0};
    };
    std::uint64_t end = limit.offset;
    if (!live) {
      struct stat st {};
      if (!open(pos.segment) || ::fstat(fd_, &st) != 0) {
        pos = next_segment();  // removed meanwhile: nothing of it is left to read
        continue;
      }
      end = static_cast<std::uint64_t>(st.st_size);
    } else if (!open(pos.segment)) {
      return pos;  // cannot happen: the appender created it
    }
    if (pos.offset >= end) {
      if (live) {
        return pos;
      }
      pos = next_segment();
      continue;
    }
    const std::uint64_t available = end - pos.offset;
    std::size_t want = static_cast<std::size_t>(
        std::min<std::uint64_t>(available, std::max<std::size_t>(max_bytes, min_read)));
    frame_view first;
    if (buffer_.capacity() > (4 << 20) && buffer_.capacity() > 2 * want) {
      std::string().swap(buffer_);  // a large record's buffer, not kept for small reads
    }
    for (;;) {
      buffer_.resize(want);
      std::size_t got = 0;
      while (got < want) {
        const ssize_t n =
            ::pread(fd_, buffer_.data() + got, want - got, static_cast<off_t>(pos.offset + got));
        if (n < 0 && errno == EINTR) {
          continue;
        }
        if (n <= 0) {
          break;
        }
        got += static_cast<std::size_t>(n);
      }
      buffer_.resize(got);
      first = parse_frame(buffer_);
      if (first.status != frame_status::truncated || got < want || want == available) {
        break;
      }
      want = static_cast<std::size_t>(std::min<std::uint64_t>(available, want * 2));
    }
    if (first.status != frame_status::ok) {
      // A torn or damaged tail (a crash mid-write, a power loss): nothing after it in this
      // segment can be trusted, and the appender started a new segment after the crash.
      skipped_ += available;
      pos = live ? limit : next_segment();
      continue;
    }
    std::string_view rest(buffer_);
    std::size_t bytes = 0;
    while (bytes < max_bytes || out.empty()) {
      const auto f = parse_frame(rest);
      if (f.status != frame_status::ok) {
        break;  // the next read starts here
      }
      pos.offset += f.size;
      out.push_back(log_record{rest.substr(0, f.size), pos});
      rest.remove_prefix(f.size);
      bytes += f.size;
    }
    return pos;
  }
}

}  // namespace hark::store
