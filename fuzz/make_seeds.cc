// Writes the generated part of the seed corpora into fuzz/corpus/ (the rest
// — Syncthing answers, configurations — is hand-written there):
//
//   manifest_index/  a signed manifest.json of a small generated archive,
//                    and its bare payload
//   manifest_part/   one of its parts, and each entry line on its own
//   remote_db/       a crawler database of 3 images, current and old
//                    schema, and a minimal one with only the tables and
//                    columns the reader uses: small rollback-journal files
//                    with 512-byte pages, so a mutation hits what matters
//
// Deterministic except for the publisher key (fresh each run).
//   build-fuzz/bin/fuzz_make_seeds fuzz/corpus
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "lib/catalog/manifest_reader.h"
#include "lib/catalog/manifest_writer.h"
#include "lib/catalog/part_file.h"
#include "lib/util/sqlite.h"
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
bool CompactCopy(const fs::path& from, const fs::path& to, int64_t keep_rows) {
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
    Statement trim = out.Prepare("DELETE FROM images WHERE id > ?");
    trim.Bind(1, keep_rows);
    trim.Run();
    for (const char* link : {"image_tags", "image_albums", "image_collections"}) {
      if (out.HasTable(link))
        out.Exec((std::string("DELETE FROM ") + link + " WHERE image_id NOT IN (SELECT id FROM images)").c_str());
    }
    out.Exec("PRAGMA journal_mode=DELETE; PRAGMA page_size=512; VACUUM;");
  } catch (const SqliteError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return false;
  }
  std::printf("%s: %ju bytes\n", to.c_str(), static_cast<uintmax_t>(fs::file_size(to)));
  return true;
}

// Only what RemoteDbCatalogReader reads, two images with every relation.
bool MinimalDb(const fs::path& to) {
  fs::remove(to);
  Database db;
  if (!Check(Database::Open(to.string(), Database::Mode::kReadWriteCreate, 5000, &db), "open minimal")) return false;
  try {
    db.Exec(R"sql(
      PRAGMA page_size=512;
      CREATE TABLE images (id INTEGER PRIMARY KEY, local_path TEXT, url TEXT, author TEXT, title TEXT,
                           focal_length REAL, sha256_hash TEXT);
      CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT);
      CREATE TABLE image_tags (image_id INTEGER, tag_id INTEGER);
      CREATE TABLE albums (id INTEGER PRIMARY KEY, album_id TEXT, title TEXT, url TEXT, is_public INTEGER);
      CREATE TABLE image_albums (image_id INTEGER, album_id INTEGER);
      CREATE TABLE collections (id INTEGER PRIMARY KEY, collection_id TEXT, title TEXT, url TEXT, is_public INTEGER);
      CREATE TABLE image_collections (image_id INTEGER, collection_id INTEGER);
      CREATE TABLE banned_authors (author TEXT);
      INSERT INTO images VALUES
        (1, 'indafoto_archive/a/0/image_1.jpg', 'https://indafoto.hu/a/image/1', 'a', 'T', 4.5,
         'CDDF469B9F6800FDAA6C0508DF470DDD3410D89976F01457965EDCDFFE107E45'),
        (2, 'C:\crawl\indafoto_archive\b\0\image_2.jpg', NULL, 'b', NULL, NULL, NULL),
        (3, '/abs/indafoto_archive/x/0/image_3.jpg', 'u3', 'banned', '', 1, '');
      INSERT INTO tags VALUES (1, 'nyár'), (2, 'x');
      INSERT INTO image_tags VALUES (1, 1), (1, 2), (2, 2);
      INSERT INTO albums VALUES (1, '700002', 'Album', 'https://indafoto.hu/a/album/700002', 1);
      INSERT INTO image_albums VALUES (1, 1);
      INSERT INTO collections VALUES (1, '9', 'C', NULL, 0);
      INSERT INTO image_collections VALUES (2, 1);
      INSERT INTO banned_authors VALUES ('banned');
    )sql");
    db.Exec("VACUUM");
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
  if (!MinimalDb(corpus / "remote_db" / "minimal.db")) return 1;
  for (bool old_schema : {false, true}) {
    ArchiveSpec spec;
    spec.dir = tmp.path() / (old_schema ? "old" : "current");
    spec.ids = IdRange(1, old_schema ? 3 : 14);  // 14: every awkward author of the universe
    spec.universe_seed = 7;
    spec.variant = 1;
    spec.file_size = kMinFileSize;
    spec.null_sha_every = 5;
    spec.old_schema = old_schema;
    if (!old_schema) spec.banned_authors = {UniverseAuthors().at(2)};
    GeneratedArchive g;
    if (!Check(GenerateArchive(spec, &g), "generate")) return 1;
    if (!CompactCopy(g.database, corpus / "remote_db" / (old_schema ? "crawler_old_schema.db" : "crawler.db"),
                     3))
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
    for (const ManifestPart& part : payload.parts) {
      const std::string stored = ReadFile(dir / std::string(kPartsDirName) / part.name);
      std::string text;
      PartLineReader reader(payload.version, kMaxEntryLineBytes);
      if (!Check(reader.Feed(stored.data(), stored.size(),
                             [&](std::string_view line) {
                               text += std::string(line) + "\n";
                               return Status::Ok();
                             }),
                 "inflate part"))
        return 1;
      if (n == 0) {
        WriteFile(corpus / "manifest_part" / "part_0.jsonl", text);
        WriteFile(corpus / "manifest_part" / "part_0.jsonl.deflate", stored);
      }
      for (size_t at = 0, nl; (nl = text.find('\n', at)) != std::string::npos; at = nl + 1)
        WriteFile(corpus / "manifest_part" / ("entry_" + std::to_string(n++) + ".jsonl"),
                  text.substr(at, nl + 1 - at));
    }
  }
  return 0;
}
