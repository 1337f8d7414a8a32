// `indafoto-syncd import`: one pass over the received folders, then exit.
#include <spdlog/spdlog.h>

#include <cstdio>

#include "daemon/cli.h"
#include "lib/import/sync_source.h"
#include "lib/util/logging.h"

namespace indafoto {

int RunImport(const CommandLine& cl) {
  Config config;
  if (int rc = LoadConfigOrExplain(cl, &config); rc != kExitOk) return rc;
  InitLogging(config.log_level);
  std::unique_ptr<Instance> inst;
  if (int rc = OpenInstanceOrExplain(cl.command, config, Instance::Access::kReadWrite, cl.wait, &inst); rc != kExitOk) return rc;
  int rc = kExitOk;
  for (const RemoteSource& source : config.sources) {
    if (!cl.source.empty() && source.name != cl.source) continue;
    PassOptions options;
    options.hash_threads = config.HashThreads();
    options.on_outcome = [&](const std::string& rel, const ImportOutcome& o) { LogOutcome(source.name, rel, o); };
    PassCounts counts;
    Status ps = SyncSource(*inst, source, SyncRequest{SyncScope::kAll, {}}, options, &counts);
    if (!ps.ok()) {
      spdlog::error("source {}: import pass stopped: {}", source.name, ps.ToString());
      rc = kExitRuntime;
    }
    std::printf("source %s: %lld delivered files, %lld already accounted for, %lld unchanged\n", source.name.c_str(),
                static_cast<long long>(counts.seen), static_cast<long long>(counts.accounted),
                static_cast<long long>(counts.unchanged));
    std::printf("  this run:");
    for (SyncStatus st : kAllSyncStatuses) {
      auto it = counts.by_status.find(st);
      std::printf(" %s %lld", SyncStatusName(st), static_cast<long long>(it == counts.by_status.end() ? 0 : it->second));
    }
    std::printf(", errors %lld (retried next run), %lld bytes\n", static_cast<long long>(counts.errors),
                static_cast<long long>(counts.bytes));
  }
  return rc;
}

}  // namespace indafoto
