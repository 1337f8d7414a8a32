#include "lib/archive/archive_db.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>

#include "lib/archive/crawler_schema.h"
#include "testing/archive_generator.h"
#include "testing/temp_dir.h"

// Counting pass-throughs for fsync/fdatasync/syncfs: defined in the executable,
// they interpose libsqlite3.so's calls, so a test can tell which commits
// reach the disk. Behaviour is unchanged for every other test.
namespace {
std::atomic<int> g_syncs{0};
}  // namespace
extern "C" int fsync(int fd) {
  ++g_syncs;
  return static_cast<int>(::syscall(SYS_fsync, fd));
}
extern "C" int fdatasync(int fd) {
  ++g_syncs;
  return static_cast<int>(::syscall(SYS_fdatasync, fd));
}
extern "C" int syncfs(int fd) {
  ++g_syncs;
  return static_cast<int>(::syscall(SYS_syncfs, fd));
}

namespace indafoto {

namespace fs = std::filesystem;

namespace {

std::string SchemaOf(Database& db, const std::string& table) {
  Statement s = db.Prepare("SELECT sql FROM sqlite_master WHERE name = ?");
  s.Bind(1, table);
  return s.Step() ? s.Text(0) : "";
}

std::string PlanOf(Database& db, const std::string& sql) {
  Statement s = db.Prepare("EXPLAIN QUERY PLAN " + sql);
  std::string plan;
  while (s.Step()) plan += s.Text(3) + "\n";
  return plan;
}

}  // namespace

TEST_CASE("a fresh instance gets the crawler's schema plus ours", "[archive_db]") {
  TempDir dir;
  ArchiveDb a;
  REQUIRE(ArchiveDb::Open(dir.path() / "indafoto.db", dir.path() / "indafoto_archive", true, false, &a).ok());
  for (const char* t : {"images", "tags", "image_tags", "albums", "image_albums", "collections",
                        "image_collections", "banned_authors", "sync_records", "syncd_placements"})
    CHECK(a.db().HasTable(t));
  CHECK(a.image_columns().size() == kImageColumns.size());
  Statement s = a.db().Prepare("PRAGMA journal_mode");
  REQUIRE(s.Step());
  CHECK(s.Text(0) == "wal");
  CHECK(SchemaOf(a.db(), "sync_records").find("remote_source TEXT") != std::string::npos);
}

TEST_CASE("only the placement journal's commit waits for the disk", "[archive_db][durability]") {
  TempDir dir;
  ArchiveDb a;
  REQUIRE(ArchiveDb::Open(dir.path() / "indafoto.db", dir.path() / "indafoto_archive", true, false, &a).ok());
  auto synchronous = [&] {
    Statement s = a.db().Prepare("PRAGMA synchronous");
    return s.Step() ? s.Int(0) : -1;
  };
  CHECK(synchronous() == 1);  // NORMAL
  // A decision's commit (here a pending record) does not fsync.
  int before = g_syncs;
  {
    Transaction t(a.db());
    REQUIRE(a.RecordSync("peer", "x/0/image_1.jpg", 0, SyncStatus::kPending, "").ok());
    t.Commit();
  }
  CHECK(g_syncs - before == 0);
  // The journal row must be on disk before the file is placed.
  before = g_syncs;
  std::vector<int64_t> ids;
  REQUIRE(a.AddPlacements({{dir.path() / "indafoto_archive" / "x" / "0" / "image_1.jpg", std::string(64, 'a')}}, &ids)
              .ok());
  CHECK(g_syncs - before >= 1);
  CHECK(synchronous() == 1);  // back to NORMAL
  std::vector<Placement> placements;
  REQUIRE(a.Placements(&placements).ok());
  REQUIRE(placements.size() == 1);
  CHECK(placements[0].id == ids.at(0));
}

TEST_CASE("an old crawler database is opened without altering its tables", "[archive_db]") {
  TempDir dir;
  ArchiveSpec spec;
  spec.dir = dir.path();
  spec.ids = IdRange(1, 30);
  spec.old_schema = true;
  REQUIRE(GenerateArchive(spec, nullptr).ok());
  std::string images_before, tags_before;
  {
    Database db;
    REQUIRE(Database::Open((dir.path() / "indafoto.db").string(), Database::Mode::kReadWrite, 1000, &db).ok());
    images_before = SchemaOf(db, "images");
    tags_before = SchemaOf(db, "tags");
  }
  ArchiveDb a;
  REQUIRE(ArchiveDb::Open(dir.path() / "indafoto.db", dir.path() / "indafoto_archive", true, false, &a).ok());
  CHECK(SchemaOf(a.db(), "images") == images_before);
  CHECK(SchemaOf(a.db(), "tags") == tags_before);
  CHECK_FALSE(a.HasColumn("sha256_hash"));
  std::optional<LocalImage> found;
  REQUIRE(a.FindBySha256("00", &found).ok());
  CHECK_FALSE(found.has_value());
  // An insert writes only the columns the database has.
  RemoteImage img;
  img.Set("url", Value::Text("https://example/1"));
  img.Set("description", Value::Text("not stored: the column is missing"));
  Transaction t(a.db());
  int64_t id = 0;
  REQUIRE(a.InsertImage(img, "indafoto_archive/x/0/image_1.jpg", "ab", &id).ok());
  t.Commit();
  REQUIRE(a.FindById(id, &found).ok());
  REQUIRE(found.has_value());
  CHECK(found->url == "https://example/1");
}

TEST_CASE("the importer's lookups use indexes, never a full scan", "[archive_db][performance]") {
  TempDir dir;
  ArchiveDb a;
  REQUIRE(ArchiveDb::Open(dir.path() / "indafoto.db", dir.path() / "indafoto_archive", true, false, &a).ok());
  Database& db = a.db();
  std::string by_sha = PlanOf(db,
      "SELECT id, local_path, sha256_hash, url, author FROM images WHERE sha256_hash = 'x' ORDER BY id LIMIT 1");
  std::string by_url = PlanOf(db,
      "SELECT id, local_path, sha256_hash, url, author FROM images WHERE url = 'x' ORDER BY id LIMIT 1");
  std::string by_path = PlanOf(db,
      "SELECT id, image_id, status, error_message FROM sync_records "
      "WHERE remote_source = 'a' AND remote_path = 'b' ORDER BY id DESC LIMIT 1");
  INFO(by_sha << by_url << by_path);
  CHECK(by_sha.find("INDEX idx_images_sha256") != std::string::npos);
  CHECK(by_url.find("INDEX idx_images_url") != std::string::npos);
  CHECK(by_path.find("INDEX idx_sync_records_source_path") != std::string::npos);
  for (const std::string* p : {&by_sha, &by_url, &by_path}) CHECK(p->find("SCAN") == std::string::npos);
}

TEST_CASE("sync_records keeps history once a decision is final", "[archive_db]") {
  TempDir dir;
  ArchiveDb a;
  REQUIRE(ArchiveDb::Open(dir.path() / "indafoto.db", dir.path() / "indafoto_archive", true, false, &a).ok());
  auto record = [&](SyncStatus status) {
    Transaction t(a.db());
    REQUIRE(a.RecordSync("src", "p.jpg", 0, status, "").ok());
    t.Commit();
  };
  auto counts = [&] {
    std::map<std::string, int64_t> c;
    REQUIRE(a.StatusCounts("src", &c).ok());
    return c;
  };
  record(SyncStatus::kPending);
  record(SyncStatus::kFailed);  // provisional rows are updated in place
  CHECK(counts() == std::map<std::string, int64_t>{{"failed", 1}});
  record(SyncStatus::kImported);
  record(SyncStatus::kConflict);  // a final decision is never overwritten
  Statement s = a.db().Prepare("SELECT COUNT(*) FROM sync_records");
  REQUIRE(s.Step());
  CHECK(s.Int(0) == 2);
  CHECK(counts() == std::map<std::string, int64_t>{{"conflict", 1}});
}

}  // namespace indafoto

#include "lib/import/import_pass.h"
#include "lib/catalog/remote_db_catalog.h"

namespace indafoto {

TEST_CASE("an import pass syncs per batch of new images, not per image", "[archive_db][durability]") {
  TempDir dir;
  PairOptions o;
  o.a_count = 50;
  o.b_count = 1050;
  o.overlap = 50;  // 1000 new images
  o.universe_seed = 5;
  o.file_size = 512;
  REQUIRE(GeneratePair(dir.path() / "A", dir.path() / "B", o).ok());
  RemoteSource source;
  source.name = "peerB";
  source.received_folder = dir.path() / "B" / "indafoto_archive";  // delivered in place: same filesystem
  source.remote_db_path = dir.path() / "B" / "indafoto.db";
  ArchiveDb archive;
  REQUIRE(ArchiveDb::Open(dir.path() / "A" / "indafoto.db", dir.path() / "A" / "indafoto_archive", true, false,
                          &archive)
              .ok());
  Database state;
  REQUIRE(Database::Open((dir.path() / "state.db").string(), Database::Mode::kReadWriteCreate, 1000, &state).ok());
  CatalogStore catalog;
  REQUIRE(CatalogStore::Open(&state, &catalog).ok());
  RemoteDbCatalogReader reader(source.remote_db_path);
  bool changed = false;
  REQUIRE(catalog.Load(source.name, reader, &changed).ok());
  Importer importer(&archive, &catalog);

  int before = g_syncs;
  PassOptions options;
  PassCounts counts;
  REQUIRE(RunImportPass(importer, source, options, &counts).ok());
  int syncs = g_syncs - before;
  CHECK(counts.by_status[SyncStatus::kImported] == 1000);
  // Was 2 per new image (the journal's commit, then the directory): 2000.
  // Now per batch of 64: one journal commit, one syncfs for the directories
  // the batch placed into (32 for 16 batches), and SQLite's checkpoints,
  // each a sync of the WAL and one of the database, every 8000 WAL pages
  // (35 in all when measured; 77 with checkpoints every 1000 pages).
  WARN("fsync/fdatasync/syncfs calls for 1000 new images: " << syncs);
  CHECK(syncs < 50);
}

}  // namespace indafoto
