#include "lib/archive/layout.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "testing/temp_dir.h"

namespace indafoto {

namespace fs = std::filesystem;

TEST_CASE("AuthorFolderName applies the crawler's replacements", "[layout]") {
  CHECK(AuthorFolderName("Kovács Péter") == "Kovács Péter");
  CHECK(AuthorFolderName("a<b>c:d\"e/f\\g|h?i*j") == "a_b_c_d_e_f_g_h_i_j");
}

TEST_CASE("AuthorFolderName neutralises names that could escape", "[layout]") {
  CHECK(AuthorFolderName("..") == "__");
  CHECK(AuthorFolderName(".") == "_");
  CHECK(AuthorFolderName("") == "unknown");
  CHECK(AuthorFolderName("../../etc") == ".._.._etc");
  CHECK(AuthorFolderName(std::string("a\nb\0c", 5)) == "a_b_c");
  CHECK(IsSafeFileName(AuthorFolderName("..")));
}

TEST_CASE("IsSafeRelativePath accepts only paths that stay inside", "[layout]") {
  CHECK(IsSafeRelativePath("A/0/image_1_2.jpg"));
  CHECK_FALSE(IsSafeRelativePath("../x"));
  CHECK_FALSE(IsSafeRelativePath("a/../../x"));
  CHECK_FALSE(IsSafeRelativePath("/etc/passwd"));
  CHECK_FALSE(IsSafeRelativePath("a//b"));
  CHECK_FALSE(IsSafeRelativePath("a/./b"));
  CHECK_FALSE(IsSafeRelativePath(""));
  CHECK_FALSE(IsSafeRelativePath(std::string("a\0b", 3)));
  CHECK_FALSE(IsSafeRelativePath("a\\..\\b"));
}

TEST_CASE("Subfolder numbering is the file count divided by 1000", "[layout]") {
  CHECK(SubfolderFor(0) == 0);
  CHECK(SubfolderFor(999) == 0);
  CHECK(SubfolderFor(1000) == 1);
  CHECK(SubfolderFor(2500) == 2);
}

TEST_CASE("AuthorFileCounter counts files on disk and advances", "[layout]") {
  TempDir dir;
  fs::create_directories(dir.path() / "A" / "0");
  for (int i = 0; i < 3; ++i) std::ofstream(dir.path() / "A" / "0" / ("f" + std::to_string(i)));
  fs::create_symlink(dir.path() / "A" / "0" / "f0", dir.path() / "A" / "0" / "link");
  AuthorFileCounter counter(dir.path());
  CHECK(counter.Count("A") == 3);
  // A file added by someone else (the crawler) is seen: the subfolder's
  // mtime moved, so it is listed again.
  std::ofstream(dir.path() / "A" / "0" / "f9");
  CHECK(counter.Count("A") == 4);
  fs::create_directories(dir.path() / "A" / "1");
  std::ofstream(dir.path() / "A" / "1" / "g");
  CHECK(counter.Count("A") == 5);
  CHECK(counter.Count("missing") == 0);
}

TEST_CASE("AuthorFileCounter watches the newest subfolder and rechecks the others", "[layout]") {
  using namespace std::chrono_literals;
  TempDir dir;
  fs::path a = dir.path() / "A";
  for (const char* sub : {"0", "1"}) {
    fs::create_directories(a / sub);
    for (int i = 0; i < 3; ++i) std::ofstream(a / sub / ("f" + std::to_string(i)));
  }
  // Settled mtimes, as in an archive that was not touched for an hour.
  auto hour_ago = fs::file_time_type::clock::now() - 1h;
  for (const fs::path& p : {a / "0", a / "1", a}) fs::last_write_time(p, hour_ago);
  AuthorFileCounter counter(dir.path(), /*recheck=*/3600s);
  AuthorFileCounter exact(dir.path(), /*recheck=*/0s);
  CHECK(counter.Count("A") == 6);
  // A deletion in an older subfolder waits for the recheck (by design:
  // looking there for every file is what made imports slow at 1M images).
  fs::remove(a / "0" / "f0");
  CHECK(counter.Count("A") == 6);
  CHECK(exact.Count("A") == 5);
  // The newest subfolder, where the crawler adds, is looked at every time.
  std::ofstream(a / "1" / "crawler");
  CHECK(counter.Count("A") == 7);
  CHECK(exact.Count("A") == 6);
  // A new subfolder is seen at once (the author folder's mtime moved).
  fs::create_directories(a / "2");
  std::ofstream(a / "2" / "g");
  CHECK(counter.Count("A") == 7);  // listed again: the deletion in 0 is seen too
  CHECK(exact.Count("A") == 7);
  // Our own placements are counted without a listing.
  fs::last_write_time(a / "2", hour_ago);
  fs::last_write_time(a, hour_ago);
  CHECK(counter.Count("A") == 7);
  std::ofstream(a / "2" / "ours");
  counter.Added("A", a / "2" / "ours");
  CHECK(counter.Count("A") == 8);
  CHECK(exact.Count("A") == 8);
}

TEST_CASE("AuthorFileCounter stays exact while the crawler and the importer both add", "[layout]") {
  using namespace std::chrono_literals;
  TempDir dir;
  fs::path sub = dir.path() / "A" / "0";
  fs::create_directories(sub);
  std::ofstream(sub / "old");
  auto hour_ago = fs::file_time_type::clock::now() - 1h;
  fs::last_write_time(sub, hour_ago);
  fs::last_write_time(dir.path() / "A", hour_ago);
  AuthorFileCounter counter(dir.path(), 3600s);
  int64_t truth = 1;
  CHECK(counter.Count("A") == truth);
  for (int i = 0; i < 20; ++i) {
    std::ofstream(sub / ("crawler" + std::to_string(i)));
    ++truth;
    CHECK(counter.Count("A") == truth);
    std::ofstream(sub / ("ours" + std::to_string(i)));
    counter.Added("A", sub / ("ours" + std::to_string(i)));
    ++truth;
    CHECK(counter.Count("A") == truth);
  }
}

TEST_CASE("LocalPathStyle follows the database's existing form", "[layout]") {
  fs::path db_dir = "/data/arch";
  fs::path root = "/data/arch/indafoto_archive";
  fs::path file = root / "A" / "0" / "image_1_2.jpg";
  LocalPathStyle fresh = LocalPathStyle::Learn("", db_dir, root);
  CHECK(fresh.ToStored(file) == "indafoto_archive/A/0/image_1_2.jpg");
  CHECK(fresh.ToAbsolute("indafoto_archive/A/0/image_1_2.jpg") == file);
  LocalPathStyle dotted = LocalPathStyle::Learn("./indafoto_archive/B/0/x.jpg", db_dir, root);
  CHECK(dotted.ToStored(file) == "./indafoto_archive/A/0/image_1_2.jpg");
  LocalPathStyle absolute = LocalPathStyle::Learn("/data/arch/indafoto_archive/B/0/x.jpg", db_dir, root);
  CHECK(absolute.ToStored(file) == file.string());
  // An image root outside the database's directory can only be absolute.
  LocalPathStyle outside = LocalPathStyle::Learn("", db_dir, "/mnt/images");
  CHECK(outside.ToStored("/mnt/images/A/0/x.jpg") == "/mnt/images/A/0/x.jpg");
}

}  // namespace indafoto

namespace indafoto {

TEST_CASE("AuthorFolderName cuts names longer than a file name at a UTF-8 boundary, stably apart", "[layout]") {
  std::string base;
  for (int i = 0; i < 130; ++i) base += "é";  // 260 bytes of two-byte characters
  std::string a = AuthorFolderName(base + "anna"), b = AuthorFolderName(base + "bela");
  CHECK(a.size() <= kMaxAuthorFolderBytes);
  CHECK(b.size() <= kMaxAuthorFolderBytes);
  CHECK(a != b);
  CHECK(a == AuthorFolderName(base + "anna"));  // the same every time
  std::string kept = a.substr(0, a.rfind('~'));
  CHECK(kept.size() % 2 == 0);  // never half a character
  CHECK(base.compare(0, kept.size(), kept) == 0);
  CHECK(AuthorFolderName(std::string(255, 'x')) == std::string(255, 'x'));  // exactly fits: unchanged
}

}  // namespace indafoto
