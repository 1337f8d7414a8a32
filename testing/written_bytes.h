// Counts the bytes processes write into files whose paths start with given
// prefixes ("DIR/" for a folder, "DIR/from-" for every folder so named):
// what Syncthing writes into received folders (bench/README.md, "Exchange").
// Each time a file opened for writing is closed, its size then is added to
// each prefix it matches (Syncthing writes a temporary file beside the
// final name and renames it into place). A file closed twice after writing
// counts twice, and a partial rewrite counts the whole file: the figure can
// only err high.
//
// Uses fanotify on the mount that holds the folders, which needs
// CAP_SYS_ADMIN (root). Elsewhere Start fails and nothing is counted; the
// caller says the figure was not measured.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "lib/util/status.h"
#include "lib/util/unique_fd.h"

namespace indafoto {

class WrittenBytes {
 public:
  WrittenBytes() = default;
  ~WrittenBytes();
  WrittenBytes(const WrittenBytes&) = delete;
  WrittenBytes& operator=(const WrittenBytes&) = delete;

  // Watches the mount holding `mount_path`; counts files whose absolute
  // path starts with one of `prefixes` (their folders may not exist yet).
  Status Start(const std::filesystem::path& mount_path, const std::vector<std::string>& prefixes);
  // Bytes counted so far for `prefix` (one passed to Start).
  int64_t Bytes(const std::string& prefix);
  void Stop();

 private:
  void Run();

  UniqueFd fanotify_;
  UniqueFd stop_read_, stop_write_;
  std::thread thread_;
  std::mutex mu_;
  std::map<std::string, int64_t> bytes_;  // prefix -> bytes
};

}  // namespace indafoto
