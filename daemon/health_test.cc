#include "daemon/health.h"

#include <catch2/catch.hpp>

#include "lib/archive/daemon_state.h"
#include "testing/temp_dir.h"

namespace indafoto {

namespace {

ImportOutcome Outcome(std::optional<SyncStatus> status, bool unchanged = false, Status error = Status::Ok()) {
  ImportOutcome o;
  o.status = status;
  o.unchanged = unchanged;
  o.error = std::move(error);
  return o;
}

}  // namespace

TEST_CASE("health counts the decisions of this session and shows them in STATUS=", "[health]") {
  Health health(nullptr);
  health.Record("a", Outcome(SyncStatus::kImported));
  health.Record("a", Outcome(SyncStatus::kFailed));
  health.Record("b", Outcome(SyncStatus::kFailed));
  health.Record("b", Outcome(SyncStatus::kDuplicate, /*unchanged=*/true));  // already recorded: not a decision
  health.Record("b", Outcome(std::nullopt, false, Status::Busy("locked")));  // an error: retried, not a decision
  health.Record("b", Outcome(std::nullopt));                                  // ignored
  health.SetState("running", "reconciled");
  CHECK(health.StatusLine() == "running: 3 decisions this session, 2 failed; reconciled");
}

TEST_CASE("the progress line reports the interval's rate once, and nothing for a quiet source", "[health]") {
  Health health(nullptr);
  for (int i = 0; i < 30; ++i) health.Record("a", Outcome(SyncStatus::kImported));
  health.Record("a", Outcome(SyncStatus::kPending));
  std::optional<std::string> line = health.TakeProgressLine("a", std::chrono::seconds(10), 62);
  REQUIRE(line);
  CHECK(line->find("source a: 31 decisions this session") != std::string::npos);
  CHECK(line->find("imported 30") != std::string::npos);
  CHECK(line->find("pending 1") != std::string::npos);
  CHECK(line->find("3.1 files/s") != std::string::npos);
  CHECK(line->find("still to deliver: 62; ETA 20s") != std::string::npos);
  // Nothing new and nothing left to deliver: quiet.
  CHECK_FALSE(health.TakeProgressLine("a", std::chrono::seconds(10), 0));
  CHECK_FALSE(health.TakeProgressLine("never-seen", std::chrono::seconds(10), -1));
  // Still waiting for Syncthing: said, with the rate unknown.
  line = health.TakeProgressLine("a", std::chrono::seconds(10), 5);
  REQUIRE(line);
  CHECK(line->find("ETA unknown") != std::string::npos);
}

TEST_CASE("a change of state is written to the heartbeat at once", "[health]") {
  TempDir dir;
  Database db;
  REQUIRE(Database::Open((dir.path() / "state.db").string(), Database::Mode::kReadWriteCreate, 1000, &db).ok());
  Health health(&db);
  health.SetState("waiting for syncthing", "403: wrong API key");
  DaemonHeartbeat hb;
  REQUIRE(ReadHeartbeat(db, &hb));
  CHECK(hb.state == "waiting for syncthing");
  CHECK(hb.message == "403: wrong API key");
}

}  // namespace indafoto
