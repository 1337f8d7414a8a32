// Checks on a real archive (indafoto.db + image tree) used by the tests:
// the invariants the importer promises, and a dump for "changed nothing".
#pragma once

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace indafoto {

struct InvariantReport {
  std::vector<std::string> rows_without_file;     // "id: local_path"
  std::vector<std::string> rows_not_verifying;    // sha256 mismatch
  std::vector<std::string> files_without_row;     // under image_root
  std::vector<std::string> duplicate_urls;
  std::vector<std::string> duplicate_sha256;
  std::vector<std::string> pending_placements;    // journal rows left over
  int64_t images = 0;
  bool ok() const {
    return rows_without_file.empty() && rows_not_verifying.empty() && files_without_row.empty() &&
           duplicate_urls.empty() && duplicate_sha256.empty() && pending_placements.empty();
  }
  std::string Describe() const;
};

// Reads the archive at `db_path` (local_path relative to its directory or
// absolute) and checks every row against the files under `image_root`.
InvariantReport CheckArchive(const std::filesystem::path& db_path, const std::filesystem::path& image_root);

// A deterministic text form of the archive's content: images (by url, all
// columns but id), their tags/albums/collections by natural key, and
// sync_records (source, path, status, message; no dates, no ids).
std::string DumpArchive(const std::filesystem::path& db_path);

// Copies a tree as Syncthing would deliver it (new inodes, symlinks kept).
void CopyTree(const std::filesystem::path& from, const std::filesystem::path& to);

// Runs one query returning a single integer (tests only; SQL is literal).
int64_t QueryInt(const std::filesystem::path& db_path, const std::string& sql);
std::vector<std::string> QueryStrings(const std::filesystem::path& db_path, const std::string& sql);
void ExecSql(const std::filesystem::path& db_path, const std::string& sql);

// Every file under `root`, relative, sorted.
std::set<std::string> ListFiles(const std::filesystem::path& root);

}  // namespace indafoto
