// The crawler's layout rules, and the path safety rules that go with them.
//
//   indafoto_archive/<author folder>/<n>/image_<indafoto id>_<timestamp>.jpg
//
// <author folder> is the author's name with each of < > : " / \ | ? *
// replaced by '_'. <n> is the number of files already under that author's
// folder, divided by 1000, at the time the file is added.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "lib/util/status.h"

namespace indafoto {

// The longest author folder name: a file name component on Linux
// filesystems (NAME_MAX).
inline constexpr size_t kMaxAuthorFolderBytes = 255;

// The crawler's sanitising, plus neutralising of what could escape or break
// a path: control characters become '_', and a name that is empty, "." or
// ".." (or only dots) has its dots replaced too, so the result is always one
// safe path component. A result longer than kMaxAuthorFolderBytes (the
// crawler itself would fail to create it) is cut at a UTF-8 character
// boundary to at most 246 bytes and followed by "~" and the first 8 hex
// digits of the SHA-256 of the author's name as given: at most 255 bytes,
// stable, and distinct for two names that share their first 246 bytes.
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
// followed). The crawler counts what is on disk, so we do too; but listing
// an author's 400 subfolders for every placed file would make the import
// slow down as the archive grows. So a count is cached per subfolder with
// the subfolder's mtime (which moves whenever an entry is added or removed
// there), and a call looks only where files arrive:
//   - the author folder's own mtime (a new subfolder, a file directly in it:
//     the author is listed again);
//   - the newest (highest-numbered) subfolder, where the crawler and the
//     importer add files: listed again when its mtime moved;
//   - every other subfolder at most every `recheck` (changes there are
//     deletions or repairs, which shift a count by a few files).
// A listing taken while the mtime is under 2 s old may have missed a change
// within the same clock tick (filesystems with coarse timestamps), so such
// a folder is listed again until its mtime settles — but not more often
// than every 50 ms while its mtime stays the same: the importer keeps the
// newest subfolder "recent" for as long as it places files there, and a
// listing of 1000 entries per placed file would cost more than the rest of
// the import. So a same-tick change by another writer is seen within 50 ms
// (at once with fine-grained timestamps, where its mtime moves). Files the
// importer places itself are reported with Added(), which keeps the cache
// exact without a listing per file.
//
// Settled counts outlive the process through a SubfolderStore (the
// importer keeps them in indafoto.db): a new process then stats an
// author's subfolders instead of listing them all — at 1M images the first
// listing of every author costs 0.45 s, which an `import` of a few thousand
// files would otherwise pay each time.
class AuthorFileCounter {
 public:
  // Settled subfolder counts of one author folder: subfolder -> (mtime_ns, files).
  using Subfolders = std::map<std::string, std::pair<int64_t, int64_t>>;
  struct SubfolderStore {
    std::function<Subfolders(const std::string& author_folder)> load;
    std::function<void(const std::string& author_folder, const Subfolders&)> save;
  };

  explicit AuthorFileCounter(std::filesystem::path image_root,
                             std::chrono::seconds recheck = std::chrono::seconds(60), SubfolderStore store = {})
      : image_root_(std::move(image_root)), recheck_(recheck), store_(std::move(store)) {}
  int64_t Count(const std::string& author_folder);
  // `file` (under image_root/author_folder/<subfolder>/) was just created
  // by us.
  void Added(const std::string& author_folder, const std::filesystem::path& file);

 private:
  enum class Freshness {
    kVerified,      // listed with a settled mtime
    kListedRecent,  // listed while its mtime was under 2 s old: list again until settled
    kOurs,          // counted from Added(); verified at the next recheck
  };
  struct Folder {
    int64_t mtime_ns = -1;
    int64_t files = 0;
    Freshness freshness = Freshness::kVerified;
    int64_t listed_at_ns = 0;  // when it was last listed
  };
  // A folder to list again: its mtime moved, or it is recent and was last
  // listed more than 50 ms ago.
  static bool Stale(const Folder& f, int64_t mtime_ns, int64_t now_ns);
  struct Author {
    Folder own;  // the author folder itself; `files` = regular files directly in it
    std::map<std::string, Folder> subfolders;
    std::string newest;  // highest-numbered subfolder ("" when none is numbered)
    std::chrono::steady_clock::time_point checked_all;
  };
  static Freshness FreshnessOf(int64_t mtime_ns, int64_t now_ns);
  static Folder ListFolder(const std::string& path, int64_t mtime_ns, int64_t now_ns);
  void ListAuthor(const std::string& author_folder, bool recheck, Author* a);
  int64_t Total(const Author& a) const;

  std::filesystem::path image_root_;
  std::chrono::seconds recheck_;
  SubfolderStore store_;
  std::map<std::string, Author> cache_;
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
