#include "lib/exchange/exchange.h"

#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <fstream>

#include "testing/temp_dir.h"

namespace indafoto {

namespace fs = std::filesystem;

namespace {
ino_t InodeOf(const fs::path& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
}
}  // namespace

TEST_CASE("the manifest is mirrored into a peer's folder by hardlinks, stale parts removed", "[exchange]") {
  TempDir dir;
  fs::path self = dir.path() / "self", to = dir.path() / "to-bob";
  fs::create_directories(self / ".indafoto-sync" / "parts");
  std::ofstream(self / ".indafoto-sync" / "parts" / "0-aaaa.jsonl") << "a\n";
  std::ofstream(self / ".indafoto-sync" / "parts" / "1-bbbb.jsonl") << "b\n";
  std::ofstream(self / ".indafoto-sync" / "parts" / ".syncthing.x.indafoto-tmp-1-1.tmp") << "temp";
  std::ofstream(self / ".indafoto-sync" / "manifest.json") << "{}\n";
  REQUIRE(MirrorManifest(self, to).ok());
  CHECK(InodeOf(to / ".indafoto-sync" / "manifest.json") == InodeOf(self / ".indafoto-sync" / "manifest.json"));
  CHECK(InodeOf(to / ".indafoto-sync" / "parts" / "0-aaaa.jsonl") ==
        InodeOf(self / ".indafoto-sync" / "parts" / "0-aaaa.jsonl"));
  CHECK_FALSE(fs::exists(to / ".indafoto-sync" / "parts" / ".syncthing.x.indafoto-tmp-1-1.tmp"));

  // The next generation: part 1 replaced, a new index.
  fs::remove(self / ".indafoto-sync" / "parts" / "1-bbbb.jsonl");
  std::ofstream(self / ".indafoto-sync" / "parts" / "1-cccc.jsonl") << "c\n";
  fs::remove(self / ".indafoto-sync" / "manifest.json");
  std::ofstream(self / ".indafoto-sync" / "manifest.json") << "{\"x\":1}\n";
  REQUIRE(MirrorManifest(self, to).ok());
  CHECK(fs::exists(to / ".indafoto-sync" / "parts" / "1-cccc.jsonl"));
  CHECK_FALSE(fs::exists(to / ".indafoto-sync" / "parts" / "1-bbbb.jsonl"));
  CHECK(InodeOf(to / ".indafoto-sync" / "manifest.json") == InodeOf(self / ".indafoto-sync" / "manifest.json"));
  int files = 0;
  for (const auto& e : fs::directory_iterator(to / ".indafoto-sync")) files += e.is_regular_file();
  CHECK(files == 1);  // no temporary file left behind
}

TEST_CASE("exchange_root is created and must share image_root's filesystem", "[exchange]") {
  TempDir dir;
  Config c;
  c.image_root = dir.path() / "archive";
  c.exchange_root = dir.path() / ".indafoto-exchange";
  CHECK(CheckExchangeRoot(c).ok());  // no peers: nothing to check
  CHECK_FALSE(fs::exists(c.exchange_root));
  c.peers.push_back({"bob", "X"});
  REQUIRE(CheckExchangeRoot(c).ok());
  CHECK(fs::is_directory(c.exchange_root));
  // /dev/shm is another filesystem (tmpfs) on Linux.
  if (fs::is_directory("/dev/shm")) {
    c.exchange_root = fs::path("/dev/shm") / ("indafoto-test-" + std::to_string(::getpid()));
    Status s = CheckExchangeRoot(c);
    fs::remove_all(c.exchange_root);
    struct stat a, b;
    if (::stat(c.image_root.c_str(), &a) == 0 && ::stat("/dev/shm", &b) == 0 && a.st_dev != b.st_dev) {
      CHECK_FALSE(s.ok());
      CHECK(s.message().find(c.image_root.string()) != std::string::npos);
      CHECK(s.message().find(c.exchange_root.string()) != std::string::npos);
    }
  }
}

}  // namespace indafoto
