// CatalogStore::Load of a catalog published in parts (a manifest): a
// reload reads only the parts it does not hold, and ends with exactly the
// catalog a full read gives.
#include <catch2/catch.hpp>

#include <map>

#include "lib/catalog/catalog.h"
#include "lib/catalog/manifest_reader.h"
#include "lib/catalog/manifest_writer.h"
#include "lib/util/sqlite.h"
#include "testing/archive_generator.h"
#include "testing/temp_dir.h"

namespace indafoto {

namespace fs = std::filesystem;

namespace {

// Forwards to a ManifestReader and counts the entries it passes on.
class CountingReader : public CatalogReader {
 public:
  CountingReader(const fs::path& folder, const std::string& source) : inner_(folder, source, nullptr) {}
  Status Fingerprint(std::string* out) override { return inner_.Fingerprint(out); }
  Status ReadAll(const std::function<Status(const RemoteImage&)>& sink) override {
    return inner_.ReadAll([&](const RemoteImage& img) {
      ++entries;
      return sink(img);
    });
  }
  bool Parted() const override { return parted; }
  Status ReadParts(const std::function<bool(const std::string&)>& held,
                   const std::function<Status(const std::string&, const RemoteImage&)>& sink) override {
    return inner_.ReadParts(held, [&](const std::string& part, const RemoteImage& img) {
      ++entries;
      return sink(part, img);
    });
  }
  std::string Describe() const override { return inner_.Describe(); }
  std::optional<uint64_t> Sequence() const override { return inner_.Sequence(); }
  std::string ReadFingerprint() const override { return inner_.ReadFingerprint(); }

  int64_t entries = 0;
  bool parted = true;

 private:
  ManifestReader inner_;
};

struct Store {
  TempDir dir;
  Database db;
  CatalogStore catalog;
  Store() {
    REQUIRE(Database::Open((dir.path() / "state.db").string(), Database::Mode::kReadWriteCreate, 1000, &db).ok());
    REQUIRE(CatalogStore::Open(&db, &catalog).ok());
  }
  // Loads the manifest in `folder`; returns the entries read.
  int64_t Load(const fs::path& folder, bool parted = true) {
    CountingReader r(folder, "A");
    r.parted = parted;
    bool changed = false;
    REQUIRE(catalog.Load("A", r, &changed).ok());
    return r.entries;
  }
  std::map<std::string, std::string> Entries() {
    std::map<std::string, std::string> m;
    Statement q = db.Prepare("SELECT rel_path, record FROM syncd_catalog_entries WHERE source = 'A'");
    while (q.Step()) m[q.Text(0)] = q.Text(1);
    return m;
  }
  int64_t Int(const std::string& sql) {
    Statement q = db.Prepare(sql);
    REQUIRE(q.Step());
    return q.Int(0);
  }
};

void Sql(const fs::path& db_path, const std::string& sql) {
  Database db;
  REQUIRE(Database::Open(db_path.string(), Database::Mode::kReadWrite, 5000, &db).ok());
  db.Exec(sql.c_str());
}

// A generated archive of `ids` (dir/A), published with `per_part` local
// ids per part; returns the options to publish it again.
PublishOptions PublishedArchive(const fs::path& dir, std::vector<int64_t> ids, int64_t per_part, ArchiveSpec* spec) {
  spec->dir = dir / "A";
  spec->ids = std::move(ids);
  REQUIRE(GenerateArchive(*spec, nullptr).ok());
  PublishOptions o;
  o.database_path = spec->dir / "indafoto.db";
  o.image_root = spec->dir / "indafoto_archive";
  o.key_path = dir / "keys" / "k.key";
  o.images_per_part = per_part;
  PublishReport report;
  REQUIRE(PublishManifest(o, &report).ok());
  return o;
}

}  // namespace

TEST_CASE("a parted catalog reloads only its new parts and ends as a full read would", "[catalog]") {
  TempDir tmp;
  ArchiveSpec spec;
  // Part k holds local ids 20k..20k+19: 1-100 make six parts.
  PublishOptions o = PublishedArchive(tmp.path(), IdRange(1, 100), 20, &spec);
  PublishReport report;

  Store parted;
  CHECK(parted.Load(o.image_root) == 100);  // nothing held yet: everything
  CHECK(parted.Int("SELECT COUNT(*) FROM syncd_catalog_parts WHERE source = 'A'") == 6);
  const int64_t first = parted.Int("SELECT generation FROM syncd_catalog_sources WHERE source = 'A'");

  // One title edited (id 25, part 1), one image gone (id 70, part 3),
  // twenty new ones (ids 101-120: part 5 grows to 20, part 6 appears).
  Sql(o.database_path, "UPDATE images SET title = 'átírva' WHERE id = 25");
  std::string gone_url;
  {
    Database db;
    REQUIRE(Database::Open(o.database_path.string(), Database::Mode::kReadWrite, 5000, &db).ok());
    Statement q = db.Prepare("SELECT url FROM images WHERE id = 70");
    REQUIRE(q.Step());
    gone_url = q.Text(0);
    db.Exec("DELETE FROM image_tags WHERE image_id = 70; DELETE FROM image_albums WHERE image_id = 70; "
            "DELETE FROM image_collections WHERE image_id = 70; DELETE FROM images WHERE id = 70");
  }
  REQUIRE(AppendImages(spec.dir, IdRange(101, 120), spec.universe_seed).ok());
  REQUIRE(PublishManifest(o, &report).ok());

  int64_t read = parted.Load(o.image_root);
  CHECK(read == 20 + 19 + 20 + 1);  // parts 1, 3, 5 and 6; parts 0, 2 and 4 are kept unread
  CHECK(parted.Int("SELECT COUNT(*) FROM syncd_catalog_parts WHERE source = 'A'") == 7);
  CHECK(parted.Int("SELECT entry_count FROM syncd_catalog_sources WHERE source = 'A'") == 119);

  // The same manifest read whole into a fresh store: the same catalog.
  Store whole;
  CHECK(whole.Load(o.image_root, /*parted=*/false) == 119);
  CHECK(parted.Entries() == whole.Entries());
  CHECK(parted.Entries().size() == 119);

  // What the change says: 20 new entries and the edited one carry the new
  // generation; the removed image's keys are kept as a tombstone.
  CHECK(parted.Int("SELECT COUNT(*) FROM syncd_catalog_entries WHERE source = 'A' AND changed_generation > " +
                   std::to_string(first)) == 21);
  {
    Statement q = parted.db.Prepare("SELECT COUNT(*) FROM syncd_catalog_removed WHERE source = 'A' AND url = ?");
    q.Bind(1, gone_url);
    REQUIRE(q.Step());
    CHECK(q.Int(0) == 1);
  }

  // Unchanged parts need not even be on disk any more: only the index and
  // the new parts are read. A held part that is missing is not an error.
  Sql(o.database_path, "UPDATE images SET title = 'megint' WHERE id = 115");
  REQUIRE(PublishManifest(o, &report).ok());
  {
    // Remove a part this store holds (the first one, unchanged).
    ManifestReader r(o.image_root, "A", nullptr);
    std::string first_part;
    REQUIRE(r.ReadParts(
                 [&](const std::string&) { return true; },
                 [&](const std::string&, const RemoteImage&) { return Status::Ok(); })
                .ok());
    first_part = r.payload().parts.front().name;
    fs::remove(o.image_root / ".indafoto-sync" / "parts" / first_part);
  }
  CHECK(parted.Load(o.image_root) == 20);  // part 5 only
  CHECK(parted.Entries().size() == 119);
  // The count kept with the source follows additions and sweeps.
  CHECK(parted.Int("SELECT entry_count FROM syncd_catalog_sources WHERE source = 'A'") == 119);
  CHECK(whole.Int("SELECT entry_count FROM syncd_catalog_sources WHERE source = 'A'") == 119);
  // A full read now fails (a part is missing) and keeps the catalog.
  CountingReader full_reader(o.image_root, "A");
  full_reader.parted = false;
  bool changed = false;
  CHECK_FALSE(whole.catalog.Load("A", full_reader, &changed).ok());
  CHECK(whole.Entries().size() == 119);
}

}  // namespace indafoto

namespace indafoto {

TEST_CASE("a state database from before parts and changes were kept is upgraded in place", "[catalog]") {
  TempDir tmp;
  ArchiveSpec spec;
  PublishOptions o = PublishedArchive(tmp.path(), IdRange(1, 30), 10, &spec);

  // The catalog tables as an earlier release made them, holding a stale
  // entry that the manifest no longer lists.
  fs::path state = tmp.path() / "state.db";
  {
    Database db;
    REQUIRE(Database::Open(state.string(), Database::Mode::kReadWriteCreate, 1000, &db).ok());
    db.Exec(R"sql(
      CREATE TABLE syncd_catalog_entries (source TEXT NOT NULL, rel_path TEXT NOT NULL, sha256 TEXT, url TEXT,
          record TEXT NOT NULL, load_generation INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (source, rel_path)) WITHOUT ROWID;
      CREATE TABLE syncd_catalog_sources (source TEXT PRIMARY KEY, fingerprint TEXT,
          generation INTEGER NOT NULL DEFAULT 0, entry_count INTEGER NOT NULL DEFAULT 0, loaded_at DATETIME,
          sequence INTEGER);
      INSERT INTO syncd_catalog_entries VALUES ('A', 'gone/0/image_1.jpg', 'aa', 'u', '{}', 1);
      INSERT INTO syncd_catalog_sources VALUES ('A', 'old', 1, 1, NULL, NULL);
    )sql");
  }
  Database db;
  REQUIRE(Database::Open(state.string(), Database::Mode::kReadWrite, 1000, &db).ok());
  CatalogStore catalog;
  REQUIRE(CatalogStore::Open(&db, &catalog).ok());
  CHECK(db.HasColumn("syncd_catalog_entries", "part"));
  CHECK(db.HasColumn("syncd_catalog_entries", "changed_generation"));
  CountingReader r(o.image_root, "A");
  bool changed = false;
  REQUIRE(catalog.Load("A", r, &changed).ok());
  CHECK(r.entries == 30);  // nothing held yet: read whole
  Statement q = db.Prepare("SELECT COUNT(*), SUM(part IS NULL) FROM syncd_catalog_entries WHERE source = 'A'");
  REQUIRE(q.Step());
  CHECK(q.Int(0) == 30);  // the stale entry is gone
  CHECK(q.Int(1) == 0);
  Statement count = db.Prepare("SELECT entry_count FROM syncd_catalog_sources WHERE source = 'A'");
  REQUIRE(count.Step());
  CHECK(count.Int(0) == 30);
  Statement gone = db.Prepare("SELECT COUNT(*) FROM syncd_catalog_removed WHERE source = 'A' AND sha256 = 'aa'");
  REQUIRE(gone.Step());
  CHECK(gone.Int(0) == 1);
}

}  // namespace indafoto
