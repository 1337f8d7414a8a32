#include "lib/util/writer_lock.h"

#include <catch2/catch.hpp>
#include <sys/wait.h>
#include <unistd.h>

#include "testing/temp_dir.h"

namespace indafoto {

TEST_CASE("WriterLock: one holder; a second is refused naming it; released when the holder goes", "[lock]") {
  TempDir dir;
  std::filesystem::path path = WriterLockPath(dir.path() / "indafoto.db");
  CHECK(path.filename() == "indafoto.db-syncd.lock");
  {
    WriterLock first;
    REQUIRE(WriterLock::Acquire(path, "import", false, &first).ok());
    CHECK(first.held());
    LockHolder h = WriterLock::Holder(path);
    CHECK(h.pid == ::getpid());
    CHECK(h.command == "import");
    // flock is per open file: a second acquisition, even in this process,
    // is refused like another process's would be.
    WriterLock second;
    Status s = WriterLock::Acquire(path, "publish", false, &second);
    CHECK(s.code() == Status::Code::kLocked);
    CHECK_THAT(s.message(), Catch::Contains("`indafoto-syncd import` (pid " + std::to_string(::getpid())));
    CHECK_FALSE(second.held());
  }
  WriterLock again;
  CHECK(WriterLock::Acquire(path, "publish", false, &again).ok());
}

TEST_CASE("WriterLock: a holder killed with SIGKILL leaves no lock, and --wait queues", "[lock]") {
  TempDir dir;
  std::filesystem::path path = WriterLockPath(dir.path() / "indafoto.db");
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  pid_t child = ::fork();
  if (child == 0) {
    WriterLock held;
    if (!WriterLock::Acquire(path, "run", false, &held).ok()) _exit(1);
    (void)!::write(ready[1], "x", 1);
    ::pause();
    _exit(0);
  }
  char c;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  WriterLock mine;
  CHECK(WriterLock::Acquire(path, "import", false, &mine).code() == Status::Code::kLocked);
  CHECK(WriterLock::Holder(path).command == "run");
  bool waited = false;
  // The waiter blocks until the holder dies; kill it from another process.
  pid_t killer = ::fork();
  if (killer == 0) {
    ::usleep(200 * 1000);
    ::kill(child, SIGKILL);
    _exit(0);
  }
  Status s = WriterLock::Acquire(path, "import", true, &mine, [&](const LockHolder& h) { waited = h.command == "run"; });
  CHECK(s.ok());
  CHECK(waited);
  ::waitpid(child, nullptr, 0);
  ::waitpid(killer, nullptr, 0);
  CHECK(WriterLock::Holder(path).command == "import");
  ::close(ready[0]);
  ::close(ready[1]);
}

}  // namespace indafoto
