// The exchange members of the manifest (docs/manifest.md 4.2): written
// only when given, read back, covered by the "unchanged" check, and the
// manifest written beside the archive (manifest_root).
#include <catch2/catch.hpp>

#include "lib/catalog/manifest_reader.h"
#include "lib/catalog/manifest_writer.h"
#include "lib/util/file_util.h"
#include "testing/archive_generator.h"
#include "testing/temp_dir.h"

namespace indafoto {

namespace fs = std::filesystem;

namespace {

ManifestPayload ReadPayload(const fs::path& root) {
  std::string text;
  REQUIRE(ReadSmallRegularFile(root / ".indafoto-sync" / "manifest.json", "manifest", kMaxIndexBytes, &text).ok());
  SignedManifest outer;
  REQUIRE(ParseSignedManifest(text, &outer).ok());
  ManifestPayload p;
  REQUIRE(ParseManifestPayload(outer.payload, &p).ok());
  return p;
}

}  // namespace

TEST_CASE("exchange members: written when given, read back, a change of them alone is a new manifest",
          "[manifest][exchange]") {
  TempDir tmp;
  ArchiveSpec spec;
  spec.dir = tmp.path() / "A";
  spec.ids = IdRange(1, 20);
  spec.banned_authors = {"Somebody"};
  REQUIRE(GenerateArchive(spec, nullptr).ok());
  PublishOptions o;
  o.database_path = spec.dir / "indafoto.db";
  o.image_root = spec.dir / "indafoto_archive";
  o.key_path = tmp.path() / "keys" / "k.key";

  // Without members: no member written (byte for byte the old format).
  PublishReport r;
  REQUIRE(PublishManifest(o, &r).ok());
  std::string text;
  REQUIRE(ReadSmallRegularFile(o.image_root / ".indafoto-sync" / "manifest.json", "m", kMaxIndexBytes, &text).ok());
  CHECK(text.find("peers") == std::string::npos);
  CHECK(text.find("banned_authors") == std::string::npos);

  // Beside the archive, with members.
  o.manifest_root = tmp.path() / "self";
  fs::create_directories(o.manifest_root);
  o.peers = {"AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA-AAAAAAA"};
  o.banned_authors = {"Somebody", "Valaki"};
  REQUIRE(PublishManifest(o, &r).ok());
  CHECK(r.image_count == 20);
  ManifestPayload p = ReadPayload(o.manifest_root);
  CHECK(p.peers == o.peers);
  CHECK(p.banned_authors == o.banned_authors);
  uint64_t seq = p.sequence;
  // Entries stay relative to image_root: a reader of that folder finds them.
  ManifestReader reader(o.manifest_root, "self", nullptr);
  int64_t entries = 0;
  REQUIRE(reader.ReadAll([&](const RemoteImage& img) {
                  CHECK(fs::exists(o.image_root / img.rel_path));
                  ++entries;
                  return Status::Ok();
                }).ok());
  CHECK(entries == 20);

  // Same content: unchanged. Another peer list: a new sequence.
  REQUIRE(PublishManifest(o, &r).ok());
  CHECK(r.unchanged);
  o.peers.push_back("BBBBBBB-BBBBBBB-BBBBBBB-BBBBBBB-BBBBBBB-BBBBBBB-BBBBBBB-BBBBBBB");
  REQUIRE(PublishManifest(o, &r).ok());
  CHECK_FALSE(r.unchanged);
  CHECK(ReadPayload(o.manifest_root).sequence == seq + 1);
  CHECK(ReadPayload(o.manifest_root).peers.size() == 2);
}

TEST_CASE("exchange members of the wrong type reject the payload", "[manifest][exchange]") {
  ManifestPayload p;
  CHECK(ParseManifestPayload(R"({"version":1,"sequence":1,"generated_at":"x","image_count":0,"parts":[]})", &p).ok());
  CHECK(p.peers.empty());
  CHECK_FALSE(
      ParseManifestPayload(R"({"version":1,"sequence":1,"generated_at":"x","image_count":0,"parts":[],"peers":"A"})", &p)
          .ok());
  CHECK_FALSE(ParseManifestPayload(
                  R"({"version":1,"sequence":1,"generated_at":"x","image_count":0,"parts":[],"banned_authors":[1]})", &p)
                  .ok());
  REQUIRE(ParseManifestPayload(
              R"({"version":1,"sequence":1,"generated_at":"x","image_count":0,"parts":[],"peers":["A"],"banned_authors":["B"]})",
              &p)
              .ok());
  CHECK(p.peers == std::vector<std::string>{"A"});
  CHECK(p.banned_authors == std::vector<std::string>{"B"});
}

}  // namespace indafoto
