#include "lib/catalog/key_pins.h"

#include <catch2/catch.hpp>

#include "testing/temp_dir.h"

namespace indafoto {

TEST_CASE("key pins: first sight pins, another key is refused with a way out", "[manifest]") {
  TempDir tmp;
  Database db;
  REQUIRE(Database::Open((tmp.path() / "state.db").string(), Database::Mode::kReadWriteCreate, 1000, &db).ok());
  KeyPins pins;
  REQUIRE(KeyPins::Open(&db, &pins).ok());

  CHECK(pins.Get("alice", nullptr, nullptr).IsNotFound());
  REQUIRE(pins.CheckOrPin("alice", "KEY-A").ok());
  std::string key, at;
  REQUIRE(pins.Get("alice", &key, &at).ok());
  CHECK(key == "KEY-A");
  CHECK(at.size() == 20);  // 2025-03-01T10:10:10Z
  CHECK(pins.CheckOrPin("alice", "KEY-A").ok());
  REQUIRE(pins.CheckOrPin("bob", "KEY-B").ok());  // per source

  Status s = pins.CheckOrPin("alice", "KEY-B");
  CHECK(s.code() == Status::Code::kCorrupt);
  CHECK_THAT(s.message(), Catch::Contains("KEY-A"));
  CHECK_THAT(s.message(), Catch::Contains("KEY-B"));
  CHECK_THAT(s.message(), Catch::Contains("indafoto-syncd trust --config FILE --source alice"));
  CHECK_THAT(s.message(), Catch::Contains("DELETE FROM syncd_key_pins WHERE source = 'alice'"));

  // Pins survive reopening the state database.
  db = Database();
  REQUIRE(Database::Open((tmp.path() / "state.db").string(), Database::Mode::kReadWrite, 1000, &db).ok());
  REQUIRE(KeyPins::Open(&db, &pins).ok());
  CHECK(pins.CheckOrPin("alice", "KEY-B").code() == Status::Code::kCorrupt);

  bool removed = false;
  REQUIRE(pins.Unpin("alice", &removed).ok());
  CHECK(removed);
  REQUIRE(pins.Unpin("alice", &removed).ok());
  CHECK(!removed);
  REQUIRE(pins.CheckOrPin("alice", "KEY-B").ok());
  REQUIRE(pins.Get("alice", &key, nullptr).ok());
  CHECK(key == "KEY-B");
}

TEST_CASE("key pins attached read-only check but never pin", "[manifest]") {
  TempDir tmp;
  Database db;
  REQUIRE(Database::Open((tmp.path() / "state.db").string(), Database::Mode::kReadWriteCreate, 1000, &db).ok());
  KeyPins ro;
  KeyPins::AttachReadOnly(&db, &ro);
  CHECK(ro.CheckOrPin("alice", "KEY-A").ok());  // no table yet: nothing pinned
  KeyPins rw;
  REQUIRE(KeyPins::Open(&db, &rw).ok());
  CHECK(ro.CheckOrPin("alice", "KEY-A").ok());
  CHECK(rw.Get("alice", nullptr, nullptr).IsNotFound());
  REQUIRE(rw.CheckOrPin("alice", "KEY-A").ok());
  CHECK(ro.CheckOrPin("alice", "KEY-B").code() == Status::Code::kCorrupt);
  CHECK(ro.Unpin("alice", nullptr).code() == Status::Code::kInvalid);
}

TEST_CASE("key pins inside the caller's transaction roll back with it", "[manifest]") {
  TempDir tmp;
  Database db;
  REQUIRE(Database::Open((tmp.path() / "state.db").string(), Database::Mode::kReadWriteCreate, 1000, &db).ok());
  KeyPins pins;
  REQUIRE(KeyPins::Open(&db, &pins).ok());
  {
    Transaction t(db);
    REQUIRE(pins.CheckOrPin("alice", "KEY-A").ok());
    // no Commit: like CatalogStore::Load when the manifest fails later
  }
  CHECK(pins.Get("alice", nullptr, nullptr).IsNotFound());
}

}  // namespace indafoto
