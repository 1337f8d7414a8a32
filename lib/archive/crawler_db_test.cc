#include "lib/archive/crawler_db.h"

#include <catch2/catch.hpp>

#include "lib/archive/crawler_schema.h"
#include "testing/temp_dir.h"

namespace indafoto {

namespace {

void MakeCrawlerDb(Database* db, const std::filesystem::path& path) {
  REQUIRE(Database::Open(path.string(), Database::Mode::kReadWriteCreate, 1000, db).ok());
  db->Exec(kCrawlerSchemaSql);
  db->Exec(R"sql(
INSERT INTO images (id, url, local_path, author) VALUES
  (1, 'u1', 'indafoto_archive/A/0/image_1.jpg', 'A'),
  (2, 'u2', './indafoto_archive/B/0/image_2.jpg', 'B'),
  (3, 'u3', NULL, 'A');
INSERT INTO tags (id, name, count) VALUES (1, 'sea', 1), (2, NULL, 1);
INSERT INTO image_tags (image_id, tag_id) VALUES (1, 1), (1, 2);
INSERT INTO albums (id, album_id, title) VALUES (1, 'al-1', 'x'), (2, NULL, 'no key');
INSERT INTO image_albums (image_id, album_id) VALUES (1, 1), (1, 2);
INSERT INTO collections (id, collection_id, title) VALUES (1, NULL, 'no key');
INSERT INTO image_collections (image_id, collection_id) VALUES (1, 1);
INSERT INTO banned_authors (author, reason) VALUES ('B', 'opt-out');
)sql");
}

}  // namespace

TEST_CASE("the crawler reader drops relations without a natural key and flags banned authors", "[crawler_db]") {
  TempDir dir;
  Database db;
  MakeCrawlerDb(&db, dir.path() / "indafoto.db");
  CrawlerSchema schema;
  REQUIRE(ProbeCrawlerSchema(db, &schema).ok());
  CHECK(schema.has_tags);
  CHECK(schema.has_banned_authors);
  CHECK(schema.HasColumn("sha256_hash"));
  // The newest row that has a local_path tells the form.
  CHECK(schema.sample_local_path == "./indafoto_archive/B/0/image_2.jpg");

  std::vector<CrawlerRow> rows;
  REQUIRE(ReadCrawlerImages(db, schema, [&](CrawlerRow& row) {
            rows.push_back(row);
            return Status::Ok();
          }).ok());
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].image.tags == std::vector<std::string>{"sea"});
  REQUIRE(rows[0].image.albums.size() == 1);
  CHECK(rows[0].image.albums[0].album_id == "al-1");
  CHECK(rows[0].image.collections.empty());
  CHECK(rows[0].image.Get("url").ToString() == "u1");
  CHECK_FALSE(rows[0].banned);
  CHECK(rows[1].banned);
  CHECK(rows[1].image.columns.empty());  // announced, not read
  CHECK(rows[2].local_path.empty());
}

TEST_CASE("a crawler table with a generated column is refused", "[crawler_db]") {
  TempDir dir;
  Database db;
  REQUIRE(Database::Open((dir.path() / "x.db").string(), Database::Mode::kReadWriteCreate, 1000, &db).ok());
  db.Exec("CREATE TABLE images (id INTEGER PRIMARY KEY, local_path TEXT, url TEXT, "
          "author TEXT GENERATED ALWAYS AS (printf('%.*c', 1000, 'x')) VIRTUAL)");
  CrawlerSchema schema;
  Status s = ProbeCrawlerSchema(db, &schema);
  CHECK(s.code() == Status::Code::kCorrupt);
  CHECK(s.message().find("generated or hidden columns") != std::string::npos);
  Database empty;
  REQUIRE(Database::Open((dir.path() / "y.db").string(), Database::Mode::kReadWriteCreate, 1000, &empty).ok());
  CHECK(ProbeCrawlerSchema(empty, &schema).code() == Status::Code::kCorrupt);
}

TEST_CASE("the crawler reader reads an id range only", "[crawler_db]") {
  TempDir dir;
  Database db;
  MakeCrawlerDb(&db, dir.path() / "indafoto.db");
  CrawlerSchema schema;
  REQUIRE(ProbeCrawlerSchema(db, &schema).ok());
  std::vector<int64_t> ids;
  auto collect = [&](CrawlerRow& row) {
    ids.push_back(row.id);
    return Status::Ok();
  };
  REQUIRE(ReadCrawlerImages(db, schema, 2, 3, collect).ok());
  CHECK(ids == std::vector<int64_t>{2, 3});
  ids.clear();
  REQUIRE(ReadCrawlerImages(db, schema, 1, 1, collect).ok());
  CHECK(ids == std::vector<int64_t>{1});
  ids.clear();
  REQUIRE(ReadCrawlerImages(db, schema, 4, 1000, collect).ok());
  CHECK(ids.empty());
}

}  // namespace indafoto
