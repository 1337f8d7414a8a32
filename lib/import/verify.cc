#include "lib/import/verify.h"

#include <algorithm>
#include <future>

#include "lib/import/importer.h"
#include "lib/util/sha256.h"

namespace indafoto {

namespace {

void Check(const LocalPathStyle& style, LocalFileCheck* c) {
  if (c->image.local_path.empty()) {
    c->problem = "missing";
    c->detail = "no local_path";
    return;
  }
  FileDigest d;
  Status s = Sha256File(style.ToAbsolute(c->image.local_path), &d);
  if (s.IsNotFound()) {
    c->problem = "missing";
  } else if (!s.ok()) {
    c->problem = "unreadable";
    c->detail = s.message();
  } else if (!c->image.sha256.empty() && d.sha256 != c->image.sha256) {
    c->problem = "mismatch";
    c->detail = "expected " + c->image.sha256 + ", file " + d.sha256;
    c->file_sha256 = d.sha256;
  }
}

}  // namespace

Status CheckLocalFiles(ArchiveDb& archive, int threads, int64_t limit, VerifyCursor* cursor,
                       std::vector<LocalFileCheck>* out) {
  std::vector<LocalFileCheck> batch;
  try {
    Statement q = archive.db().Prepare(
        archive.HasColumn("sha256_hash")
            ? "SELECT id, local_path, sha256_hash FROM images WHERE id > ? ORDER BY id LIMIT ?"
            : "SELECT id, local_path, NULL FROM images WHERE id > ? ORDER BY id LIMIT ?");
    q.Bind(1, cursor->after_id).Bind(2, limit);
    while (q.Step()) {
      LocalFileCheck c;
      c.image.id = q.Int(0);
      c.image.local_path = q.Text(1);
      c.image.sha256 = q.Text(2);
      batch.push_back(std::move(c));
    }
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
  if (batch.empty()) {
    cursor->done = true;
    return Status::Ok();
  }
  threads = std::max(1, threads);
  size_t per = (batch.size() + threads - 1) / threads;
  std::vector<std::future<void>> jobs;
  for (size_t start = 0; start < batch.size(); start += per) {
    jobs.push_back(std::async(std::launch::async, [&, start]() {
      for (size_t i = start; i < std::min(batch.size(), start + per); ++i) Check(archive.path_style(), &batch[i]);
    }));
  }
  for (auto& j : jobs) j.get();
  cursor->after_id = batch.back().image.id;
  cursor->done = static_cast<int64_t>(batch.size()) < limit;
  out->insert(out->end(), std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
  return Status::Ok();
}

Status VerifyBatch(ArchiveDb& archive, Importer* importer, const std::vector<RemoteSource>& sources, int threads,
                   int64_t limit, VerifyCursor* cursor, VerifySummary* summary, const ProblemReport& on_problem) {
  std::vector<LocalFileCheck> checks;
  if (Status s = CheckLocalFiles(archive, threads, limit, cursor, &checks); !s.ok()) return s;
  for (LocalFileCheck& c : checks) {
    ++summary->checked;
    if (c.image.sha256.empty()) ++summary->without_sha256;
    if (c.problem.empty()) continue;
    ++(c.problem == "missing" ? summary->missing : summary->corrupt);
    if (c.problem == "mismatch") {
      // The file may be another image's: one imported while this one's file
      // was missing took its free path. Say so; a repair leaves it alone.
      std::optional<LocalImage> holder;
      const LocalPathStyle& style = archive.path_style();
      if (archive.FindOtherAtPath(c.file_sha256, style.ToStored(style.ToAbsolute(c.image.local_path)), c.image.id,
                                  &holder).ok() && holder)
        c.detail += "; the file is image " + std::to_string(holder->id) + "'s, whose row names the same path";
    }
    std::string healed_from;
    Status why_not = Status::NotFound("not asked to repair");
    if (importer) why_not = importer->HealLocalFile(sources, c.image, &healed_from);
    if (why_not.ok()) ++summary->healed;
    if (on_problem) on_problem(c, healed_from, why_not);
  }
  return Status::Ok();
}

Status RecordVerifySummary(Database& state, const VerifySummary& s) {
  try {
    state.Exec(
        "CREATE TABLE IF NOT EXISTS syncd_verify (id INTEGER PRIMARY KEY CHECK (id = 1), finished_at TEXT, "
        "checked INTEGER, without_sha256 INTEGER, missing INTEGER, corrupt INTEGER, healed INTEGER)");
    Statement w = state.Prepare(
        "INSERT OR REPLACE INTO syncd_verify (id, finished_at, checked, without_sha256, missing, corrupt, healed) "
        "VALUES (1, strftime('%Y-%m-%d %H:%M:%S','now'), ?, ?, ?, ?, ?)");
    w.Bind(1, s.checked).Bind(2, s.without_sha256).Bind(3, s.missing).Bind(4, s.corrupt).Bind(5, s.healed);
    w.Run();
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

bool ReadVerifySummary(Database& state, VerifySummary* out) {
  try {
    if (!state.HasTable("syncd_verify")) return false;
    Statement q = state.Prepare(
        "SELECT finished_at, checked, without_sha256, missing, corrupt, healed FROM syncd_verify WHERE id = 1");
    if (!q.Step()) return false;
    out->finished_at = q.Text(0);
    out->checked = q.Int(1);
    out->without_sha256 = q.Int(2);
    out->missing = q.Int(3);
    out->corrupt = q.Int(4);
    out->healed = q.Int(5);
    return true;
  } catch (const SqliteError&) {
    return false;
  }
}

}  // namespace indafoto
