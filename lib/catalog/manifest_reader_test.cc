#include "lib/catalog/manifest_reader.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "lib/catalog/key_pins.h"
#include "lib/catalog/manifest_writer.h"
#include "lib/catalog/part_file.h"
#include "lib/catalog/publisher_key.h"
#include "lib/util/sha256.h"
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
  std::ofstream(p, std::ios::binary | std::ios::trunc) << data;
}

std::string Entry(const std::string& path, const std::string& sha = Sha256Hex("x"), int64_t size = 1) {
  RemoteImage img;
  img.rel_path = path;
  img.sha256 = sha;
  img.size = size;
  img.Set("uuid", Value::Text("u-" + path));
  img.Set("title", Value::Text("T"));
  img.tags = {"t1"};
  return RemoteImageToJson(img) + "\n";
}

// A received folder whose manifest is written by the real writer from
// hand-made part contents, so each test can break one thing.
struct Fixture {
  TempDir tmp;
  fs::path folder = tmp.path() / "received";
  PublisherKey key;
  Database state;
  KeyPins pins;
  std::vector<std::string> part_names;

  Fixture() {
    fs::create_directories(folder);
    REQUIRE(PublisherKey::Generate(&key).ok());
    REQUIRE(Database::Open((tmp.path() / "state.db").string(), Database::Mode::kReadWriteCreate, 1000, &state).ok());
    REQUIRE(KeyPins::Open(&state, &pins).ok());
  }

  void Publish(const std::vector<std::vector<std::string>>& parts, const PublisherKey* with = nullptr) {
    ManifestDirWriter w;
    REQUIRE(w.Open(folder).ok());
    int64_t k = 0;
    for (const auto& lines : parts) {
      std::string content;
      for (const auto& l : lines) content += l;
      REQUIRE(w.AddPart(k++, content, static_cast<int64_t>(lines.size())).ok());
    }
    PublishReport r;
    REQUIRE(w.Commit(with ? *with : key, &r).ok());
    part_names.clear();
    ParseCurrent(&r);
  }

  void ParseCurrent(PublishReport*) {
    SignedManifest outer;
    REQUIRE(ParseSignedManifest(ReadFile(IndexPath()), &outer).ok());
    ManifestPayload p;
    REQUIRE(ParseManifestPayload(outer.payload, &p).ok());
    for (const auto& part : p.parts) part_names.push_back(part.name);
  }

  fs::path IndexPath() const { return folder / ".indafoto-sync" / "manifest.json"; }
  fs::path PartPath(size_t i) const { return folder / ".indafoto-sync" / "parts" / part_names.at(i); }

  // Reads everything; returns the status and the entries the sink saw.
  Status Read(std::vector<RemoteImage>* seen = nullptr) {
    ManifestReader reader(folder, "peer", &pins);
    std::vector<RemoteImage> local;
    return reader.ReadAll([&](const RemoteImage& img) {
      (seen ? *seen : local).push_back(img);
      return Status::Ok();
    });
  }

  // Writes manifest.json for an arbitrary payload text, signed by `key`.
  void WriteIndex(const std::string& payload) { WriteFile(IndexPath(), SignManifest(payload, key)); }

  // A manifest of `version` with one part of exactly `bytes` (holding
  // `count` entries), correctly signed and hashed: what a publisher that
  // encodes its part wrongly, or a hostile one, sends.
  void WriteOnePart(int64_t version, const std::string& bytes, int64_t count) {
    const std::string sha = Sha256Hex(bytes);
    const std::string name = "0-" + sha.substr(0, 16) + std::string(PartSuffix(version));
    WriteFile(folder / ".indafoto-sync" / "parts" / name, bytes);
    WriteIndex("{\"version\":" + std::to_string(version) +
               ",\"sequence\":1,\"generated_at\":\"2026-12-02T00:00:00Z\",\"image_count\":" +
               std::to_string(count) + ",\"parts\":[{\"name\":\"" + name + "\",\"sha256\":\"" + sha +
               "\",\"size\":" + std::to_string(bytes.size()) + ",\"count\":" + std::to_string(count) + "}]}");
    part_names = {name};
  }
};

}  // namespace

TEST_CASE("reader yields every entry of a good manifest and pins its key", "[manifest]") {
  Fixture f;
  f.Publish({{Entry("A/0/a.jpg"), Entry("A/0/b.jpg")}, {Entry("B/0/c.jpg")}});
  CHECK(HasManifest(f.folder));
  std::vector<RemoteImage> seen;
  Status s = f.Read(&seen);
  REQUIRE(s.ok());
  REQUIRE(seen.size() == 3);
  CHECK(seen[0].rel_path == "A/0/a.jpg");
  CHECK(seen[2].rel_path == "B/0/c.jpg");
  CHECK(seen[1].tags == std::vector<std::string>{"t1"});
  std::string pinned;
  REQUIRE(f.pins.Get("peer", &pinned, nullptr).ok());
  CHECK(pinned == f.key.PublicKeyBase64());

  ManifestReader reader(f.folder, "peer", &f.pins);
  std::string fp;
  REQUIRE(reader.Fingerprint(&fp).ok());
  CHECK(fp == "manifest:1:" + Sha256Hex(ReadFile(f.IndexPath())));
}

TEST_CASE("reader: an empty manifest is valid", "[manifest]") {
  Fixture f;
  f.Publish({});
  std::vector<RemoteImage> seen;
  REQUIRE(f.Read(&seen).ok());
  CHECK(seen.empty());
}

TEST_CASE("reader: no manifest", "[manifest]") {
  Fixture f;
  CHECK(!HasManifest(f.folder));
  Status s = f.Read();
  CHECK(s.IsNotFound());
  CHECK_THAT(s.message(), Catch::Contains("source peer"));
}

TEST_CASE("reader rejects a tampered part before passing on its entries", "[manifest]") {
  Fixture f;
  f.Publish({{Entry("A/0/a.jpg")}, {Entry("B/0/b.jpg"), Entry("B/0/c.jpg")}});
  std::string bytes = ReadFile(f.PartPath(1));
  bytes[bytes.size() / 2] ^= 1;  // same size, different content
  WriteFile(f.PartPath(1), bytes);
  std::vector<RemoteImage> seen;
  Status s = f.Read(&seen);
  CHECK(s.code() == Status::Code::kCorrupt);
  CHECK_THAT(s.message(), Catch::Contains("part " + f.part_names[1]));
  CHECK_THAT(s.message(), Catch::Contains("sha256"));
  // Part 0 verified and was passed on; nothing of the bad part was.
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].rel_path == "A/0/a.jpg");
}

TEST_CASE("reader rejects a truncated part", "[manifest]") {
  Fixture f;
  f.Publish({{Entry("A/0/a.jpg"), Entry("A/0/b.jpg")}});
  std::string bytes = ReadFile(f.PartPath(0));
  WriteFile(f.PartPath(0), bytes.substr(0, bytes.size() - 7));
  Status s = f.Read();
  CHECK(s.code() == Status::Code::kCorrupt);
  CHECK_THAT(s.message(), Catch::Contains(f.part_names[0]));
  CHECK_THAT(s.message(), Catch::Contains("truncated"));
}

TEST_CASE("reader rejects a missing part", "[manifest]") {
  Fixture f;
  f.Publish({{Entry("A/0/a.jpg")}, {Entry("B/0/b.jpg")}});
  fs::remove(f.PartPath(1));
  std::vector<RemoteImage> seen;
  Status s = f.Read(&seen);
  CHECK(s.IsNotFound());
  CHECK_THAT(s.message(), Catch::Contains(f.part_names[1]));
  CHECK_THAT(s.message(), Catch::Contains("missing"));
  // Found before any part is read: an attempt while Syncthing still
  // delivers the manifest costs a stat per part, not a read of the others.
  CHECK(seen.empty());
}

TEST_CASE("reader rejects a manifest signed by another key than the pinned one", "[manifest]") {
  Fixture f;
  f.Publish({{Entry("A/0/a.jpg")}});
  REQUIRE(f.Read().ok());  // pins f.key
  PublisherKey other;
  REQUIRE(PublisherKey::Generate(&other).ok());
  f.Publish({{Entry("A/0/a.jpg"), Entry("A/0/b.jpg")}}, &other);
  Status s = f.Read();
  CHECK(s.code() == Status::Code::kCorrupt);
  CHECK_THAT(s.message(), Catch::Contains("pinned"));
  CHECK_THAT(s.message(), Catch::Contains(other.PublicKeyBase64()));
  CHECK_THAT(s.message(), Catch::Contains("indafoto-syncd trust"));
  // After an intended change is accepted, the new key is pinned.
  bool removed = false;
  REQUIRE(f.pins.Unpin("peer", &removed).ok());
  CHECK(removed);
  REQUIRE(f.Read().ok());
  std::string pinned;
  REQUIRE(f.pins.Get("peer", &pinned, nullptr).ok());
  CHECK(pinned == other.PublicKeyBase64());
}

TEST_CASE("reader rejects a payload altered after signing", "[manifest]") {
  Fixture f;
  f.Publish({{Entry("A/0/a.jpg")}});
  std::string text = ReadFile(f.IndexPath());
  size_t at = text.find("generated_at");
  REQUIRE(at != std::string::npos);
  text[text.find("20", at)] = '3';  // the year, inside the signed payload
  WriteFile(f.IndexPath(), text);
  Status s = f.Read();
  CHECK(s.code() == Status::Code::kCorrupt);
  CHECK_THAT(s.message(), Catch::Contains("signature does not verify"));
  // And a signature by another key over the same payload, with that other
  // key announced: fails on the pin only if pinned; here unpinned, so the
  // signature itself must still verify. Swap the signature alone:
  f.Publish({{Entry("A/0/a.jpg")}});
  PublisherKey other;
  REQUIRE(PublisherKey::Generate(&other).ok());
  SignedManifest outer;
  REQUIRE(ParseSignedManifest(ReadFile(f.IndexPath()), &outer).ok());
  std::string forged = ReadFile(f.IndexPath());
  forged.replace(forged.find(outer.signature), outer.signature.size(), other.SignBase64(outer.payload));
  WriteFile(f.IndexPath(), forged);
  s = f.Read();
  CHECK(s.code() == Status::Code::kCorrupt);
  CHECK_THAT(s.message(), Catch::Contains("signature"));
}

TEST_CASE("reader rejects entry paths that escape the folder", "[manifest]") {
  for (std::string bad : {std::string("../x"), std::string("/abs/x.jpg"), std::string("A/\0/x.jpg", 9),
                          std::string("A/../../x"), std::string("A\\..\\x"), std::string("A//x"), std::string(""),
                          std::string(".indafoto-sync/manifest.json")}) {
    Fixture f;
    f.Publish({{Entry("A/0/ok.jpg"), Entry(bad)}});
    std::vector<RemoteImage> seen;
    Status s = f.Read(&seen);
    INFO("path: " << bad);
    CHECK(s.code() == Status::Code::kCorrupt);
    CHECK_THAT(s.message(), Catch::Contains("part " + f.part_names[0] + " line 2"));
    CHECK_THAT(s.message(), Catch::Contains("path"));
    CHECK(seen.size() == 1);  // the good entry before it; the caller rolls back
  }
}

TEST_CASE("reader rejects malformed entries", "[manifest]") {
  struct Case {
    std::string line, expect;
  };
  for (const Case& c : {Case{Entry("A/x.jpg", "abc"), "not 64 hex"},
                        Case{Entry("A/x.jpg", Sha256Hex("x"), -1), "size"},
                        Case{"{\"path\": 5}\n", "path"},
                        Case{"not json\n", "bad JSON"},
                        Case{"\n", "bad JSON"}}) {
    Fixture f;
    f.Publish({{c.line}});
    Status s = f.Read();
    INFO(c.line);
    CHECK(s.code() == Status::Code::kCorrupt);
    CHECK_THAT(s.message(), Catch::Contains("line 1"));
    CHECK_THAT(s.message(), Catch::Contains(c.expect));
  }
}

TEST_CASE("reader rejects a part whose last line has no newline", "[manifest]") {
  Fixture f;
  std::string e = Entry("A/x.jpg");
  f.Publish({{e.substr(0, e.size() - 1)}});
  Status s = f.Read();
  CHECK(s.code() == Status::Code::kCorrupt);
  CHECK_THAT(s.message(), Catch::Contains("no final newline"));
}

TEST_CASE("reader drops columns it does not know and normalises the digest", "[manifest]") {
  Fixture f;
  std::string upper = Sha256Hex("x");
  for (char& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  std::string line = "{\"path\":\"A/x.jpg\",\"sha256\":\"" + upper +
                     "\",\"size\":3,\"columns\":{\"title\":\"T\",\"evil; DROP TABLE images\":1,\"new_col\":2},"
                     "\"future_member\":true}\n";
  f.Publish({{line}});
  std::vector<RemoteImage> seen;
  REQUIRE(f.Read(&seen).ok());
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].sha256 == Sha256Hex("x"));
  REQUIRE(seen[0].columns.size() == 1);
  CHECK(seen[0].columns[0].first == "title");
}

TEST_CASE("reader rejects a manifest version from the future", "[manifest]") {
  Fixture f;
  f.Publish({});
  f.WriteIndex(R"({"version":3,"sequence":9,"generated_at":"2030-01-01T00:00:00Z","image_count":0,"parts":[]})");
  Status s = f.Read();
  CHECK(s.code() == Status::Code::kCorrupt);
  CHECK_THAT(s.message(), Catch::Contains("version 3"));
  CHECK_THAT(s.message(), Catch::Contains("future"));
  CHECK_THAT(s.message(), Catch::Contains("reads versions 1 to 2"));
  std::string fp;
  ManifestReader reader(f.folder, "peer", &f.pins);
  CHECK(!reader.Fingerprint(&fp).ok());
}

TEST_CASE("reader rejects payloads that do not add up", "[manifest]") {
  struct Case {
    std::string payload, expect;
  };
  std::string h = Sha256Hex("");
  for (const Case& c : {
           Case{R"({"version":1,"sequence":1,"generated_at":"x","image_count":5,"parts":[]})", "image_count is 5"},
           Case{R"({"version":1,"sequence":1,"generated_at":"x","image_count":0,"parts":[{"name":"../p.jsonl","sha256":")" +
                    h + R"(","size":0,"count":0}]})",
                "not a plain file name"},
           Case{R"({"version":1,"sequence":1,"generated_at":"x","image_count":0,"parts":[{"name":"p.jsonl","sha256":"zz","size":0,"count":0}]})",
                "sha256"},
           Case{R"({"sequence":1})", "version"},
           Case{R"([1,2])", "not a JSON object"},
       }) {
    Fixture f;
    f.WriteIndex(c.payload);
    Status s = f.Read();
    INFO(c.payload);
    CHECK(s.code() == Status::Code::kCorrupt);
    CHECK_THAT(s.message(), Catch::Contains(c.expect));
  }
}

TEST_CASE("reader rejects what is not a manifest", "[manifest]") {
  struct Case {
    std::string text, expect;
  };
  for (const Case& c : {Case{"this is not json", "not JSON"}, Case{"", "not JSON"},
                        Case{R"({"format":"something-else","payload":"{}","public_key":"","signature":""})",
                             "format 'something-else'"},
                        Case{R"({"format":"indafoto-syncd-manifest","payload":{}})", "payload"},
                        Case{R"({"format":"indafoto-syncd-manifest","format":"x","payload":"{}","public_key":"","signature":""})",
                             "repeats member 'format'"},
                        Case{R"({"format":"indafoto-syncd-manifest","payload":"{}","public_key":"AAAA","signature":"!!"})",
                             "public key"}}) {
    Fixture f;
    WriteFile(f.IndexPath(), c.text);
    Status s = f.Read();
    INFO(c.text);
    CHECK(s.code() == Status::Code::kCorrupt);
    CHECK_THAT(s.message(), Catch::Contains(c.expect));
    CHECK_THAT(s.message(), Catch::Contains("manifest of source peer"));
  }
}

TEST_CASE("reader does not follow symlinks in the manifest directory", "[manifest]") {
  Fixture f;
  f.Publish({{Entry("A/0/a.jpg")}});
  // parts/ replaced by a symlink to a copy elsewhere.
  fs::path parts = f.folder / ".indafoto-sync" / "parts";
  fs::rename(parts, f.tmp.path() / "elsewhere");
  fs::create_directory_symlink(f.tmp.path() / "elsewhere", parts);
  Status s = f.Read();
  CHECK(s.code() == Status::Code::kCorrupt);
  CHECK_THAT(s.message(), Catch::Contains("symlink"));

  // manifest.json as a symlink.
  Fixture g;
  g.Publish({});
  fs::path real = g.tmp.path() / "real.json";
  fs::rename(g.IndexPath(), real);
  fs::create_symlink(real, g.IndexPath());
  CHECK(!HasManifest(g.folder));
  CHECK(g.Read().code() == Status::Code::kCorrupt);
}

TEST_CASE("reader keeps going through the grace generation", "[manifest]") {
  // A peer that got the new parts but still has the old index reads the old
  // generation completely: superseded parts are kept one generation.
  Fixture f;
  f.Publish({{Entry("A/0/a.jpg")}});
  std::string old_index = ReadFile(f.IndexPath());
  f.Publish({{Entry("A/0/a.jpg"), Entry("A/0/b.jpg")}});
  WriteFile(f.IndexPath(), old_index);
  std::vector<RemoteImage> seen;
  REQUIRE(f.Read(&seen).ok());
  CHECK(seen.size() == 1);
}

TEST_CASE("reader: the writer compresses parts (version 2), and a version 1 manifest is still read", "[manifest]") {
  Fixture f;
  std::string lines;
  for (int i = 0; i < 50; ++i) lines += Entry("A/0/" + std::to_string(i) + ".jpg");
  f.Publish({{lines}});
  SignedManifest outer;
  REQUIRE(ParseSignedManifest(ReadFile(f.IndexPath()), &outer).ok());
  ManifestPayload payload;
  REQUIRE(ParseManifestPayload(outer.payload, &payload).ok());
  CHECK(payload.version == 2);
  CHECK_THAT(f.part_names[0], Catch::EndsWith(".jsonl.deflate"));
  const std::string stored = ReadFile(f.PartPath(0));
  CHECK(stored.size() * 3 < lines.size());  // repetitive JSON shrinks well

  // The same entries as a version 1 manifest: a plain part.
  Fixture old;
  old.WriteOnePart(1, lines, 50);
  std::vector<RemoteImage> seen;
  REQUIRE(old.Read(&seen).ok());
  REQUIRE(seen.size() == 50);
  CHECK(seen[49].rel_path == "A/0/49.jpg");
}

TEST_CASE("reader rejects a signed part whose compressed stream is broken", "[manifest]") {
  std::string lines = Entry("A/0/a.jpg") + Entry("A/0/b.jpg");
  const std::string good = EncodePart(2, lines);
  struct Case {
    std::string bytes, expect;
  };
  std::string corrupt = good;
  corrupt[0] = static_cast<char>(0xff);  // block type 3 does not exist
  for (const Case& c : {Case{good.substr(0, good.size() / 2), "ends early"},
                        Case{good + "trailing", "after the end of its compressed stream"},
                        Case{corrupt, "compressed data is corrupt"}}) {
    Fixture f;
    f.WriteOnePart(2, c.bytes, 2);
    Status s = f.Read();
    INFO(c.expect);
    CHECK(s.code() == Status::Code::kCorrupt);
    CHECK_THAT(s.message(), Catch::Contains("part " + f.part_names[0]));
    CHECK_THAT(s.message(), Catch::Contains(c.expect));
  }
  // A version 2 index that names a plain part.
  Fixture f;
  f.WriteOnePart(1, lines, 2);
  std::string payload = ReadFile(f.IndexPath());
  SignedManifest outer;
  REQUIRE(ParseSignedManifest(payload, &outer).ok());
  outer.payload.replace(outer.payload.find("\"version\":1"), 11, "\"version\":2");
  f.WriteIndex(outer.payload);
  CHECK_THAT(f.Read().message(), Catch::Contains("not a plain file name ending in .jsonl.deflate"));
}

// Regressions from fuzz/manifest_index_fuzz.cc and fuzz/manifest_part_fuzz.cc
// (inputs kept in fuzz/corpus/).
TEST_CASE("manifest parsers: a deeply nested document is Corrupt and no stack overflow", "[manifest][fuzz]") {
  std::string deep(1000000, '[');
  SignedManifest outer;
  CHECK(ParseSignedManifest(deep, &outer).code() == Status::Code::kCorrupt);
  ManifestPayload payload;
  CHECK(ParseManifestPayload(deep, &payload).code() == Status::Code::kCorrupt);
  RemoteImage img;
  std::string line = "{\"path\":\"A/x.jpg\",\"sha256\":\"" + Sha256Hex("x") + "\",\"columns\":{\"title\":" + deep;
  CHECK_THAT(ParseManifestEntryLine(line, &img).message(), Catch::Contains("bad JSON"));
}

TEST_CASE("manifest entry: a NUL does not cut a name or digest short", "[manifest][fuzz]") {
  RemoteImage img;
  // Was read as column "title" (and so taken for the known column).
  std::string line = "{\"path\":\"A/x.jpg\",\"sha256\":\"" + Sha256Hex("x") +
                     "\",\"size\":1,\"columns\":{\"title\\u0000evil\":\"T\"}}";
  REQUIRE(ParseManifestEntryLine(line, &img).ok());
  CHECK(img.columns.empty());
  // Was read as the 64 hex digits before the NUL.
  line = "{\"path\":\"A/x.jpg\",\"sha256\":\"" + Sha256Hex("x") + "\\u0000junk\",\"size\":1}";
  CHECK_THAT(ParseManifestEntryLine(line, &img).message(), Catch::Contains("not 64 hex digits"));
}

}  // namespace indafoto
