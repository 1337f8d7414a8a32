#include "lib/catalog/catalog.h"

#include <catch2/catch.hpp>

#include "testing/list_catalog_reader.h"
#include "testing/temp_dir.h"

namespace indafoto {

namespace {

int64_t EntriesOf(CatalogStore& store, const std::string& source) {
  int64_t n = -1;
  REQUIRE(store.Count(source, &n).ok());
  return n;
}

}  // namespace

namespace {

RemoteImage Entry(const std::string& rel, const std::string& title, std::vector<std::string> tags = {}) {
  RemoteImage e;
  e.rel_path = rel;
  e.sha256 = std::string(64, rel[0]);
  e.Set("title", Value::Text(title));
  e.tags = std::move(tags);
  return e;
}

std::vector<std::string> Changed(CatalogStore& store) {
  std::vector<std::string> out;
  REQUIRE(store.ChangedPaths("peer", 100, &out).ok());
  return out;
}

}  // namespace

TEST_CASE("a reload notes exactly the entries whose record changed", "[catalog]") {
  TempDir dir;
  Database db;
  REQUIRE(Database::Open((dir.path() / "state.db").string(), Database::Mode::kReadWriteCreate, 1000, &db).ok());
  CatalogStore store;
  REQUIRE(CatalogStore::Open(&db, &store).ok());
  bool changed = false;

  ListCatalogReader v1("v1", {Entry("a/0/1.jpg", "one"), Entry("b/0/2.jpg", "two"), Entry("c/0/3.jpg", "three")});
  REQUIRE(store.Load("peer", v1, &changed).ok());
  CHECK(changed);
  CHECK(EntriesOf(store, "peer") == 3);
  CHECK(Changed(store).empty());  // a first load changes nothing that was there

  // The same fingerprint is not read again.
  REQUIRE(store.Load("peer", v1, &changed).ok());
  CHECK_FALSE(changed);

  // v2: a unchanged, b got a tag, c is gone, d is new, d listed twice.
  ListCatalogReader v2("v2", {Entry("a/0/1.jpg", "one"), Entry("b/0/2.jpg", "two", {"new tag"}), Entry("d/0/4.jpg", "four"),
                       Entry("d/0/4.jpg", "second listing")});
  REQUIRE(store.Load("peer", v2, &changed).ok());
  CHECK(changed);
  CHECK(EntriesOf(store, "peer") == 3);
  CHECK(Changed(store) == std::vector<std::string>{"b/0/2.jpg"});
  RemoteImage got;
  CHECK(store.FindByPath("peer", "c/0/3.jpg", &got).IsNotFound());
  REQUIRE(store.FindByPath("peer", "d/0/4.jpg", &got).ok());
  CHECK(got.Get("title").ToString() == "four");  // the first listing wins
  REQUIRE(store.FindByPath("peer", "b/0/2.jpg", &got).ok());
  CHECK(got.tags == std::vector<std::string>{"new tag"});

  // A load that fails part way keeps everything as it was, changes included.
  ListCatalogReader broken("v3", {Entry("a/0/1.jpg", "changed"), Entry("e/0/5.jpg", "five")}, /*fail_at_end=*/true);
  CHECK_FALSE(store.Load("peer", broken, &changed).ok());
  CHECK(EntriesOf(store, "peer") == 3);
  CHECK(Changed(store) == std::vector<std::string>{"b/0/2.jpg"});
  REQUIRE(store.FindByPath("peer", "a/0/1.jpg", &got).ok());
  CHECK(got.Get("title").ToString() == "one");

  REQUIRE(store.ForgetChange("peer", "b/0/2.jpg").ok());
  CHECK(Changed(store).empty());

  // A change to an entry that a later load drops is dropped with it.
  ListCatalogReader v4("v4", {Entry("a/0/1.jpg", "one, edited"), Entry("d/0/4.jpg", "four")});
  REQUIRE(store.Load("peer", v4, &changed).ok());
  CHECK(Changed(store) == std::vector<std::string>{"a/0/1.jpg"});
  ListCatalogReader v5("v5", {Entry("d/0/4.jpg", "four")});
  REQUIRE(store.Load("peer", v5, &changed).ok());
  CHECK(Changed(store).empty());
  CHECK(EntriesOf(store, "peer") == 1);
}

}  // namespace indafoto

namespace indafoto {

namespace {

// A ListCatalogReader that carries a publisher sequence, as a manifest does.
class SequencedReader : public ListCatalogReader {
 public:
  SequencedReader(uint64_t sequence, std::string fingerprint, std::vector<RemoteImage> entries)
      : ListCatalogReader(std::move(fingerprint), std::move(entries)), sequence_(sequence) {}
  std::optional<uint64_t> Sequence() const override { return sequence_; }

 private:
  uint64_t sequence_;
};

}  // namespace

TEST_CASE("catalogs only move forward; ForgetSequence starts over", "[catalog]") {
  TempDir dir;
  Database db;
  REQUIRE(Database::Open((dir.path() / "state.db").string(), Database::Mode::kReadWriteCreate, 1000, &db).ok());
  CatalogStore store;
  REQUIRE(CatalogStore::Open(&db, &store).ok());
  bool changed = false;
  SequencedReader v2(2, "m2", {Entry("a/0/1.jpg", "one"), Entry("b/0/2.jpg", "two")});
  REQUIRE(store.Load("peer", v2, &changed).ok());

  SequencedReader v1(1, "m1", {Entry("a/0/1.jpg", "one")});
  Status older = store.Load("peer", v1, &changed);
  CHECK(older.code() == Status::Code::kCorrupt);
  CHECK_THAT(older.message(), Catch::Contains("sequence 1 is older than sequence 2"));
  CHECK(EntriesOf(store, "peer") == 2);

  SequencedReader fork(2, "m2-other", {Entry("c/0/3.jpg", "three")});
  CHECK_THAT(store.Load("peer", fork, &changed).message(), Catch::Contains("sequence 2 was already accepted"));
  CHECK(EntriesOf(store, "peer") == 2);

  // A catalog without a sequence (a remote db) keeps the accepted one.
  ListCatalogReader db_copy("remote-db", {Entry("a/0/1.jpg", "one")});
  REQUIRE(store.Load("peer", db_copy, &changed).ok());
  CHECK(store.Load("peer", v1, &changed).code() == Status::Code::kCorrupt);

  REQUIRE(store.ForgetSequence("peer").ok());
  REQUIRE(store.Load("peer", v1, &changed).ok());
  CHECK(changed);
  CHECK(EntriesOf(store, "peer") == 1);
}

}  // namespace indafoto
