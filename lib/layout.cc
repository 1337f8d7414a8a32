#include "lib/layout.h"

#include <sys/stat.h>
#include <time.h>

#include <chrono>
#include <system_error>

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

// Regular files under `dir`, recursively, symlinks not followed.
static int64_t CountFilesUnder(const fs::path& dir) {
  int64_t count = 0;
  std::error_code ec;
  for (fs::recursive_directory_iterator i(dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && i != end; i.increment(ec)) {
    if (i->is_regular_file(ec) && !i->is_symlink(ec)) ++count;
  }
  return count;
}

int64_t AuthorFileCounter::Count(const std::string& author_folder) {
  std::map<std::string, Subfolder>& cached = cache_[author_folder];
  struct timespec now;
  ::clock_gettime(CLOCK_REALTIME, &now);
  int64_t now_ns = static_cast<int64_t>(now.tv_sec) * 1000000000 + now.tv_nsec;
  std::map<std::string, Subfolder> seen;
  int64_t count = 0;
  std::error_code ec;
  for (fs::directory_iterator i(image_root_ / author_folder, ec), end; !ec && i != end; i.increment(ec)) {
    struct stat st;
    if (::lstat(i->path().c_str(), &st) != 0) continue;
    if (S_ISREG(st.st_mode)) {
      ++count;
    } else if (S_ISDIR(st.st_mode)) {
      std::string name = i->path().filename().string();
      int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
      auto it = cached.find(name);
      // An mtime this recent may hide a second change within the same clock
      // tick: list such a (small, current) subfolder again.
      bool settled = now_ns - mtime > 2000000000LL;
      Subfolder sub = (settled && it != cached.end() && it->second.mtime_ns == mtime)
                          ? it->second
                          : Subfolder{mtime, CountFilesUnder(i->path())};
      count += sub.files;
      seen[name] = sub;
    }
  }
  cached = std::move(seen);
  return count;
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
