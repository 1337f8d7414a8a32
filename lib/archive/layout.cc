#include "lib/archive/layout.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include <chrono>
#include <system_error>

#include "lib/util/sha256.h"

namespace indafoto {

namespace fs = std::filesystem;

std::string AuthorFolderName(std::string_view author) {
  std::string out;
  out.reserve(author.size());
  for (char c : author) {
    unsigned char u = static_cast<unsigned char>(c);
    switch (c) {
      case '<': case '>': case ':': case '"': case '/': case '\\': case '|': case '?': case '*':
        out += '_';
        break;
      default:
        out += (u < 0x20 || u == 0x7f) ? '_' : c;
    }
  }
  if (out.empty()) return "unknown";
  if (out.find_first_not_of('.') == std::string::npos) return std::string(out.size(), '_');
  if (out.size() > kMaxAuthorFolderBytes) {
    // Too long for one file name: cut at a UTF-8 character boundary and
    // add a short hash of the whole name, so two long names that share
    // their beginning still get two folders, the same ones every time.
    size_t cut = kMaxAuthorFolderBytes - 9;  // room for "~" + 8 hex digits
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xc0) == 0x80) --cut;
    out = out.substr(0, cut) + "~" + Sha256Hex(author).substr(0, 8);
  }
  return out;
}

bool IsSafeFileName(std::string_view name) {
  if (name.empty() || name == "." || name == "..") return false;
  for (char c : name) {
    if (c == '/' || c == '\\' || c == '\0') return false;
  }
  return true;
}

bool IsSafeRelativePath(std::string_view rel) {
  if (rel.empty() || rel.front() == '/') return false;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string_view::npos) end = rel.size();
    if (!IsSafeFileName(rel.substr(start, end - start))) return false;
    start = end + 1;
  }
  return true;
}

namespace {

constexpr int64_t kSettledNs = 2000000000LL;  // an mtime older than this hides no same-tick change
constexpr int64_t kRelistRecentNs = 50000000LL;  // a recent folder whose mtime stays: listed at most this often

int64_t NowNs() {
  struct timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
}

// mtime of the directory `path`, or -1 when it is not a directory.
int64_t DirectoryMtime(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return -1;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

// Calls fn(name, is_directory) for each regular file and directory in
// `dir` (symlinks and others skipped). POSIX calls rather than
// std::filesystem: this runs over up to 1000 entries per call, and the
// path objects cost more than the listing.
template <typename Fn>
void ForEachEntry(const std::string& dir, Fn fn) {
  DIR* d = ::opendir(dir.c_str());
  if (!d) return;
  while (struct dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || (e->d_name[1] == '.' && e->d_name[2] == '\0'))) continue;
    unsigned char type = e->d_type;
    if (type == DT_UNKNOWN) {
      struct stat st;
      if (::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      type = S_ISREG(st.st_mode) ? DT_REG : S_ISDIR(st.st_mode) ? DT_DIR : DT_UNKNOWN;
    }
    if (type == DT_REG) fn(e->d_name, false);
    else if (type == DT_DIR) fn(e->d_name, true);
  }
  ::closedir(d);
}

// Regular files under `dir`, recursively, symlinks not followed.
int64_t CountFilesUnder(const std::string& dir) {
  int64_t count = 0;
  ForEachEntry(dir, [&](const char* name, bool is_dir) {
    if (is_dir) count += CountFilesUnder(dir + "/" + name);
    else ++count;
  });
  return count;
}

// Orders subfolder names as the crawler numbers them: numbers by value,
// after anything that is not a number.
bool NewerSubfolder(const std::string& a, const std::string& b) {
  auto number = [](const std::string& s) -> int64_t {
    if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) return -1;
    return std::stoll(s);
  };
  return number(a) > number(b);
}

}  // namespace

AuthorFileCounter::Freshness AuthorFileCounter::FreshnessOf(int64_t mtime_ns, int64_t now_ns) {
  return now_ns - mtime_ns > kSettledNs ? Freshness::kVerified : Freshness::kListedRecent;
}

// Lists `path` (mtime taken before the listing, so a change during it moves
// the mtime again).
AuthorFileCounter::Folder AuthorFileCounter::ListFolder(const std::string& path, int64_t mtime_ns, int64_t now_ns) {
  return Folder{mtime_ns, mtime_ns < 0 ? 0 : CountFilesUnder(path), FreshnessOf(mtime_ns, now_ns), now_ns};
}

bool AuthorFileCounter::Stale(const Folder& f, int64_t mtime_ns, int64_t now_ns) {
  return mtime_ns != f.mtime_ns ||
         (f.freshness == Freshness::kListedRecent && now_ns - f.listed_at_ns > kRelistRecentNs);
}

void AuthorFileCounter::ListAuthor(const std::string& author_folder, bool recheck, Author* a) {
  const std::string dir = (image_root_ / author_folder).string();
  const int64_t now = NowNs();
  a->own.mtime_ns = DirectoryMtime(dir);  // before listing: a change during it moves the mtime again
  a->own.freshness = FreshnessOf(a->own.mtime_ns, now);
  a->own.listed_at_ns = now;
  a->own.files = 0;
  a->newest.clear();
  std::map<std::string, Folder> seen;
  ForEachEntry(dir, [&](const char* name, bool is_dir) {
    if (!is_dir) {
      ++a->own.files;
      return;
    }
    std::string sub = dir + "/" + name;
    int64_t mtime = DirectoryMtime(sub);
    auto it = a->subfolders.find(name);
    bool keep = it != a->subfolders.end() && it->second.mtime_ns == mtime &&
                (it->second.freshness == Freshness::kVerified || (!recheck && it->second.freshness == Freshness::kOurs));
    seen.emplace(name, keep ? it->second : ListFolder(sub, mtime, now));
    if (a->newest.empty() || NewerSubfolder(name, a->newest)) a->newest = name;
  });
  a->subfolders = std::move(seen);
  if (recheck) a->checked_all = std::chrono::steady_clock::now();
}

int64_t AuthorFileCounter::Total(const Author& a) const {
  int64_t total = a.own.files;
  for (const auto& [name, f] : a.subfolders) total += f.files;
  return total;
}

int64_t AuthorFileCounter::Count(const std::string& author_folder) {
  const std::string dir = (image_root_ / author_folder).string();
  int64_t mtime = DirectoryMtime(dir);
  if (mtime < 0) {
    cache_.erase(author_folder);
    return 0;
  }
  auto [it, is_new] = cache_.try_emplace(author_folder);
  Author& a = it->second;
  if (is_new && store_.load) {
    // Settled counts from an earlier process: kept by ListAuthor while
    // their mtime has not moved.
    for (const auto& [name, entry] : store_.load(author_folder))
      a.subfolders[name] = Folder{entry.first, entry.second, Freshness::kVerified, 0};
  }
  bool recheck = std::chrono::steady_clock::now() - a.checked_all >= recheck_;
  const int64_t now = NowNs();
  if (is_new || recheck || Stale(a.own, mtime, now)) {
    ListAuthor(author_folder, is_new || recheck, &a);
    if ((is_new || recheck) && store_.save) {
      Subfolders settled;
      for (const auto& [name, f] : a.subfolders)
        if (f.freshness == Freshness::kVerified) settled[name] = {f.mtime_ns, f.files};
      store_.save(author_folder, settled);
    }
    return Total(a);
  }
  if (!a.newest.empty()) {
    Folder& f = a.subfolders[a.newest];
    std::string sub = dir + "/" + a.newest;
    int64_t sub_mtime = DirectoryMtime(sub);
    if (Stale(f, sub_mtime, now)) f = ListFolder(sub, sub_mtime, now);
  }
  return Total(a);
}

void AuthorFileCounter::Added(const std::string& author_folder, const fs::path& file) {
  auto it = cache_.find(author_folder);
  if (it == cache_.end()) return;  // the next Count lists the author
  Author& a = it->second;
  std::string name = file.parent_path().filename().string();
  auto sub = a.subfolders.find(name);
  if (file.parent_path().parent_path().filename() != author_folder || sub == a.subfolders.end()) {
    a.own.mtime_ns = -1;  // not a case we can account for: list the author next time
    return;
  }
  if (sub->second.freshness == Freshness::kListedRecent) {
    // Still recent: counted now, and listed again within 50 ms if it is
    // the newest subfolder (else by a listing of the author).
    if (name != a.newest) {
      a.own.mtime_ns = -1;
      return;
    }
    sub->second.files += 1;
    sub->second.mtime_ns = DirectoryMtime(file.parent_path().string());
    return;
  }
  sub->second.files += 1;
  sub->second.mtime_ns = DirectoryMtime(file.parent_path().string());
  sub->second.freshness = Freshness::kOurs;
}

LocalPathStyle LocalPathStyle::Learn(const std::string& sample, const fs::path& database_dir,
                                     const fs::path& image_root) {
  fs::path db_dir = fs::absolute(database_dir).lexically_normal();
  if (!sample.empty() && sample.front() == '/') return LocalPathStyle(Form::kAbsolute, db_dir, "");
  // The image root must lie under the database's directory for a relative
  // form; otherwise only an absolute path lets the explorer find the file.
  fs::path rel = fs::absolute(image_root).lexically_normal().lexically_relative(db_dir);
  if (rel.empty() || *rel.begin() == "..") return LocalPathStyle(Form::kAbsolute, db_dir, "");
  std::string prefix = (sample.rfind("./", 0) == 0) ? "./" : "";
  return LocalPathStyle(Form::kRelativeToDatabase, db_dir, prefix);
}

std::string LocalPathStyle::ToStored(const fs::path& absolute_file) const {
  fs::path abs = fs::absolute(absolute_file).lexically_normal();
  if (form_ == Form::kAbsolute) return abs.string();
  return relative_prefix_ + abs.lexically_relative(database_dir_).generic_string();
}

fs::path LocalPathStyle::ToAbsolute(const std::string& stored) const {
  fs::path p(stored);
  if (p.is_absolute()) return p.lexically_normal();
  return (database_dir_ / p).lexically_normal();
}

}  // namespace indafoto
