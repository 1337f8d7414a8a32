// The checkpoint thread on real SQLite files: it runs, the WAL stays
// bounded while a writer commits without pause, and the last close still
// leaves no WAL behind.
#include "lib/archive/wal_checkpointer.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>

#include "lib/archive/archive_db.h"
#include "testing/temp_dir.h"

namespace indafoto {

namespace {

int64_t FileSize(const std::filesystem::path& p) {
  std::error_code ec;
  auto n = std::filesystem::file_size(p, ec);
  return ec ? -1 : static_cast<int64_t>(n);
}

}  // namespace

TEST_CASE("the WAL is checkpointed in the background and starts over, bounded, under constant commits",
          "[archive][wal]") {
  TempDir dir;
  const std::string path = (dir.path() / "indafoto.db").string();
  Database writer;
  REQUIRE(Database::Open(path, Database::Mode::kReadWriteCreate, 1000, &writer).ok());
  writer.Exec("PRAGMA journal_mode=WAL");
  writer.Exec("PRAGMA synchronous=NORMAL");
  writer.Exec("CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB)");
  std::unique_ptr<WalCheckpointer> checkpointer;
  REQUIRE(WalCheckpointer::Attach(writer, path, &checkpointer).ok());

  // Two or three WAL frames per commit (the row's leaf, an overflow page,
  // now and then an interior page): several times kWriterFrames in all.
  const int64_t frame_bytes = 4096 + 24;
  int64_t largest_wal = 0;
  for (int i = 0; i < 10000; ++i) {
    Statement s = writer.Prepare("INSERT INTO t (payload) VALUES (zeroblob(5000))");
    s.Step();
    if (i % 100 == 0) largest_wal = std::max(largest_wal, FileSize(path + "-wal"));
  }
  largest_wal = std::max(largest_wal, FileSize(path + "-wal"));
  INFO("largest WAL: " << largest_wal << " bytes");
  CHECK(largest_wal > 0);
  // SQLite starts the WAL over (and never shrinks the file) once a write
  // begins after a checkpoint that copied everything: without that the
  // file would hold all 30 000 frames.
  CHECK(largest_wal <= (WalCheckpointer::kWriterFrames + 100) * frame_bytes + 32);
  // The thread did checkpoint (waited for, not timed: a busy machine may
  // be slow to schedule it).
  for (int waited = 0; checkpointer->completed() == 0 && waited < 600; ++waited)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(checkpointer->completed() > 0);

  // Stopped before the writer closes, the writer's close is the last one:
  // it checkpoints the rest and removes the WAL.
  checkpointer.reset();
  writer.Exec("INSERT INTO t (payload) VALUES (zeroblob(10))");  // SQLite's own hook again
  writer = Database();
  CHECK_FALSE(std::filesystem::exists(path + "-wal"));
  Database reader;
  REQUIRE(Database::Open(path, Database::Mode::kReadOnly, 1000, &reader).ok());
  Statement count = reader.Prepare("SELECT count(*) FROM t");
  REQUIRE(count.Step());
  CHECK(count.Int(0) == 10001);
}

TEST_CASE("an ArchiveDb replaced or closed leaves no WAL and no thread behind", "[archive][wal]") {
  TempDir dir;
  const std::filesystem::path db = dir.path() / "indafoto.db";
  ArchiveDb archive;
  REQUIRE(ArchiveDb::Open(db, dir.path() / "indafoto_archive", true, false, &archive).ok());
  CHECK(std::filesystem::exists(db.string() + "-wal"));
  // Move assignment destroys the old checkpointer while its connection is
  // still open; a second Open into the same object does the same.
  REQUIRE(ArchiveDb::Open(db, dir.path() / "indafoto_archive", false, false, &archive).ok());
  archive = ArchiveDb();
  CHECK_FALSE(std::filesystem::exists(db.string() + "-wal"));
}

}  // namespace indafoto
