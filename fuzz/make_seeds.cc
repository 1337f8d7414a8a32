// Writes the generated part of the seed corpora into fuzz/corpus/ (the rest
// — Syncthing answers, configurations — is hand-written there):
//
//   manifest_index/  a signed manifest.json of a small generated archive,
//                    and its bare payload
//   manifest_part/   its parts (a few entries each)
//   remote_db/       its crawler database, current and old schema, as
//                    small rollback-journal files (512-byte pages)
//
// Deterministic except for the publisher key (fresh each run).
//   build-fuzz/bin/fuzz_make_seeds fuzz/corpus
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "lib/manifest_reader.h"
#include "lib/manifest_writer.h"
#include "lib/sqlite.h"
#include "testing/archive_generator.h"
#include "testing/temp_dir.h"

using namespace indafoto;
namespace fs = std::filesystem;

namespace {

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
  std::printf("%s: %zu bytes\n", p.c_str(), data.size());
}

bool Check(const Status& s, const char* what) {
  if (!s.ok()) std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  return s.ok();
}

// A compact copy of `db` for the remote_db corpus: rollback journal, small
// pages, vacuumed.
bool CompactCopy(const fs::path& from, const fs::path& to) {
  fs::create_directories(to.parent_path());
  fs::remove(to);
  Database db;
  if (!Check(Database::Open(from.string(), Database::Mode::kReadWrite, 5000, &db), "open")) return false;
  try {
    db.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
    Statement vacuum = db.Prepare("VACUUM INTO ?");
    vacuum.Bind(1, to.string());
    vacuum.Run();
    Database out;
    if (!Check(Database::Open(to.string(), Database::Mode::kReadWrite, 5000, &out), "open copy")) return false;
    out.Exec("PRAGMA journal_mode=DELETE; PRAGMA page_size=512; VACUUM;");
  } catch (const SqliteError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return false;
  }
  std::printf("%s: %ju bytes\n", to.c_str(), static_cast<uintmax_t>(fs::file_size(to)));
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR (fuzz/corpus)\n", argv[0]);
    return 2;
  }
  const fs::path corpus = argv[1];
  TempDir tmp;
  for (bool old_schema : {false, true}) {
    ArchiveSpec spec;
    spec.dir = tmp.path() / (old_schema ? "old" : "current");
    spec.ids = IdRange(1, 14);  // every awkward author of the universe
    spec.universe_seed = 7;
    spec.variant = 1;
    spec.file_size = kMinFileSize;
    spec.null_sha_every = 5;
    spec.old_schema = old_schema;
    if (!old_schema) spec.banned_authors = {UniverseAuthors().at(2)};
    GeneratedArchive g;
    if (!Check(GenerateArchive(spec, &g), "generate")) return 1;
    if (!CompactCopy(g.database, corpus / "remote_db" / (old_schema ? "crawler_old_schema.db" : "crawler.db")))
      return 1;
    if (old_schema) continue;

    PublishOptions o;
    o.database_path = g.database;
    o.image_root = g.image_root;
    o.key_path = tmp.path() / "state" / "publisher.key";
    o.images_per_part = 4;
    PublishReport r;
    if (!Check(PublishManifest(o, &r), "publish")) return 1;
    const fs::path dir = g.image_root / std::string(kManifestDirName);
    const std::string index = ReadFile(dir / std::string(kManifestFileName));
    WriteFile(corpus / "manifest_index" / "signed_manifest.json", index);
    SignedManifest outer;
    if (!Check(ParseSignedManifest(index, &outer), "parse")) return 1;
    WriteFile(corpus / "manifest_index" / "payload.json", outer.payload);
    ManifestPayload payload;
    if (!Check(ParseManifestPayload(outer.payload, &payload), "payload")) return 1;
    int n = 0;
    for (const ManifestPart& part : payload.parts)
      WriteFile(corpus / "manifest_part" / ("part_" + std::to_string(n++) + ".jsonl"),
                ReadFile(dir / std::string(kPartsDirName) / part.name));
  }
  return 0;
}
