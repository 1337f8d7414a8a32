#include "lib/received_folder.h"

#include <sys/stat.h>

#include <system_error>

#include "lib/layout.h"

namespace indafoto {

namespace fs = std::filesystem;

std::string_view IgnoreReason(std::string_view rel) {
  if (rel.empty()) return "empty path";
  size_t slash = rel.find('/');
  std::string_view first = rel.substr(0, slash);
  if (first == kManifestDir) return "manifest";
  if (first == ".stfolder" || first == ".stversions" || first == ".stignore") return "syncthing folder metadata";
  std::string_view name = rel.substr(rel.rfind('/') == std::string_view::npos ? 0 : rel.rfind('/') + 1);
  // Syncthing writes deliveries to a temporary name and renames when done.
  if ((name.rfind(".syncthing.", 0) == 0 || name.rfind("~syncthing~", 0) == 0) && name.size() > 4 &&
      name.substr(name.size() - 4) == ".tmp")
    return "syncthing temporary file";
  if (name.find(".sync-conflict-") != std::string_view::npos) return "syncthing conflict copy";
  if (!IsSafeRelativePath(rel)) return "unsafe path";
  return "";
}

Status ResolveReceivedFile(const fs::path& root, const std::string& rel, fs::path* out) {
  if (!IsSafeRelativePath(rel)) return Status::Invalid("unsafe path '" + rel + "'");
  fs::path p = root;
  size_t start = 0;
  while (start <= rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    p /= rel.substr(start, end - start);
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0) return Status::FromErrno(errno, p.string());
    if (S_ISLNK(st.st_mode)) return Status::Invalid("symlink not followed: " + p.string());
    if (end == rel.size() && !S_ISREG(st.st_mode)) return Status::Invalid("not a regular file: " + p.string());
    start = end + 1;
  }
  *out = p;
  return Status::Ok();
}

Status WalkReceivedFolder(const fs::path& root, const std::function<bool(const std::string&)>& fn) {
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec);
  if (ec) return Status::FromErrno(ec.value(), "cannot read received folder " + root.string());
  for (fs::recursive_directory_iterator end; it != end; it.increment(ec)) {
    if (ec) return Status::FromErrno(ec.value(), "walking " + root.string());
    const fs::directory_entry& e = *it;
    std::string rel = e.path().lexically_relative(root).generic_string();
    if (e.is_symlink(ec)) continue;  // never followed (the iterator does not follow them either)
    if (e.is_directory(ec)) {
      if (it.depth() == 0) {
        std::string name = e.path().filename().string();
        if (name == kManifestDir || name == ".stfolder" || name == ".stversions") it.disable_recursion_pending();
      }
      continue;
    }
    if (!e.is_regular_file(ec)) continue;
    if (!IgnoreReason(rel).empty()) continue;
    if (!fn(rel)) break;
  }
  return Status::Ok();
}

}  // namespace indafoto
