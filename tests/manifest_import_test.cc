// The manifest path end to end: B publishes, its folder (with the manifest
// inside) is delivered to A, and A imports with no copy of B's database.
#include <catch2/catch.hpp>

#include "tests/import_fixture.h"

namespace indafoto {

namespace fs = std::filesystem;

namespace {

PairOptions Pair() {
  PairOptions o;
  o.a_count = 90;
  o.b_count = 90;
  o.overlap = 30;
  o.universe_seed = 11;
  return o;
}


}  // namespace

TEST_CASE("importing through the manifest gives the same result as through remote_db_path", "[manifest][import]") {
  ImportFixture with_db(Pair());
  REQUIRE(with_db.Run("import").exit_code == 0);

  ImportFixture with_manifest(Pair());
  ProcessResult pub = with_manifest.PublishB();
  INFO(pub.output);
  REQUIRE(pub.exit_code == 0);
  CHECK(fs::exists(with_manifest.b_dir / "indafoto_archive" / ".indafoto-sync" / "manifest.json"));
  // The publisher's key lives outside the shared folder, owner-only.
  CHECK((fs::status(with_manifest.tmp.path() / "B-state" / "publisher.key").permissions() &
         (fs::perms::group_all | fs::perms::others_all)) == fs::perms::none);
  fs::remove_all(with_manifest.received);
  CopyTree(with_manifest.b_dir / "indafoto_archive", with_manifest.received);
  with_manifest.UseManifestOnly();
  ProcessResult r = with_manifest.Run("import");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("catalog from manifest") != std::string::npos);
  CHECK(DumpArchive(with_manifest.a_db()) == DumpArchive(with_db.a_db()));
  CHECK(CheckArchive(with_manifest.a_db(), with_manifest.a_root()).ok());
  // The manifest folder itself is never imported.
  CHECK(QueryInt(with_manifest.a_db(), "SELECT COUNT(*) FROM sync_records WHERE remote_path LIKE '.indafoto-sync%'") == 0);
}

TEST_CASE("a manifest signed by another key is rejected and the pinned catalog stays", "[manifest][import][faults]") {
  ImportFixture f(Pair());
  REQUIRE(f.PublishB().exit_code == 0);
  fs::remove_all(f.received);
  CopyTree(f.b_dir / "indafoto_archive", f.received);
  f.UseManifestOnly();
  REQUIRE(f.Run("import").exit_code == 0);
  std::string dump = DumpArchive(f.a_db());

  // Someone else publishes for the same folder with a new key.
  fs::remove(f.tmp.path() / "B-state" / "publisher.key");
  REQUIRE(AppendImages(f.b_dir, {9001}, Pair().universe_seed).ok());
  REQUIRE(f.PublishB().exit_code == 0);
  CopyTree(f.b_dir / "indafoto_archive", f.received);
  ProcessResult r = f.Run("import");
  INFO(r.output);
  CHECK(r.output.find("was pinned") != std::string::npos);
  CHECK(r.output.find("indafoto-syncd trust") != std::string::npos);
  CHECK(r.output.find("previous catalog (90 entries)") != std::string::npos);
  // The new image's file has no entry in the kept catalog: pending, not imported.
  CHECK(QueryInt(f.a_db(), "SELECT COUNT(*) FROM sync_records WHERE status = 'pending'") == 1);

  // The operator checks and accepts the change.
  ProcessResult t = f.Run("trust", {"--source", "peerB"});
  INFO(t.output);
  REQUIRE(t.exit_code == 0);
  ProcessResult again = f.Run("import");
  INFO(again.output);
  CHECK(QueryInt(f.a_db(), "SELECT COUNT(*) FROM sync_records WHERE status = 'pending'") == 0);
  CHECK(QueryInt(f.a_db(), "SELECT COUNT(*) FROM sync_records WHERE status = 'imported'") == 61);
  CHECK(dump != DumpArchive(f.a_db()));
}

}  // namespace indafoto
