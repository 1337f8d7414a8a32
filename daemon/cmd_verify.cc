// `indafoto-syncd verify`: every local image's file exists and matches its
// sha256_hash. Hashes on all cores; changes nothing.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <future>
#include <vector>

#include "daemon/cli.h"
#include "lib/instance.h"
#include "lib/sha256.h"

namespace indafoto {

namespace {

struct Row {
  int64_t id;
  std::string local_path;
  std::string sha256;
  std::string problem;  // "", "missing", "mismatch", "unreadable"
  std::string detail;
};

void Check(const LocalPathStyle& style, Row* row) {
  if (row->local_path.empty()) {
    row->problem = "missing";
    row->detail = "no local_path";
    return;
  }
  FileDigest d;
  Status s = Sha256File(style.ToAbsolute(row->local_path), &d);
  if (s.IsNotFound()) {
    row->problem = "missing";
  } else if (!s.ok()) {
    row->problem = "unreadable";
    row->detail = s.message();
  } else if (!row->sha256.empty() && d.sha256 != row->sha256) {
    row->problem = "mismatch";
    row->detail = "expected " + row->sha256 + ", file " + d.sha256;
  }
}

}  // namespace

int RunVerify(const CommandLine& cl) {
  Config config;
  if (int rc = LoadConfigOrExplain(cl, &config); rc != kExitOk) return rc;
  std::unique_ptr<Instance> inst;
  if (int rc = OpenInstanceOrExplain(cl.command, config, cl.repair ? Instance::Access::kReadWrite : Instance::Access::kReadOnly, cl.wait, &inst); rc != kExitOk) return rc;
  ArchiveDb& archive = inst->archive();
  int threads = HashThreads(config);
  int64_t checked = 0, without_hash = 0;
  std::vector<Row> problems;
  try {
    Statement q = archive.db().Prepare(archive.HasColumn("sha256_hash")
                                           ? "SELECT id, local_path, sha256_hash FROM images ORDER BY id"
                                           : "SELECT id, local_path, NULL FROM images ORDER BY id");
    std::vector<Row> batch;
    auto flush = [&]() {
      std::vector<std::future<void>> jobs;
      size_t per = (batch.size() + threads - 1) / threads;
      for (size_t start = 0; start < batch.size(); start += per) {
        jobs.push_back(std::async(std::launch::async, [&, start]() {
          for (size_t i = start; i < std::min(batch.size(), start + per); ++i) Check(archive.path_style(), &batch[i]);
        }));
      }
      for (auto& j : jobs) j.get();
      for (auto& r : batch) {
        ++checked;
        if (r.sha256.empty()) ++without_hash;
        if (!r.problem.empty()) problems.push_back(std::move(r));
      }
      batch.clear();
    };
    while (q.Step()) {
      batch.push_back(Row{q.Int(0), q.Text(1), q.Text(2), "", ""});
      if (batch.size() >= 256) flush();
    }
    flush();
  } catch (const SqliteError& e) {
    std::fprintf(stderr, "indafoto-syncd verify: %s\n", e.what());
    return kExitRuntime;
  }
  if (cl.json) {
    rapidjson::StringBuffer buf;
    rapidjson::Writer<rapidjson::StringBuffer> w(buf);
    w.StartObject();
    w.Key("checked");
    w.Int64(checked);
    w.Key("without_sha256");
    w.Int64(without_hash);
    w.Key("ok");
    w.Bool(problems.empty());
    w.Key("problems");
    w.StartArray();
    for (const auto& p : problems) {
      w.StartObject();
      w.Key("image_id");
      w.Int64(p.id);
      w.Key("local_path");
      w.String(p.local_path.c_str());
      w.Key("problem");
      w.String(p.problem.c_str());
      w.Key("detail");
      w.String(p.detail.c_str());
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    std::printf("%s\n", buf.GetString());
  } else {
    for (const auto& p : problems)
      std::printf("%-10s image %lld %s %s\n", p.problem.c_str(), static_cast<long long>(p.id), p.local_path.c_str(),
                  p.detail.c_str());
    std::printf("verified %lld images: %zu problems, %lld without a sha256 (existence checked only)\n",
                static_cast<long long>(checked), problems.size(), static_cast<long long>(without_hash));
  }
  return problems.empty() ? kExitOk : kExitProblems;
}

}  // namespace indafoto
