// TempDir: a fresh directory under $TMPDIR, removed with its contents when
// the object goes away (unless INDAFOTO_KEEP_TEMP is set, for debugging).
#pragma once

#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace indafoto {

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "indafoto-test-XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    path_ = p ? std::filesystem::path(p) : std::filesystem::path();
  }
  ~TempDir() {
    if (!path_.empty() && !std::getenv("INDAFOTO_KEEP_TEMP")) {
      std::error_code ec;
      std::filesystem::remove_all(path_, ec);
    }
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace indafoto
