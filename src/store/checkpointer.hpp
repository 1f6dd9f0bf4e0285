#pragma once
// Private to src/store: copies the WAL back into the database file on its own thread.
//
// SQLite's automatic checkpoint runs inside COMMIT on the committing connection: the writer
// would spend a good part of its time reading WAL frames, writing them into the database file
// and waiting for fsync. Instead the writer's connection tells this thread, after each commit,
// how large the WAL has grown; the thread runs PASSIVE checkpoints on its own connection, which
// never block the writer or readers. Under a sustained load the writer keeps appending while a
// checkpoint runs, so the WAL would never be rewound: past a hard size the writer checkpoints
// the (by then small) rest itself, and its next transaction starts the WAL over.

#include "hark/store/database.hpp"

#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

namespace hark::store {

class checkpointer {
 public:
  /** Opens its own connection to `path` and starts the thread. Throws store_error. */
  explicit checkpointer(const std::filesystem::path& path);
  /** stop() */
  ~checkpointer();
  checkpointer(const checkpointer&) = delete;
  checkpointer& operator=(const checkpointer&) = delete;

  /** Installs the commit hook on `writer_db` (the writer's connection): every commit reports
   *  the WAL size here. Replaces SQLite's automatic checkpoint on that connection. The hook
   *  stays until stop(). */
  void attach(database& writer_db);

  /** Removes the commit hook, runs a last checkpoint and ends the thread. Call it once no other
   *  thread uses the writer's connection. Idempotent. */
  void stop();

  /** WAL sizes at which the thread starts a checkpoint, and at which the writer checkpoints
   *  itself. */
  static constexpr std::int64_t soft_wal_bytes = 16 << 20;
  static constexpr std::int64_t hard_wal_bytes = 256 << 20;

 private:
  static int on_commit(void* self, sqlite3* db, const char* schema, int frames) noexcept;
  void run();

  std::unique_ptr<database> db_;  ///< used only by the thread
  sqlite3* attached_ = nullptr;   ///< the writer's connection, while the hook is installed
  std::int64_t soft_frames_ = 0;
  std::int64_t hard_frames_ = 0;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool pending_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace hark::store
