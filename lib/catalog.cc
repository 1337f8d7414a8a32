#include "lib/catalog.h"

#include <spdlog/spdlog.h>

namespace indafoto {

namespace {

const char* const kCatalogSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS syncd_catalog_entries (
    source TEXT NOT NULL,
    rel_path TEXT NOT NULL,
    sha256 TEXT,
    url TEXT,
    record TEXT NOT NULL,
    PRIMARY KEY (source, rel_path)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS syncd_catalog_by_sha256 ON syncd_catalog_entries(source, sha256);
CREATE INDEX IF NOT EXISTS syncd_catalog_by_url ON syncd_catalog_entries(source, url);
CREATE TABLE IF NOT EXISTS syncd_catalog_sources (
    source TEXT PRIMARY KEY,
    fingerprint TEXT,
    generation INTEGER NOT NULL DEFAULT 0,
    entry_count INTEGER NOT NULL DEFAULT 0,
    loaded_at DATETIME
);
)sql";

}  // namespace

Status CatalogStore::Open(Database* db, CatalogStore* out) {
  try {
    db->Exec(kCatalogSchemaSql);
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
  out->db_ = db;
  return Status::Ok();
}

Status CatalogStore::Load(const std::string& source, CatalogReader& reader, bool* changed) {
  *changed = false;
  std::string fingerprint;
  if (Status s = reader.Fingerprint(&fingerprint); !s.ok()) return s;
  try {
    {
      Statement q = db_->Prepare("SELECT fingerprint FROM syncd_catalog_sources WHERE source = ?");
      q.Bind(1, source);
      if (q.Step() && q.Text(0) == fingerprint) return Status::Ok();
    }
    // One transaction: either the whole new catalog replaces the old one or,
    // on any error below, the rollback in ~Transaction keeps the old one.
    Transaction t(*db_);
    Statement del = db_->Prepare("DELETE FROM syncd_catalog_entries WHERE source = ?");
    del.Bind(1, source);
    del.Run();
    Statement ins = db_->Prepare(
        "INSERT OR IGNORE INTO syncd_catalog_entries (source, rel_path, sha256, url, record) VALUES (?, ?, ?, ?, ?)");
    int64_t count = 0, duplicates = 0;
    Status read = reader.ReadAll([&](const RemoteImage& img) -> Status {
      ins.Bind(1, source).Bind(2, img.rel_path);
      if (img.sha256.empty()) ins.BindNull(3);
      else ins.Bind(3, img.sha256);
      const Value& url = img.Get("url");
      if (url.IsMissing()) ins.BindNull(4);
      else ins.Bind(4, url.ToString());
      ins.Bind(5, RemoteImageToJson(img));
      ins.Run();
      if (db_->Changes() == 0) ++duplicates;
      else ++count;
      return Status::Ok();
    });
    if (!read.ok()) return read;
    if (duplicates > 0)
      spdlog::warn("source {}: {} catalog entries repeat a path already listed; the first one is used", source,
                   duplicates);
    Statement up = db_->Prepare(
        "INSERT INTO syncd_catalog_sources (source, fingerprint, generation, entry_count, loaded_at) "
        "VALUES (?, ?, 1, ?, strftime('%Y-%m-%d %H:%M:%S','now')) "
        "ON CONFLICT(source) DO UPDATE SET fingerprint = excluded.fingerprint, "
        "generation = generation + 1, entry_count = excluded.entry_count, loaded_at = excluded.loaded_at");
    up.Bind(1, source).Bind(2, fingerprint).Bind(3, count);
    up.Run();
    t.Commit();
    *changed = true;
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

Status CatalogStore::FindByPath(const std::string& source, const std::string& rel_path, RemoteImage* out) {
  try {
    Statement q = db_->Prepare("SELECT record FROM syncd_catalog_entries WHERE source = ? AND rel_path = ?");
    q.Bind(1, source).Bind(2, rel_path);
    if (!q.Step()) return Status::NotFound("no catalog entry for " + rel_path);
    std::string error;
    if (!RemoteImageFromJson(q.Text(0), out, &error))
      return Status::Corrupt("catalog entry for " + rel_path + ": " + error);
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

int64_t CatalogStore::Count(const std::string& source) {
  Statement q = db_->Prepare("SELECT entry_count FROM syncd_catalog_sources WHERE source = ?");
  q.Bind(1, source);
  return q.Step() ? q.Int(0) : 0;
}

int64_t CatalogStore::Generation(const std::string& source) {
  Statement q = db_->Prepare("SELECT generation FROM syncd_catalog_sources WHERE source = ?");
  q.Bind(1, source);
  return q.Step() ? q.Int(0) : 0;
}

Status CatalogStore::ForEach(const std::string& source, const std::function<Status(const RemoteImage&)>& fn) {
  try {
    Statement q = db_->Prepare("SELECT record FROM syncd_catalog_entries WHERE source = ? ORDER BY rel_path");
    q.Bind(1, source);
    while (q.Step()) {
      RemoteImage img;
      std::string error;
      if (!RemoteImageFromJson(q.Text(0), &img, &error)) return Status::Corrupt("catalog entry: " + error);
      if (Status s = fn(img); !s.ok()) return s;
    }
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

}  // namespace indafoto
