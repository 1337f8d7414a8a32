#include "lib/archive/placement.h"

#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

#include "lib/util/fault_injection.h"
#include "lib/util/file_util.h"
#include "lib/util/unique_fd.h"

namespace indafoto {

namespace fs = std::filesystem;

fs::path TemporaryPathFor(const fs::path& dest) {
  return dest.parent_path() / ("." + dest.filename().string() + ".indafoto-syncd.tmp");
}

// True when `placed` (after a hardlink) or `source` (after a copy, which
// read it) is still the file `hashed` describes.
static bool StillTheHashedFile(const FileDigest& hashed, const fs::path& source, const fs::path& placed,
                               PlaceMethod method) {
  if (hashed.inode == 0) return true;
  struct stat st;
  const fs::path& check = method == PlaceMethod::kHardlink ? placed : source;
  if (::lstat(check.c_str(), &st) != 0) return false;
  int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
  return st.st_ino == hashed.inode && st.st_dev == hashed.device && st.st_size == hashed.size &&
         mtime == hashed.mtime_ns;
}

static Status ChangedSinceHashed(const fs::path& source) {
  return Status::IoError(source.string() + " changed after it was hashed; retried later");
}

// Creates the missing parents of `dest`. `*created` is the outermost
// directory this call created ("" when none), for RemoveCreatedParents.
static Status EnsureParent(const fs::path& dest, fs::path* created) {
  created->clear();
  struct stat st;
  if (::lstat(dest.parent_path().c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::Ok();  // the usual case
  std::error_code ec;
  for (fs::path p = dest.parent_path(); !p.empty() && !fs::exists(fs::symlink_status(p, ec)); p = p.parent_path()) {
    *created = p;
    if (p == p.parent_path()) break;
  }
  fs::create_directories(dest.parent_path(), ec);
  if (ec) return Status::FromErrno(ec.value(), "create directory " + dest.parent_path().string());
  return Status::Ok();
}

// After a failed placement: removes the (empty) directories EnsureParent
// created, so that a full disk does not leave empty author folders behind.
static void RemoveCreatedParents(const fs::path& dest, const fs::path& created) {
  if (created.empty()) return;
  for (fs::path p = dest.parent_path(); ::rmdir(p.c_str()) == 0 && p != created; p = p.parent_path()) {
  }
}

// Copies `source` to `tmp` (created exclusively) and fsyncs it.
static Status CopyToTemporary(const fs::path& source, const fs::path& tmp) {
  UniqueFd in;
  if (Status s = OpenRegularFile(source, "delivered file", &in); !s.ok()) return s;
  struct stat st;
  if (::fstat(in.get(), &st) != 0) return Status::FromErrno(errno, "stat " + source.string());
  ::unlink(tmp.c_str());  // a leftover of an interrupted copy
  UniqueFd out(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (!out.valid()) return Status::FromErrno(errno, "create " + tmp.string());
  Status result;
  off_t offset = 0;
  while (offset < st.st_size) {
    if (int e = InjectedErrno("copy")) {
      result = Status::FromErrno(e, "write " + tmp.string());
      break;
    }
    ssize_t n = ::sendfile(out.get(), in.get(), &offset, static_cast<size_t>(st.st_size - offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      result = Status::FromErrno(errno, "copy to " + tmp.string());
      break;
    }
    if (n == 0) break;  // source shrank under us; the hash check upstream catches it
  }
  if (result.ok() && ::fsync(out.get()) != 0) result = Status::FromErrno(errno, "fsync " + tmp.string());
  if (!result.ok()) ::unlink(tmp.c_str());
  return result;
}

static Status PlaceInto(const fs::path& source, const fs::path& dest, const FileDigest& hashed, PlaceMethod* used,
                        bool sync_directory) {
  if (int e = InjectedErrno("place")) return Status::FromErrno(e, "place " + dest.string());
  if (::link(source.c_str(), dest.c_str()) == 0) {
    *used = PlaceMethod::kHardlink;
  } else if (errno == EXDEV || errno == EPERM || errno == EMLINK) {
    fs::path tmp = TemporaryPathFor(dest);
    if (Status s = CopyToTemporary(source, tmp); !s.ok()) return s;
    // link() rather than rename(): it fails instead of replacing a file that
    // appeared at `dest` meanwhile.
    int rc = ::link(tmp.c_str(), dest.c_str());
    int err = errno;
    ::unlink(tmp.c_str());
    if (rc != 0) return Status::FromErrno(err, "place " + dest.string());
    *used = PlaceMethod::kCopy;
  } else {
    return Status::FromErrno(errno, "link " + dest.string());
  }
  if (!StillTheHashedFile(hashed, source, dest, *used)) {
    ::unlink(dest.c_str());
    return ChangedSinceHashed(source);
  }
  if (!sync_directory) return Status::Ok();
  Status s = FsyncDirectory(dest.parent_path());
  if (!s.ok()) ::unlink(dest.c_str());
  return s;
}

static Status ReplaceInto(const fs::path& source, const fs::path& dest, const FileDigest& hashed,
                          PlaceMethod* used) {
  if (int e = InjectedErrno("place")) return Status::FromErrno(e, "replace " + dest.string());
  fs::path tmp = TemporaryPathFor(dest);
  ::unlink(tmp.c_str());
  if (::link(source.c_str(), tmp.c_str()) == 0) {
    *used = PlaceMethod::kHardlink;
  } else if (errno == EXDEV || errno == EPERM || errno == EMLINK) {
    if (Status s = CopyToTemporary(source, tmp); !s.ok()) return s;
    *used = PlaceMethod::kCopy;
  } else {
    return Status::FromErrno(errno, "link " + tmp.string());
  }
  if (!StillTheHashedFile(hashed, source, tmp, *used)) {
    ::unlink(tmp.c_str());
    return ChangedSinceHashed(source);
  }
  if (::rename(tmp.c_str(), dest.c_str()) != 0) {
    int err = errno;
    ::unlink(tmp.c_str());
    return Status::FromErrno(err, "rename onto " + dest.string());
  }
  return FsyncDirectory(dest.parent_path());
}

Status PlaceFile(const fs::path& source, const fs::path& dest, const FileDigest& hashed, PlaceMethod* used,
                 std::set<fs::path>* synced_dirs) {
  fs::path created;
  Status s = EnsureParent(dest, &created);
  if (s.ok()) s = PlaceInto(source, dest, hashed, used, synced_dirs == nullptr);
  if (!s.ok()) {
    RemoveCreatedParents(dest, created);
    return s;
  }
  // A new directory's own entry lives in its parent: that must reach the
  // disk too, or the placed file could vanish with its folder.
  std::vector<fs::path> dirs = {dest.parent_path()};
  if (!created.empty()) {
    for (fs::path p = dest.parent_path(); ; p = p.parent_path()) {
      dirs.push_back(p.parent_path());
      if (p == created) break;
    }
  }
  if (synced_dirs) {
    synced_dirs->insert(dirs.begin(), dirs.end());
    return Status::Ok();
  }
  for (size_t i = 1; i < dirs.size(); ++i) {
    if (Status f = FsyncDirectory(dirs[i]); !f.ok()) {
      ::unlink(dest.c_str());  // on failure nothing is left at `dest`
      RemoveCreatedParents(dest, created);
      return f;
    }
  }
  return Status::Ok();
}

Status ReplaceFile(const fs::path& source, const fs::path& dest, const FileDigest& hashed, PlaceMethod* used) {
  fs::path created;
  Status s = EnsureParent(dest, &created);
  if (s.ok()) s = ReplaceInto(source, dest, hashed, used);
  if (s.ok() && !created.empty()) {
    for (fs::path p = dest.parent_path(); s.ok(); p = p.parent_path()) {
      s = FsyncDirectory(p.parent_path());
      if (p == created) break;
    }
  }
  if (!s.ok()) RemoveCreatedParents(dest, created);
  return s;
}

}  // namespace indafoto
