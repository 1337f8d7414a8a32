// SyncSource: the one way into an import pass. `indafoto-syncd import`,
// the daemon's reconcile, its reaction to a new catalog and its event
// batches all call it; what differs is only the scope.
//
//   kAll          refresh the source's catalog, merge what changed in it
//                 into images already taken, then import every delivered
//                 file not yet accounted for (a walk of the received
//                 folder: `import` and the reconcile scan)
//   kProvisional  refresh the catalog; only when it changed, merge what
//                 changed and retry the files recorded pending or failed
//                 (a manifest arrived)
//   kPaths        import the given paths (Syncthing's ItemFinished events)
//
// The caller holds a read-write Instance (the writer lock) and runs this on
// one thread at a time.
#pragma once

#include <string>
#include <vector>

#include "lib/config/config.h"
#include "lib/import/import_pass.h"
#include "lib/import/instance.h"

namespace indafoto {

enum class SyncScope { kAll, kProvisional, kPaths };

struct SyncRequest {
  SyncScope scope = SyncScope::kAll;
  std::vector<std::string> paths;  // kPaths only
};

// Runs one pass of `request` over `source`; counts what it decided. A
// missing received folder is NotFound (normal before Syncthing creates
// it); other errors end the pass early and are retried by the next one.
Status SyncSource(Instance& instance, const RemoteSource& source, const SyncRequest& request,
                  const PassOptions& options, PassCounts* counts);

// Reloads the catalog of `source` when its published version changed, and
// logs what happened; on error the previous catalog stays (and is named).
// Returns whether the catalog changed.
bool RefreshCatalogAndLog(Instance& instance, const RemoteSource& source);

// Logs one import decision (debug; warnings for failures, conflicts and
// transient errors).
void LogOutcome(const std::string& source, const std::string& rel_path, const ImportOutcome& outcome);

}  // namespace indafoto
