#include "lib/import/received_folder.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>

#include "lib/archive/layout.h"

namespace indafoto {

namespace fs = std::filesystem;

std::string_view IgnoreReason(std::string_view rel) {
  if (rel.empty()) return "empty path";
  size_t slash = rel.find('/');
  std::string_view first = rel.substr(0, slash);
  if (first == kManifestDirName) return "manifest";
  if (first == ".stfolder" || first == ".stversions" || first == ".stignore") return "syncthing folder metadata";
  std::string_view name = rel.substr(rel.rfind('/') == std::string_view::npos ? 0 : rel.rfind('/') + 1);
  // Syncthing writes deliveries to a temporary name and renames when done.
  if ((name.rfind(".syncthing.", 0) == 0 || name.rfind("~syncthing~", 0) == 0) && name.size() > 4 &&
      name.substr(name.size() - 4) == ".tmp")
    return "syncthing temporary file";
  return "";
}

std::string RefusedReason(std::string_view rel) {
  if (rel.find(".sync-conflict-") != std::string_view::npos)
    return "syncthing conflict copy; not imported (resolve the conflict in Syncthing)";
  if (!IsSafeRelativePath(rel))
    return "unsafe path (absolute, '..', empty component, NUL or backslash); not imported";
  if (std::count(rel.begin(), rel.end(), '/') >= kMaxDeliveryDepth)
    return "nested deeper than " + std::to_string(kMaxDeliveryDepth) + " folders; not imported";
  return "";
}

Status ResolveReceivedFile(const fs::path& root, const std::string& rel, fs::path* out) {
  if (!IsSafeRelativePath(rel)) return Status::Invalid("unsafe path '" + rel + "'");
  fs::path p = root;
  p /= rel;
  if (p.native().size() >= PATH_MAX)
    return Status::Invalid("path of " + std::to_string(p.native().size()) + " bytes is longer than the " +
                           std::to_string(PATH_MAX) + " the system allows; not imported");
  p = root;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    p /= rel.substr(start, end - start);
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) {
      if (errno == ENAMETOOLONG) return Status::Invalid("name too long for the filesystem: " + p.string());
      return Status::FromErrno(errno, p.string());
    }
    if (S_ISLNK(st.st_mode)) return Status::Invalid("symlink not followed: " + p.string());
    if (end == rel.size() && !S_ISREG(st.st_mode)) return Status::Invalid("not a regular file: " + p.string());
    start = end + 1;
  }
  *out = p;
  return Status::Ok();
}

namespace {

struct DirCloser {
  void operator()(DIR* d) const { ::closedir(d); }
};
using DirPtr = std::unique_ptr<DIR, DirCloser>;

// Walks the directory open as `fd` (owned: handed to fdopendir), whose
// path relative to the root is `prefix` ("" or "a/b/").
class Walker {
 public:
  explicit Walker(const std::function<bool(const std::string&)>& fn) : fn_(fn) {}

  // False when `fn` asked to stop.
  bool Walk(int fd, const std::string& prefix, int depth) {
    DirPtr dir(::fdopendir(fd));
    if (!dir) {
      Note(Status::FromErrno(errno, "cannot read received folder " + prefix));
      ::close(fd);
      return true;
    }
    for (;;) {
      errno = 0;
      struct dirent* e = ::readdir(dir.get());
      if (!e) {
        if (errno != 0) Note(Status::FromErrno(errno, "reading received folder " + prefix));
        return true;
      }
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      std::string rel = prefix + name;
      if (!IgnoreReason(rel).empty()) continue;  // (whole Syncthing/manifest folders included)
      bool is_dir = e->d_type == DT_DIR;
      if (e->d_type == DT_UNKNOWN) {
        struct stat st;
        is_dir = ::fstatat(::dirfd(dir.get()), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
      }
      if (!is_dir || depth + 1 >= kMaxDeliveryDepth) {
        if (!fn_(rel)) return false;
        continue;
      }
      int child = ::openat(::dirfd(dir.get()), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0) {
        Note(Status::FromErrno(errno, "cannot read received folder " + rel));
        continue;
      }
      if (!Walk(child, rel + "/", depth + 1)) return false;
    }
  }
  const Status& first_error() const { return first_error_; }

 private:
  void Note(Status s) {
    if (first_error_.ok()) first_error_ = std::move(s);
  }
  const std::function<bool(const std::string&)>& fn_;
  Status first_error_;
};

}  // namespace

Status WalkReceivedFolder(const fs::path& root, const std::function<bool(const std::string&)>& fn) {
  // The received folder itself is configured by the operator: follow it.
  int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno(errno, "cannot read received folder " + root.string());
  Walker w(fn);
  w.Walk(fd, "", 0);
  return w.first_error();
}

}  // namespace indafoto
