#include "testing/archive_generator.h"

#include <openssl/evp.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "lib/archive/layout.h"
#include "lib/util/sqlite.h"
#include "testing/temp_dir.h"

namespace indafoto {
namespace {

namespace fs = std::filesystem;

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Independent of lib/sha256 on purpose: the generator uses that one.
std::string EvpSha256Hex(const std::string& data) {
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  REQUIRE(EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1);
  REQUIRE(EVP_DigestUpdate(ctx.get(), data.data(), data.size()) == 1);
  REQUIRE(EVP_DigestFinal_ex(ctx.get(), md, &n) == 1);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < n; ++i) {
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 15];
  }
  return out;
}

Database OpenDb(const fs::path& dir) {
  Database db;
  Status s = Database::Open((dir / "indafoto.db").string(), Database::Mode::kReadOnly, 1000, &db);
  REQUIRE(s.ok());
  return db;
}

struct Row {
  int64_t id;
  std::string url, uuid, author, local_path;
  Value sha, description, camera_model;
};

// Rows keyed by url (the natural identity shared between archives).
std::map<std::string, Row> RowsByUrl(Database& db, bool late_columns = true) {
  std::map<std::string, Row> rows;
  Statement s = db.Prepare(late_columns
                               ? "SELECT id, url, uuid, author, local_path, sha256_hash, description, "
                                 "camera_model FROM images"
                               : "SELECT id, url, uuid, author, local_path FROM images");
  while (s.Step()) {
    Row r{s.Int(0), s.Text(1), s.Text(2), s.Text(3), s.Text(4), {}, {}, {}};
    if (late_columns) {
      r.sha = s.Column(5);
      r.description = s.Column(6);
      r.camera_model = s.Column(7);
    }
    rows[r.url] = r;
  }
  return rows;
}

std::set<std::string> TagsOf(Database& db, int64_t image_id) {
  std::set<std::string> tags;
  Statement s = db.Prepare(
      "SELECT t.name FROM image_tags it JOIN tags t ON t.id = it.tag_id WHERE it.image_id = ?");
  s.Bind(1, image_id);
  while (s.Step()) tags.insert(s.Text(0));
  return tags;
}

int64_t CountOf(Database& db, const char* sql) {
  Statement s = db.Prepare(sql);
  REQUIRE(s.Step());
  return s.Int(0);
}

// Everything a database holds that generation decides, as text.
std::string Dump(Database& db) {
  std::string out;
  for (const char* sql :
       {"SELECT * FROM images ORDER BY id", "SELECT * FROM tags ORDER BY id",
        "SELECT * FROM image_tags ORDER BY image_id, tag_id", "SELECT * FROM albums ORDER BY id",
        "SELECT * FROM image_albums ORDER BY image_id, album_id",
        "SELECT * FROM collections ORDER BY id",
        "SELECT * FROM image_collections ORDER BY image_id, collection_id",
        "SELECT * FROM banned_authors ORDER BY id"}) {
    Statement s = db.Prepare(sql);
    while (s.Step()) {
      for (int i = 0; i < s.ColumnCount(); ++i) out += (s.IsNull(i) ? "<null>" : s.Text(i)) + "|";
      out += "\n";
    }
  }
  return out;
}

// The first `n` ids after the per-id author block that belong to the heavy
// author, so a test can fill that author's folder to an exact count.
std::vector<int64_t> HeavyAuthorIds(size_t n, uint64_t seed) {
  std::vector<int64_t> ids;
  const std::string heavy = UniverseAuthors()[0];
  for (int64_t id = static_cast<int64_t>(UniverseAuthors().size()) + 1; ids.size() < n; ++id) {
    if (FactsFor(id, seed, kMinFileSize).author == heavy) ids.push_back(id);
  }
  return ids;
}

}  // namespace

TEST_CASE("FactsFor is deterministic and distinct per id", "[generator]") {
  ImageFacts a = FactsFor(1234, 7);
  ImageFacts again = FactsFor(1234, 7);
  ImageFacts other = FactsFor(1235, 7);
  ImageFacts other_seed = FactsFor(1234, 8);
  CHECK(a.url == again.url);
  CHECK(a.uuid == again.uuid);
  CHECK(a.sha256 == again.sha256);
  CHECK(a.sha256 != other.sha256);
  CHECK(a.sha256 != other_seed.sha256);
  CHECK(a.uuid != other.uuid);
  CHECK(std::regex_match(a.url, std::regex(R"(https://indafoto\.hu/[a-z0-9_]+/image/1234-[0-9a-f]{8})")));
  CHECK(std::regex_match(a.uuid, std::regex(R"([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12})")));
  CHECK(std::regex_match(a.file_name, std::regex(R"(image_1234_\d{8}_\d{6}_\d{6}\.jpg)")));
  CHECK(a.author_folder == AuthorFolderName(a.author));
  CHECK(a.Column("url") == Value::Text(a.url));
  CHECK(a.Column("sha256_hash") == Value::Text(a.sha256));
  CHECK(a.Column("no_such_column").is_null());

  std::string bytes = FileBytesFor(1234, 7);
  CHECK(bytes.size() == static_cast<size_t>(kDefaultFileSize));
  CHECK(bytes.substr(0, 2) == "\xFF\xD8");
  CHECK(bytes.substr(bytes.size() - 2) == "\xFF\xD9");
  CHECK(EvpSha256Hex(bytes) == a.sha256);
  CHECK(FileBytesFor(1234, 7, 4096, 1) != bytes);
  // Even minimum-size files differ per id: the id is embedded.
  CHECK(FileBytesFor(1, 7, kMinFileSize) != FileBytesFor(2, 7, kMinFileSize));
  CHECK(FileBytesFor(1, 7, 1).size() == static_cast<size_t>(kMinFileSize));

  // Variant 0 is canonical; another variant keeps identity, changes the rest.
  ImageFacts v0 = ArchiveView(a, 7, 0, 25);
  CHECK(v0.file_name == a.file_name);
  CHECK(v0.tags.size() == a.tags.size());
  ImageFacts v1 = ArchiveView(a, 7, 1, 100);
  CHECK(v1.url == a.url);
  CHECK(v1.sha256 == a.sha256);
  CHECK(v1.tags.size() + 1 == a.tags.size());
  CHECK(v1.file_name != a.file_name);
  CHECK(v1.Column("description").IsMissing());
}

TEST_CASE("the universe holds awkward authors and tags", "[generator]") {
  const auto& authors = UniverseAuthors();
  std::set<std::string> names(authors.begin(), authors.end());
  CHECK(names.count("Kovács Péter"));
  CHECK(names.count("Örs Ünőke"));
  CHECK(names.count(".."));
  CHECK(names.count(" Szabó Éva "));
  std::string specials;
  for (const auto& a : authors) specials += a;
  for (char c : std::string("/:?*\"<>|\\")) CHECK(specials.find(c) != std::string::npos);

  const auto& vocab = TagVocabulary();
  CHECK(vocab.size() == 200);
  CHECK(std::set<std::string>(vocab.begin(), vocab.end()).size() == vocab.size());
  bool single = false, dbl = false, comma = false, emoji = false;
  for (const auto& t : vocab) {
    single = single || t.find('\'') != std::string::npos;
    dbl = dbl || t.find('"') != std::string::npos;
    comma = comma || t.find(',') != std::string::npos;
    emoji = emoji || t.find("\xF0\x9F") != std::string::npos;
  }
  CHECK((single && dbl && comma && emoji));
}

TEST_CASE("files are where local_path says and match sha256_hash", "[generator]") {
  TempDir tmp;
  ArchiveSpec spec;
  spec.dir = tmp.path() / "a";
  spec.ids = IdRange(1, 300);
  spec.null_sha_every = 10;
  spec.banned_authors = {"Nagy:Anna", "Robert'); DROP TABLE banned_authors;--"};
  GeneratedArchive g;
  REQUIRE(GenerateArchive(spec, &g).ok());
  CHECK(g.images_added == 300);
  CHECK(g.files_written == 300);
  CHECK(g.bytes_written == 300 * kDefaultFileSize);
  REQUIRE(g.images.size() == 300);

  Database db = OpenDb(spec.dir);
  {
    Statement mode = db.Prepare("PRAGMA journal_mode");
    REQUIRE(mode.Step());
    CHECK(mode.Text(0) == "wal");
  }
  int nulls = 0;
  Statement s = db.Prepare("SELECT local_path, sha256_hash, uuid, title, author_url, license, "
                           "camera_make, focal_length, aperture, shutter_speed, taken_date, "
                           "page_url, upload_date, metadata_updated FROM images");
  int rows = 0;
  while (s.Step()) {
    ++rows;
    std::string local_path = s.Text(0);
    CHECK(local_path.rfind("indafoto_archive/", 0) == 0);
    CHECK(IsSafeRelativePath(local_path));
    fs::path file = spec.dir / local_path;
    REQUIRE(fs::is_regular_file(file));
    std::string bytes = ReadAll(file);
    CHECK(bytes.substr(0, 2) == "\xFF\xD8");
    if (s.IsNull(1)) {
      ++nulls;
    } else {
      CHECK(s.Text(1) == EvpSha256Hex(bytes));
    }
    for (int i = 2; i < s.ColumnCount(); ++i) CHECK_FALSE(s.IsNull(i));
  }
  CHECK(rows == 300);
  CHECK(nulls == 30);
  for (const GeneratedImage& img : g.images) CHECK(EvpSha256Hex(ReadAll(spec.dir / img.local_path)) == img.sha256);

  // Relations: tags with counts, shared albums and collections.
  CHECK(CountOf(db, "SELECT COUNT(*) FROM image_tags") >= 3 * 300);
  CHECK(CountOf(db, "SELECT COUNT(*) FROM tags WHERE count IS NULL OR count <= 0") == 0);
  CHECK(CountOf(db, "SELECT COUNT(*) FROM (SELECT album_id FROM image_albums GROUP BY album_id "
                    "HAVING COUNT(*) > 1)") > 0);
  CHECK(CountOf(db, "SELECT COUNT(*) FROM (SELECT collection_id FROM image_collections "
                    "GROUP BY collection_id HAVING COUNT(*) > 1)") > 0);
  CHECK(CountOf(db, "SELECT COUNT(*) FROM albums WHERE title IS NULL OR url IS NULL") == 0);
  CHECK(CountOf(db, "SELECT COUNT(*) FROM banned_authors") == 2);
  Statement tag = db.Prepare("SELECT 1 FROM tags WHERE name = ?");
  tag.Bind(1, "Robert'); DROP TABLE tags;--");
  CHECK(tag.Step());
}

TEST_CASE("author folders are sanitised and numbered per 1000 files", "[generator]") {
  TempDir tmp;
  ArchiveSpec spec;
  spec.dir = tmp.path() / "big";
  spec.ids = IdRange(1, 3000);
  spec.file_size = kMinFileSize;
  spec.record_images = false;
  REQUIRE(GenerateArchive(spec, nullptr).ok());

  Database db = OpenDb(spec.dir);
  std::map<std::string, int64_t> files_in_folder;
  std::set<std::string> authors_seen;
  int64_t max_subfolder = 0;
  const std::regex path_re(R"(indafoto_archive/([^/]+)/(\d+)/image_(\d+)_\d{8}_\d{6}_\d{6}\.jpg)");
  Statement s = db.Prepare("SELECT url, author, local_path FROM images ORDER BY id");
  while (s.Step()) {
    std::string author = s.Text(1), local_path = s.Text(2);
    authors_seen.insert(author);
    std::smatch m;
    REQUIRE(std::regex_match(local_path, m, path_re));
    CHECK(m[1].str() == AuthorFolderName(author));
    CHECK(m[1].str().find_first_of("<>:\"\\|?*") == std::string::npos);
    CHECK(m[1].str() != "..");
    CHECK(s.Text(0).find("/image/" + m[3].str() + "-") != std::string::npos);
    int64_t& before = files_in_folder[m[1].str()];
    CHECK(std::stoll(m[2].str()) == before / 1000);
    max_subfolder = std::max<int64_t>(max_subfolder, std::stoll(m[2].str()));
    ++before;
    CHECK(fs::is_regular_file(spec.dir / local_path));
  }
  CHECK(max_subfolder >= 1);
  CHECK(files_in_folder["Kovács Péter"] > 1000);
  CHECK(fs::is_directory(spec.dir / "indafoto_archive" / "Kovács Péter" / "1"));
  // Every author of the universe appears (ids 1..20 are one each), with
  // the awkward names sanitised as the crawler does.
  CHECK(authors_seen.size() == UniverseAuthors().size());
  CHECK(fs::is_directory(spec.dir / "indafoto_archive" / "__"));
  CHECK(fs::is_directory(spec.dir / "indafoto_archive" / " Szabó Éva "));
  CHECK(fs::is_directory(spec.dir / "indafoto_archive" / "Nagy_Kis_ Anna_"));
  CHECK(fs::is_directory(spec.dir / "indafoto_archive" / "a_b_c_d_e_f_g"));
  CHECK(fs::is_directory(spec.dir / "indafoto_archive" / "Örs Ünőke"));
  // "Nagy:Anna" and "Nagy?Anna" share one folder and one count.
  CHECK(CountOf(db, "SELECT COUNT(*) FROM images WHERE author IN ('Nagy:Anna', 'Nagy?Anna')") ==
        files_in_folder["Nagy_Anna"]);
}

TEST_CASE("a pair overlaps: same content for shared ids, differing tags", "[generator]") {
  TempDir tmp;
  PairOptions o;
  o.a_count = 60;
  o.b_count = 50;
  o.overlap = 20;
  o.b_banned_authors = {"Kovács Péter"};
  GeneratedArchive ga, gb;
  REQUIRE(GeneratePair(tmp.path() / "a", tmp.path() / "b", o, &ga, &gb).ok());
  CHECK(ga.images_added == 60);
  CHECK(gb.images_added == 50);

  Database a = OpenDb(tmp.path() / "a");
  Database b = OpenDb(tmp.path() / "b");
  auto rows_a = RowsByUrl(a), rows_b = RowsByUrl(b);
  int shared = 0, blank_differs = 0, rekeyed = 0;
  for (const auto& [url, ra] : rows_a) {
    auto it = rows_b.find(url);
    if (it == rows_b.end()) continue;
    const Row& rb = it->second;
    ++shared;
    CHECK(ra.uuid == rb.uuid);
    CHECK(ra.author == rb.author);
    CHECK(ra.sha == rb.sha);
    CHECK(ReadAll(tmp.path() / "a" / ra.local_path) == ReadAll(tmp.path() / "b" / rb.local_path));
    // Each crawler fetched the file at its own time.
    CHECK(fs::path(ra.local_path).filename() != fs::path(rb.local_path).filename());
    std::set<std::string> ta = TagsOf(a, ra.id), tb = TagsOf(b, rb.id);
    std::set<std::string> all = ta;
    all.insert(tb.begin(), tb.end());
    CHECK(ta != tb);
    CHECK(all.size() > ta.size());
    CHECK(all.size() > tb.size());
    if (ra.description.IsMissing() != rb.description.IsMissing() ||
        ra.camera_model.IsMissing() != rb.camera_model.IsMissing())
      ++blank_differs;
    if (ra.id != rb.id) ++rekeyed;
  }
  CHECK(shared == 20);
  CHECK(blank_differs > 0);
  CHECK(rekeyed == 20);
  CHECK(rows_b.size() - 20 == 30);
  CHECK(CountOf(a, "SELECT COUNT(*) FROM banned_authors") == 0);
  CHECK(CountOf(b, "SELECT COUNT(*) FROM banned_authors WHERE author = 'Kovács Péter'") == 1);

  PairOptions bad = o;
  bad.overlap = 61;
  CHECK(GeneratePair(tmp.path() / "c", tmp.path() / "d", bad).code() == Status::Code::kInvalid);
}

TEST_CASE("an old-schema archive lacks the late columns", "[generator]") {
  TempDir tmp;
  PairOptions o;
  o.a_count = 30;
  o.b_count = 30;
  o.overlap = 10;
  o.b_old_schema = true;
  GeneratedArchive gb;
  REQUIRE(GeneratePair(tmp.path() / "a", tmp.path() / "b", o, nullptr, &gb).ok());
  Database a = OpenDb(tmp.path() / "a");
  Database b = OpenDb(tmp.path() / "b");
  for (std::string_view col : kLateImageColumns) {
    CHECK(a.HasColumn("images", std::string(col)));
    CHECK_FALSE(b.HasColumn("images", std::string(col)));
  }
  CHECK(b.HasColumn("images", "page_url"));
  auto rows = RowsByUrl(b, /*late_columns=*/false);
  CHECK(rows.size() == 30);
  for (const GeneratedImage& img : gb.images) {
    CHECK_FALSE(img.sha256_stored);
    CHECK(EvpSha256Hex(ReadAll(tmp.path() / "b" / img.local_path)) == img.sha256);
  }
  CHECK(CountOf(b, "SELECT COUNT(*) FROM image_tags") > 0);
}

TEST_CASE("generation is deterministic for a seed", "[generator]") {
  TempDir tmp;
  auto make = [&](const std::string& name, uint64_t seed) {
    ArchiveSpec spec;
    spec.dir = tmp.path() / name;
    spec.ids = IdRange(1, 120);
    spec.universe_seed = seed;
    spec.variant = 3;
    spec.null_sha_every = 7;
    spec.altered_ids = {5, 6};
    spec.banned_authors = {".."};
    GeneratedArchive g;
    REQUIRE(GenerateArchive(spec, &g).ok());
    return g;
  };
  GeneratedArchive x = make("x", 42), y = make("y", 42), z = make("z", 43);
  Database dx = OpenDb(x.dir), dy = OpenDb(y.dir), dz = OpenDb(z.dir);
  CHECK(Dump(dx) == Dump(dy));
  CHECK(Dump(dx) != Dump(dz));
  REQUIRE(x.images.size() == y.images.size());
  for (size_t i = 0; i < x.images.size(); ++i) {
    CHECK(x.images[i].local_path == y.images[i].local_path);
    CHECK(ReadAll(x.dir / x.images[i].local_path) == ReadAll(y.dir / y.images[i].local_path));
  }
  // Altered ids carry other content than the universe's, with a matching hash.
  for (const GeneratedImage& img : x.images) {
    bool altered = img.indafoto_id == 5 || img.indafoto_id == 6;
    CHECK((img.sha256 != FactsFor(img.indafoto_id, 42).sha256) == altered);
    CHECK(EvpSha256Hex(ReadAll(x.dir / img.local_path)) == img.sha256);
  }
}

TEST_CASE("AppendImages continues like the running crawler", "[generator]") {
  TempDir tmp;
  // 999 files of the heavy author: the next one still goes to /0/, the one
  // after it opens /1/.
  std::vector<int64_t> heavy = HeavyAuthorIds(1001, 1);
  ArchiveSpec spec;
  spec.dir = tmp.path() / "a";
  spec.ids.assign(heavy.begin(), heavy.begin() + 999);
  spec.file_size = kMinFileSize;
  REQUIRE(GenerateArchive(spec, nullptr).ok());

  AppendOptions o;
  o.file_size = kMinFileSize;
  std::vector<int64_t> ids = {heavy[997], heavy[998], heavy[999], heavy[1000], 1, 2};  // 2 present
  GeneratedArchive g;
  REQUIRE(AppendImages(spec.dir, ids, o, &g).ok());
  CHECK(g.images_skipped == 2);
  CHECK(g.images_added == 4);
  REQUIRE(g.images.size() == 4);
  CHECK(g.images[0].local_path.rfind("indafoto_archive/Kovács Péter/0/", 0) == 0);
  CHECK(g.images[1].local_path.rfind("indafoto_archive/Kovács Péter/1/", 0) == 0);
  // Id 1 belongs to the heavy author too (ids 1..20 go one per author).
  CHECK(g.images[2].local_path.rfind("indafoto_archive/Kovács Péter/1/", 0) == 0);
  CHECK(g.images[3].local_path.rfind("indafoto_archive/Örs Ünőke/0/", 0) == 0);
  for (const GeneratedImage& img : g.images)
    CHECK(EvpSha256Hex(ReadAll(spec.dir / img.local_path)) == img.sha256);

  Database db = OpenDb(spec.dir);
  CHECK(CountOf(db, "SELECT COUNT(*) FROM images") == 1003);
  int64_t tmp_files = 0, files = 0;
  for (const auto& e : fs::recursive_directory_iterator(spec.dir / "indafoto_archive")) {
    if (!e.is_regular_file()) continue;
    ++files;
    if (e.path().extension() == ".tmp") ++tmp_files;
  }
  CHECK(files == 1003);
  CHECK(tmp_files == 0);

  // The default overload: canonical facts, seed only.
  REQUIRE(AppendImages(spec.dir, {5000000}, 1).ok());
  CHECK(CountOf(db, "SELECT COUNT(*) FROM images") == 1004);
  CHECK(AppendImages(tmp.path() / "missing", {1}, 1).IsNotFound());
}

TEST_CASE("GenerateArchive rejects bad specs", "[generator]") {
  TempDir tmp;
  ArchiveSpec spec;
  spec.dir = tmp.path() / "a";
  spec.ids = {1, 2, 2};
  CHECK(GenerateArchive(spec, nullptr).code() == Status::Code::kInvalid);
  spec.ids = {0};
  CHECK(GenerateArchive(spec, nullptr).code() == Status::Code::kInvalid);
  spec.ids = {1};
  spec.file_size = kMinFileSize - 1;
  CHECK(GenerateArchive(spec, nullptr).code() == Status::Code::kInvalid);
  spec.file_size = kDefaultFileSize;
  REQUIRE(GenerateArchive(spec, nullptr).ok());
  // An existing database is never overwritten.
  CHECK(GenerateArchive(spec, nullptr).code() == Status::Code::kInvalid);
}

}  // namespace indafoto
