#include "lib/archive/placement.h"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>

#include "testing/temp_dir.h"

namespace indafoto {

namespace fs = std::filesystem;

TEST_CASE("PlaceFile hardlinks on the same filesystem", "[placement]") {
  TempDir dir;
  std::ofstream(dir.path() / "in") << "bytes";
  FileDigest d;
  REQUIRE(Sha256File(dir.path() / "in", &d).ok());
  PlaceMethod used;
  REQUIRE(PlaceFile(dir.path() / "in", dir.path() / "a" / "0" / "out", d, &used).ok());
  CHECK(used == PlaceMethod::kHardlink);
  CHECK(fs::hard_link_count(dir.path() / "in") == 2);
  // Never overwrites.
  CHECK_FALSE(PlaceFile(dir.path() / "in", dir.path() / "a" / "0" / "out", d, &used).ok());
}

TEST_CASE("a delivery replaced after hashing is not placed", "[placement]") {
  TempDir dir;
  std::ofstream(dir.path() / "in") << "version 1";
  FileDigest d;
  REQUIRE(Sha256File(dir.path() / "in", &d).ok());
  // Syncthing writes the new version to a temporary name and renames it over.
  std::ofstream(dir.path() / "tmp") << "version 2, longer";
  fs::rename(dir.path() / "tmp", dir.path() / "in");
  PlaceMethod used;
  Status s = PlaceFile(dir.path() / "in", dir.path() / "out", d, &used);
  CHECK_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains("changed after it was hashed"));
  CHECK_FALSE(fs::exists(dir.path() / "out"));
  std::ofstream(dir.path() / "old") << "corrupt";
  s = ReplaceFile(dir.path() / "in", dir.path() / "old", d, &used);
  CHECK_FALSE(s.ok());
  std::ifstream old(dir.path() / "old");
  std::string content((std::istreambuf_iterator<char>(old)), std::istreambuf_iterator<char>());
  CHECK(content == "corrupt");  // left as it was
  CHECK_FALSE(fs::exists(TemporaryPathFor(dir.path() / "old")));
}

}  // namespace indafoto
