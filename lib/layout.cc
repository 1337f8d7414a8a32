#include "lib/layout.h"

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

static int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t AuthorFileCounter::Count(const std::string& author_folder) {
  int64_t now = NowSeconds();
  auto it = cache_.find(author_folder);
  if (it != cache_.end() && now - it->second.counted_at <= max_age_seconds_) return it->second.count;
  int64_t count = 0;
  std::error_code ec;
  fs::path dir = image_root_ / author_folder;
  for (fs::recursive_directory_iterator i(dir, fs::directory_options::skip_permission_denied, ec), end;
       !ec && i != end; i.increment(ec)) {
    if (i->is_regular_file(ec) && !i->is_symlink(ec)) ++count;
  }
  cache_[author_folder] = Entry{count, now};
  return count;
}

void AuthorFileCounter::Added(const std::string& author_folder) {
  auto it = cache_.find(author_folder);
  if (it != cache_.end()) ++it->second.count;
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
