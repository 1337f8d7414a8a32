// `indafoto-syncd status`: per-source progress, and the daemon's health.
#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>
#include <sys/stat.h>

#include <cstdio>

#include "daemon/cli.h"
#include "daemon/exchange_status.h"
#include "lib/archive/daemon_state.h"
#include "lib/import/instance.h"
#include "lib/import/received_folder.h"
#include "lib/import/verify.h"

namespace indafoto {

namespace {

struct SourceReport {
  std::string name;
  int64_t in_catalog = 0;
  int64_t delivered = 0;
  int64_t delivered_bytes = 0;
  std::map<std::string, int64_t> counts;
  std::string folder_error;
};

}  // namespace

int RunStatus(const CommandLine& cl) {
  Config config;
  if (int rc = LoadConfigOrExplain(cl, &config); rc != kExitOk) return rc;
  std::unique_ptr<Instance> inst;
  if (int rc = OpenInstanceOrExplain(cl.command, config, Instance::Access::kReadOnly, false, &inst); rc != kExitOk) return rc;
  std::vector<SourceReport> reports;
  bool healthy = true;
  for (const RemoteSource& source : config.sources) {
    SourceReport r;
    r.name = source.name;
    Status s = inst->catalog().Count(source.name, &r.in_catalog);
    if (s.ok()) s = inst->archive().StatusCounts(source.name, &r.counts);
    if (!s.ok()) {
      // Busy (the daemon or the crawler held a database past the timeout)
      // or corrupt: say which, never a partial report.
      std::fprintf(stderr, "indafoto-syncd status: source %s: %s\n", source.name.c_str(), s.ToString().c_str());
      return kExitRuntime;
    }
    Status w = WalkReceivedFolder(source.received_folder, [&](const std::string& rel) {
      struct stat st;
      ++r.delivered;
      if (::lstat((source.received_folder / rel).c_str(), &st) == 0) r.delivered_bytes += st.st_size;
      return true;
    });
    if (!w.ok()) r.folder_error = w.message();
    if (r.counts[SyncStatusName(SyncStatus::kFailed)] > 0) healthy = false;
    reports.push_back(std::move(r));
  }
  DaemonHeartbeat hb;
  bool has_daemon = ReadHeartbeat(inst->state(), &hb);
  if (has_daemon && hb.IsStale()) healthy = false;
  // Local files found missing or corrupt by the last verify and not healed
  // (run `verify --repair`, or restore them from a backup).
  std::vector<PeerStatus> peers = CollectPeerStatus(*inst);
  std::vector<FormerPeerStatus> former_peers = CollectFormerPeers(config);
  VerifySummary verified;
  bool has_verify = ReadVerifySummary(inst->state(), &verified);
  if (has_verify && verified.Unhealed() > 0) healthy = false;

  if (cl.json) {
    rapidjson::StringBuffer buf;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("healthy");
    w.Bool(healthy);
    w.Key("daemon");
    if (has_daemon) {
      w.StartObject();
      w.Key("state");
      w.String(hb.state.c_str());
      w.Key("pid");
      w.Int64(hb.pid);
      w.Key("updated_at");
      w.String(hb.updated_at.c_str());
      w.Key("seconds_since_update");
      w.Int64(hb.age_seconds);
      w.Key("stale");
      w.Bool(hb.IsStale());
      w.Key("message");
      w.String(hb.message.c_str());
      w.EndObject();
    } else {
      w.Null();
    }
    w.Key("last_verify");
    if (has_verify) {
      w.StartObject();
      w.Key("finished_at");
      w.String(verified.finished_at.c_str());
      w.Key("checked");
      w.Int64(verified.checked);
      w.Key("missing");
      w.Int64(verified.missing);
      w.Key("corrupt");
      w.Int64(verified.corrupt);
      w.Key("healed");
      w.Int64(verified.healed);
      w.Key("unhealed");
      w.Int64(verified.Unhealed());
      w.EndObject();
    } else {
      w.Null();
    }
    w.Key("sources");
    w.StartArray();
    for (const auto& r : reports) {
      w.StartObject();
      w.Key("name");
      w.String(r.name.c_str());
      w.Key("in_catalog");
      w.Int64(r.in_catalog);
      w.Key("delivered");
      w.Int64(r.delivered);
      w.Key("bytes");
      w.Int64(r.delivered_bytes);
      for (SyncStatus status : kAllSyncStatuses) {
        const char* st = SyncStatusName(status);
        w.Key(st);
        auto it = r.counts.find(st);
        w.Int64(it == r.counts.end() ? 0 : it->second);
      }
      if (!r.folder_error.empty()) {
        w.Key("folder_error");
        w.String(r.folder_error.c_str());
      }
      w.EndObject();
    }
    w.EndArray();
    w.Key("peers");
    w.StartArray();
    for (const PeerStatus& p : peers) {
      w.StartObject();
      w.Key("name");
      w.String(p.name.c_str());
      w.Key("device_id");
      w.String(p.device_id.c_str());
      for (auto [k, v] : {std::pair<const char*, int64_t>{"in_catalog", p.in_catalog}, {"queued", p.queued},
                          {"deferred", p.deferred}, {"sent", p.sent}, {"received", p.received}}) {
        w.Key(k);
        w.Int64(v);
      }
      w.Key("catalog_at");
      if (p.catalog_at.empty()) w.Null();
      else w.String(p.catalog_at.c_str());
      w.EndObject();
    }
    w.EndArray();
    w.Key("former_peers");
    w.StartArray();
    for (const FormerPeerStatus& p : former_peers) {
      w.StartObject();
      w.Key("name");
      w.String(p.name.c_str());
      w.Key("path");
      w.String(p.path.c_str());
      w.Key("not_imported");
      w.Int64(p.not_imported);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    std::printf("%s\n", buf.GetString());
  } else {
    if (has_daemon)
      std::printf("daemon: %s (pid %lld, last heartbeat %llds ago%s)%s%s\n", hb.state.c_str(),
                  static_cast<long long>(hb.pid), static_cast<long long>(hb.age_seconds),
                  hb.IsStale() ? ", STALE" : "", hb.message.empty() ? "" : ": ", hb.message.c_str());
    else
      std::printf("daemon: no heartbeat recorded\n");
    for (const auto& r : reports) {
      std::printf("source %s: in catalog %lld, delivered %lld (%lld bytes)\n", r.name.c_str(),
                  static_cast<long long>(r.in_catalog), static_cast<long long>(r.delivered),
                  static_cast<long long>(r.delivered_bytes));
      std::printf(" ");
      for (SyncStatus status : kAllSyncStatuses) {
        const char* st = SyncStatusName(status);
        auto it = r.counts.find(st);
        std::printf(" %s %lld", st, static_cast<long long>(it == r.counts.end() ? 0 : it->second));
      }
      std::printf("\n");
      if (!r.folder_error.empty()) std::printf("  received folder: %s\n", r.folder_error.c_str());
    }
    for (const PeerStatus& p : peers) std::printf("%s\n", PeerStatusLine(p).c_str());
    for (const FormerPeerStatus& p : former_peers) std::printf("%s\n", FormerPeerLine(p).c_str());
    if (has_verify)
      std::printf("last verify (%s UTC): %lld images checked, %lld missing, %lld corrupt, %lld healed; %lld local "
                  "images missing or corrupt%s\n",
                  verified.finished_at.c_str(), static_cast<long long>(verified.checked),
                  static_cast<long long>(verified.missing), static_cast<long long>(verified.corrupt),
                  static_cast<long long>(verified.healed), static_cast<long long>(verified.Unhealed()),
                  verified.Unhealed() > 0 ? " (run `indafoto-syncd verify --repair`, or restore them from a backup)"
                                          : "");
    else
      std::printf("last verify: never (run `indafoto-syncd verify`)\n");
    std::printf("%s\n", healthy ? "healthy" : "UNHEALTHY");
  }
  return healthy ? kExitOk : kExitProblems;
}

}  // namespace indafoto
