#include "lib/file_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "lib/unique_fd.h"

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

Status FsyncDirectory(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno(errno, "open directory " + dir.string());
  if (::fsync(fd.get()) != 0) return Status::FromErrno(errno, "fsync directory " + dir.string());
  return Status::Ok();
}

}  // namespace indafoto
