// Catalog of a remote source read from a copy of the remote's plain
// indafoto.db (the older workflow: `remote_db_path` in the configuration).
//
// The copy is opened read-only and never changed. Each row's local_path
// (relative to the remote's database directory, absolute, or with Windows
// separators) is mapped to the file's path inside the received folder,
// which is the remote's indafoto_archive/ folder.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "lib/catalog/catalog.h"

namespace indafoto {

// Maps a remote `local_path` to the path inside the received folder, or
// nullopt when it cannot be mapped safely (escapes, NUL, empty).
std::optional<std::string> ReceivedPathOf(const std::string& remote_local_path);

class RemoteDbCatalogReader : public CatalogReader {
 public:
  explicit RemoteDbCatalogReader(std::filesystem::path db_path) : db_path_(std::move(db_path)) {}
  Status Fingerprint(std::string* out) override;
  Status ReadAll(const std::function<Status(const RemoteImage&)>& sink) override;
  std::string Describe() const override { return "remote database " + db_path_.string(); }
  // Rows whose local_path could not be mapped safely during the last ReadAll.
  int64_t refused() const { return refused_; }

 private:
  std::filesystem::path db_path_;
  int64_t refused_ = 0;
};

}  // namespace indafoto
