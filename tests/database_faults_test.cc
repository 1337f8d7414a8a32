// A busy and a corrupt archive database under every command that opens
// it, and under the daemon's worker: busy is waited for (and the work
// done), corrupt is named, and nothing ends in a crash or a recorded
// decision.
#include <catch2/catch.hpp>

#include <csignal>
#include <fstream>
#include <thread>

#include "lib/util/writer_lock.h"
#include "testing/child_process.h"
#include "tests/import_fixture.h"

namespace indafoto {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// Holds indafoto.db for `hold`, as the crawler does with a long write.
// kExclusive: no other connection can read or write it either (an
// exclusive-mode connection that wrote: readers cannot open the WAL);
// possible only while no other process has the database open.
// kWriter: others read, but wait to write.
class DatabaseHolder {
 public:
  enum class Mode { kExclusive, kWriter };
  DatabaseHolder(const fs::path& db, std::chrono::seconds hold, Mode mode) {
    REQUIRE(Database::Open(db.string(), Database::Mode::kReadWrite, 1000, &db_).ok());
    if (mode == Mode::kExclusive) db_.Exec("PRAGMA locking_mode=EXCLUSIVE");
    db_.Exec(mode == Mode::kExclusive ? "BEGIN EXCLUSIVE" : "BEGIN IMMEDIATE");
    db_.Exec("INSERT INTO tags (name, count) VALUES ('held exclusively', 1)");
    release_ = std::thread([this, hold] {
      std::this_thread::sleep_for(hold);
      db_.Exec("COMMIT");
      db_ = Database();  // closing ends the exclusive mode
    });
  }
  ~DatabaseHolder() { release_.join(); }

 private:
  Database db_;
  std::thread release_;
};

PairOptions SmallPair() {
  PairOptions o;
  o.a_count = 120;
  o.b_count = 120;
  o.overlap = 40;  // 80 new images
  o.universe_seed = 7;
  return o;
}

}  // namespace

TEST_CASE("a busy archive database is waited for by plan, import, status and verify", "[faults][busy]") {
  ImportFixture f(SmallPair());
  REQUIRE(f.Run("import").exit_code == 0);  // so that status and verify have something to read
  f.Run("publish");
  for (const char* command : {"plan", "status", "verify", "import"}) {
    DYNAMIC_SECTION(command) {
      DatabaseHolder hold(f.a_db(), 3s, DatabaseHolder::Mode::kExclusive);
      ProcessResult r = std::string(command) == "plan" ? f.Run(command, {"--source", "peerB"}) : f.Run(command);
      INFO(r.output);
      CHECK(r.exit_code == 0);
      CHECK(r.output.find("terminate") == std::string::npos);
    }
  }
  CHECK(QueryInt(f.a_db(), "SELECT COUNT(*) FROM sync_records WHERE status = 'imported'") == 80);
}

TEST_CASE("a corrupt archive database is named by plan, import, status, verify and the daemon", "[faults][corrupt]") {
  ImportFixture f(SmallPair());
  REQUIRE(f.Run("import").exit_code == 0);
  for (const char* suffix : {"-wal", "-shm"}) fs::remove(f.a_db().string() + suffix);
  std::ofstream(f.a_db(), std::ios::binary | std::ios::trunc) << std::string(16384, 'x');
  // `run` opens the archive before its worker starts: it exits at once
  // (systemd's restart policy then retries), naming the file.
  for (const char* command : {"plan", "status", "verify", "import", "run"}) {
    ProcessResult r = std::string(command) == "plan" ? f.Run(command, {"--source", "peerB"}) : f.Run(command);
    INFO(command << ": " << r.output);
    CHECK(r.exit_code == 3);
    CHECK(r.output.find("archive database " + f.a_db().string()) != std::string::npos);
    CHECK(r.output.find("terminate") == std::string::npos);
  }
}

TEST_CASE("the daemon's worker waits out a busy archive database and imports everything", "[faults][busy][daemon]") {
  ImportFixture f(SmallPair(), /*write_config=*/false);
  // No Syncthing answers on this port: the daemon imports by its start-up
  // reconcile.
  f.WriteConfig(R"(, "syncthing": {"api_key_env": "NO_SUCH_VARIABLE", "host": "127.0.0.1", "port": 9})");
  // The deliveries arrive once the daemon runs, while the crawler holds
  // the database: the reconcile that SIGHUP asks for meets a busy database
  // on the worker.
  fs::path parked = f.tmp.path() / "parked";
  fs::rename(f.received, parked);
  fs::create_directories(f.received);
  ChildProcess daemon;
  REQUIRE(daemon.Start({BinaryPath("indafoto-syncd"), "run", "--config", f.config.string()},
                       f.tmp.path() / "daemon.log"));
  REQUIRE(WaitFor([&] { return WriterLock::Holder(WriterLockPath(f.a_db())).command == "run"; }, 30s));
  std::this_thread::sleep_for(1s);  // past the start-up reconcile of the empty folder
  {
    DatabaseHolder hold(f.a_db(), 4s, DatabaseHolder::Mode::kWriter);
    fs::remove(f.received);
    fs::rename(parked, f.received);
    daemon.Signal(SIGHUP);
  }
  REQUIRE(WaitFor(
      [&] { return QueryInt(f.a_db(), "SELECT COUNT(*) FROM sync_records WHERE status = 'imported'") == 80; }, 120s));
  CHECK(daemon.Running());
  daemon.Signal(SIGTERM);
  CHECK(daemon.Wait(60s) == 0);
  CHECK(QueryInt(f.a_db(), "SELECT COUNT(*) FROM sync_records WHERE status NOT IN ('imported', 'merged', 'duplicate')") ==
        0);
}

}  // namespace indafoto
