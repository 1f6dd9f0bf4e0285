#pragma once
// byte_buffer: a contiguous read buffer with a consumed prefix, for sans-I/O parsers that need
// to see all unconsumed input as one span (Beast's basic_parser does).

#include <cstddef>
#include <cstring>
#include <string_view>
#include <vector>

namespace hark::net {

class byte_buffer {
 public:
  explicit byte_buffer(std::size_t initial = 16 * 1024) : storage_(initial) {}

  /** Unconsumed bytes. Invalidated by prepare() and consume(). */
  std::string_view data() const noexcept { return {storage_.data() + begin_, end_ - begin_}; }
  std::size_t size() const noexcept { return end_ - begin_; }
  bool empty() const noexcept { return begin_ == end_; }

  /** Writable space of at least `min_free` bytes after the data (moves or grows storage).
   *  Returns the start of that space; commit() what was written. */
  char* prepare(std::size_t min_free) {
    if (storage_.size() - end_ < min_free) {
      if (begin_ > 0) {
        std::memmove(storage_.data(), storage_.data() + begin_, size());
        end_ -= begin_;
        begin_ = 0;
      }
      if (storage_.size() - end_ < min_free) {
        storage_.resize(end_ + min_free);
      }
    }
    return storage_.data() + end_;
  }
  std::size_t free_space() const noexcept { return storage_.size() - end_; }
  void commit(std::size_t n) noexcept { end_ += n; }

  void consume(std::size_t n) noexcept {
    begin_ += n;
    if (begin_ == end_) {
      begin_ = end_ = 0;
    }
  }
  void clear() noexcept { begin_ = end_ = 0; }

 private:
  std::vector<char> storage_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace hark::net
