// Over 450 lines: one class, every query and write the importer and the
// reports make on indafoto.db, each behind a Status at the module edge.
#include "lib/archive/archive_db.h"

#include <system_error>
#include <unordered_map>

#include "lib/archive/crawler_db.h"
#include "lib/archive/crawler_schema.h"

namespace indafoto {

namespace fs = std::filesystem;


namespace {

// What we add to the crawler's database. sync_records is the seed's exact
// table; the rest are additions the crawler never reads.
const char* const kOurSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS sync_records (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    image_id INTEGER,
    remote_source TEXT,
    sync_date DATETIME,
    remote_path TEXT,
    status TEXT,
    error_message TEXT,
    FOREIGN KEY (image_id) REFERENCES images (id)
);
CREATE INDEX IF NOT EXISTS idx_sync_records_source_path ON sync_records(remote_source, remote_path);
-- Settled file counts of author subfolders (AuthorFileCounter), so that a
-- new process need not list every author folder again.
CREATE TABLE IF NOT EXISTS syncd_author_subfolders (
    author_folder TEXT NOT NULL,
    subfolder TEXT NOT NULL,
    mtime_ns INTEGER NOT NULL,
    files INTEGER NOT NULL,
    PRIMARY KEY (author_folder, subfolder)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS syncd_placements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    path TEXT NOT NULL,
    sha256 TEXT,
    created DATETIME DEFAULT CURRENT_TIMESTAMP
);
)sql";

const char* const kNow = "strftime('%Y-%m-%d %H:%M:%S','now')";

// The module edge: SQL inside `body` throws SqliteError so that a chain of
// statements reads straight; callers of ArchiveDb get a Status.
template <typename Body>
Status Guard(Body&& body) {
  try {
    body();
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

}  // namespace

Status ArchiveDb::Open(const fs::path& db_path, const fs::path& image_root, bool create, bool read_only,
                       ArchiveDb* out) {
  std::error_code ec;
  bool exists = fs::exists(db_path, ec);
  if (!exists && (!create || read_only))
    return Status::NotFound("database " + db_path.string() + " does not exist");
  ArchiveDb a;
  a.image_root_ = fs::absolute(image_root).lexically_normal();
  Database::Mode mode = read_only ? Database::Mode::kReadOnly
                                  : (create ? Database::Mode::kReadWriteCreate : Database::Mode::kReadWrite);
  if (!exists) fs::create_directories(fs::absolute(db_path).parent_path(), ec);
  // 30 s: a crawler batch commit can hold the lock for seconds; past that
  // the caller gets Busy and retries the whole import later.
  if (Status s = Database::Open(db_path.string(), mode, 30000, &a.db_); !s.ok()) return s;
  a.database_dir_ = fs::absolute(db_path).lexically_normal().parent_path();
  if (Status s = a.Prepare(read_only); !s.ok()) return s;
  *out = std::move(a);
  return Status::Ok();
}

Status ArchiveDb::Prepare(bool read_only) {
  try {
    if (!read_only) {
      db_.Exec("PRAGMA journal_mode=WAL");
      // Our commits do not fsync the WAL (synchronous=NORMAL: still never
      // corrupt, a power loss may only undo the newest commits); only the
      // placement journal's commit does, see AddPlacement. An import whose
      // commit is undone is what Recover() already handles: the journal row
      // is there, the placed file goes, the delivered file is imported
      // again. This saves one of a new image's three fsyncs and a merge's
      // only one. A kill -9 loses nothing either way (the WAL is written).
      db_.Exec("PRAGMA synchronous=NORMAL");
      // Checkpoint every 8000 WAL pages (33 MB) instead of SQLite's 1000.
      // A new image's commit appends about 15 pages, so the default
      // checkpoints every ~70 images, and each checkpoint syncs both the
      // WAL and the database; pages that several images touch (B-tree
      // interiors, tag counts) then reach the database once per checkpoint
      // instead of once per 70 images. Measured in bench/README ("The floor
      // of one transaction per image"): +6% files/s at 50K local images,
      // +13% at 1M. Durability is unchanged (the WAL is what commits
      // write); the crawler's and explorer's connections keep their own
      // setting.
      db_.Exec("PRAGMA wal_autocheckpoint=8000");
      if (!db_.HasTable("images")) {
        Transaction t(db_);
        db_.Exec(kCrawlerSchemaSql);
        t.Commit();
      }
      Transaction t(db_);
      db_.Exec(kOurSchemaSql);
      // An old crawler database may lack sha256_hash; then identity is by
      // url alone until the crawler adds the column.
      if (db_.HasColumn("images", "sha256_hash"))
        db_.Exec("CREATE INDEX IF NOT EXISTS idx_images_sha256 ON images(sha256_hash)");
      t.Commit();
    }
    CrawlerSchema schema;
    if (Status s = ProbeCrawlerSchema(db_, &schema); !s.ok()) {
      if (s.code() == Status::Code::kCorrupt && read_only && !db_.HasTable("images"))
        return Status::Invalid("database has no images table: not an indafoto crawler database");
      return s;
    }
    has_sync_records_ = db_.HasTable("sync_records");
    has_author_subfolders_ = db_.HasTable("syncd_author_subfolders");
    read_only_ = read_only;
    has_banned_authors_ = schema.has_banned_authors;
    image_columns_ = schema.image_columns;
    path_style_ = LocalPathStyle::Learn(schema.sample_local_path, database_dir_, image_root_);
    return Status::Ok();
  } catch (const SqliteError& e) {
    Status s = e.ToStatus();
    if (s.code() == Status::Code::kCorrupt) return Status::Corrupt("local database: " + std::string(e.what()));
    return s;
  }
}

bool ArchiveDb::HasColumn(std::string_view column) const {
  for (const auto& c : image_columns_) {
    if (c == column) return true;
  }
  return false;
}

static std::optional<LocalImage> ReadLocalImage(Statement& s) {
  if (!s.Step()) return std::nullopt;
  LocalImage img;
  img.id = s.Int(0);
  img.local_path = s.Text(1);
  img.sha256 = s.Text(2);
  img.url = s.Text(3);
  img.author = s.Text(4);
  return img;
}

Status ArchiveDb::FindBySha256(const std::string& sha256, std::optional<LocalImage>* out) {
  out->reset();
  if (!HasColumn("sha256_hash") || sha256.empty()) return Status::Ok();
  return Guard([&] {
    Statement s = db_.Prepare(
        "SELECT id, local_path, sha256_hash, url, author FROM images WHERE sha256_hash = ? ORDER BY id LIMIT 1");
    s.Bind(1, sha256);
    *out = ReadLocalImage(s);
  });
}

Status ArchiveDb::FindOtherAtPath(const std::string& sha256, const std::string& stored_local_path,
                                  int64_t except_id, std::optional<LocalImage>* out) {
  out->reset();
  if (!HasColumn("sha256_hash") || sha256.empty()) return Status::Ok();
  return Guard([&] {
    Statement s = db_.Prepare(
        "SELECT id, local_path, sha256_hash, url, author FROM images "
        "WHERE sha256_hash = ? AND local_path = ? AND id != ? ORDER BY id LIMIT 1");
    s.Bind(1, sha256).Bind(2, stored_local_path).Bind(3, except_id);
    *out = ReadLocalImage(s);
  });
}

Status ArchiveDb::FindByUrl(const std::string& url, std::optional<LocalImage>* out) {
  out->reset();
  if (url.empty()) return Status::Ok();
  return Guard([&] {
    Statement s = db_.Prepare(HasColumn("sha256_hash")
        ? "SELECT id, local_path, sha256_hash, url, author FROM images WHERE url = ? ORDER BY id LIMIT 1"
        : "SELECT id, local_path, NULL, url, author FROM images WHERE url = ? ORDER BY id LIMIT 1");
    s.Bind(1, url);
    *out = ReadLocalImage(s);
  });
}

Status ArchiveDb::FindById(int64_t id, std::optional<LocalImage>* out) {
  out->reset();
  return Guard([&] {
    Statement s = db_.Prepare(HasColumn("sha256_hash")
        ? "SELECT id, local_path, sha256_hash, url, author FROM images WHERE id = ?"
        : "SELECT id, local_path, NULL, url, author FROM images WHERE id = ?");
    s.Bind(1, id);
    *out = ReadLocalImage(s);
  });
}

Status ArchiveDb::BannedReason(const std::string& author, std::optional<std::string>* reason) {
  reason->reset();
  if (author.empty() || !has_banned_authors_) return Status::Ok();
  return Guard([&] {
    Statement s = db_.Prepare("SELECT COALESCE(reason, '') FROM banned_authors WHERE author = ? LIMIT 1");
    s.Bind(1, author);
    if (s.Step()) *reason = s.Text(0);
  });
}

Status ArchiveDb::InsertImage(const RemoteImage& image, const std::string& stored_local_path,
                              const std::string& sha256, int64_t* image_id) {
  return Guard([&] {
    // Column names come from the schema (kImageColumns ∩ PRAGMA table_info),
    // never from the remote; values are bound.
    std::string sql = "INSERT INTO images (local_path";
    std::string params = "?";
    for (const auto& c : image_columns_) {
      sql += ", " + c;
      params += ", ?";
    }
    sql += ") VALUES (" + params + ")";
    Statement s = db_.Prepare(sql);
    s.Bind(1, stored_local_path);
    int i = 2;
    for (const auto& c : image_columns_) {
      if (c == "sha256_hash") s.Bind(i++, sha256);
      else s.Bind(i++, image.Get(c));
    }
    s.Run();
    *image_id = db_.LastInsertRowid();
  });
}

Status ArchiveDb::FillMissingColumns(int64_t image_id, const RemoteImage& image, int* filled) {
  *filled = 0;
  return Guard([&] {
    std::string select = "SELECT id";
    for (const auto& c : image_columns_) select += ", " + c;
    select += " FROM images WHERE id = ?";
    Statement s = db_.Prepare(select);
    s.Bind(1, image_id);
    if (!s.Step()) return;
    for (size_t i = 0; i < image_columns_.size(); ++i) {
      const std::string& c = image_columns_[i];
      if (c == "sha256_hash" || c == "uuid") continue;  // identity columns are not merged
      Value local = s.Column(static_cast<int>(i + 1));
      const Value& remote = image.Get(c);
      if (local.IsMissing() && !remote.IsMissing()) {
        Statement u = db_.Prepare("UPDATE images SET " + c + " = ? WHERE id = ?");
        u.Bind(1, remote).Bind(2, image_id);
        u.Run();
        ++*filled;
      }
    }
  });
}

Status ArchiveDb::SetSha256(int64_t image_id, const std::string& sha256) {
  if (!HasColumn("sha256_hash")) return Status::Ok();
  return Guard([&] {
    Statement u = db_.Prepare("UPDATE images SET sha256_hash = ? WHERE id = ?");
    u.Bind(1, sha256).Bind(2, image_id);
    u.Run();
  });
}

Status ArchiveDb::SetLocalPath(int64_t image_id, const std::string& stored_local_path) {
  return Guard([&] {
    Statement u = db_.Prepare("UPDATE images SET local_path = ? WHERE id = ?");
    u.Bind(1, stored_local_path).Bind(2, image_id);
    u.Run();
  });
}

// The id of the row whose natural key is `key`: `find_sql` selects it by
// the key (parameter 1), else `insert_sql` inserts it with the key as
// parameter 1 and the other values bound by `bind_rest`. One probe of the
// key's unique index when the row exists, the common case (a few hundred
// tags serve a million images). The caller holds the write transaction,
// so nothing can add the same key between the probe and the insert.
template <typename BindRest>
static int64_t FindOrInsertKeyed(Database& db, const char* find_sql, const char* insert_sql, const std::string& key,
                                 BindRest bind_rest) {
  Statement find = db.Prepare(find_sql);
  find.Bind(1, key);
  if (find.Step()) return find.Int(0);
  Statement ins = db.Prepare(insert_sql);
  ins.Bind(1, key);
  bind_rest(ins);
  ins.Run();
  return db.LastInsertRowid();
}

Status ArchiveDb::AddRelations(int64_t image_id, const RemoteImage& image, int* added) {
  *added = 0;
  // Links are inserted by the rows' ids: each natural key is looked up once.
  return Guard([&] {
    for (const auto& tag : image.tags) {
      if (tag.empty()) continue;
      int64_t tag_id = FindOrInsertKeyed(db_, "SELECT id FROM tags WHERE name = ?",
                                         "INSERT INTO tags (name, count) VALUES (?, 0)", tag, [](Statement&) {});
      Statement link = db_.Prepare("INSERT OR IGNORE INTO image_tags (image_id, tag_id) VALUES (?, ?)");
      link.Bind(1, image_id).Bind(2, tag_id);
      link.Run();
      if (db_.Changes() > 0) {
        ++*added;
        // tags.count is the crawler's number of images carrying the tag.
        Statement inc = db_.Prepare("UPDATE tags SET count = COALESCE(count, 0) + 1 WHERE id = ?");
        inc.Bind(1, tag_id);
        inc.Run();
      }
    }
    for (const auto& a : image.albums) {
      if (a.album_id.empty()) continue;
      int64_t album_row = FindOrInsertKeyed(
          db_, "SELECT id FROM albums WHERE album_id = ?",
          "INSERT INTO albums (album_id, title, url, is_public) VALUES (?, ?, ?, ?)", a.album_id,
          [&](Statement& ins) { ins.Bind(2, a.title).Bind(3, a.url).Bind(4, a.is_public); });
      Statement link = db_.Prepare("INSERT OR IGNORE INTO image_albums (image_id, album_id) VALUES (?, ?)");
      link.Bind(1, image_id).Bind(2, album_row);
      link.Run();
      *added += db_.Changes();
    }
    for (const auto& c : image.collections) {
      if (c.collection_id.empty()) continue;
      int64_t collection_row = FindOrInsertKeyed(
          db_, "SELECT id FROM collections WHERE collection_id = ?",
          "INSERT INTO collections (collection_id, title, url, is_public) VALUES (?, ?, ?, ?)", c.collection_id,
          [&](Statement& ins) { ins.Bind(2, c.title).Bind(3, c.url).Bind(4, c.is_public); });
      Statement link =
          db_.Prepare("INSERT OR IGNORE INTO image_collections (image_id, collection_id) VALUES (?, ?)");
      link.Bind(1, image_id).Bind(2, collection_row);
      link.Run();
      *added += db_.Changes();
    }
  });
}

Status ArchiveDb::RecordSync(const std::string& source, const std::string& remote_path, int64_t image_id,
                             SyncStatus status, const std::string& message,
                             const std::optional<SyncRecord>* known_latest) {
  // The latest row of a path is updated while it is provisional (pending,
  // failed); once it holds a final decision a new row is added instead, so
  // the provenance of an image is never overwritten.
  std::optional<SyncRecord> latest;
  if (known_latest) {
    latest = *known_latest;
  } else if (Status s = FindSyncRecord(source, remote_path, &latest); !s.ok()) {
    return s;
  }
  bool update = latest && !latest->IsFinal();
  return Guard([&] {
    Statement w = db_.Prepare(
        update ? std::string("UPDATE sync_records SET image_id = ?, status = ?, error_message = ?, sync_date = ") +
                     kNow + " WHERE id = ?"
               : std::string("INSERT INTO sync_records (image_id, status, error_message, remote_source, "
                             "remote_path, sync_date) VALUES (?, ?, ?, ?, ?, ") + kNow + ")");
    if (image_id > 0) w.Bind(1, image_id);
    else w.BindNull(1);
    w.Bind(2, std::string(SyncStatusName(status)));
    if (message.empty()) w.BindNull(3);
    else w.Bind(3, message);
    if (update) {
      w.Bind(4, latest->id);
    } else {
      w.Bind(4, source).Bind(5, remote_path);
    }
    w.Run();
  });
}

Status ArchiveDb::FindSyncRecord(const std::string& source, const std::string& remote_path,
                                 std::optional<SyncRecord>* out) {
  out->reset();
  if (!has_sync_records_) return Status::Ok();  // read-only, never synced
  return Guard([&] {
    Statement s = db_.Prepare(
        "SELECT id, image_id, status, error_message FROM sync_records "
        "WHERE remote_source = ? AND remote_path = ? ORDER BY id DESC LIMIT 1");
    s.Bind(1, source).Bind(2, remote_path);
    if (!s.Step()) return;
    SyncRecord r;
    r.id = s.Int(0);
    r.image_id = s.IsNull(1) ? 0 : s.Int(1);
    r.status = ParseSyncStatus(s.Text(2));
    r.error_message = s.Text(3);
    *out = std::move(r);
  });
}

Status ArchiveDb::DeliveriesOf(int64_t image_id, std::vector<std::pair<std::string, std::string>>* out) {
  out->clear();
  if (!has_sync_records_) return Status::Ok();
  return Guard([&] {
    // No index on image_id (sync_records is the seed's table; we index only
    // what the import path needs): used by healing, once per damaged image.
    Statement s = db_.Prepare(
        "SELECT remote_source, remote_path FROM sync_records WHERE image_id = ? AND status IN "
        "('imported', 'merged', 'duplicate', 'repaired') ORDER BY id DESC LIMIT 16");
    s.Bind(1, image_id);
    while (s.Step()) out->emplace_back(s.Text(0), s.Text(1));
  });
}

Status ArchiveDb::StatusCounts(const std::string& source, std::map<std::string, int64_t>* out) {
  out->clear();
  if (!has_sync_records_) return Status::Ok();
  return Guard([&] {
    // Only the latest row of each path counts: earlier rows are history.
    Statement s = db_.Prepare(
        "SELECT status, COUNT(*) FROM sync_records r WHERE remote_source = ?1 AND id = "
        "(SELECT MAX(id) FROM sync_records WHERE remote_source = ?1 AND remote_path = r.remote_path) "
        "GROUP BY status");
    s.Bind(1, source);
    while (s.Step()) (*out)[s.Text(0)] = s.Int(1);
  });
}

Status ArchiveDb::PathsWithStatus(const std::string& source, SyncStatus status, std::vector<std::string>* out) {
  out->clear();
  if (!has_sync_records_) return Status::Ok();
  return Guard([&] {
    Statement s = db_.Prepare("SELECT remote_path FROM sync_records WHERE remote_source = ? AND status = ?");
    s.Bind(1, source).Bind(2, std::string(SyncStatusName(status)));
    while (s.Step()) out->push_back(s.Text(0));
  });
}

namespace {

// synchronous=FULL for the lifetime of this object, NORMAL again after.
class FullSyncScope {
 public:
  explicit FullSyncScope(Database& db) : db_(db) { db_.Exec("PRAGMA synchronous=FULL"); }
  ~FullSyncScope() {
    try {
      db_.Exec("PRAGMA synchronous=NORMAL");
    } catch (const SqliteError&) {
      // Staying at FULL is slower, never less safe.
    }
  }
  FullSyncScope(const FullSyncScope&) = delete;
  FullSyncScope& operator=(const FullSyncScope&) = delete;

 private:
  Database& db_;
};

}  // namespace

Status ArchiveDb::AddPlacements(const std::vector<std::pair<fs::path, std::string>>& placements,
                                std::vector<int64_t>* ids) {
  ids->clear();
  return Guard([&] {
    // The one commit that must reach the disk before we go on: the files are
    // placed next, and a placed file must never outlive a power loss without
    // the row that lets Recover() find it. A FULL commit syncs the whole WAL,
    // so every earlier NORMAL commit becomes durable with it.
    FullSyncScope full(db_);
    Transaction t(db_);
    ids->reserve(placements.size());
    for (const auto& [path, sha256] : placements) {
      Statement s = db_.Prepare("INSERT INTO syncd_placements (path, sha256) VALUES (?, ?)");
      s.Bind(1, path.string()).Bind(2, sha256);
      s.Run();
      ids->push_back(db_.LastInsertRowid());
    }
    t.Commit();
  });
}

Status ArchiveDb::RemovePlacement(int64_t id) {
  return Guard([&] {
    Statement s = db_.Prepare("DELETE FROM syncd_placements WHERE id = ?");
    s.Bind(1, id);
    s.Run();
  });
}

Status ArchiveDb::ClearPlacements(const std::vector<int64_t>& ids) {
  if (ids.empty()) return Status::Ok();
  return Guard([&] {
    Transaction t(db_);
    for (int64_t id : ids) {
      Statement s = db_.Prepare("DELETE FROM syncd_placements WHERE id = ?");
      s.Bind(1, id);
      s.Run();
    }
    t.Commit();
  });
}

void ArchiveDb::AbandonPlacement(int64_t id) {
  ClearPlacements({id});  // a failure leaves the row to Recover()
}

Status ArchiveDb::Placements(std::vector<Placement>* out) {
  out->clear();
  return Guard([&] {
    Statement s = db_.Prepare("SELECT id, path, ifnull(sha256, '') FROM syncd_placements ORDER BY id");
    while (s.Step()) out->push_back(Placement{s.Int(0), s.Text(1), s.Text(2)});
  });
}

AuthorFileCounter::Subfolders ArchiveDb::LoadAuthorSubfolders(const std::string& author_folder) {
  AuthorFileCounter::Subfolders out;
  try {
    if (!has_author_subfolders_) return out;
    Statement q = db_.Prepare(
        "SELECT subfolder, mtime_ns, files FROM syncd_author_subfolders WHERE author_folder = ?");
    q.Bind(1, author_folder);
    while (q.Step()) out[q.Text(0)] = {q.Int(1), q.Int(2)};
  } catch (const SqliteError&) {
    out.clear();  // a cache: without it the author is listed
  }
  return out;
}

void ArchiveDb::SaveAuthorSubfolders(const std::string& author_folder, const AuthorFileCounter::Subfolders& settled) {
  if (!has_author_subfolders_ || read_only_) return;
  try {
    Transaction t(db_);
    Statement del = db_.Prepare("DELETE FROM syncd_author_subfolders WHERE author_folder = ?");
    del.Bind(1, author_folder);
    del.Run();
    for (const auto& [name, entry] : settled) {
      Statement ins = db_.Prepare(
          "INSERT INTO syncd_author_subfolders (author_folder, subfolder, mtime_ns, files) VALUES (?, ?, ?, ?)");
      ins.Bind(1, author_folder).Bind(2, name).Bind(3, entry.first).Bind(4, entry.second);
      ins.Run();
    }
    t.Commit();
  } catch (const SqliteError&) {
    // A cache: the next process lists the author again.
  }
}

Status ArchiveDb::IsLocalPathReferenced(const std::string& stored_local_path, bool* referenced) {
  *referenced = false;
  return Guard([&] {
    // No index on local_path (the crawler has none and we add none): this is
    // only used by crash recovery, once per journal row.
    Statement s = db_.Prepare("SELECT 1 FROM images WHERE local_path = ? LIMIT 1");
    s.Bind(1, stored_local_path);
    *referenced = s.Step();
  });
}

}  // namespace indafoto
