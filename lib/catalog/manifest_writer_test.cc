// Over 450 lines: the writer's tests share one fixture (a crawler database,
// its files, a key) and each checks one rule of docs/manifest.md.
#include "lib/catalog/manifest_writer.h"

#include <sys/stat.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "lib/archive/crawler_schema.h"
#include "lib/catalog/key_pins.h"
#include "lib/catalog/manifest_reader.h"
#include "lib/catalog/part_file.h"
#include "lib/util/sha256.h"
#include "lib/util/sqlite.h"
#include "testing/archive_generator.h"
#include "testing/temp_dir.h"

namespace indafoto {

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
}

// A small crawler archive: indafoto.db next to indafoto_archive/, like the
// crawler leaves it.
struct TestArchive {
  TempDir tmp;
  fs::path db_path = tmp.path() / "indafoto.db";
  fs::path root = tmp.path() / "indafoto_archive";
  fs::path key = tmp.path() / "keys" / "publisher.key";
  Database db;

  explicit TestArchive(bool old_schema = false) {
    fs::create_directories(root);
    REQUIRE(Database::Open(db_path.string(), Database::Mode::kReadWriteCreate, 10000, &db).ok());
    db.Exec("PRAGMA journal_mode=WAL");
    if (old_schema) {
      db.Exec(
          "CREATE TABLE images (id INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT UNIQUE, url TEXT, local_path TEXT, "
          "title, author, author_url, license, camera_make, focal_length, aperture, shutter_speed, taken_date, "
          "page_url);");
    } else {
      db.Exec(kCrawlerSchemaSql);
    }
  }

  // Adds image number `n` by `author` with a real file; returns its row id.
  int64_t Add(int n, const std::string& author = "Kovács Péter", bool store_sha = true,
              std::vector<std::string> tags = {"budapest", "winter"}) {
    std::string rel = author + "/0/image_" + std::to_string(n) + "_20250301_101010_123456.jpg";
    std::string content = "JPEG bytes of image " + std::to_string(n);
    WriteFile(root / rel, content);
    bool old = !db.HasColumn("images", "sha256_hash");
    Statement ins = db.Prepare(
        old ? "INSERT INTO images (uuid, url, local_path, title, author) VALUES (?, ?, ?, ?, ?)"
            : "INSERT INTO images (uuid, url, local_path, title, author, sha256_hash, description) "
              "VALUES (?, ?, ?, ?, ?, ?, ?)");
    ins.Bind(1, "uuid-" + std::to_string(n))
        .Bind(2, "https://indafoto.hu/x/image/" + std::to_string(n))
        .Bind(3, "indafoto_archive/" + rel)
        .Bind(4, "Title " + std::to_string(n))
        .Bind(5, author);
    if (!old) {
      if (store_sha) ins.Bind(6, Sha256Hex(content));
      else ins.BindNull(6);
      ins.Bind(7, "desc");
    }
    ins.Run();
    int64_t id = db.LastInsertRowid();
    for (const auto& t : tags) {
      Statement tag = db.Prepare("INSERT INTO tags (name) VALUES (?) ON CONFLICT(name) DO NOTHING");
      tag.Bind(1, t);
      tag.Run();
      Statement it = db.Prepare("INSERT INTO image_tags (image_id, tag_id) SELECT ?, id FROM tags WHERE name = ?");
      it.Bind(1, id).Bind(2, t);
      it.Run();
    }
    return id;
  }

  PublishOptions Options(int64_t per_part = 10) const {
    PublishOptions o;
    o.database_path = db_path;
    o.image_root = root;
    o.key_path = key;
    o.images_per_part = per_part;
    return o;
  }

  fs::path SyncDir() const { return root / ".indafoto-sync"; }
};

struct ReadBack {
  Database state;
  KeyPins pins;
  std::vector<RemoteImage> entries;
  Status status;
  ManifestPayload payload;
};

void ReadManifest(const fs::path& root, ReadBack* rb) {
  if (!rb->state.is_open()) {
    REQUIRE(Database::Open(":memory:", Database::Mode::kReadWriteCreate, 1000, &rb->state).ok());
    REQUIRE(KeyPins::Open(&rb->state, &rb->pins).ok());
  }
  rb->entries.clear();
  ManifestReader reader(root, "peer", &rb->pins);
  rb->status = reader.ReadAll([&](const RemoteImage& img) {
    rb->entries.push_back(img);
    return Status::Ok();
  });
  rb->payload = reader.payload();
}

// Every file under .indafoto-sync (name -> bytes).
std::map<std::string, std::string> Snapshot(const fs::path& sync_dir) {
  std::map<std::string, std::string> out;
  for (auto& e : fs::recursive_directory_iterator(sync_dir)) {
    if (e.is_regular_file()) out[e.path().lexically_relative(sync_dir).generic_string()] = ReadFile(e.path());
  }
  return out;
}

}  // namespace

TEST_CASE("publish then read back gives the database's images", "[manifest]") {
  TestArchive a;
  std::map<std::string, int64_t> ids;
  for (int n = 1; n <= 25; ++n) a.Add(n, n % 2 ? "Kovács Péter" : "Anna: \"quoted\"", /*store_sha=*/n % 5 != 0);
  a.db.Exec(
      "INSERT INTO albums (album_id, title, url, is_public) VALUES ('a7', 'Nyár', 'https://indafoto.hu/a7', 1);"
      "INSERT INTO image_albums (image_id, album_id) VALUES (3, 1);"
      "INSERT INTO collections (collection_id, title, url, is_public) VALUES ('c9', 'Best', NULL, 0);"
      "INSERT INTO image_collections (image_id, collection_id) VALUES (3, 1);");

  PublishReport r;
  Status s = PublishManifest(a.Options(), &r);
  REQUIRE(s.ok());
  CHECK(r.image_count == 25);
  CHECK(r.rows == 25);
  CHECK(r.hashed == 5);
  CHECK(r.sequence == 1);
  CHECK(r.key_created);
  CHECK(r.parts == 3);  // ids 1-9, 10-19, 20-25

  ReadBack rb;
  ReadManifest(a.root, &rb);
  REQUIRE(rb.status.ok());
  REQUIRE(rb.entries.size() == 25);
  CHECK(rb.payload.image_count == 25);
  CHECK(rb.payload.sequence == 1);

  Statement q = a.db.Prepare("SELECT id, local_path, uuid, title, author, sha256_hash FROM images ORDER BY id");
  size_t i = 0;
  while (q.Step()) {
    const RemoteImage& e = rb.entries.at(i++);
    std::string local = q.Text(1);
    CHECK(e.rel_path == local.substr(std::string("indafoto_archive/").size()));
    std::string content = ReadFile(a.root / e.rel_path);
    CHECK(e.sha256 == Sha256Hex(content));
    CHECK(e.size == static_cast<int64_t>(content.size()));
    CHECK(e.Get("uuid") == Value::Text(q.Text(2)));
    CHECK(e.Get("title") == Value::Text(q.Text(3)));
    CHECK(e.Get("author") == Value::Text(q.Text(4)));
    CHECK(e.Get("sha256_hash") == q.Column(5));  // the column travels as stored
    CHECK(e.tags == std::vector<std::string>{"budapest", "winter"});
    CHECK(e.columns.size() == kImageColumns.size());
    if (q.Int(0) == 3) {
      REQUIRE(e.albums.size() == 1);
      CHECK(e.albums[0].album_id == "a7");
      CHECK(e.albums[0].title == Value::Text("Nyár"));
      CHECK(e.albums[0].is_public == Value::Integer(1));
      REQUIRE(e.collections.size() == 1);
      CHECK(e.collections[0].collection_id == "c9");
      CHECK(e.collections[0].url.is_null());
    } else {
      CHECK(e.albums.empty());
      CHECK(e.collections.empty());
    }
  }
  CHECK(i == 25);
  // Hashing a file never writes its digest into the crawler's database.
  Statement nulls = a.db.Prepare("SELECT count(*) FROM images WHERE sha256_hash IS NULL");
  REQUIRE(nulls.Step());
  CHECK(nulls.Int(0) == 5);
}

TEST_CASE("publish a generated archive with awkward names, opt-outs and old rows", "[manifest]") {
  for (bool old_schema : {false, true}) {
    TempDir tmp;
    ArchiveSpec spec;
    spec.dir = tmp.path() / "archive";
    spec.ids = IdRange(1, 240);
    spec.universe_seed = 7;
    spec.variant = 1;
    spec.file_size = kMinFileSize;
    spec.null_sha_every = 5;
    spec.old_schema = old_schema;
    const std::string banned = UniverseAuthors().at(2);
    spec.banned_authors = {banned};
    GeneratedArchive g;
    REQUIRE(GenerateArchive(spec, &g).ok());

    PublishOptions o;
    o.database_path = g.database;
    o.image_root = g.image_root;
    o.key_path = tmp.path() / "state" / "publisher.key";
    PublishReport r;
    REQUIRE(PublishManifest(o, &r).ok());

    std::map<std::string, const GeneratedImage*> expected;  // by rel path
    int64_t banned_count = 0, unhashed = 0;
    for (const auto& img : g.images) {
      if (FactsFor(img.indafoto_id, spec.universe_seed, spec.file_size).author == banned) {
        ++banned_count;
        continue;
      }
      if (!img.sha256_stored) ++unhashed;
      REQUIRE(img.local_path.rfind("indafoto_archive/", 0) == 0);
      expected[img.local_path.substr(std::string("indafoto_archive/").size())] = &img;
    }
    INFO("old schema: " << old_schema);
    CHECK(banned_count > 0);
    CHECK(r.banned == banned_count);
    CHECK(r.hashed == unhashed);
    CHECK(r.image_count == static_cast<int64_t>(expected.size()));

    ReadBack rb;
    ReadManifest(g.image_root, &rb);
    REQUIRE(rb.status.ok());
    REQUIRE(rb.entries.size() == expected.size());
    for (const auto& e : rb.entries) {
      auto it = expected.find(e.rel_path);
      REQUIRE(it != expected.end());
      CHECK(e.sha256 == it->second->sha256);
      CHECK(e.size == it->second->size);
      CHECK(e.Get("author") != Value::Text(banned));
    }
  }
}

TEST_CASE("publish leaves out banned authors, missing files and paths outside the folder", "[manifest]") {
  TestArchive a;
  for (int n = 1; n <= 6; ++n) a.Add(n);
  for (int n = 7; n <= 9; ++n) a.Add(n, "Opted Out");
  a.db.Exec("INSERT INTO banned_authors (author, reason, banned_by) VALUES ('Opted Out', 'asked', 'admin')");
  // Row 10: its file is gone. Row 11: outside the shared folder. Row 12: a
  // symlink (Syncthing would not send the content). Row 13: NULL path.
  int64_t gone = a.Add(10);
  fs::remove(a.root / "Kovács Péter/0/image_10_20250301_101010_123456.jpg");
  WriteFile(a.tmp.path() / "elsewhere.jpg", "outside");
  a.db.Exec(
      "INSERT INTO images (uuid, url, local_path, author, sha256_hash) VALUES "
      "('u11', 'https://x/11', 'elsewhere.jpg', 'X', NULL),"
      "('u11b', 'https://x/11b', 'indafoto_archive/../elsewhere.jpg', 'X', NULL)");
  fs::create_symlink(a.tmp.path() / "elsewhere.jpg", a.root / "link.jpg");
  a.db.Exec(
      "INSERT INTO images (uuid, url, local_path, author) VALUES ('u12', 'https://x/12', "
      "'indafoto_archive/link.jpg', 'X'), ('u13', 'https://x/13', NULL, 'X')");

  PublishReport r;
  REQUIRE(PublishManifest(a.Options(), &r).ok());
  CHECK(r.rows == 14);
  CHECK(r.banned == 3);
  CHECK(r.no_file == 3);
  CHECK(r.outside_root == 2);
  CHECK(r.image_count == 6);

  ReadBack rb;
  ReadManifest(a.root, &rb);
  REQUIRE(rb.status.ok());
  REQUIRE(rb.entries.size() == 6);
  for (const auto& e : rb.entries) {
    CHECK(e.Get("author") == Value::Text("Kovács Péter"));
    CHECK(e.Get("uuid") != Value::Text("uuid-" + std::to_string(gone)));
  }
}

TEST_CASE("republishing after 1% growth changes only the last part and the index", "[manifest]") {
  TestArchive a;
  for (int n = 1; n <= 200; ++n) a.Add(n);
  PublishReport r1;
  REQUIRE(PublishManifest(a.Options(), &r1).ok());
  CHECK(r1.parts == 21);  // k = 0..20
  auto before = Snapshot(a.SyncDir());
  struct stat st_before;
  fs::path untouched;
  for (const auto& [name, bytes] : before) {
    if (name.rfind("parts/5-", 0) == 0) untouched = a.SyncDir() / name;
  }
  REQUIRE(!untouched.empty());
  REQUIRE(::stat(untouched.c_str(), &st_before) == 0);

  a.Add(201);
  a.Add(202);
  PublishReport r2;
  REQUIRE(PublishManifest(a.Options(), &r2).ok());
  CHECK(r2.sequence == r1.sequence + 1);
  CHECK(r2.image_count == 202);
  CHECK(r2.parts_written == 1);
  CHECK(r2.parts_removed == 0);  // the superseded part 20 stays one generation
  auto after = Snapshot(a.SyncDir());

  std::vector<std::string> changed;  // new or different names/content
  for (const auto& [name, bytes] : after) {
    auto it = before.find(name);
    if (it == before.end() || it->second != bytes) changed.push_back(name);
  }
  REQUIRE(changed.size() == 2);
  CHECK(changed[0] == "manifest.json");
  CHECK(changed[1].rfind("parts/20-", 0) == 0);
  // Every part that existed before is still there, byte for byte, and the
  // untouched ones were not even rewritten.
  for (const auto& [name, bytes] : before) {
    if (name == "manifest.json") continue;
    REQUIRE(after.count(name));
    CHECK(after[name] == bytes);
  }
  struct stat st_after;
  REQUIRE(::stat(untouched.c_str(), &st_after) == 0);
  CHECK(st_after.st_ino == st_before.st_ino);
  CHECK(st_after.st_mtim.tv_nsec == st_before.st_mtim.tv_nsec);
  CHECK(st_after.st_mtim.tv_sec == st_before.st_mtim.tv_sec);

  // Changed bytes relative to the whole manifest are small.
  int64_t changed_bytes = 0;
  for (const auto& n : changed) changed_bytes += static_cast<int64_t>(after[n].size());
  CHECK(changed_bytes * 5 < r2.bytes_total);

  ReadBack rb;
  ReadManifest(a.root, &rb);
  REQUIRE(rb.status.ok());
  CHECK(rb.entries.size() == 202);

  // A metadata change of one image: only its part and the index change.
  a.db.Exec("UPDATE images SET title = 'Retitled' WHERE id = 57");
  PublishReport r3;
  REQUIRE(PublishManifest(a.Options(), &r3).ok());
  CHECK(r3.parts_written == 1);
  // The first generation's part 20 goes now; the second's stays.
  CHECK(r3.parts_removed == 1);
  auto third = Snapshot(a.SyncDir());
  std::vector<std::string> changed3;
  for (const auto& [name, bytes] : third) {
    if (!after.count(name) || after[name] != bytes) changed3.push_back(name);
  }
  REQUIRE(changed3.size() == 2);
  CHECK(changed3[0] == "manifest.json");
  CHECK(changed3[1].rfind("parts/5-", 0) == 0);
}

TEST_CASE("republishing an unchanged archive rewrites nothing", "[manifest]") {
  TestArchive a;
  for (int n = 1; n <= 30; ++n) a.Add(n);
  PublishReport r1, r2;
  REQUIRE(PublishManifest(a.Options(), &r1).ok());
  auto before = Snapshot(a.SyncDir());
  struct stat st1, st2;
  REQUIRE(::stat((a.SyncDir() / "manifest.json").c_str(), &st1) == 0);
  REQUIRE(PublishManifest(a.Options(), &r2).ok());
  CHECK(r2.unchanged);
  CHECK(r2.sequence == r1.sequence);
  CHECK(r2.parts_written == 0);
  CHECK(r2.bytes_written == 0);
  REQUIRE(::stat((a.SyncDir() / "manifest.json").c_str(), &st2) == 0);
  CHECK(st1.st_ino == st2.st_ino);
  CHECK(Snapshot(a.SyncDir()) == before);
}

TEST_CASE("publish over a version 1 manifest compresses every part once, then drops the plain ones", "[manifest]") {
  TestArchive a;
  for (int n = 1; n <= 30; ++n) a.Add(n);
  PublishReport r1;
  REQUIRE(PublishManifest(a.Options(), &r1).ok());
  // Turn it into what an earlier release wrote: plain parts, version 1.
  ReadBack rb;
  ReadManifest(a.root, &rb);
  REQUIRE(rb.status.ok());
  ManifestPayload v1 = rb.payload;
  v1.version = 1;
  const fs::path parts = a.SyncDir() / "parts";
  for (ManifestPart& part : v1.parts) {
    std::string lines;
    PartLineReader reader(2, 1 << 20);
    const std::string packed = ReadFile(parts / part.name);
    REQUIRE(reader.Feed(packed.data(), packed.size(), [&](std::string_view l) {
      lines += std::string(l) + "\n";
      return Status::Ok();
    }).ok());
    fs::remove(parts / part.name);
    part.sha256 = Sha256Hex(lines);
    part.size = static_cast<int64_t>(lines.size());
    int64_t k = 0;
    REQUIRE(PartNumberOf(part.name, &k));
    part.name = std::to_string(k) + "-" + part.sha256.substr(0, 16) + ".jsonl";
    WriteFile(parts / part.name, lines);
  }
  PublisherKey key;
  REQUIRE(PublisherKey::Load(a.key, &key).ok());
  WriteFile(a.SyncDir() / "manifest.json", SignManifest(ManifestPayloadToJson(v1), key));
  ReadBack old;
  ReadManifest(a.root, &old);
  REQUIRE(old.status.ok());
  REQUIRE(old.payload.version == 1);

  // The next publish writes version 2, a sequence later, every part
  // compressed; the plain parts stay one generation for slow peers.
  PublishReport r2;
  REQUIRE(PublishManifest(a.Options(), &r2).ok());
  CHECK(r2.sequence == r1.sequence + 1);
  CHECK(r2.parts_written == r2.parts);
  ReadBack now;
  ReadManifest(a.root, &now);
  REQUIRE(now.status.ok());
  CHECK(now.payload.version == 2);
  CHECK(now.entries.size() == old.entries.size());
  auto count_plain = [&] {
    int n = 0;
    for (auto& e : fs::directory_iterator(parts)) n += e.path().extension() == ".jsonl";
    return n;
  };
  CHECK(count_plain() == static_cast<int>(v1.parts.size()));
  a.Add(31);
  PublishReport r3;
  REQUIRE(PublishManifest(a.Options(), &r3).ok());
  CHECK(count_plain() == 0);
}

TEST_CASE("publish repairs a damaged part file in place of trusting its name", "[manifest]") {
  TestArchive a;
  for (int n = 1; n <= 15; ++n) a.Add(n);
  PublishReport r;
  REQUIRE(PublishManifest(a.Options(), &r).ok());
  fs::path part;
  for (auto& e : fs::directory_iterator(a.SyncDir() / "parts")) {
    if (e.path().filename().string().rfind("1-", 0) == 0) part = e.path();
  }
  std::string good = ReadFile(part);
  std::string bad = good;
  bad[10] ^= 1;
  WriteFile(part, bad);
  // A full read checks every part by hash.
  PublishOptions full = a.Options();
  full.incremental = false;
  REQUIRE(PublishManifest(full, &r).ok());
  CHECK(r.parts_written == 1);
  CHECK(ReadFile(part) == good);

  // An incremental publish reuses unchanged parts unread, but not one
  // modified after the index was written (here: one second later, as any
  // later edit is; damage that keeps size and mtime waits for the periodic
  // full read).
  REQUIRE(PublishManifest(a.Options(), &r).ok());  // records the baseline
  WriteFile(part, bad);
  struct stat ist;
  REQUIRE(::stat((a.SyncDir() / "manifest.json").c_str(), &ist) == 0);
  timespec times[2] = {ist.st_mtim, ist.st_mtim};
  times[1].tv_sec += 1;
  REQUIRE(::utimensat(AT_FDCWD, part.c_str(), times, 0) == 0);
  REQUIRE(PublishManifest(a.Options(), &r).ok());
  CHECK(r.incremental);
  CHECK(r.parts_written == 1);
  CHECK(ReadFile(part) == good);
}

TEST_CASE("publish works on an old crawler database", "[manifest]") {
  TestArchive a(/*old_schema=*/true);
  for (int n = 1; n <= 5; ++n) a.Add(n, "Régi", true, {});
  PublishReport r;
  REQUIRE(PublishManifest(a.Options(), &r).ok());
  CHECK(r.image_count == 5);
  CHECK(r.hashed == 5);
  ReadBack rb;
  ReadManifest(a.root, &rb);
  REQUIRE(rb.status.ok());
  REQUIRE(rb.entries.size() == 5);
  CHECK(rb.entries[0].columns.size() == kImageColumns.size() - kLateImageColumns.size());
  CHECK(rb.entries[0].tags.empty());
  CHECK(IsSha256Hex(rb.entries[0].sha256));
}

TEST_CASE("publish refuses a key inside the shared folder", "[manifest]") {
  TestArchive a;
  a.Add(1);
  PublishOptions o = a.Options();
  o.key_path = a.root / "sub" / "publisher.key";
  PublishReport r;
  Status s = PublishManifest(o, &r);
  CHECK(s.code() == Status::Code::kInvalid);
  CHECK_THAT(s.message(), Catch::Contains("inside the shared folder"));
  CHECK(!fs::exists(o.key_path));
  CHECK(!fs::exists(a.SyncDir() / "manifest.json"));
}

TEST_CASE("publish during crawler writes describes exactly one snapshot", "[manifest]") {
  TestArchive a;
  for (int n = 1; n <= 300; ++n) a.Add(n, "Kovács Péter", /*store_sha=*/n % 3 != 0);

  // The "crawler": its own connection, one image + two tags per transaction.
  std::atomic<bool> stop{false};
  std::atomic<int> inserted{0};
  std::atomic<bool> crawler_failed{false};
  std::thread crawler([&] {
    // No Catch assertions off the main thread: record failure instead.
    try {
      Database w;
      if (!Database::Open(a.db_path.string(), Database::Mode::kReadWrite, 10000, &w).ok()) {
        crawler_failed = true;
        return;
      }
      Statement ins = w.Prepare(
          "INSERT INTO images (uuid, url, local_path, title, author, sha256_hash) "
          "VALUES (?, ?, ?, 't', 'Crawler', ?)");
      Statement rel = w.Prepare(
          "INSERT INTO image_tags (image_id, tag_id) SELECT ?, id FROM tags WHERE name IN ('budapest', 'winter')");
      for (int n = 301; !stop.load(); ++n) {
        std::string rel_path = "Crawler/0/image_" + std::to_string(n) + ".jpg";
        std::string content = "crawled " + std::to_string(n);
        WriteFile(a.root / rel_path, content);
        Transaction t(w);
        ins.Bind(1, "uuid-" + std::to_string(n))
            .Bind(2, "https://x/" + std::to_string(n))
            .Bind(3, "indafoto_archive/" + rel_path)
            .Bind(4, Sha256Hex(content));
        ins.Run();
        rel.Bind(1, w.LastInsertRowid());
        rel.Run();
        t.Commit();
        ++inserted;
      }
    } catch (const std::exception&) {
      crawler_failed = true;
    }
  });

  for (int round = 0; round < 3; ++round) {
    PublishReport r;
    Status s = PublishManifest(a.Options(), &r);
    REQUIRE(s.ok());
    ReadBack rb;
    ReadManifest(a.root, &rb);
    REQUIRE(rb.status.ok());
    CHECK(static_cast<int64_t>(rb.entries.size()) == rb.payload.image_count);
    // A snapshot of a crawler that commits image by image is a prefix: all
    // of 1..M and nothing else, each image with both of its tags.
    std::set<int> numbers;
    for (const auto& e : rb.entries) {
      numbers.insert(std::stoi(e.Get("uuid").text.substr(5)));
      CHECK(e.tags.size() == 2);
    }
    REQUIRE(!numbers.empty());
    CHECK(*numbers.begin() == 1);
    CHECK(static_cast<int>(numbers.size()) == *numbers.rbegin());
    CHECK(r.image_count == static_cast<int64_t>(numbers.size()));
  }
  stop = true;
  crawler.join();
  CHECK(!crawler_failed.load());
  CHECK(inserted.load() > 0);
}

TEST_CASE("two publishers on one folder: the second waits its turn", "[manifest]") {
  TestArchive a;
  a.Add(1);
  ManifestDirWriter first;
  REQUIRE(first.Open(a.root).ok());
  PublishReport r;
  Status s = PublishManifest(a.Options(), &r);
  CHECK(s.code() == Status::Code::kBusy);
}

}  // namespace indafoto
