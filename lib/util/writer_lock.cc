#include "lib/util/writer_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <ctime>
#include <sstream>


namespace indafoto {

namespace fs = std::filesystem;

fs::path WriterLockPath(const fs::path& database_path) {
  return fs::path(database_path.string() + "-syncd.lock");
}

namespace {

LockHolder ParseHolder(const std::string& text) {
  LockHolder h;
  std::istringstream in(text);
  std::string field;
  while (in >> field) {
    size_t eq = field.find('=');
    if (eq == std::string::npos) continue;
    std::string key = field.substr(0, eq), value = field.substr(eq + 1);
    if (key == "pid") h.pid = std::strtol(value.c_str(), nullptr, 10);
    else if (key == "command") h.command = value;
    else if (key == "since") h.since = value;
  }
  return h;
}

LockHolder ReadHolder(int fd) {
  char buf[256];
  ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return {};
  return ParseHolder(std::string(buf, static_cast<size_t>(n)));
}

std::string UtcNow() {
  std::time_t t = std::time(nullptr);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

std::string DescribeHolder(const LockHolder& h) {
  if (h.pid == 0) return "another indafoto-syncd process";
  std::string s = "`indafoto-syncd " + (h.command.empty() ? std::string("?") : h.command) + "` (pid " +
                  std::to_string(h.pid);
  if (!h.since.empty()) s += ", since " + h.since;
  return s + ")";
}

Status WriterLock::Acquire(const fs::path& lock_path, const std::string& command, bool wait, WriterLock* out,
                           const std::function<void(const LockHolder&)>& on_wait) {
  // O_NOFOLLOW: the lock file sits in the database's directory; a symlink
  // planted there must not make us truncate some other file.
  UniqueFd fd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0644));
  if (!fd.valid()) return Status::FromErrno(errno, "writer lock file " + lock_path.string());
  if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return Status::FromErrno(errno, "flock " + lock_path.string());
    LockHolder holder = ReadHolder(fd.get());
    if (!wait)
      return Status::Locked("the archive is being written by " + DescribeHolder(holder) + " (lock " +
                            lock_path.string() + ")");
    if (on_wait) on_wait(holder);
    while (::flock(fd.get(), LOCK_EX) != 0) {
      if (errno != EINTR) return Status::FromErrno(errno, "flock " + lock_path.string());
    }
  }
  std::string content = "pid=" + std::to_string(::getpid()) + " command=" + command + " since=" + UtcNow() + "\n";
  if (::ftruncate(fd.get(), 0) != 0 || ::pwrite(fd.get(), content.data(), content.size(), 0) < 0)
    return Status::FromErrno(errno, "write writer lock file " + lock_path.string());
  out->fd_ = std::move(fd);
  return Status::Ok();
}

LockHolder WriterLock::Holder(const fs::path& lock_path) {
  UniqueFd fd(::open(lock_path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!fd.valid()) return {};
  LockHolder h = ReadHolder(fd.get());
  // The content outlives its writer; only a live process holds the lock.
  if (h.pid > 0 && ::kill(static_cast<pid_t>(h.pid), 0) != 0 && errno == ESRCH) return {};
  return h;
}

}  // namespace indafoto
