// The crawler's layout rules, and the path safety rules that go with them.
//
//   indafoto_archive/<author folder>/<n>/image_<indafoto id>_<timestamp>.jpg
//
// <author folder> is the author's name with each of < > : " / \ | ? *
// replaced by '_'. <n> is the number of files already under that author's
// folder, divided by 1000, at the time the file is added.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>

#include "lib/status.h"

namespace indafoto {

// The crawler's sanitising, plus neutralising of what could escape or break
// a path: control characters become '_', and a name that is empty, "." or
// ".." (or only dots) has its dots replaced too, so the result is always one
// safe path component.
std::string AuthorFolderName(std::string_view author);

// True when `rel` is a relative '/'-separated path that stays inside its
// root: non-empty, not absolute, no NUL, no backslash, no empty, "." or ".."
// component.
bool IsSafeRelativePath(std::string_view rel);

// True when `name` is usable as a single file name component.
bool IsSafeFileName(std::string_view name);

// The subfolder number for the next file of an author that already has
// `existing_files` files: existing_files / 1000.
inline int64_t SubfolderFor(int64_t existing_files) { return existing_files / 1000; }

// Counts regular files under an author's folder (recursively, symlinks not
// followed). The crawler counts what is on disk, so we do too. To keep that
// cheap in folders of 100K files, the count of each subfolder is cached
// with the subfolder's mtime and re-listed only when the mtime moved (a
// file was added or removed there) or is under 2 s old; the author folder's own entries are
// listed each time (they are few: the per-1000 subfolders).
class AuthorFileCounter {
 public:
  explicit AuthorFileCounter(std::filesystem::path image_root) : image_root_(std::move(image_root)) {}
  int64_t Count(const std::string& author_folder);
  void Forget() { cache_.clear(); }

 private:
  struct Subfolder {
    int64_t mtime_ns = -1;
    int64_t files = 0;
  };
  std::filesystem::path image_root_;
  // author folder -> subfolder name -> cached count
  std::map<std::string, std::map<std::string, Subfolder>> cache_;
};

// How the local database writes `local_path`, learned from its existing rows
// so that imported rows look like the crawler's and the explorer can serve
// them. A fresh database gets the crawler's default: relative to the
// database's directory ("indafoto_archive/Author/0/image_....jpg").
class LocalPathStyle {
 public:
  enum class Form { kRelativeToDatabase, kAbsolute };
  LocalPathStyle() = default;
  LocalPathStyle(Form form, std::filesystem::path database_dir, std::string relative_prefix)
      : form_(form), database_dir_(std::move(database_dir)), relative_prefix_(std::move(relative_prefix)) {}

  // Decides the form from one sample `local_path` of the database (empty:
  // none yet). `image_root` is where images live on this machine.
  static LocalPathStyle Learn(const std::string& sample_local_path,
                              const std::filesystem::path& database_dir,
                              const std::filesystem::path& image_root);

  // The stored form of `absolute_file` (a path under image_root).
  std::string ToStored(const std::filesystem::path& absolute_file) const;
  // The absolute path of a stored `local_path`.
  std::filesystem::path ToAbsolute(const std::string& stored) const;

 private:
  Form form_ = Form::kRelativeToDatabase;
  std::filesystem::path database_dir_;
  std::string relative_prefix_;  // "" or "./" as the crawler wrote it
};

}  // namespace indafoto
