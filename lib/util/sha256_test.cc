#include "lib/util/sha256.h"

#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>

#include "testing/temp_dir.h"

namespace indafoto {

TEST_CASE("Sha256Hex matches the FIPS 180-2 vector", "[sha256]") {
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("Sha256File streams files larger than its buffer", "[sha256]") {
  TempDir dir;
  std::string data(3 * (1 << 20) + 17, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>(i * 31 + 7);
  std::ofstream(dir.path() / "f", std::ios::binary) << data;
  FileDigest d;
  REQUIRE(Sha256File(dir.path() / "f", &d).ok());
  CHECK(d.sha256 == Sha256Hex(data));
  CHECK(d.size == static_cast<int64_t>(data.size()));
}

TEST_CASE("Sha256File refuses symlinks and directories", "[sha256]") {
  TempDir dir;
  std::ofstream(dir.path() / "target") << "secret";
  std::filesystem::create_symlink(dir.path() / "target", dir.path() / "link");
  FileDigest d;
  Status s = Sha256File(dir.path() / "link", &d);
  CHECK(s.code() == Status::Code::kInvalid);
  CHECK(Sha256File(dir.path(), &d).code() == Status::Code::kInvalid);
  CHECK(Sha256File(dir.path() / "missing", &d).IsNotFound());
}

}  // namespace indafoto

namespace indafoto {

TEST_CASE("Sha256File refuses a FIFO without blocking, and a symlink without following", "[sha256][fifo]") {
  TempDir dir;
  std::filesystem::path fifo = dir.path() / "fifo.jpg";
  REQUIRE(::mkfifo(fifo.c_str(), 0644) == 0);
  FileDigest d;
  Status s = Sha256File(fifo, &d);  // would block for ever in open() if opened blocking
  CHECK(s.code() == Status::Code::kInvalid);
  CHECK_THAT(s.message(), Catch::Contains("a FIFO"));
  std::filesystem::create_symlink(fifo, dir.path() / "link.jpg");
  CHECK_THAT(Sha256File(dir.path() / "link.jpg", &d).message(), Catch::Contains("symlink"));
}

}  // namespace indafoto
