// The hashing pipeline under SyncSource (lib/import/sync_source.h, the one
// entry point): one pass over a received folder, where every delivered
// file not yet accounted for (Importer::IsAccounted) is hashed and
// imported, or over a list of paths. The walk is what makes the daemon
// independent of having seen every event.
//
// Examining (the catalog lookup) and hashing run on `hash_threads` threads
// ahead of the importer, each with a read-only connection of its own to
// the state database; decisions are applied one at a time on the calling
// thread, one transaction each, which alone writes indafoto.db.
// Memory is bounded by the number of files in flight, not the folder size.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "lib/config/config.h"
#include "lib/import/importer.h"

namespace indafoto {

struct PassCounts {
  int64_t seen = 0;        // image deliveries found in the folder
  int64_t accounted = 0;   // already decided earlier; not examined again
  int64_t unchanged = 0;   // examined; the same decision was already recorded
  int64_t errors = 0;      // transient failures; retried by the next pass
  int64_t bytes = 0;       // bytes of files imported/merged/repaired in this pass
  std::map<SyncStatus, int64_t> by_status;  // decisions written in this pass
};

struct PassOptions {
  int hash_threads = 2;
  // Re-examine files whose decision is final too (after a catalog change
  // that could turn a conflict into something else, or on request).
  bool recheck_final = false;
  // Polled between files; returning true ends the pass early (SIGTERM).
  std::function<bool()> should_stop;
  // Called after each applied decision (logging, progress, notify).
  std::function<void(const std::string& rel_path, const ImportOutcome&)> on_outcome;
};

// Imports what `source`'s received folder holds. The source's catalog must
// be loaded into the importer's CatalogStore first (SyncSource does it).
Status RunImportPass(Importer& importer, const RemoteSource& source, const PassOptions& options, PassCounts* counts);

// Hashes then imports a list of paths (the daemon's event-driven path).
Status ImportPaths(Importer& importer, const RemoteSource& source, const std::vector<std::string>& rel_paths,
                   const PassOptions& options, PassCounts* counts);

}  // namespace indafoto
