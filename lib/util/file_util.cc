#include "lib/util/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "lib/util/unique_fd.h"

namespace indafoto {

Status WriteAll(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "write " + what);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return Status::Ok();
}

namespace {

const char* KindOf(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISDIR(mode)) return "a directory";
  return "not a regular file";
}

}  // namespace

Status OpenRegularFile(const std::filesystem::path& path, const std::string& what, UniqueFd* out, int dir_fd) {
  const int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
  UniqueFd fd(dir_fd >= 0 ? ::openat(dir_fd, path.c_str(), flags) : ::open(path.c_str(), flags));
  std::string name = what + " " + path.string();
  if (!fd.valid()) {
    if (errno == ELOOP) return Status::Invalid(name + " is a symlink; not followed");
    return Status::FromErrno(errno, "open " + name);
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno(errno, "stat " + name);
  if (!S_ISREG(st.st_mode)) return Status::Invalid(name + " is " + KindOf(st.st_mode) + ", not a regular file");
  int fl = ::fcntl(fd.get(), F_GETFL);
  if (fl < 0 || ::fcntl(fd.get(), F_SETFL, fl & ~O_NONBLOCK) != 0) return Status::FromErrno(errno, "fcntl " + name);
  *out = std::move(fd);
  return Status::Ok();
}

Status ReadSmallRegularFile(const std::filesystem::path& path, const std::string& what, size_t limit,
                            std::string* out) {
  UniqueFd fd;
  if (Status s = OpenRegularFile(path, what, &fd); !s.ok()) return s;
  std::string data;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno(errno, "read " + what + " " + path.string());
    }
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > limit)
      return Status::Invalid(what + " " + path.string() + " is larger than " + std::to_string(limit) + " bytes");
  }
  *out = std::move(data);
  return Status::Ok();
}

Status FsyncDirectory(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno(errno, "open directory " + dir.string());
  if (::fsync(fd.get()) != 0) return Status::FromErrno(errno, "fsync directory " + dir.string());
  return Status::Ok();
}

Status SyncDirectories(const std::set<std::filesystem::path>& dirs) {
  if (dirs.size() == 1) return FsyncDirectory(*dirs.begin());
  std::set<dev_t> synced;
  for (const auto& dir : dirs) {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) return Status::FromErrno(errno, "open directory " + dir.string());
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return Status::FromErrno(errno, "stat directory " + dir.string());
    if (!synced.insert(st.st_dev).second) continue;
    if (::syncfs(fd.get()) != 0) return Status::FromErrno(errno, "syncfs " + dir.string());
  }
  return Status::Ok();
}

}  // namespace indafoto
