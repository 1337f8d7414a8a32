#include "lib/archive/sync_status.h"

namespace indafoto {

const char* SyncStatusName(SyncStatus status) {
  switch (status) {
    case SyncStatus::kImported: return "imported";
    case SyncStatus::kMerged: return "merged";
    case SyncStatus::kDuplicate: return "duplicate";
    case SyncStatus::kRepaired: return "repaired";
    case SyncStatus::kPending: return "pending";
    case SyncStatus::kFailed: return "failed";
    case SyncStatus::kConflict: return "conflict";
    case SyncStatus::kSkipped: return "skipped";
  }
  return "?";
}

std::optional<SyncStatus> ParseSyncStatus(std::string_view name) {
  for (SyncStatus s : kAllSyncStatuses) {
    if (name == SyncStatusName(s)) return s;
  }
  return std::nullopt;
}

bool IsFinal(SyncStatus status) {
  return TookImage(status) || status == SyncStatus::kConflict || status == SyncStatus::kSkipped;
}

bool TookImage(SyncStatus status) {
  return status == SyncStatus::kImported || status == SyncStatus::kMerged || status == SyncStatus::kDuplicate ||
         status == SyncStatus::kRepaired;
}

}  // namespace indafoto
