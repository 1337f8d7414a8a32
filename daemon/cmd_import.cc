// `indafoto-syncd import`: one pass over the received folders, then exit.
#include <spdlog/spdlog.h>

#include <cstdio>
#include <thread>

#include "daemon/cli.h"
#include "lib/import/import_pass.h"
#include "lib/import/instance.h"
#include "lib/util/logging.h"

namespace indafoto {

const char* const kStatusOrder[] = {"imported", "merged", "duplicate", "repaired", "pending",
                                    "failed",   "conflict", "skipped"};

void LogOutcome(const std::string& source, const std::string& rel, const ImportOutcome& o) {
  if (!o.error.ok()) {
    LogDecision(spdlog::level::warn, source, rel, "error",
                "not imported now, retried later: " + o.error.ToString());
  } else if (o.status == sync_status::kFailed || o.status == sync_status::kConflict) {
    LogDecision(o.unchanged ? spdlog::level::debug : spdlog::level::warn, source, rel, o.status, o.message);
  } else if (!o.status.empty()) {
    LogDecision(spdlog::level::debug, source, rel, o.status,
                o.unchanged ? "already recorded" : o.message);
  } else {
    LogDecision(spdlog::level::debug, source, rel, "ignored", o.message);
  }
}

int HashThreads(const Config& config) {
  if (config.hash_threads > 0) return config.hash_threads;
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 2 : static_cast<int>(n);
}

int RunImport(const CommandLine& cl) {
  Config config;
  if (int rc = LoadConfigOrExplain(cl, &config); rc != kExitOk) return rc;
  InitLogging(config.log_level);
  std::unique_ptr<Instance> inst;
  if (int rc = OpenInstanceOrExplain(cl.command, config, Instance::Access::kReadWrite, cl.wait, &inst); rc != kExitOk) return rc;
  int rc = kExitOk;
  for (const RemoteSource& source : config.sources) {
    if (!cl.source.empty() && source.name != cl.source) continue;
    RefreshCatalogAndLog(*inst, source);
    PassOptions options;
    options.hash_threads = HashThreads(config);
    options.on_outcome = [&](const std::string& rel, const ImportOutcome& o) { LogOutcome(source.name, rel, o); };
    PassCounts counts;
    Status ps = RunImportPass(inst->importer(), inst->archive(), source, options, &counts);
    if (!ps.ok()) {
      spdlog::error("source {}: import pass stopped: {}", source.name, ps.ToString());
      rc = kExitRuntime;
    }
    std::printf("source %s: %lld delivered files, %lld already accounted for, %lld unchanged\n", source.name.c_str(),
                static_cast<long long>(counts.seen), static_cast<long long>(counts.accounted),
                static_cast<long long>(counts.unchanged));
    std::printf("  this run:");
    for (const char* st : kStatusOrder) {
      auto it = counts.by_status.find(st);
      std::printf(" %s %lld", st, static_cast<long long>(it == counts.by_status.end() ? 0 : it->second));
    }
    std::printf(", errors %lld (retried next run), %lld bytes\n", static_cast<long long>(counts.errors),
                static_cast<long long>(counts.bytes));
  }
  return rc;
}

}  // namespace indafoto
