#include "lib/catalog/publish_changes.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "lib/archive/archive_db.h"
#include "lib/archive/crawler_schema.h"
#include "lib/catalog/manifest_writer.h"
#include "lib/util/sha256.h"
#include "testing/temp_dir.h"

namespace indafoto {

namespace fs = std::filesystem;

namespace {

void WriteFile(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}

// A crawler archive written through its own connection (the crawler's
// code, unmodified: plain SQL), published in parts of 10 images.
struct Archive {
  TempDir tmp;
  fs::path db_path = tmp.path() / "indafoto.db";
  fs::path root = tmp.path() / "indafoto_archive";
  Database crawler;

  Archive() {
    fs::create_directories(root);
    REQUIRE(Database::Open(db_path.string(), Database::Mode::kReadWriteCreate, 10000, &crawler).ok());
    crawler.Exec("PRAGMA journal_mode=WAL");
    crawler.Exec(kCrawlerSchemaSql);
    crawler.Exec(
        "INSERT INTO albums (id, album_id, title, url, is_public) VALUES (1, 'a1', 'Album 1', 'u1', 1), "
        "(2, 'a2', 'Album 2', 'u2', 0);"
        "INSERT INTO collections (id, collection_id, title, url, is_public) VALUES (1, 'c1', 'Coll 1', NULL, 1);");
    for (int n = 1; n <= 45; ++n) Add(n);
  }

  void Add(int n, bool with_file = true) {
    std::string author = n % 3 == 0 ? "Fotós B" : "Fotós A";
    std::string rel = author + "/0/image_" + std::to_string(n) + ".jpg";
    std::string content = "JPEG " + std::to_string(n);
    if (with_file) WriteFile(root / rel, content);
    Statement ins = crawler.Prepare(
        "INSERT INTO images (id, uuid, url, local_path, title, author, sha256_hash) VALUES (?, ?, ?, ?, ?, ?, ?)");
    ins.Bind(1, static_cast<int64_t>(n))
        .Bind(2, "uuid-" + std::to_string(n))
        .Bind(3, "https://indafoto.hu/x/image/" + std::to_string(n))
        .Bind(4, "indafoto_archive/" + rel)
        .Bind(5, "Title " + std::to_string(n))
        .Bind(6, author)
        .Bind(7, Sha256Hex(content));
    ins.Run();
    Exec("INSERT OR IGNORE INTO tags (name) VALUES ('t" + std::to_string(n % 4) + "')");
    Exec("INSERT INTO image_tags (image_id, tag_id) SELECT " + std::to_string(n) + ", id FROM tags WHERE name = 't" +
         std::to_string(n % 4) + "'");
    if (n % 2) Exec("INSERT INTO image_albums (image_id, album_id) VALUES (" + std::to_string(n) + ", 1 + " +
                    std::to_string(n % 4 / 2) + ")");
    if (n % 5 == 0) Exec("INSERT INTO image_collections (image_id, collection_id) VALUES (" + std::to_string(n) + ", 1)");
  }

  // Test-only SQL with constants, as the crawler would issue it.
  void Exec(const std::string& sql) { crawler.Exec(sql.c_str()); }

  PublishOptions Options(bool incremental = true) const {
    PublishOptions o;
    o.database_path = db_path;
    o.image_root = root;
    o.key_path = tmp.path() / "keys" / "publisher.key";
    o.images_per_part = 10;
    o.incremental = incremental;
    return o;
  }

  // The oracle: an incremental publish, then a full read that must find
  // exactly the parts the incremental one left in place.
  PublishReport PublishAndCheck() {
    PublishReport inc, full;
    REQUIRE(PublishManifest(Options(true), &inc).ok());
    REQUIRE(PublishManifest(Options(false), &full).ok());
    CHECK(full.unchanged);  // false: the incremental publish missed a change
    return inc;
  }
};

}  // namespace

TEST_CASE("incremental publish: each kind of change yields what a full read yields", "[publish_changes]") {
  Archive a;
  PublishReport r = a.PublishAndCheck();
  CHECK_FALSE(r.incremental);  // first publish: no baseline yet
  CHECK(r.image_count == 45);
  r = a.PublishAndCheck();
  CHECK(r.incremental);
  CHECK(r.parts_read == 0);  // nothing changed: nothing read
  CHECK(r.parts_reused == 5);
  CHECK(r.unchanged);

  struct Case {
    const char* what;
    std::string sql;
    int64_t max_parts_read;
  };
  const std::vector<Case> cases = {
      {"image column", "UPDATE images SET title = 'new' WHERE id = 12", 1},
      {"sha256_hash column", "UPDATE images SET sha256_hash = NULL WHERE id = 13", 1},
      {"new image", "INSERT INTO images (id, uuid, url, local_path, author) VALUES (46, 'uuid-46', 'u46', "
                    "'indafoto_archive/Fotós A/0/image_1.jpg', 'Fotós A')",
       1},
      {"deleted image", "DELETE FROM images WHERE id = 22", 1},
      {"REPLACE on uuid", "INSERT OR REPLACE INTO images (id, uuid, url, local_path, author) VALUES (47, 'uuid-31', "
                          "'u47', 'indafoto_archive/Fotós A/0/image_2.jpg', 'Fotós A')",
       2},
      {"id moved", "UPDATE images SET id = 55 WHERE id = 44", 2},
      {"tag added", "INSERT INTO image_tags (image_id, tag_id) SELECT 3, id FROM tags WHERE name = 't0'", 1},
      {"tag removed", "DELETE FROM image_tags WHERE image_id = 4", 1},
      {"tag renamed", "UPDATE tags SET name = 't1-renamed' WHERE name = 't1'", 5},
      {"tag count only (not published)", "UPDATE tags SET count = count + 5", 0},
      {"tag insert ignored", "INSERT OR IGNORE INTO tags (name) VALUES ('t2')", 0},
      {"tag REPLACE (old row removed, references dangle)", "INSERT OR REPLACE INTO tags (name) VALUES ('t3')", 5},
      {"tag deleted", "DELETE FROM tags WHERE name = 't2'", 5},
      {"dangling tag reference", "INSERT INTO image_tags (image_id, tag_id) VALUES (5, 999)", 1},
      {"dangling reference becomes live", "INSERT INTO tags (id, name) VALUES (999, 'late')", 1},
      {"album title", "UPDATE albums SET title = 'Nyár' WHERE album_id = 'a1'", 5},
      {"album link", "INSERT INTO image_albums (image_id, album_id) VALUES (2, 2)", 1},
      {"collection is_public", "UPDATE collections SET is_public = 0 WHERE collection_id = 'c1'", 5},
      {"collection link removed", "DELETE FROM image_collections WHERE image_id = 10", 1},
      {"author banned", "INSERT INTO banned_authors (author, reason) VALUES ('Fotós B', 'opt-out')", 5},
      {"ban lifted", "DELETE FROM banned_authors WHERE author = 'Fotós B'", 5},
      {"author column changed into a banned one",
       "INSERT INTO banned_authors (author) VALUES ('Nobody'); UPDATE images SET author = 'Nobody' WHERE id = 1", 1},
      {"UPDATE OR REPLACE onto another tag's name (that row removed)",
       "UPDATE OR REPLACE tags SET name = 't0' WHERE name = 't1-renamed'", 10},
      {"album REPLACE by album_id (old row removed, links dangle)",
       "INSERT OR REPLACE INTO albums (album_id, title, url, is_public) VALUES ('a2', 'Album 2b', 'u2', 0)", 5},
      {"collection id moved", "UPDATE collections SET id = 7 WHERE id = 1", 5},
      {"relation moved to another image", "UPDATE image_tags SET image_id = 41 WHERE image_id = 6", 2},
      {"image REPLACE on its own id", "INSERT OR REPLACE INTO images (id, uuid, url, local_path, author) VALUES (15, "
                                      "'uuid-15b', 'u15b', 'indafoto_archive/Fotós B/0/image_15.jpg', 'Fotós B')",
       1},
      {"ban REPLACE on id (another author's ban removed)",
       "INSERT INTO banned_authors (id, author) VALUES (100, 'Fotós A'); "
       "INSERT OR REPLACE INTO banned_authors (id, author) VALUES (100, 'Nobody2')",
       10},
      {"several changes in one transaction",
       "BEGIN; UPDATE images SET title = 'a' WHERE id = 1; DELETE FROM image_albums WHERE image_id = 25; "
       "INSERT INTO images (id, uuid, author) VALUES (48, 'uuid-48', 'Fotós A'); COMMIT",
       5},
      {"column added by a newer crawler (schema change: full read)",
       "ALTER TABLE images ADD COLUMN camera_model2 TEXT", 100},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    a.Exec(c.sql);
    r = a.PublishAndCheck();
    if (c.max_parts_read < 100) {
      CHECK(r.incremental);
      CHECK(r.parts_read <= c.max_parts_read);
    } else {
      CHECK_FALSE(r.incremental);
    }
  }
  // After the full read, incremental again.
  a.Exec("UPDATE images SET title = 'again' WHERE id = 7");
  r = a.PublishAndCheck();
  CHECK(r.incremental);
  CHECK(r.parts_read == 1);
}

TEST_CASE("incremental publish: a file that appears for a listed-out row is published", "[publish_changes]") {
  Archive a;
  a.Add(46, /*with_file=*/false);  // the crawler wrote the row before the download finished
  PublishReport r = a.PublishAndCheck();
  CHECK(r.no_file == 1);
  r = a.PublishAndCheck();
  CHECK(r.incremental);
  CHECK(r.parts_read == 1);  // the part with the absent file is checked again
  WriteFile(a.root / "Fotós A/0/image_46.jpg", "JPEG 46");
  r = a.PublishAndCheck();
  CHECK(r.incremental);
  CHECK(r.image_count == 46);
  r = a.PublishAndCheck();
  CHECK(r.parts_read == 0);  // nothing absent any more
}

TEST_CASE("incremental publish: the oracle sees a change the tracking lost", "[publish_changes]") {
  // Shows the check above can fail: with the dirty rows thrown away by
  // hand, the incremental publish keeps a stale part and the full read
  // disagrees.
  Archive a;
  a.PublishAndCheck();
  a.PublishAndCheck();
  a.Exec("UPDATE images SET title = 'lost' WHERE id = 12; DELETE FROM syncd_publish_dirty");
  PublishReport inc, full;
  REQUIRE(PublishManifest(a.Options(true), &inc).ok());
  CHECK(inc.incremental);
  CHECK(inc.unchanged);
  REQUIRE(PublishManifest(a.Options(false), &full).ok());
  CHECK_FALSE(full.unchanged);
}

TEST_CASE("incremental publish: full read when the index or the schema is not the baseline", "[publish_changes]") {
  Archive a;
  a.PublishAndCheck();
  PublishReport r;
  // Someone else's manifest.json (here: the previous one put back after a
  // change) is not the baseline.
  fs::path index = a.root / ".indafoto-sync" / "manifest.json";
  std::string before;
  {
    std::ifstream in(index, std::ios::binary);
    before.assign(std::istreambuf_iterator<char>(in), {});
  }
  a.Exec("UPDATE images SET title = 'x' WHERE id = 1");
  REQUIRE(PublishManifest(a.Options(), &r).ok());
  REQUIRE(r.incremental);
  WriteFile(index, before);
  REQUIRE(PublishManifest(a.Options(), &r).ok());
  CHECK_FALSE(r.incremental);
  CHECK(r.full_reason.find("manifest.json") != std::string::npos);

  // A trigger dropped by hand: schema change, and tracking reinstalled.
  a.Exec("DROP TRIGGER syncd_pub_images_au");
  REQUIRE(PublishManifest(a.Options(), &r).ok());
  CHECK_FALSE(r.incremental);
  a.Exec("UPDATE images SET title = 'y' WHERE id = 2");
  r = a.PublishAndCheck();
  CHECK(r.incremental);
  CHECK(r.parts_read == 1);

  // The periodic full read.
  PublishOptions o = a.Options();
  o.full_interval_seconds = 0;
  REQUIRE(PublishManifest(o, &r).ok());
  CHECK_FALSE(r.incremental);
}

TEST_CASE("incremental publish: a table rebuilt by a migration stays tracked and never breaks writes",
          "[publish_changes]") {
  Archive a;
  a.PublishAndCheck();
  // A migration that rebuilds a table (rename, create, copy, drop): SQLite
  // moves our triggers to the renamed table and drops them with it.
  a.Exec(
      "ALTER TABLE image_tags RENAME TO image_tags_old;"
      "CREATE TABLE image_tags (image_id INTEGER, tag_id INTEGER, PRIMARY KEY (image_id, tag_id));"
      "INSERT INTO image_tags SELECT image_id, tag_id FROM image_tags_old;"
      "DROP TABLE image_tags_old;");
  // The crawler's writes to the other tables still work (no trigger of ours
  // names image_tags).
  a.Exec("INSERT INTO tags (name) VALUES ('after-migration')");
  a.Exec("INSERT INTO image_tags (image_id, tag_id) SELECT 8, id FROM tags WHERE name = 'after-migration'");
  PublishReport r = a.PublishAndCheck();
  CHECK_FALSE(r.incremental);  // schema changed: full read, tracking made again
  // Tracked again on the new table.
  a.Exec("DELETE FROM image_tags WHERE image_id = 9");
  r = a.PublishAndCheck();
  CHECK(r.incremental);
  CHECK(r.parts_read == 1);

  // A rename that leaves our trigger on another table (images_v1) is seen:
  // the trigger is made again on images.
  a.Exec(
      "ALTER TABLE images RENAME TO images_v1;"
      "CREATE TABLE images AS SELECT * FROM images_v1;"
      "DROP TABLE images_v1;");
  r = a.PublishAndCheck();
  CHECK_FALSE(r.incremental);
  a.Exec("UPDATE images SET title = 'after rebuild' WHERE id = 33");
  r = a.PublishAndCheck();
  CHECK(r.incremental);
  CHECK(r.parts_read == 1);
}

TEST_CASE("incremental publish: opening the archive as every command does keeps the baseline",
          "[publish_changes]") {
  // The daemon and every writing command open ArchiveDb (our tables and
  // indexes, IF NOT EXISTS) at start: that must not count as a schema
  // change, or every restart would cost a full read.
  Archive a;
  {
    ArchiveDb first;
    REQUIRE(ArchiveDb::Open(a.db_path, a.root, false, false, &first).ok());  // creates idx_images_sha256 once
  }
  a.PublishAndCheck();
  for (int i = 0; i < 2; ++i) {
    ArchiveDb again;
    REQUIRE(ArchiveDb::Open(a.db_path, a.root, false, false, &again).ok());
  }
  a.Exec("UPDATE images SET title = 'x' WHERE id = 3");
  PublishReport r = a.PublishAndCheck();
  CHECK(r.incremental);
  CHECK(r.parts_read == 1);
}

TEST_CASE("change tracking is not installed on a schema it does not understand", "[publish_changes]") {
  TempDir tmp;
  Database db;
  REQUIRE(Database::Open((tmp.path() / "x.db").string(), Database::Mode::kReadWriteCreate, 1000, &db).ok());
  db.Exec(kCrawlerSchemaSql);
  std::string why;
  bool trackable = false;
  CHECK(IsPublishTrackable(db, &why));
  db.Exec("CREATE UNIQUE INDEX odd ON images(url)");  // a REPLACE could remove rows the triggers never see
  CHECK_FALSE(IsPublishTrackable(db, &why));
  CHECK(why.find("UNIQUE") != std::string::npos);
  REQUIRE(InstallPublishTracking(db, &trackable, &why).ok());
  CHECK_FALSE(trackable);
  CHECK_FALSE(db.HasTable("syncd_publish_dirty"));  // nothing created
}

}  // namespace indafoto
