// Checkpoints of our indafoto.db connection's WAL, on a thread of its own.
//
// A checkpoint copies the pages that commits appended to the WAL back into
// the database file and syncs both. SQLite runs it inside the commit that
// crosses wal_autocheckpoint, on the committing thread: an importer then
// stops for the copy and the database's fsync. In a large archive that
// fsync writes pages scattered over the whole file (each new image changes
// leaves of four random-key indexes), and it grows with the archive:
// measured at 1M local images, 108 ms of 3000 files' import was spent in
// it, against 14 ms at 10K (bench/README, "A checkpoint thread").
//
// Attach() replaces SQLite's automatic checkpoint on the writer's
// connection with a WAL hook: every kBackgroundEveryFrames new frames it
// wakes this thread, which runs a PASSIVE checkpoint on a connection of
// its own (it never blocks a writer, ours or the crawler's). The writer
// still checkpoints itself once the WAL holds kWriterFrames frames, as
// SQLite's default would, because SQLite starts the WAL over only when a
// write begins after a checkpoint that copied everything: the background
// one nearly always has, so that one is short, and the WAL stays bounded.
//
// Durability is SQLite's: a checkpoint never changes what is committed.
#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "lib/util/sqlite.h"
#include "lib/util/status.h"

namespace indafoto {

class WalCheckpointer {
 public:
  // The writer checkpoints itself at this many WAL frames (33 MB of 4 KiB
  // pages); see archive_db.cc for why 8000 and not SQLite's 1000.
  static constexpr int kWriterFrames = 8000;
  // The background thread is woken every this many new frames (about one
  // import batch of 64 new images).
  static constexpr int kBackgroundEveryFrames = 1000;

  // Opens a second connection to `db_path` for the thread and installs the
  // WAL hook on `writer`. `writer` must outlive the returned object, which
  // must be destroyed before `writer` closes (the thread's connection gone,
  // the writer's close is the last one and checkpoints what is left).
  static Status Attach(Database& writer, const std::string& db_path, std::unique_ptr<WalCheckpointer>* out);
  ~WalCheckpointer();  // stops the thread (a checkpoint in progress finishes first)

  // Checkpoints completed by the thread so far (for tests and the bench).
  int64_t completed() const;

 private:
  WalCheckpointer() = default;
  static int OnCommit(void* self, sqlite3* writer, const char* schema, int wal_frames);
  void Run();

  sqlite3* writer_ = nullptr;
  Database own_;  // used by the thread only
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  bool requested_ = false;
  bool stopping_ = false;
  int64_t completed_ = 0;
  int frames_at_last_wake_ = 0;  // writer's thread only
  std::string last_error_;       // the thread's only: each new failure is logged once
};

}  // namespace indafoto
