// `indafoto-syncd verify [--repair]`: every local image's file exists and
// matches its sha256_hash. Hashes on all cores. Without --repair it changes
// nothing in the archive (and takes no writer lock); with --repair it heals
// what it can from verified deliveries (Importer::HealLocalFile). Either
// way the summary is recorded for `status`.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <vector>

#include "daemon/cli.h"
#include "lib/import/instance.h"
#include "lib/import/sync_source.h"
#include "lib/import/verify.h"

namespace indafoto {

namespace {

struct Problem {
  LocalFileCheck check;
  std::string healed_from;  // "source:path" when --repair healed it
  std::string not_healed;   // why not, with --repair
};

// Records the summary in the state database when it exists. A read-only
// verify opens its own connection for this one row: it is verify's own
// record, and SQLite orders it with a daemon's writes.
void Record(const Config& config, Instance& inst, const VerifySummary& summary) {
  Status s;
  if (inst.holds_writer_lock()) {
    s = RecordVerifySummary(inst.state(), summary);
  } else {
    std::error_code ec;
    if (!std::filesystem::exists(config.state_path, ec)) return;  // nothing was ever imported
    Database db;
    s = Database::Open(config.state_path.string(), Database::Mode::kReadWrite, 10000, &db);
    if (s.ok()) s = RecordVerifySummary(db, summary);
  }
  if (!s.ok())
    spdlog::warn("verify: result not recorded for `status` in the state database {}: {}", config.state_path.string(),
                 s.ToString());
}

}  // namespace

int RunVerify(const CommandLine& cl) {
  Config config;
  if (int rc = LoadConfigOrExplain(cl, &config); rc != kExitOk) return rc;
  std::unique_ptr<Instance> inst;
  Instance::Access access = cl.repair ? Instance::Access::kReadWrite : Instance::Access::kReadOnly;
  if (int rc = OpenInstanceOrExplain(cl.repair ? "verify --repair" : "verify", config, access, cl.wait, &inst);
      rc != kExitOk)
    return rc;
  if (cl.repair) {
    // Heal from the sources' current catalogs.
    for (const RemoteSource& source : config.sources) RefreshCatalogAndLog(*inst, source);
  }
  VerifySummary summary;
  std::vector<Problem> problems;
  VerifyCursor cursor;
  auto note = [&](const LocalFileCheck& c, const std::string& healed_from, const Status& why_not) {
    problems.push_back(Problem{c, healed_from, why_not.ok() ? "" : why_not.message()});
  };
  while (!cursor.done) {
    if (Status s = VerifyBatch(inst->archive(), cl.repair ? &inst->importer() : nullptr, config.sources,
                               config.HashThreads(), 256, &cursor, &summary, note);
        !s.ok()) {
      std::fprintf(stderr, "indafoto-syncd verify: archive database %s: %s\n", config.database_path.c_str(),
                   s.ToString().c_str());
      return kExitRuntime;
    }
  }
  Record(config, *inst, summary);
  if (cl.json) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("checked");
    w.Int64(summary.checked);
    w.Key("without_sha256");
    w.Int64(summary.without_sha256);
    w.Key("healed");
    w.Int64(summary.healed);
    w.Key("ok");
    w.Bool(summary.Unhealed() == 0);
    w.Key("problems");
    w.StartArray();
    for (const auto& p : problems) {
      w.StartObject();
      w.Key("image_id");
      w.Int64(p.check.image.id);
      w.Key("local_path");
      w.String(p.check.image.local_path.c_str());
      w.Key("problem");
      w.String(p.check.problem.c_str());
      w.Key("detail");
      w.String(p.check.detail.c_str());
      if (cl.repair) {
        w.Key("healed");
        w.Bool(!p.healed_from.empty());
        w.Key(p.healed_from.empty() ? "not_healed" : "healed_from");
        w.String(p.healed_from.empty() ? p.not_healed.c_str() : p.healed_from.c_str());
      }
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    std::printf("%s\n", buf.GetString());
  } else {
    for (const auto& p : problems) {
      std::printf("%-10s image %lld %s %s", p.check.problem.c_str(), static_cast<long long>(p.check.image.id),
                  p.check.image.local_path.c_str(), p.check.detail.c_str());
      if (!p.healed_from.empty()) std::printf(" -> healed from %s", p.healed_from.c_str());
      else if (cl.repair) std::printf(" -> not healed: %s", p.not_healed.c_str());
      std::printf("\n");
    }
    std::printf("verified %lld images: %lld missing, %lld corrupt, %lld healed, %lld without a sha256 (existence "
                "checked only)\n",
                static_cast<long long>(summary.checked), static_cast<long long>(summary.missing),
                static_cast<long long>(summary.corrupt), static_cast<long long>(summary.healed),
                static_cast<long long>(summary.without_sha256));
  }
  return summary.Unhealed() == 0 ? kExitOk : kExitProblems;
}

}  // namespace indafoto
