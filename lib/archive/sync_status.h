// SyncStatus: the decision recorded for one delivery, in
// sync_records.status. The names are the archive's vocabulary (documented
// in docs/operations.md); they are written here and nowhere else.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace indafoto {

enum class SyncStatus {
  kImported,   // new image added
  kMerged,     // same image; metadata or relations added
  kDuplicate,  // same image; nothing new
  kRepaired,   // local file was missing or corrupt; replaced by the delivery
  kPending,    // no catalog entry yet; retried when the catalog changes
  kFailed,     // hash mismatch, unusable entry or name; retried when the catalog changes
  kConflict,   // same url, different verified content; local kept
  kSkipped,    // author banned locally
};

// Every status, in the order reports list them.
inline constexpr std::array<SyncStatus, 8> kAllSyncStatuses = {
    SyncStatus::kImported, SyncStatus::kMerged,  SyncStatus::kDuplicate, SyncStatus::kRepaired,
    SyncStatus::kPending,  SyncStatus::kFailed,  SyncStatus::kConflict,  SyncStatus::kSkipped};

// The name stored in sync_records.status.
const char* SyncStatusName(SyncStatus status);
// nullopt for a name this version does not know (a newer writer's).
std::optional<SyncStatus> ParseSyncStatus(std::string_view name);

// Final statuses are not examined again by a reconcile scan.
bool IsFinal(SyncStatus status);
// The delivery left its image in the archive (imported, merged, duplicate,
// repaired): the record's image_id is that image.
bool TookImage(SyncStatus status);

}  // namespace indafoto
