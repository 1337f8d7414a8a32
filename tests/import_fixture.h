// A local archive A, a remote archive B, and B's image folder delivered into
// A's received folder as Syncthing would leave it; runs the real binary.
#pragma once

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "lib/util/sqlite.h"
#include "testing/archive_checks.h"
#include "testing/archive_generator.h"
#include "testing/process.h"
#include "testing/temp_dir.h"

namespace indafoto {

inline std::string BinaryPath(const std::string& name) { return std::string(INDAFOTO_BIN_DIR) + "/" + name; }

struct ImportFixture {
  TempDir tmp;
  std::filesystem::path a_dir, b_dir, received, config;
  GeneratedArchive a, b;

  explicit ImportFixture(const PairOptions& options, bool write_config = true) {
    a_dir = tmp.path() / "A";
    b_dir = tmp.path() / "B";
    received = tmp.path() / "received" / "peerB";
    Status s = GeneratePair(a_dir, b_dir, options, &a, &b);
    if (!s.ok()) throw std::runtime_error(s.ToString());
    CopyTree(b_dir / "indafoto_archive", received);
    config = tmp.path() / "config.json";
    if (write_config) WriteConfig("");
  }

  void WriteConfig(const std::string& extra) {
    std::ofstream(config) << "{\n  \"database_path\": \"A/indafoto.db\",\n  \"image_root\": \"A/indafoto_archive\",\n"
                          << "  \"remote_sources\": [{\"name\": \"peerB\", \"folder_id\": \"indafoto-b\",\n"
                          << "    \"local_path\": \"received/peerB\", \"remote_db_path\": \"B/indafoto.db\"}]"
                          << extra << "\n}\n";
  }

  // Publishes B's manifest with B's own configuration (state and key
  // outside the shared folder).
  ProcessResult PublishB() const {
    std::filesystem::path b_config = tmp.path() / "b-config.json";
    std::ofstream(b_config) << R"({"database_path": "B/indafoto.db", "state_path": "B-state/state.db",
                                  "key_path": "B-state/publisher.key"})";
    return RunProcess({BinaryPath("indafoto-syncd"), "publish", "--config", b_config.string()});
  }
  // A's configuration without remote_db_path: the catalog comes from the
  // manifest in the received folder only.
  void UseManifestOnly() const {
    std::ofstream(config) << R"({"database_path": "A/indafoto.db",
      "remote_sources": [{"name": "peerB", "folder_id": "indafoto-b", "local_path": "received/peerB"}]})";
  }

  std::filesystem::path a_db() const { return a_dir / "indafoto.db"; }
  std::filesystem::path b_db() const { return b_dir / "indafoto.db"; }
  std::filesystem::path a_root() const { return a_dir / "indafoto_archive"; }

  ProcessResult Run(const std::string& command, const std::vector<std::string>& more = {},
                    const std::vector<std::string>& env = {}) const {
    std::vector<std::string> argv = {BinaryPath("indafoto-syncd"), command, "--config", config.string()};
    argv.insert(argv.end(), more.begin(), more.end());
    return RunProcess(argv, env);
  }
};

inline std::vector<std::string> Strings(const std::filesystem::path& db_path, const std::string& sql,
                                        const std::string& param) {
  Database db;
  Database::Open(db_path.string(), Database::Mode::kReadOnly, 10000, &db);
  Statement s = db.Prepare(sql);
  s.Bind(1, param);
  std::vector<std::string> out;
  while (s.Step()) out.push_back(s.Text(0));
  return out;
}

inline std::vector<std::string> TagsOf(const std::filesystem::path& db, const std::string& url) {
  return Strings(db,
                 "SELECT t.name FROM images i JOIN image_tags it ON it.image_id = i.id JOIN tags t ON t.id = it.tag_id "
                 "WHERE i.url = ? ORDER BY t.name",
                 url);
}

inline ino_t Inode(const std::filesystem::path& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
}

}  // namespace indafoto
