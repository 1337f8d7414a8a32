#include "lib/catalog/holders.h"

#include <catch2/catch.hpp>

#include "lib/archive/crawler_schema.h"
#include "lib/catalog/catalog.h"
#include "testing/list_catalog_reader.h"
#include "testing/temp_dir.h"

namespace indafoto {

namespace {

std::string Sha(char c) { return std::string(64, c); }

RemoteImage Entry(const std::string& rel, const std::string& sha, const std::string& url) {
  RemoteImage e;
  e.rel_path = rel;
  e.sha256 = sha;
  if (!url.empty()) e.Set("url", Value::Text(url));
  return e;
}

// A local archive (real indafoto.db) and a state database with catalogs,
// both real SQLite files.
struct Fixture {
  TempDir dir;
  Database archive, state;
  CatalogStore store;

  Fixture() {
    REQUIRE(Database::Open((dir.path() / "indafoto.db").string(), Database::Mode::kReadWriteCreate, 1000, &archive)
                .ok());
    archive.Exec(kCrawlerSchemaSql);
    REQUIRE(Database::Open((dir.path() / "state.db").string(), Database::Mode::kReadWriteCreate, 1000, &state).ok());
    REQUIRE(CatalogStore::Open(&state, &store).ok());
  }
  void Local(int64_t id, const std::string& sha, const std::string& url) {
    Statement q = archive.Prepare("INSERT INTO images (id, sha256_hash, url, local_path) VALUES (?, ?, ?, ?)");
    q.Bind(1, id);
    if (sha.empty()) q.BindNull(2);
    else q.Bind(2, sha);
    if (url.empty()) q.BindNull(3);
    else q.Bind(3, url);
    q.Bind(4, "indafoto_archive/a/0/image_" + std::to_string(id) + ".jpg");
    q.Run();
  }
  void Catalog(const std::string& source, std::vector<RemoteImage> entries) {
    ListCatalogReader reader(source + std::to_string(entries.size()), std::move(entries));
    bool changed = false;
    REQUIRE(store.Load(source, reader, &changed).ok());
  }
};

}  // namespace

TEST_CASE("ClassifyHolderQuery tells ids, sha256 digests and urls apart", "[holders]") {
  CHECK(ClassifyHolderQuery("1234") == HolderQueryKind::kId);
  CHECK(ClassifyHolderQuery(Sha('a')) == HolderQueryKind::kSha256);
  CHECK(ClassifyHolderQuery(std::string(64, 'A')) == HolderQueryKind::kSha256);
  CHECK(ClassifyHolderQuery(std::string(64, '1')) == HolderQueryKind::kSha256);  // 64 digits: a digest, not an id
  CHECK(ClassifyHolderQuery("https://indafoto.hu/x/image/1") == HolderQueryKind::kUrl);
  CHECK(ClassifyHolderQuery(std::string(63, 'a')) == HolderQueryKind::kUrl);
  CHECK(ClassifyHolderQuery("") == HolderQueryKind::kUrl);
}

TEST_CASE("whereis finds this archive and every catalog listing the image by sha256 or url", "[holders]") {
  Fixture f;
  f.Local(7, Sha('a'), "https://i/7");
  f.Local(8, Sha('b'), "https://i/8");
  f.Catalog("alice", {Entry("x/a.jpg", Sha('a'), "https://other/url"), Entry("x/b.jpg", Sha('b'), "https://i/8")});
  // bob lists id 7 under its url only (another sha256: the same image as
  // far as identity goes), and an unrelated image.
  f.Catalog("bob", {Entry("y/7.jpg", Sha('c'), "https://i/7"), Entry("y/z.jpg", Sha('d'), "https://i/z")});
  f.Catalog("carol", {Entry("z/z.jpg", Sha('d'), "https://i/z")});
  Holders h(&f.archive, &f.state);

  WhereIs w;
  REQUIRE(h.Find("7", &w).ok());
  CHECK(w.kind == HolderQueryKind::kId);
  REQUIRE(w.local.size() == 1);
  CHECK(w.local[0].id == 7);
  CHECK(w.local[0].sha256 == Sha('a'));
  REQUIRE(w.holdings.size() == 2);
  CHECK(w.holdings[0].source == "alice");
  CHECK(w.holdings[0].rel_path == "x/a.jpg");
  CHECK(w.holdings[0].matched_by == "sha256");
  CHECK(w.holdings[1].source == "bob");
  CHECK(w.holdings[1].rel_path == "y/7.jpg");
  CHECK(w.holdings[1].matched_by == "url");
  CHECK(w.archives == 3);

  // By sha256 (upper case accepted), by url.
  REQUIRE(h.Find(std::string(64, 'B'), &w).ok());
  CHECK(w.kind == HolderQueryKind::kSha256);
  REQUIRE(w.local.size() == 1);
  CHECK(w.local[0].id == 8);
  REQUIRE(w.holdings.size() == 1);
  CHECK(w.holdings[0].source == "alice");
  CHECK(w.holdings[0].rel_path == "x/b.jpg");
  CHECK(w.archives == 2);

  // Not local, held elsewhere: the catalogs answer for the query itself.
  REQUIRE(h.Find("https://i/z", &w).ok());
  CHECK(w.local.empty());
  REQUIRE(w.holdings.size() == 2);
  CHECK(w.holdings[0].source == "bob");
  CHECK(w.holdings[1].source == "carol");
  CHECK(w.archives == 2);

  // Nowhere.
  REQUIRE(h.Find("99", &w).ok());
  CHECK(w.local.empty());
  CHECK(w.holdings.empty());
  CHECK(w.archives == 0);
  REQUIRE(h.Find(Sha('e'), &w).ok());
  CHECK(w.archives == 0);
}

TEST_CASE("whereis lists one holding per path even when sha256 and url both match", "[holders]") {
  Fixture f;
  f.Local(1, Sha('a'), "https://i/1");
  f.Catalog("alice", {Entry("p/1.jpg", Sha('a'), "https://i/1")});
  Holders h(&f.archive, &f.state);
  WhereIs w;
  REQUIRE(h.Find("1", &w).ok());
  REQUIRE(w.holdings.size() == 1);
  CHECK(w.holdings[0].matched_by == "sha256");
  CHECK(w.archives == 2);
}

TEST_CASE("copies counts local images by holders and lists those below N", "[holders]") {
  Fixture f;
  f.Local(1, Sha('1'), "https://i/1");  // here + alice (sha) + bob (url) = 3
  f.Local(2, Sha('2'), "https://i/2");  // here + alice = 2
  f.Local(3, Sha('3'), "https://i/3");  // here alone
  f.Local(4, "", "https://i/4");        // no sha256 recorded; bob by url = 2
  f.Local(5, "", "");                   // nothing to match by: here alone
  f.Catalog("alice", {Entry("a/1", Sha('1'), ""), Entry("a/2", Sha('2'), "https://elsewhere/2"),
                      Entry("a/x", Sha('9'), "https://i/9")});
  f.Catalog("bob", {Entry("b/1", Sha('8'), "https://i/1"), Entry("b/4", Sha('7'), "https://i/4")});
  f.Catalog("empty", {});  // a source with no entries is no archive that holds anything
  Holders h(&f.archive, &f.state);

  for (bool attach : {false, true}) {
    DYNAMIC_SECTION((attach ? "attached" : "stepwise")) {
      CopiesOptions o;
      o.attach = attach;
      o.state_path = (f.dir.path() / "state.db").string();
      std::vector<std::pair<int64_t, int64_t>> listed;
      std::vector<std::vector<std::string>> listed_sources;
      CopiesReport r;
      REQUIRE(h.Copies(o,
                       [&](const LocalImageRef& img, int64_t holders, const std::vector<std::string>& sources) {
                         listed.emplace_back(img.id, holders);
                         listed_sources.push_back(sources);
                       },
                       &r)
                  .ok());
      CHECK(r.local_images == 5);
      CHECK(r.by_holders == std::map<int64_t, int64_t>{{1, 2}, {2, 2}, {3, 1}});
      CHECK(r.by_source == std::map<std::string, int64_t>{{"alice", 2}, {"bob", 2}});
      CHECK(listed == std::vector<std::pair<int64_t, int64_t>>{{3, 1}, {5, 1}});
      CHECK(r.listed == 2);

      o.below = 3;
      listed.clear();
      listed_sources.clear();
      REQUIRE(h.Copies(o,
                       [&](const LocalImageRef& img, int64_t holders, const std::vector<std::string>& sources) {
                         listed.emplace_back(img.id, holders);
                         listed_sources.push_back(sources);
                       },
                       &r)
                  .ok());
      CHECK(listed == std::vector<std::pair<int64_t, int64_t>>{{2, 2}, {3, 1}, {4, 2}, {5, 1}});
      REQUIRE(listed_sources.size() == 4);
      CHECK(listed_sources[0] == std::vector<std::string>{"alice"});
      CHECK(listed_sources[2] == std::vector<std::string>{"bob"});
    }
  }
}

TEST_CASE("copies and whereis work without any catalog tables (a fresh state database)", "[holders]") {
  TempDir dir;
  Database archive, state;
  REQUIRE(Database::Open((dir.path() / "indafoto.db").string(), Database::Mode::kReadWriteCreate, 1000, &archive).ok());
  archive.Exec(kCrawlerSchemaSql);
  archive.Exec("INSERT INTO images (id, sha256_hash, url) VALUES (1, NULL, 'u')");
  REQUIRE(Database::Open((dir.path() / "state.db").string(), Database::Mode::kReadWriteCreate, 1000, &state).ok());
  Holders h(&archive, &state);
  CopiesReport r;
  REQUIRE(h.Copies(CopiesOptions(), nullptr, &r).ok());
  CHECK(r.local_images == 1);
  CHECK(r.by_holders == std::map<int64_t, int64_t>{{1, 1}});
  WhereIs w;
  REQUIRE(h.Find("u", &w).ok());
  CHECK(w.archives == 1);
}

}  // namespace indafoto
