#include "lib/catalog/catalog.h"

#include <spdlog/spdlog.h>

#include <set>

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
-- Paths whose entry differed from the previous load of their source:
-- metadata the importer may still have to merge into images it already
-- holds (Importer::MergeCatalogChanges takes them off).
CREATE TABLE IF NOT EXISTS syncd_catalog_changes (
    source TEXT NOT NULL,
    rel_path TEXT NOT NULL,
    PRIMARY KEY (source, rel_path)
) WITHOUT ROWID;
-- Keys (path, sha256, url) that left a source's catalog, by the load that
-- removed or replaced them, for the last kCatalogChangesKept loads: what a
-- consumer that saw an earlier generation (the exchange's outbox) needs
-- to catch up without reading the whole catalog.
CREATE TABLE IF NOT EXISTS syncd_catalog_removed (
    source TEXT NOT NULL,
    generation INTEGER NOT NULL,
    rel_path TEXT NOT NULL,
    sha256 TEXT,
    url TEXT,
    PRIMARY KEY (source, generation, rel_path)
) WITHOUT ROWID;
-- The parts (by sha256) of the version loaded, for catalogs published in
-- parts: a later load does not read them again (CatalogReader::ReadParts).
CREATE TABLE IF NOT EXISTS syncd_catalog_parts (
    source TEXT NOT NULL,
    part TEXT NOT NULL,
    PRIMARY KEY (source, part)
) WITHOUT ROWID;
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
    // Which load last listed an entry: entries a new load does not list
    // are swept. (Added here so that state databases made before it keep
    // working.)
    if (!db->HasColumn("syncd_catalog_entries", "load_generation"))
      db->Exec("ALTER TABLE syncd_catalog_entries ADD COLUMN load_generation INTEGER NOT NULL DEFAULT 0");
    // Which load last inserted or changed an entry (0: before this column
    // existed; consumers of changes treat those generations as unknown).
    if (!db->HasColumn("syncd_catalog_entries", "changed_generation"))
      db->Exec("ALTER TABLE syncd_catalog_entries ADD COLUMN changed_generation INTEGER NOT NULL DEFAULT 0");
    db->Exec("CREATE INDEX IF NOT EXISTS syncd_catalog_by_change ON syncd_catalog_entries(source, changed_generation)");
    // The part an entry was read from (NULL: a catalog not published in
    // parts, or loaded before this column existed).
    if (!db->HasColumn("syncd_catalog_entries", "part"))
      db->Exec("ALTER TABLE syncd_catalog_entries ADD COLUMN part TEXT");
    db->Exec("CREATE INDEX IF NOT EXISTS syncd_catalog_by_part ON syncd_catalog_entries(source, part)");
    // The highest manifest sequence accepted from the source (NULL: none).
    if (!db->HasColumn("syncd_catalog_sources", "sequence"))
      db->Exec("ALTER TABLE syncd_catalog_sources ADD COLUMN sequence INTEGER");
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
    std::string accepted_fingerprint;
    std::optional<uint64_t> accepted_sequence;
    {
      Statement q = db_->Prepare("SELECT fingerprint, sequence FROM syncd_catalog_sources WHERE source = ?");
      q.Bind(1, source);
      if (q.Step()) {
        accepted_fingerprint = q.Text(0);
        if (!q.IsNull(1)) accepted_sequence = static_cast<uint64_t>(q.Int(1));
      }
    }
    if (fingerprint == accepted_fingerprint) return Status::Ok();
    // Refuse a replay before reading it all; checked again below on what
    // was actually verified.
    if (Status s = CheckForward(source, reader, fingerprint, accepted_sequence, accepted_fingerprint); !s.ok())
      return s;
    // One transaction: either the whole new catalog replaces the old one or,
    // on any error below, the rollback in ~Transaction keeps the old one.
    // Entries are compared with the previous load rather than deleted and
    // inserted, so that a changed entry is noted in syncd_catalog_changes.
    Transaction t(*db_);
    const int64_t generation = Generation(source) + 1;
    // A parted catalog: the parts of the version loaded last are not read
    // again; their entries stay as they are.
    std::set<std::string> held_before, kept;
    std::vector<std::string> parts_now;
    if (reader.Parted()) {
      Statement q = db_->Prepare("SELECT part FROM syncd_catalog_parts WHERE source = ?");
      q.Bind(1, source);
      while (q.Step()) held_before.insert(q.Text(0));
    }
    Statement find = db_->Prepare(
        "SELECT record, load_generation, sha256, url, part FROM syncd_catalog_entries WHERE source = ? AND rel_path = ?");
    Statement touch = db_->Prepare(
        "UPDATE syncd_catalog_entries SET load_generation = ?, part = ? WHERE source = ? AND rel_path = ?");
    Statement put = db_->Prepare(
        "INSERT OR REPLACE INTO syncd_catalog_entries (source, rel_path, sha256, url, record, load_generation, "
        "changed_generation, part) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)");
    // A replaced entry's old keys leave the catalog too.
    Statement note_removed = db_->Prepare(
        "INSERT OR REPLACE INTO syncd_catalog_removed (source, generation, rel_path, sha256, url) VALUES (?, ?, ?, ?, ?)");
    Statement note_change =
        db_->Prepare("INSERT OR IGNORE INTO syncd_catalog_changes (source, rel_path) VALUES (?, ?)");
    int64_t duplicates = 0, added = 0, removed = 0;
    auto take = [&](const std::string* part, const RemoteImage& img) -> Status {
      std::string record = RemoteImageToJson(img);
      find.Bind(1, source).Bind(2, img.rel_path);
      bool existed = find.Step();
      bool same = existed && find.Text(0) == record;
      // Listed already by this version: earlier in this load, or in a part
      // kept from the last one.
      bool listed_twice = existed && (find.Int(1) == generation || (!find.IsNull(4) && kept.count(find.Text(4))));
      const bool replaced = existed && !same && !listed_twice;
      if (replaced) {
        note_removed.Bind(1, source).Bind(2, generation).Bind(3, img.rel_path);
        if (find.IsNull(2)) note_removed.BindNull(4);
        else note_removed.Bind(4, find.Text(2));
        if (find.IsNull(3)) note_removed.BindNull(5);
        else note_removed.Bind(5, find.Text(3));
      }
      find.Reset();  // done reading before either table is written
      if (replaced) note_removed.Run();
      if (listed_twice) {
        ++duplicates;
        return Status::Ok();
      }
      if (same) {
        touch.Bind(1, generation);
        if (part) touch.Bind(2, *part);
        else touch.BindNull(2);
        touch.Bind(3, source).Bind(4, img.rel_path);
        touch.Run();
        return Status::Ok();
      }
      put.Bind(1, source).Bind(2, img.rel_path);
      if (img.sha256.empty()) put.BindNull(3);
      else put.Bind(3, img.sha256);
      const Value& url = img.Get("url");
      if (url.IsMissing()) put.BindNull(4);
      else put.Bind(4, url.ToString());
      put.Bind(5, record).Bind(6, generation);
      if (part) put.Bind(7, *part);
      else put.BindNull(7);
      put.Run();
      if (existed) {
        note_change.Bind(1, source).Bind(2, img.rel_path);
        note_change.Run();
      } else {
        ++added;
      }
      return Status::Ok();
    };
    Status read = reader.Parted()
                      ? reader.ReadParts(
                            [&](const std::string& part) {
                              parts_now.push_back(part);
                              if (!held_before.count(part)) return false;
                              kept.insert(part);
                              return true;
                            },
                            [&](const std::string& part, const RemoteImage& img) { return take(&part, img); })
                      : reader.ReadAll([&](const RemoteImage& img) { return take(nullptr, img); });
    if (!read.ok()) return read;
    if (!reader.ReadFingerprint().empty()) fingerprint = reader.ReadFingerprint();
    if (Status s = CheckForward(source, reader, fingerprint, accepted_sequence, accepted_fingerprint); !s.ok())
      return s;
    // What this version no longer lists goes, its keys kept as tombstones:
    // entries not read in this load, except those of the parts kept.
    auto sweep = [&](const char* which, const std::string* part) {
      std::string tail = std::string("FROM syncd_catalog_entries WHERE source = ?1 AND load_generation != ?2 AND ") + which;
      Statement tombstones = db_->Prepare(
          "INSERT OR REPLACE INTO syncd_catalog_removed (source, generation, rel_path, sha256, url) "
          "SELECT source, ?2, rel_path, sha256, url " + tail);
      Statement drop = db_->Prepare("DELETE " + tail);
      for (Statement* q : {&tombstones, &drop}) {
        q->Bind(1, source).Bind(2, generation);
        if (part) q->Bind(3, *part);
        q->Run();
      }
      removed += db_->Changes();  // of the DELETE
    };
    if (reader.Parted()) {
      std::set<std::string> now(parts_now.begin(), parts_now.end());
      for (const std::string& part : held_before)
        if (!now.count(part)) sweep("part = ?3", &part);
      sweep("part IS NULL", nullptr);
    } else {
      sweep("1", nullptr);
    }
    Statement prune = db_->Prepare("DELETE FROM syncd_catalog_removed WHERE source = ? AND generation <= ?");
    prune.Bind(1, source).Bind(2, generation - kCatalogChangesKept);
    prune.Run();
    // The parts held from now on. A version that lists a path twice is
    // read whole next time: which of its entries is kept depends on order.
    {
      Statement clear = db_->Prepare("DELETE FROM syncd_catalog_parts WHERE source = ?");
      clear.Bind(1, source);
      clear.Run();
      Statement hold = db_->Prepare("INSERT OR IGNORE INTO syncd_catalog_parts (source, part) VALUES (?, ?)");
      if (duplicates == 0) {
        for (const std::string& part : parts_now) {
          hold.Bind(1, source).Bind(2, part);
          hold.Run();
          hold.Reset();
        }
      }
    }
    // Entries now: the last load's count, plus the paths added, minus the
    // swept ones (no count over the whole catalog).
    int64_t count = 0;
    {
      Statement q = db_->Prepare("SELECT entry_count FROM syncd_catalog_sources WHERE source = ?");
      q.Bind(1, source);
      if (q.Step()) count = q.Int(0);
    }
    count += added - removed;
    Statement sweep_changes = db_->Prepare(
        "DELETE FROM syncd_catalog_changes WHERE source = ?1 AND NOT EXISTS (SELECT 1 FROM syncd_catalog_entries e "
        "WHERE e.source = ?1 AND e.rel_path = syncd_catalog_changes.rel_path)");
    sweep_changes.Bind(1, source);
    sweep_changes.Run();
    if (duplicates > 0)
      spdlog::warn("source {}: {} catalog entries repeat a path already listed; the first one is used", source,
                   duplicates);
    // A catalog without a sequence (a remote database) keeps the one
    // accepted before, so a stale manifest put back later is still refused.
    Statement up = db_->Prepare(
        "INSERT INTO syncd_catalog_sources (source, fingerprint, generation, entry_count, loaded_at, sequence) "
        "VALUES (?, ?, 1, ?, strftime('%Y-%m-%d %H:%M:%S','now'), ?) "
        "ON CONFLICT(source) DO UPDATE SET fingerprint = excluded.fingerprint, "
        "generation = generation + 1, entry_count = excluded.entry_count, loaded_at = excluded.loaded_at, "
        "sequence = COALESCE(excluded.sequence, sequence)");
    up.Bind(1, source).Bind(2, fingerprint).Bind(3, count);
    if (std::optional<uint64_t> seq = reader.Sequence()) up.Bind(4, static_cast<int64_t>(*seq));
    else up.BindNull(4);
    up.Run();
    t.Commit();
    *changed = true;
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

Status CatalogStore::CheckForward(const std::string& source, const CatalogReader& reader,
                                  const std::string& fingerprint, std::optional<uint64_t> accepted_sequence,
                                  const std::string& accepted_fingerprint) {
  std::optional<uint64_t> seq = reader.Sequence();
  if (!seq || !accepted_sequence) return Status::Ok();
  std::string what;
  if (*seq < *accepted_sequence) {
    what = "its sequence " + std::to_string(*seq) + " is older than sequence " + std::to_string(*accepted_sequence) +
           " already accepted (a replayed manifest?)";
  } else if (*seq == *accepted_sequence && fingerprint != accepted_fingerprint) {
    what = "its sequence " + std::to_string(*seq) + " was already accepted with other content";
  } else {
    return Status::Ok();
  }
  return Status::Corrupt(reader.Describe() + ": refused: " + what + "; keeping the catalog of sequence " +
                         std::to_string(*accepted_sequence) + ". If the publisher really started over (a new "
                         "manifest history), accept it with `indafoto-syncd trust --config FILE --source " + source +
                         "`");
}

Status CatalogStore::ForgetSequence(const std::string& source) {
  try {
    Statement u = db_->Prepare("UPDATE syncd_catalog_sources SET sequence = NULL, fingerprint = NULL WHERE source = ?");
    u.Bind(1, source);
    u.Run();
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
    if (Status s = RemoteImageFromJson(q.Text(0), out); !s.ok())
      return Status::Corrupt("catalog entry for " + rel_path + ": " + s.message());
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

std::string CatalogStore::DatabaseFile() const {
  const char* file = sqlite3_db_filename(db_->raw(), "main");
  return file ? file : "";
}

Status CatalogStore::OpenReader(const std::string& file, Database* db, CatalogStore* out) {
  // The same busy timeout as the instance's own connection: a load that is
  // committing makes a lookup wait, not fail.
  if (Status s = Database::Open(file, Database::Mode::kReadOnly, 30000, db); !s.ok()) return s;
  try {
    // Point lookups by path: a small page cache does (the default 2 MB per
    // connection would show in the importer's peak memory).
    db->Exec("PRAGMA cache_size=-256");
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
  Attach(db, out);
  return Status::Ok();
}

Status CatalogStore::PathsWithSha256(const std::string& source, const std::string& sha256,
                                     std::vector<std::string>* out) {
  out->clear();
  try {
    Statement q = db_->Prepare("SELECT rel_path FROM syncd_catalog_entries WHERE source = ? AND sha256 = ? LIMIT 16");
    q.Bind(1, source).Bind(2, sha256);
    while (q.Step()) out->push_back(q.Text(0));
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

Status CatalogStore::Count(const std::string& source, int64_t* entries) {
  *entries = 0;
  try {
    Statement q = db_->Prepare("SELECT entry_count FROM syncd_catalog_sources WHERE source = ?");
    q.Bind(1, source);
    if (q.Step()) *entries = q.Int(0);
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

Status CatalogStore::ChangedPaths(const std::string& source, int64_t limit, std::vector<std::string>* out) {
  out->clear();
  try {
    Statement q = db_->Prepare("SELECT rel_path FROM syncd_catalog_changes WHERE source = ? ORDER BY rel_path LIMIT ?");
    q.Bind(1, source).Bind(2, limit);
    while (q.Step()) out->push_back(q.Text(0));
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

Status CatalogStore::ForgetChange(const std::string& source, const std::string& rel_path) {
  try {
    Statement q = db_->Prepare("DELETE FROM syncd_catalog_changes WHERE source = ? AND rel_path = ?");
    q.Bind(1, source).Bind(2, rel_path);
    q.Run();
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

int64_t CatalogStore::Generation(const std::string& source) {
  // Called inside Load's transaction, whose SqliteError handler reports it.
  Statement q = db_->Prepare("SELECT generation FROM syncd_catalog_sources WHERE source = ?");
  q.Bind(1, source);
  return q.Step() ? q.Int(0) : 0;
}


}  // namespace indafoto
