// WriterLock: at most one process writes an archive at a time.
//
// Every command that writes the archive or the state (run, import, publish,
// trust, verify --repair) holds this lock for its whole life, and takes it
// before crash recovery. That is what makes recovery sound: a placement
// journal row can then only belong to a process that has died, never to a
// live importer beside us (whose just-placed file recovery would otherwise
// delete). Read-only commands (status, plan, verify) take no lock.
//
// The lock is flock(2) on a small file beside the archive database
// (`<database_path>-syncd.lock`). The kernel releases it when the holder
// exits in any way, kill -9 included, so a stale lock never blocks. The
// file's content names the holder ("pid=123 command=run since=..."), only
// for the message a refused writer prints; the flock alone decides.
#pragma once

#include <filesystem>
#include <functional>
#include <string>

#include "lib/util/status.h"
#include "lib/util/unique_fd.h"

namespace indafoto {

// The lock file of the archive whose database is `database_path`.
std::filesystem::path WriterLockPath(const std::filesystem::path& database_path);

struct LockHolder {
  long pid = 0;          // 0 when the file names no holder
  std::string command;   // "run", "import", ...
  std::string since;     // UTC time the holder took the lock
};

class WriterLock {
 public:
  WriterLock() = default;

  // Takes the lock for `command`. Without `wait`, a lock held by another
  // process is Status::Locked with a message naming the holder; with
  // `wait`, blocks until the holder is gone (`on_wait` is called once
  // before blocking, to say so). Permission/IO problems name the file.
  static Status Acquire(const std::filesystem::path& lock_path, const std::string& command, bool wait,
                        WriterLock* out, const std::function<void(const LockHolder&)>& on_wait = nullptr);

  // Who holds the lock at `lock_path` now; pid 0 when nobody does.
  static LockHolder Holder(const std::filesystem::path& lock_path);

  bool held() const { return fd_.valid(); }

 private:
  UniqueFd fd_;
};

// "`indafoto-syncd run` (pid 123, since ...)" for messages.
std::string DescribeHolder(const LockHolder& h);

}  // namespace indafoto
