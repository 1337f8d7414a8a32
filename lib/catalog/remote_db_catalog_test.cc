// RemoteDbCatalogReader on hostile or damaged remote databases. Several of
// these cases were found by fuzz/remote_db_fuzz.cc; the crashing inputs are
// kept in fuzz/corpus/remote_db/.
#include "lib/catalog/remote_db_catalog.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "lib/catalog/catalog.h"
#include "lib/util/sqlite.h"
#include "testing/temp_dir.h"

namespace indafoto {

namespace {

// A remote indafoto.db holding what `sql` creates.
std::string MakeRemoteDb(const TempDir& dir, const char* sql) {
  std::string path = (dir.path() / "indafoto.db").string();
  Database db;
  REQUIRE(Database::Open(path, Database::Mode::kReadWriteCreate, 1000, &db).ok());
  db.Exec(sql);
  return path;
}

std::vector<RemoteImage> ReadAllOf(const std::string& path, Status* status) {
  RemoteDbCatalogReader reader(path);
  std::vector<RemoteImage> out;
  *status = reader.ReadAll([&](const RemoteImage& img) {
    out.push_back(img);
    return Status::Ok();
  });
  return out;
}

// What the catalog store keeps (RemoteImageToJson) must read back as the
// same record, or the entry is lost or "changed" on every reload.
void CheckStoredRecordReadsBack(const RemoteImage& img) {
  std::string json = RemoteImageToJson(img);
  RemoteImage back;
  INFO(json);
  REQUIRE(RemoteImageFromJson(json, &back).ok());
  CHECK(RemoteImageToJson(back) == json);
}

}  // namespace

TEST_CASE("remote db: a NUL inside an album or collection id survives the catalog record", "[remote_db][fuzz]") {
  // Found by fuzz/remote_db_fuzz.cc: the id "9\0\0" came back from the
  // stored record as "9" (another collection), and the record differed on
  // every reload.
  TempDir dir;
  std::string path = MakeRemoteDb(dir, R"sql(
    CREATE TABLE images (id INTEGER PRIMARY KEY, local_path TEXT, sha256_hash TEXT);
    CREATE TABLE collections (id INTEGER PRIMARY KEY, collection_id TEXT, title TEXT, url TEXT, is_public INTEGER);
    CREATE TABLE image_collections (image_id INTEGER, collection_id INTEGER);
    CREATE TABLE albums (id INTEGER PRIMARY KEY, album_id TEXT, title TEXT, url TEXT, is_public INTEGER);
    CREATE TABLE image_albums (image_id INTEGER, album_id INTEGER);
    INSERT INTO images VALUES (1, 'indafoto_archive/a/0/image_1.jpg', NULL);
    INSERT INTO collections VALUES (1, CAST(x'390000' AS TEXT), CAST(x'7400' AS TEXT), NULL, 1);
    INSERT INTO image_collections VALUES (1, 1);
    INSERT INTO albums VALUES (1, CAST(x'610062' AS TEXT), 'album', NULL, 0);
    INSERT INTO image_albums VALUES (1, 1);
  )sql");
  Status s;
  std::vector<RemoteImage> got = ReadAllOf(path, &s);
  REQUIRE(s.ok());
  REQUIRE(got.size() == 1);
  REQUIRE(got[0].collections.size() == 1);
  CHECK(got[0].collections[0].collection_id == std::string("9\0\0", 3));
  REQUIRE(got[0].albums.size() == 1);
  CHECK(got[0].albums[0].album_id == std::string("a\0b", 3));
  CheckStoredRecordReadsBack(got[0]);

  RemoteImage back;
  REQUIRE(RemoteImageFromJson(RemoteImageToJson(got[0]), &back).ok());
  CHECK(back.collections[0].collection_id == std::string("9\0\0", 3));
  CHECK(back.albums[0].album_id == std::string("a\0b", 3));
}

// Found by review of what fuzz/remote_db_fuzz.cc checks: rapidjson writes
// nothing for an infinite double, so the record read '"focal_length":,' and
// the entry could not be read back (a published manifest with such a value
// in the local database was refused whole by every peer).
TEST_CASE("remote db: an infinite REAL value keeps the catalog record valid JSON", "[remote_db][fuzz]") {
  TempDir dir;
  std::string path = MakeRemoteDb(dir, R"sql(
    CREATE TABLE images (id INTEGER PRIMARY KEY, local_path TEXT, focal_length, aperture, title);
    INSERT INTO images VALUES (1, 'indafoto_archive/a/0/image_1.jpg', 1e999, -1e999, 'ok');
  )sql");
  Status s;
  std::vector<RemoteImage> got = ReadAllOf(path, &s);
  REQUIRE(s.ok());
  REQUIRE(got.size() == 1);
  CheckStoredRecordReadsBack(got[0]);
  CHECK(got[0].Get("title") == Value::Text("ok"));
  // JSON has no infinity: the stored record says null (docs/manifest.md).
  RemoteImage back;
  REQUIRE(RemoteImageFromJson(RemoteImageToJson(got[0]), &back).ok());
  CHECK(back.Get("focal_length").is_null());
  CHECK(back.Get("aperture").is_null());
}

// Found with fuzz/remote_db_fuzz.cc on a hand-made 1 KB input: the reader
// spent minutes and gigabytes computing a generated local_path.
TEST_CASE("remote db: generated columns are refused", "[remote_db][fuzz]") {
  TempDir dir;
  std::string path = MakeRemoteDb(dir, R"sql(
    CREATE TABLE images (id INTEGER PRIMARY KEY, n TEXT,
                         local_path TEXT AS ('indafoto_archive/' || n || printf('%.*c', 900000000, 'x')));
    INSERT INTO images (id, n) VALUES (1, 'a'), (2, 'b'), (3, 'c');
  )sql");
  Status s;
  std::vector<RemoteImage> got = ReadAllOf(path, &s);
  CHECK(s.code() == Status::Code::kCorrupt);
  CHECK_THAT(s.message(), Catch::Contains("generated or hidden columns"));
  CHECK(got.empty());

  TempDir dir2;
  path = MakeRemoteDb(dir2, R"sql(
    CREATE TABLE images (id INTEGER PRIMARY KEY, local_path TEXT);
    CREATE TABLE tags (id INTEGER PRIMARY KEY, name TEXT, big AS (zeroblob(900000000)) STORED);
    CREATE TABLE image_tags (image_id INTEGER, tag_id INTEGER);
    INSERT INTO images VALUES (1, 'indafoto_archive/a/0/image_1.jpg');
  )sql");
  got = ReadAllOf(path, &s);
  CHECK(s.code() == Status::Code::kCorrupt);
  CHECK_THAT(s.message(), Catch::Contains("table tags has generated"));
}

TEST_CASE("remote db: a value over 1 MiB fails the read instead of being loaded", "[remote_db][fuzz]") {
  TempDir dir;
  std::string path = MakeRemoteDb(dir, R"sql(
    CREATE TABLE images (id INTEGER PRIMARY KEY, local_path TEXT, title TEXT);
    INSERT INTO images VALUES (1, 'indafoto_archive/a/0/image_1.jpg', 'fine');
    INSERT INTO images VALUES (2, 'indafoto_archive/a/0/image_2.jpg', printf('%.*c', 2000000, 'x'));
  )sql");
  Status s;
  std::vector<RemoteImage> got = ReadAllOf(path, &s);
  CHECK_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains("too big"));
}

}  // namespace indafoto
