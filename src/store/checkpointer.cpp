#include "checkpointer.hpp"

#include "statement.hpp"

#include <pthread.h>

#include <algorithm>

namespace hark::store {

checkpointer::checkpointer(const std::filesystem::path& path)
    : db_(std::make_unique<database>(path)) {
  thread_ = std::thread([this] { run(); });
}

checkpointer::~checkpointer() {
  stop();
}

void checkpointer::attach(database& writer_db) {
  auto st = statement::prepare(writer_db, "PRAGMA page_size");
  const std::int64_t page = st.step() ? std::max<std::int64_t>(st.column_int64(0), 512) : 4096;
  soft_frames_ = soft_wal_bytes / page;
  hard_frames_ = hard_wal_bytes / page;
  // Replaces the wal_autocheckpoint hook: a connection has one commit hook.
  sqlite3_wal_hook(writer_db.handle(), &checkpointer::on_commit, this);
  attached_ = writer_db.handle();
}

int checkpointer::on_commit(void* self, sqlite3* db, const char* schema, int frames) noexcept {
  auto& c = *static_cast<checkpointer*>(self);
  if (frames >= c.hard_frames_) {
    // The thread has copied most of the WAL meanwhile; copying the rest here lets the next
    // transaction rewind the WAL. SQLITE_BUSY (the thread is checkpointing) is fine: next time.
    sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (frames >= c.soft_frames_) {
    {
      std::lock_guard lock(c.mutex_);
      c.pending_ = true;
    }
    c.wake_.notify_one();
  }
  return SQLITE_OK;
}

void checkpointer::stop() {
  if (attached_ != nullptr) {
    sqlite3_wal_hook(attached_, nullptr, nullptr);
    attached_ = nullptr;
  }
  std::thread thread;
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    thread = std::move(thread_);
  }
  wake_.notify_one();
  if (thread.joinable()) {
    thread.join();
  }
}

void checkpointer::run() {
  pthread_setname_np(pthread_self(), "hark-checkpoint");
  std::unique_lock lock(mutex_);
  for (;;) {
    wake_.wait(lock, [this] { return pending_ || stopping_; });
    const bool last = stopping_;
    pending_ = false;
    lock.unlock();
    // PASSIVE copies what no reader still needs and never waits for a lock. On an error (disk
    // full, I/O) the frames stay in the WAL, where they are safe; a later commit retries.
    sqlite3_wal_checkpoint_v2(db_->handle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    lock.lock();
    if (last) {
      return;
    }
  }
}

}  // namespace hark::store
