#include "lib/import/sync_source.h"

#include <spdlog/spdlog.h>

#include "lib/util/logging.h"

namespace indafoto {

bool RefreshCatalogAndLog(Instance& instance, const RemoteSource& source) {
  bool changed = false;
  std::string used;
  Status s = instance.RefreshCatalog(source, &changed, &used);
  int64_t entries = 0;
  Status counted = instance.catalog().Count(source.name, &entries);
  std::string previous = counted.ok() ? std::to_string(entries) + " entries" : "size unknown: " + counted.message();
  if (s.IsNotFound() && used == kNoCatalogYet && counted.ok() && entries == 0) {
    // A new source whose manifest has not arrived yet (and no remote_db_path
    // is configured): the normal state of a first sync, not a problem (it
    // would crowd `journalctl -p warning`).
    spdlog::info("source {}: no catalog yet ({}); files delivered before it are recorded pending", source.name,
                 s.message());
  } else if (s.IsNotFound() && used.rfind("manifest", 0) == 0) {
    // A part named by the index has not arrived yet: normal while Syncthing
    // delivers a new manifest; its arrival reloads again.
    spdlog::info("source {}: catalog not complete yet ({}): {}; using the previous catalog ({})", source.name, used,
                 s.message(), previous);
  } else if (!s.ok()) {
    spdlog::warn("source {}: catalog not updated ({}): {}; using the previous catalog ({})", source.name, used,
                 s.message(), previous);
  } else if (changed) {
    spdlog::info("source {}: catalog from {} ({}, reloaded)", source.name, used, previous);
  } else {
    spdlog::debug("source {}: catalog from {} unchanged ({})", source.name, used, previous);
  }
  return changed;
}

void LogOutcome(const std::string& source, const std::string& rel, const ImportOutcome& o) {
  if (!o.error.ok()) {
    LogDecision(spdlog::level::warn, source, rel, "error", "not imported now, retried later: " + o.error.ToString());
  } else if (!o.status) {
    LogDecision(spdlog::level::debug, source, rel, "ignored", o.message);
  } else if (*o.status == SyncStatus::kFailed || *o.status == SyncStatus::kConflict) {
    LogDecision(o.unchanged ? spdlog::level::debug : spdlog::level::warn, source, rel, SyncStatusName(*o.status),
                o.message);
  } else {
    LogDecision(spdlog::level::debug, source, rel, SyncStatusName(*o.status),
                o.unchanged ? "already recorded" : o.message);
  }
}

namespace {

// Images already taken from `source` whose catalog entry changed get what
// is new, before any file is looked at.
Status MergeChangedEntries(Instance& instance, const RemoteSource& source, PassCounts* counts) {
  int64_t merged = 0;
  Status s = instance.importer().MergeCatalogChanges(source, &merged);
  if (merged > 0) {
    counts->by_status[SyncStatus::kMerged] += merged;
    spdlog::info("source {}: {} image(s) updated from changed catalog entries", source.name, merged);
  }
  return s;
}

}  // namespace

Status SyncSource(Instance& instance, const RemoteSource& source, const SyncRequest& request,
                  const PassOptions& options, PassCounts* counts) {
  Importer& importer = instance.importer();
  switch (request.scope) {
    case SyncScope::kPaths:
      return ImportPaths(importer, source, request.paths, options, counts);
    case SyncScope::kAll: {
      RefreshCatalogAndLog(instance, source);
      if (Status s = MergeChangedEntries(instance, source, counts); !s.ok()) return s;
      return RunImportPass(importer, source, options, counts);
    }
    case SyncScope::kProvisional: {
      if (!RefreshCatalogAndLog(instance, source)) return Status::Ok();
      if (Status s = MergeChangedEntries(instance, source, counts); !s.ok()) return s;
      std::vector<std::string> retry, failed;
      if (Status s = instance.archive().PathsWithStatus(source.name, SyncStatus::kPending, &retry); !s.ok()) return s;
      if (Status s = instance.archive().PathsWithStatus(source.name, SyncStatus::kFailed, &failed); !s.ok()) return s;
      retry.insert(retry.end(), failed.begin(), failed.end());
      if (retry.empty()) return Status::Ok();
      spdlog::info("source {}: retrying {} pending/failed file(s) with the new catalog", source.name, retry.size());
      return ImportPaths(importer, source, retry, options, counts);
    }
  }
  return Status::Invalid("unknown sync scope");
}

}  // namespace indafoto
