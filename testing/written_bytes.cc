#include "testing/written_bytes.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/fanotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

namespace indafoto {

WrittenBytes::~WrittenBytes() { Stop(); }

Status WrittenBytes::Start(const std::filesystem::path& mount_path, const std::vector<std::string>& prefixes) {
  fanotify_ = UniqueFd(::fanotify_init(FAN_CLASS_NOTIF | FAN_CLOEXEC, O_RDONLY | O_CLOEXEC));
  if (!fanotify_.valid()) return Status::FromErrno(errno, "fanotify_init (needs root)");
  if (::fanotify_mark(fanotify_.get(), FAN_MARK_ADD | FAN_MARK_MOUNT, FAN_CLOSE_WRITE, AT_FDCWD,
                      mount_path.c_str()) != 0)
    return Status::FromErrno(errno, "fanotify_mark " + mount_path.string());
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) return Status::FromErrno(errno, "pipe");
  stop_read_ = UniqueFd(pipe_fds[0]);
  stop_write_ = UniqueFd(pipe_fds[1]);
  for (const auto& prefix : prefixes) bytes_[prefix] = 0;
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

int64_t WrittenBytes::Bytes(const std::string& prefix) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = bytes_.find(prefix);
  return it == bytes_.end() ? 0 : it->second;
}

void WrittenBytes::Stop() {
  if (!thread_.joinable()) return;
  (void)!::write(stop_write_.get(), "x", 1);
  thread_.join();
}

void WrittenBytes::Run() {
  alignas(fanotify_event_metadata) char buf[64 * 1024];
  pollfd fds[2] = {{fanotify_.get(), POLLIN, 0}, {stop_read_.get(), POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    ssize_t n = ::read(fanotify_.get(), buf, sizeof buf);
    if (n <= 0) continue;
    auto* m = reinterpret_cast<fanotify_event_metadata*>(buf);
    for (; FAN_EVENT_OK(m, n); m = FAN_EVENT_NEXT(m, n)) {
      if (m->fd < 0) continue;
      UniqueFd file(m->fd);
      char path[PATH_MAX];
      ssize_t len = ::readlink(("/proc/self/fd/" + std::to_string(m->fd)).c_str(), path, sizeof path - 1);
      struct stat st;
      if (len <= 0 || ::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      std::string p(path, static_cast<size_t>(len));
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& [prefix, total] : bytes_)
        if (p.compare(0, prefix.size(), prefix) == 0) total += st.st_size;
    }
  }
}

}  // namespace indafoto
