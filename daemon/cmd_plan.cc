// `indafoto-syncd plan`: a dry run of an import for one source.
//
// Changes nothing: the archive is opened read-only, and the source's
// catalog is read into a temporary store that is deleted afterwards.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <map>

#include "daemon/cli.h"
#include "lib/import/instance.h"
#include "lib/import/received_folder.h"

namespace indafoto {

namespace {

// A temporary SQLite file for the catalog, removed on destruction.
class TemporaryDatabase {
 public:
  Status Open() {
    const char* tmp = std::getenv("TMPDIR");
    path_ = std::string(tmp && *tmp ? tmp : "/tmp") + "/indafoto-syncd-plan-XXXXXX";
    int fd = ::mkstemp(path_.data());
    if (fd < 0) return Status::FromErrno(errno, "create temporary catalog " + path_);
    ::close(fd);
    return Database::Open(path_, Database::Mode::kReadWrite, 1000, &db_);
  }
  ~TemporaryDatabase() {
    db_ = Database();
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  Database& db() { return db_; }

 private:
  std::string path_;
  Database db_;
};

}  // namespace

int RunPlan(const CommandLine& cl) {
  Config config;
  if (int rc = LoadConfigOrExplain(cl, &config); rc != kExitOk) return rc;
  if (cl.source.empty()) {
    std::fprintf(stderr, "indafoto-syncd plan: --source NAME is required\n");
    return kExitUsage;
  }
  const RemoteSource& source = *config.FindSource(cl.source);
  std::unique_ptr<Instance> inst;
  if (int rc = OpenInstanceOrExplain(cl.command, config, Instance::Access::kReadOnly, false, &inst); rc != kExitOk) return rc;
  TemporaryDatabase tmp;
  CatalogStore store;
  if (Status s = tmp.Open(); !s.ok() || !(s = CatalogStore::Open(&tmp.db(), &store)).ok()) {
    std::fprintf(stderr, "indafoto-syncd plan: %s\n", s.ToString().c_str());
    return kExitRuntime;
  }
  bool changed = false;
  std::string used;
  Status cs = inst->LoadCatalogInto(source, &store, /*dry_run=*/true, &changed, &used);
  if (cs.IsNotFound() && used == kNoCatalogYet) {
    // No manifest has arrived yet (and no remote_db_path): an import would
    // record every delivered file pending, and so says the plan.
    std::fprintf(stderr, "indafoto-syncd plan: source %s: no catalog yet (%s); delivered files would be pending\n",
                 source.name.c_str(), cs.message().c_str());
  } else if (!cs.ok()) {
    std::fprintf(stderr, "indafoto-syncd plan: source %s: cannot read the catalog (%s): %s\n", source.name.c_str(),
                 used.c_str(), cs.message().c_str());
    return ExitCodeFor(cs) == kExitUsage ? kExitUsage : kExitRuntime;
  }
  Importer planner(&inst->archive(), &store);
  std::map<std::string, int64_t> totals;
  int64_t accounted_total = 0;
  int64_t entries = 0;
  if (Status s = store.Count(source.name, &entries); !s.ok()) {
    std::fprintf(stderr, "indafoto-syncd plan: temporary catalog: %s\n", s.ToString().c_str());
    return kExitRuntime;
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  if (cl.json) {
    w.StartObject();
    w.Key("source");
    w.String(source.name.c_str());
    w.Key("catalog");
    w.String(used.c_str());
    w.Key("catalog_entries");
    w.Int64(entries);
    w.Key("files");
    w.StartArray();
  }
  Status db_error;
  Status walk = WalkReceivedFolder(source.received_folder, [&](const std::string& rel) {
    bool accounted = false;
    std::optional<SyncRecord> r;
    if (Status s = planner.IsAccounted(source, rel, &accounted, &r); !s.ok()) {
      db_error = s;  // busy or corrupt: say so and stop
      return false;
    }
    // What an import would record: the status name, "ignored" (nothing
    // recorded) or "error" (retried later); "already <status>" for a
    // delivery an import would not examine again.
    std::string outcome;
    std::string message;
    if (accounted) {
      ++accounted_total;
      outcome = std::string("already ") + SyncStatusName(*r->status);
    } else {
      Decision d = planner.Decide(source, rel);
      std::optional<SyncStatus> status = StatusFor(d.action);
      outcome = !d.error.ok() ? "error" : status ? SyncStatusName(*status) : "ignored";
      message = d.message;
    }
    ++totals[outcome];
    if (cl.json) {
      w.StartObject();
      w.Key("path");
      w.String(rel.c_str());
      w.Key("status");
      w.String(outcome.c_str());
      if (!message.empty()) {
        w.Key("reason");
        w.String(message.c_str());
      }
      w.EndObject();
    } else if (outcome != SyncStatusName(SyncStatus::kImported) && outcome != SyncStatusName(SyncStatus::kMerged) &&
               outcome.rfind("already", 0) != 0) {
      std::printf("%-9s %s: %s\n", outcome.c_str(), rel.c_str(), message.c_str());
    }
    return true;
  });
  if (cl.json) {
    w.EndArray();
    w.Key("totals");
    w.StartObject();
    for (const auto& [k, v] : totals) {
      w.Key(k.c_str());
      w.Int64(v);
    }
    w.EndObject();
    w.EndObject();
    std::printf("%s\n", buf.GetString());
  } else {
    std::printf("plan for source %s (catalog: %s, %lld entries); an import would record:\n", source.name.c_str(),
                used.c_str(), static_cast<long long>(entries));
    for (SyncStatus st : kAllSyncStatuses) {
      if (st == SyncStatus::kDuplicate) continue;  // shown as merged: a dry run cannot tell them apart
      std::printf("  %-9s %lld\n", SyncStatusName(st), static_cast<long long>(totals[SyncStatusName(st)]));
    }
    std::printf("  %-9s %lld (nothing recorded)\n", "ignored", static_cast<long long>(totals["ignored"]));
    std::printf("  %-9s %lld (retried later)\n", "error", static_cast<long long>(totals["error"]));
    std::printf("  already accounted for: %lld\n", static_cast<long long>(accounted_total));
  }
  if (!db_error.ok()) {
    std::fprintf(stderr, "indafoto-syncd plan: archive database %s: %s\n", config.database_path.c_str(),
                 db_error.ToString().c_str());
    return kExitRuntime;
  }
  if (!walk.ok()) {
    std::fprintf(stderr, "indafoto-syncd plan: %s\n", walk.message().c_str());
    return kExitRuntime;
  }
  return kExitOk;
}

}  // namespace indafoto
