// capture_log: per-thread buffers, the appender thread, the fsync policy and the disk quota
// (diagram in the header).
#include "hark/store/capture_log.hpp"

#include <pthread.h>

#include <algorithm>
#include <cstring>
#include <future>
#include <system_error>

namespace hark::store {
namespace {

using steady = std::chrono::steady_clock;

// After a failed write, how long recording stays paused before the appender tries again.
constexpr auto retry_delay = std::chrono::seconds(1);

std::atomic<std::uint64_t> next_log_id{1};

}  // namespace

std::optional<capture_fsync> parse_capture_fsync(std::string_view text) noexcept {
  if (text == "batch") {
    return capture_fsync::batch;
  }
  if (text == "always") {
    return capture_fsync::always;
  }
  if (text == "never") {
    return capture_fsync::never;
  }
  return std::nullopt;
}

/** One thread's records waiting for the appender. The worker appends to `data` under `mutex`,
 *  which the appender takes once per tick to swap `data` with `out`: the two strings trade
 *  places, so each keeps its capacity and the steady state allocates nothing. */
struct capture_log::buffer {
  struct pending_process {
    std::size_t offset = 0;  ///< of the entry record in data
    std::shared_future<std::optional<capture::process_info>> process;
  };

  std::mutex mutex;
  std::string data;
  std::vector<pending_process> pending;
  std::uint64_t records = 0;
  bool woke = false;                ///< wake_bytes passed since the last collection
  std::atomic<bool> closed{false};  ///< the log is gone (for the thread's cache)

  // Appender thread only.
  std::string out;
  std::vector<pending_process> out_pending;
  std::uint64_t out_records = 0;
};

capture_log::capture_log(capture_log_options options)
    : options_(std::move(options)),
      segments_(options_.dir, options_.segment_bytes, options_.fsync != capture_fsync::never),
      id_(next_log_id++),
      last_sync_(steady::now()) {
  thread_ = std::thread([this] { run(); });
}

capture_log::~capture_log() {
  stop();
  std::lock_guard lock(mutex_);
  for (auto& b : buffers_) {
    b->closed = true;
  }
}

capture_log::buffer& capture_log::local_buffer() {
  // A thread's buffers, one per log it appended to (one in the daemon; tests make many).
  thread_local std::vector<std::pair<std::uint64_t, std::shared_ptr<buffer>>> mine;
  for (auto& [id, b] : mine) {
    if (id == id_) {
      return *b;
    }
  }
  std::erase_if(mine, [](const auto& entry) { return entry.second->closed.load(); });
  auto b = std::make_shared<buffer>();
  {
    std::lock_guard lock(mutex_);
    buffers_.push_back(b);
  }
  mine.emplace_back(id_, b);
  return *b;
}

template <class Record>
bool capture_log::append_any(const Record& record) {
  if (paused_.load(std::memory_order_relaxed) || stopped_.load(std::memory_order_relaxed)) {
    stats_.records_refused.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  buffer& b = local_buffer();
  bool wake = false;
  {
    std::lock_guard lock(b.mutex);
    const std::size_t at = b.data.size();
    append_record(b.data, record);
    if constexpr (std::is_same_v<Record, capture::entry_record>) {
      if (process_pending(b.data.data() + at)) {
        b.pending.push_back({at, record.process});
      }
    }
    ++b.records;
    if (!b.woke && b.data.size() >= options_.wake_bytes) {
      b.woke = true;
      wake = true;
    }
  }
  if (wake) {
    {
      std::lock_guard lock(mutex_);
      urgent_ = true;
    }
    wake_.notify_one();
  }
  return true;
}

bool capture_log::append(const capture::entry_record& record) {
  return append_any(record);
}
bool capture_log::append(const capture::tls_connection_log& log) {
  return append_any(log);
}
bool capture_log::append(const capture::ws_message_record& message) {
  return append_any(message);
}
bool capture_log::append(const capture::h2_frame_batch& batch) {
  return append_any(batch);
}

log_position capture_log::write_out() {
  std::unique_lock lock(mutex_);
  if (!thread_.joinable()) {
    return segments_.end();
  }
  const auto target = rounds_started_ + 1;
  ++waiting_;
  wake_.notify_one();
  round_done_.wait(lock, [&] { return rounds_done_ >= target || !thread_.joinable(); });
  --waiting_;
  return segments_.end();
}

void capture_log::stop() {
  std::thread t;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    stopped_ = true;
    t = std::move(thread_);
  }
  wake_.notify_all();
  if (t.joinable()) {
    t.join();
  }
  std::lock_guard lock(mutex_);
  round_done_.notify_all();
}

void capture_log::on_written(std::function<void(log_position)> callback) {
  std::lock_guard lock(mutex_);
  on_written_ = std::move(callback);
}

void capture_log::on_pause(std::function<void(const std::string&)> callback) {
  std::lock_guard lock(mutex_);
  on_pause_ = std::move(callback);
}

std::string capture_log::pause_reason() const {
  std::lock_guard lock(mutex_);
  return pause_reason_;
}

std::optional<steady::time_point> capture_log::written_at(log_position pos) const {
  std::lock_guard lock(mutex_);
  for (const auto& m : marks_) {
    if (m.end > pos) {
      return m.at;
    }
  }
  return std::nullopt;
}

std::uint64_t capture_log::records_before(log_position pos) const {
  std::lock_guard lock(mutex_);
  for (auto it = marks_.rbegin(); it != marks_.rend(); ++it) {
    if (it->end <= pos) {
      return it->records;
    }
  }
  return forgotten_records_;
}

void capture_log::forget_before(log_position pos) {
  std::lock_guard lock(mutex_);
  // Keeps the newest mark at or before pos: records_before(pos) reads its count.
  while (marks_.size() > 1 && marks_[1].end <= pos) {
    forgotten_records_ = marks_.front().records;
    marks_.pop_front();
  }
}

void capture_log::run() {
  pthread_setname_np(pthread_self(), "hark-log");
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait_for(lock, options_.tick, [this] { return stopping_ || waiting_ > 0 || urgent_; });
    const bool last = stopping_;
    urgent_ = false;
    ++rounds_started_;
    lock.unlock();
    write_round();
    lock.lock();
    ++rounds_done_;
    round_done_.notify_all();
    if (last) {
      return;
    }
  }
}

bool capture_log::write_round() {
  std::vector<std::shared_ptr<buffer>> buffers;
  {
    std::lock_guard lock(mutex_);
    buffers = buffers_;
  }
  // Take every buffer first, then wait for process lookups against one deadline.
  bool any = false;
  for (auto& b : buffers) {
    std::lock_guard lock(b->mutex);
    if (b->data.empty()) {
      continue;
    }
    b->out.swap(b->data);
    b->data.clear();
    b->out_pending.swap(b->pending);
    b->pending.clear();
    b->out_records = b->records;
    b->records = 0;
    b->woke = false;
    any = true;
  }
  check_space();
  if (!any) {
    return false;
  }
  const auto deadline = steady::now() + options_.process_wait;
  for (auto& b : buffers) {
    if (!b->out.empty()) {
      write_buffer(*b, deadline);
    }
  }
  if (unsynced_ && options_.fsync != capture_fsync::never &&
      (options_.fsync == capture_fsync::always ||
       steady::now() - last_sync_ >= options_.fsync_interval)) {
    try {
      segments_.sync();
      ++stats_.fsyncs;
    } catch (const std::system_error& e) {
      set_paused(std::string("capture log: ") + e.what());
      write_failed_ = true;
      retry_at_ = steady::now() + retry_delay;
    }
    last_sync_ = steady::now();
    unsynced_ = false;
  }
  const auto end = segments_.end();
  std::function<void(log_position)> notify;
  {
    std::lock_guard lock(mutex_);
    notify = on_written_;
  }
  if (notify) {
    notify(end);
  }
  return true;
}

void capture_log::write_buffer(buffer& b, steady::time_point deadline) {
  for (auto& p : b.out_pending) {
    if (p.process.valid() && p.process.wait_until(deadline) == std::future_status::ready) {
      patch_process(b.out.data() + p.offset, p.process.get());
    }
  }
  b.out_pending.clear();
  seal_records(b.out.data(), b.out.size());
  const std::uint64_t records = b.out_records;
  try {
    segments_.append(b.out);
  } catch (const std::system_error& e) {
    stats_.records_lost += records;
    set_paused(std::string("capture log: ") + e.what());
    write_failed_ = true;
    retry_at_ = steady::now() + retry_delay;
    b.out.clear();
    return;
  }
  unsynced_ = true;
  stats_.records_appended += records;
  stats_.bytes_appended += b.out.size();
  ++stats_.writes;
  {
    std::lock_guard lock(mutex_);
    records_total_ += records;
    marks_.push_back(mark{segments_.end(), steady::now(), records_total_});
  }
  // Give back what an exceptional buffer (a large body) grew to, once a tick's records use
  // little of it, so that memory stays flat from one load to the next; a buffer that a steady
  // load keeps filling is kept (freeing it would cost the worker page faults on every tick).
  constexpr std::size_t keep_bytes = 2 << 20;
  const std::size_t used = b.out.size();
  b.out.clear();
  if (b.out.capacity() > keep_bytes && used < b.out.capacity() / 4) {
    std::string().swap(b.out);
  }
}

void capture_log::set_paused(std::string reason) {
  std::function<void(const std::string&)> notify;
  {
    std::lock_guard lock(mutex_);
    if (pause_reason_ == reason) {
      return;
    }
    pause_reason_ = reason;
    notify = on_pause_;
  }
  paused_ = !reason.empty();
  if (notify) {
    notify(reason);
  }
}

void capture_log::check_space() {
  const auto bytes = segments_.disk_bytes();
  if (write_failed_) {
    if (steady::now() < retry_at_) {
      return;
    }
    write_failed_ = false;  // try again: the next failed write pauses once more
  }
  if (bytes >= options_.max_bytes) {
    set_paused("capture log full (--capture-log-max " + std::to_string(options_.max_bytes) +
               " bytes)");
  } else if (!paused() || bytes < options_.max_bytes / 10 * 9) {
    set_paused({});
  }
}

}  // namespace hark::store
