// `indafoto-syncd publish` (write the manifest now) and `trust` (accept a
// publisher's new key).
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "daemon/cli.h"
#include "lib/import/instance.h"
#include "lib/util/logging.h"
#include "lib/catalog/manifest_writer.h"

namespace indafoto {

Status PublishNow(const Config& config, PublishReport* report) {
  PublishOptions options;
  options.database_path = config.database_path;
  options.image_root = config.image_root;
  options.key_path = config.key_path;
  return PublishManifest(options, report);
}

Status PublishAll(const Config& config, bool own, Exchange* exchange, PublishAllReport* r) {
  *r = PublishAllReport();
  if (own) {
    r->own = true;
    r->own_status = PublishNow(config, &r->own_report);
  }
  if (exchange && !config.peers.empty()) {
    r->exchange = true;
    r->exchange_status = exchange->Publish(config, &r->exchange_report);
  }
  return !r->own_status.ok() ? r->own_status : r->exchange_status;
}

namespace {

void PrintManifest(const char* what, const PublishReport& r) {
  std::printf("%s %s: sequence %llu%s, %lld images in %lld parts (%lld written, %lld removed), %lld bytes "
              "(%lld written); left out: %lld banned, %lld without file, %lld outside image_root\n",
              what, r.manifest_path.string().c_str(), static_cast<unsigned long long>(r.sequence),
              r.unchanged ? " (unchanged)" : "", static_cast<long long>(r.image_count),
              static_cast<long long>(r.parts), static_cast<long long>(r.parts_written),
              static_cast<long long>(r.parts_removed), static_cast<long long>(r.bytes_total),
              static_cast<long long>(r.bytes_written), static_cast<long long>(r.banned),
              static_cast<long long>(r.no_file), static_cast<long long>(r.outside_root));
  if (r.incremental)
    std::printf("incremental: %lld part(s) read from the database, %lld taken over unchanged (the counts left out "
                "are of the parts read)\n",
                static_cast<long long>(r.parts_read), static_cast<long long>(r.parts_reused));
  else if (!r.full_reason.empty())
    std::printf("whole archive read: %s\n", r.full_reason.c_str());
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& x : v) out += (out.empty() ? "" : ", ") + x;
  return out;
}

}  // namespace

int RunPublish(const CommandLine& cl) {
  Config config;
  if (int rc = LoadConfigOrExplain(cl, &config); rc != kExitOk) return rc;
  InitLogging(config.log_level);
  // Opening the archive creates the schema of a fresh instance and our
  // additions, so publish works on a brand-new archive too; the instance
  // holds the writer lock until the manifest is written.
  std::unique_ptr<Instance> inst;
  if (int rc = OpenInstanceOrExplain(cl.command, config, Instance::Access::kReadWrite, cl.wait, &inst); rc != kExitOk)
    return rc;
  // The exchange's tables and folders, as the daemon has them.
  std::unique_ptr<Exchange> exchange;
  if (!config.peers.empty()) {
    if (Status s = CheckExchangeRoot(config); !s.ok()) {
      spdlog::error("{}", s.message());
      return kExitUsage;
    }
    if (Status s = Exchange::Open(inst.get(), &exchange); !s.ok()) {
      spdlog::error("exchange: cannot open its tables in the state database: {}", s.ToString());
      return kExitRuntime;
    }
  }
  PublishAllReport r;
  Status s = PublishAll(config, PublishesOwnManifest(config, /*command=*/true), exchange.get(), &r);
  std::string public_key;
  if (r.own && r.own_status.ok()) {
    PrintManifest("manifest", r.own_report);
    public_key = r.own_report.public_key;
  }
  if (r.exchange && r.exchange_status.ok()) {
    PrintManifest("exchange manifest", r.exchange_report.manifest);
    std::printf("mirrored into the folder of peer(s): %s%s%s\n", Join(r.exchange_report.mirrored).c_str(),
                r.exchange_report.not_mirrored.empty() ? "" : "; NOT into: ",
                Join(r.exchange_report.not_mirrored).c_str());
    std::printf("outboxes: recomputed by the running daemon (it needs Syncthing's device ID)\n");
    public_key = r.exchange_report.manifest.public_key;
  }
  if (r.own && !r.own_status.ok()) spdlog::error("publish failed: {}", r.own_status.ToString());
  if (r.exchange && !r.exchange_status.ok()) spdlog::error("exchange: publish failed: {}", r.exchange_status.ToString());
  if (!public_key.empty()) std::printf("public key: %s\n", public_key.c_str());
  if (!s.ok()) return ExitCodeFor(s);
  if (r.exchange && !r.exchange_report.not_mirrored.empty()) return kExitRuntime;
  return kExitOk;
}

int RunTrust(const CommandLine& cl) {
  Config config;
  if (int rc = LoadConfigOrExplain(cl, &config); rc != kExitOk) return rc;
  if (cl.source.empty()) {
    std::fprintf(stderr, "indafoto-syncd trust: --source NAME is required\n");
    return kExitUsage;
  }
  std::unique_ptr<Instance> inst;
  if (int rc = OpenInstanceOrExplain(cl.command, config, Instance::Access::kReadWrite, cl.wait, &inst); rc != kExitOk)
    return rc;
  std::string old_key;
  inst->pins().Get(cl.source, &old_key, nullptr);
  bool removed = false;
  if (Status s = inst->pins().Unpin(cl.source, &removed); !s.ok()) {
    std::fprintf(stderr, "indafoto-syncd trust: %s\n", s.ToString().c_str());
    return kExitRuntime;
  }
  // Starting over includes the manifest history: the new key's first
  // manifest may carry a lower sequence than the old key's last one.
  if (Status s = inst->catalog().ForgetSequence(cl.source); !s.ok()) {
    std::fprintf(stderr, "indafoto-syncd trust: %s\n", s.ToString().c_str());
    return kExitRuntime;
  }
  if (removed)
    std::printf("source %s: removed the pin of key %s and the accepted manifest sequence; the next manifest pins "
                "its signer's key\n",
                cl.source.c_str(), old_key.c_str());
  else
    std::printf("source %s: no key was pinned; the accepted manifest sequence is forgotten\n", cl.source.c_str());
  return kExitOk;
}

}  // namespace indafoto
