#include "lib/archive/sync_status.h"

#include <catch2/catch.hpp>
#include <set>
#include <string>

namespace indafoto {

TEST_CASE("every sync status has one name that parses back", "[sync_status]") {
  std::set<std::string> names;
  for (SyncStatus s : kAllSyncStatuses) {
    std::string name = SyncStatusName(s);
    CHECK(names.insert(name).second);
    REQUIRE(ParseSyncStatus(name).has_value());
    CHECK(*ParseSyncStatus(name) == s);
  }
  CHECK_FALSE(ParseSyncStatus("reject").has_value());
  CHECK_FALSE(ParseSyncStatus("").has_value());
}

TEST_CASE("final statuses are those a reconcile scan does not examine again", "[sync_status]") {
  CHECK(IsFinal(SyncStatus::kImported));
  CHECK(IsFinal(SyncStatus::kConflict));
  CHECK(IsFinal(SyncStatus::kSkipped));
  CHECK_FALSE(IsFinal(SyncStatus::kPending));
  CHECK_FALSE(IsFinal(SyncStatus::kFailed));
  CHECK(TookImage(SyncStatus::kRepaired));
  CHECK_FALSE(TookImage(SyncStatus::kConflict));
}

}  // namespace indafoto
