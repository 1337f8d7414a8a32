// `indafoto-syncd publish` (write the manifest now) and `trust` (accept a
// publisher's new key).
#include <spdlog/spdlog.h>

#include <cstdio>

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
  PublishReport r;
  Status s = PublishNow(config, &r);
  if (!s.ok()) {
    spdlog::error("publish failed: {}", s.ToString());
    return ExitCodeFor(s);
  }
  std::printf("manifest %s: sequence %llu%s, %lld images in %lld parts (%lld written, %lld removed), %lld bytes "
              "(%lld written); left out: %lld banned, %lld without file, %lld outside image_root\n",
              r.manifest_path.string().c_str(), static_cast<unsigned long long>(r.sequence),
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
  std::printf("public key: %s\n", r.public_key.c_str());
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
