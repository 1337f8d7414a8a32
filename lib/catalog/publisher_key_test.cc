#include "lib/catalog/publisher_key.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "testing/temp_dir.h"

namespace indafoto {

namespace fs = std::filesystem;

namespace {
unsigned Mode(const fs::path& p) {
  struct stat st;
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}
}  // namespace

TEST_CASE("publisher key is created 0600 in a 0700 directory and loads back", "[manifest]") {
  TempDir tmp;
  fs::path shared = tmp.path() / "indafoto_archive";
  fs::create_directories(shared);
  fs::path key_path = tmp.path() / "state" / "keys" / "publisher.key";
  PublisherKey k1;
  bool created = false;
  REQUIRE(PublisherKey::LoadOrCreate(key_path, shared, &k1, &created).ok());
  CHECK(created);
  CHECK(Mode(key_path) == 0600);
  CHECK(Mode(key_path.parent_path()) == 0700);
  CHECK(Mode(key_path.parent_path().parent_path()) == 0700);
  // The public half beside it, for operators.
  std::ifstream pub(key_path.string() + ".pub");
  std::string pub_text;
  std::getline(pub, pub_text);
  CHECK(pub_text == k1.PublicKeyBase64());
  CHECK(k1.PublicKeyBase64().size() == 44);

  PublisherKey k2;
  REQUIRE(PublisherKey::LoadOrCreate(key_path, shared, &k2, &created).ok());
  CHECK(!created);
  CHECK(k2.PublicKeyBase64() == k1.PublicKeyBase64());
  std::string sig = k2.SignBase64("payload");
  CHECK(VerifySignatureBase64("payload", sig, k1.PublicKeyBase64()).ok());
  CHECK(VerifySignatureBase64("payloae", sig, k1.PublicKeyBase64()).code() == Status::Code::kCorrupt);
}

TEST_CASE("publisher key readable by others is refused", "[manifest]") {
  TempDir tmp;
  fs::path key_path = tmp.path() / "publisher.key";
  PublisherKey k;
  REQUIRE(PublisherKey::LoadOrCreate(key_path, {}, &k, nullptr).ok());
  for (mode_t m : {0640, 0604, 0660, 0602}) {
    REQUIRE(::chmod(key_path.c_str(), m) == 0);
    Status s = PublisherKey::Load(key_path, &k);
    INFO(m);
    CHECK(s.code() == Status::Code::kPermission);
    CHECK_THAT(s.message(), Catch::Contains("chmod 600"));
  }
  REQUIRE(::chmod(key_path.c_str(), 0400) == 0);
  CHECK(PublisherKey::Load(key_path, &k).ok());
}

TEST_CASE("publisher key path inside the shared folder is refused", "[manifest]") {
  TempDir tmp;
  fs::path shared = tmp.path() / "indafoto_archive";
  fs::create_directories(shared);
  PublisherKey k;
  for (fs::path p : {shared / "publisher.key", shared / "a" / ".." / "b" / "k", tmp.path() / "x" / ".." / "indafoto_archive" / "k"}) {
    Status s = PublisherKey::LoadOrCreate(p, shared, &k, nullptr);
    INFO(p);
    CHECK(s.code() == Status::Code::kInvalid);
    CHECK_THAT(s.message(), Catch::Contains("inside the shared folder"));
  }
  // Through a symlinked directory that points into the shared folder.
  fs::create_directory_symlink(shared, tmp.path() / "sneaky");
  CHECK(PublisherKey::LoadOrCreate(tmp.path() / "sneaky" / "k", shared, &k, nullptr).code() ==
        Status::Code::kInvalid);
  CHECK(fs::is_empty(shared));
  // A sibling whose name merely starts the same is fine.
  CHECK(PublisherKey::LoadOrCreate(tmp.path() / "indafoto_archive.key", shared, &k, nullptr).ok());
}

TEST_CASE("publisher key file that holds no key is reported", "[manifest]") {
  TempDir tmp;
  fs::path key_path = tmp.path() / "publisher.key";
  std::ofstream(key_path) << "# comment\nnot base64!\n";
  REQUIRE(::chmod(key_path.c_str(), 0600) == 0);
  PublisherKey k;
  Status s = PublisherKey::Load(key_path, &k);
  CHECK(s.code() == Status::Code::kCorrupt);
  CHECK_THAT(s.message(), Catch::Contains("Ed25519 seed"));
  CHECK(PublisherKey::Load(tmp.path() / "none", &k).IsNotFound());
}

TEST_CASE("base64 helpers accept only the canonical form", "[manifest]") {
  std::string out;
  const unsigned char data[] = {0xfb, 0xff, 0x00};
  CHECK(Base64Encode(data, 3) == "+/8A");
  REQUIRE(Base64Decode("+/8A", &out));
  CHECK(out == std::string("\xfb\xff\x00", 3));
  CHECK(!Base64Decode("+/8", &out));
  CHECK(!Base64Decode("+/8A\n", &out));
  CHECK(!Base64Decode("-_8A", &out));
  CHECK(Base64Decode("", &out));
  CHECK(out.empty());
}

}  // namespace indafoto
