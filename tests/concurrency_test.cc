// Operators run commands beside each other and beside the daemon: the
// archive's writer lock makes that safe (issue: "never lose an image when
// two commands meet"). Real binary, real files, real SQLite.
#include <catch2/catch.hpp>

#include <csignal>
#include <thread>

#include "lib/util/writer_lock.h"
#include "testing/child_process.h"
#include "tests/import_fixture.h"

namespace indafoto {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

PairOptions ManyFiles() {
  PairOptions o;
  o.a_count = 300;
  o.b_count = 2500;
  o.overlap = 300;
  o.universe_seed = 31;
  o.file_size = 2048;
  return o;
}

int64_t DuplicateSha256(const fs::path& db) {
  return QueryInt(db,
                  "SELECT COUNT(*) FROM (SELECT sha256_hash FROM images WHERE sha256_hash IS NOT NULL "
                  "GROUP BY sha256_hash HAVING COUNT(*) > 1)");
}

// Decisions recorded so far (0 before the importer created sync_records).
int64_t Decided(const fs::path& db) {
  try {
    return QueryInt(db, "SELECT COUNT(*) FROM sync_records");
  } catch (const std::exception&) {
    return 0;
  }
}

void ExpectHealthyArchive(const ImportFixture& f) {
  ProcessResult v = f.Run("verify");
  INFO(v.output);
  CHECK(v.exit_code == 0);
  CHECK(DuplicateSha256(f.a_db()) == 0);
  InvariantReport inv = CheckArchive(f.a_db(), f.a_root());
  INFO(inv.Describe());
  CHECK(inv.ok());
}

}  // namespace

TEST_CASE("publish and trust in a loop beside an import lose nothing and are refused naming the holder",
          "[lock][import][faults]") {
  ImportFixture f(ManyFiles());
  ChildProcess import;
  REQUIRE(import.Start({BinaryPath("indafoto-syncd"), "import", "--config", f.config.string()},
                       f.tmp.path() / "import.log"));
  // Until the import holds the lock, a writer may legitimately come first.
  REQUIRE(WaitFor([&] { return WriterLock::Holder(WriterLockPath(f.a_db())).command == "import" || !import.Running(); },
                  30s));
  int refused = 0, ran = 0;
  std::string holder = "`indafoto-syncd import` (pid " + std::to_string(import.pid());
  for (int i = 0; import.Running(); ++i) {
    ProcessResult r = i % 2 ? f.Run("trust", {"--source", "peerB"}) : f.Run("publish");
    if (r.exit_code == 4) {
      ++refused;
      INFO(r.output);
      CHECK(r.output.find(holder) != std::string::npos);
      CHECK(r.output.find("--wait") != std::string::npos);
    } else {
      ++ran;  // after the import let go
    }
  }
  REQUIRE(import.Wait(120s) == 0);
  INFO(ReadFile(f.tmp.path() / "import.log").substr(0, 4000));
  CHECK(refused > 0);
  CHECK(QueryInt(f.a_db(), "SELECT COUNT(*) FROM sync_records WHERE status = 'imported'") == 2200);
  ExpectHealthyArchive(f);
}

TEST_CASE("two imports at once: the second is refused, or with --wait queues; nothing is added twice",
          "[lock][import][faults]") {
  ImportFixture f(ManyFiles());
  ChildProcess first, queued;
  REQUIRE(first.Start({BinaryPath("indafoto-syncd"), "import", "--config", f.config.string()},
                      f.tmp.path() / "first.log"));
  REQUIRE(WaitFor([&] { return WriterLock::Holder(WriterLockPath(f.a_db())).command == "import"; }, 30s));
  ProcessResult second = f.Run("import");
  INFO(second.output);
  CHECK(second.exit_code == 4);
  CHECK(second.output.find("`indafoto-syncd import` (pid " + std::to_string(first.pid())) != std::string::npos);
  REQUIRE(queued.Start({BinaryPath("indafoto-syncd"), "import", "--wait", "--config", f.config.string()},
                       f.tmp.path() / "queued.log"));
  CHECK(first.Wait(120s) == 0);
  CHECK(queued.Wait(120s) == 0);
  std::string queued_log = ReadFile(f.tmp.path() / "queued.log");
  INFO(queued_log);
  CHECK(queued_log.find("waiting for `indafoto-syncd import`") != std::string::npos);
  CHECK(queued_log.find("imported 0") != std::string::npos);  // the first one took everything
  CHECK(QueryInt(f.a_db(), "SELECT COUNT(*) FROM images") == 2500);
  ExpectHealthyArchive(f);
}

TEST_CASE("writing commands beside a running daemon are refused with what to do instead", "[lock][daemon]") {
  ImportFixture f(ManyFiles(), /*write_config=*/false);
  // No Syncthing answers on this port: the daemon backs off, and imports
  // by its start-up reconcile all the same.
  f.WriteConfig(R"(, "syncthing": {"api_key_env": "NO_SUCH_VARIABLE", "host": "127.0.0.1", "port": 9},
    "publish": {"enabled": true, "debounce_seconds": 1}, "log_level": "debug")");
  ChildProcess daemon;
  REQUIRE(daemon.Start({BinaryPath("indafoto-syncd"), "run", "--config", f.config.string()},
                       f.tmp.path() / "daemon.log"));
  REQUIRE(WaitFor([&] { return WriterLock::Holder(WriterLockPath(f.a_db())).command == "run"; }, 30s));
  int refused = 0;
  // While the daemon imports (and after): every writer is refused.
  for (int i = 0; i < 12; ++i) {
    const char* cmd = i % 3 == 0 ? "import" : i % 3 == 1 ? "publish" : "trust";
    ProcessResult r = i % 3 == 2 ? f.Run(cmd, {"--source", "peerB"}) : f.Run(cmd);
    INFO(cmd << ": " << r.output);
    CHECK(r.exit_code == 4);
    CHECK(r.output.find("`indafoto-syncd run` (pid " + std::to_string(daemon.pid())) != std::string::npos);
    CHECK(r.output.find("systemctl reload indafoto-syncd") != std::string::npos);
    refused += r.exit_code == 4;
  }
  CHECK(refused == 12);
  // Readers run beside it.
  ProcessResult status = f.Run("status");
  INFO(status.output);
  CHECK((status.exit_code == 0 || status.exit_code == 1));
  CHECK(status.output.find("source peerB") != std::string::npos);
  REQUIRE(WaitFor([&] { return Decided(f.a_db()) >= 2500; }, 120s));
  daemon.Signal(SIGTERM);
  CHECK(daemon.Wait(60s) == 0);
  ExpectHealthyArchive(f);
  // The lock went with the daemon: a writer runs again.
  CHECK(f.Run("publish").exit_code == 0);
}

TEST_CASE("a stale lock file of a killed writer never blocks", "[lock][crash]") {
  ImportFixture f(ManyFiles());
  ChildProcess import;
  REQUIRE(import.Start({BinaryPath("indafoto-syncd"), "import", "--config", f.config.string()},
                       f.tmp.path() / "import.log"));
  REQUIRE(WaitFor([&] { return Decided(f.a_db()) > 100; }, 60s));
  import.Signal(SIGKILL);
  import.Wait(30s);
  CHECK(fs::exists(WriterLockPath(f.a_db())));  // the file stays; its flock went with the process
  ProcessResult again = f.Run("import");
  INFO(again.output);
  CHECK(again.exit_code == 0);
  ExpectHealthyArchive(f);
}

}  // namespace indafoto
