#include "lib/catalog/publish_changes.h"

#include <algorithm>
#include <map>

namespace indafoto {

namespace {

// Dirty rows: an image id; or an author whose ban changed; or a dimension
// row (tag, album, collection) whose images changed, resolved to image ids
// at publish time through our indexes on the relation tables. A trigger
// only ever reads its own table: a rename of another table (which SQLite
// follows into trigger bodies) cannot break the crawler's writes. `maybe`:
// a row an INSERT may have replaced (REPLACE removes the row holding the
// same natural key without firing a DELETE trigger; an INSERT OR IGNORE of
// an existing key lands here too), which counts only if it is gone at
// publish time.
const char* const kTablesSql = R"sql(
CREATE TABLE IF NOT EXISTS syncd_publish_dirty (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    image_id INTEGER,
    author TEXT,
    dim TEXT,
    dim_id INTEGER,
    maybe INTEGER
);
CREATE TABLE IF NOT EXISTS syncd_publish_absent (image_id INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS syncd_publish_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    image_root TEXT,
    images_per_part INTEGER,
    skip_file_checks INTEGER,
    index_sha256 TEXT,
    schema_version INTEGER,
    upto_seq INTEGER,
    full_at INTEGER
);
CREATE INDEX IF NOT EXISTS syncd_image_tags_by_tag ON image_tags(tag_id);
CREATE INDEX IF NOT EXISTS syncd_image_albums_by_album ON image_albums(album_id);
CREATE INDEX IF NOT EXISTS syncd_image_collections_by_collection ON image_collections(collection_id);
)sql";

struct Junction {
  const char* table;   // image_tags
  const char* column;  // tag_id
};
struct Dimension {
  const char* table;     // tags
  const char* key;       // name (UNIQUE)
  const char* changed;   // WHEN clause: a published column changed
  Junction junction;
};

const Junction kJunctions[] = {{"image_tags", "tag_id"}, {"image_albums", "album_id"},
                               {"image_collections", "collection_id"}};
const Dimension kDimensions[] = {
    {"tags", "name", "OLD.id IS NOT NEW.id OR OLD.name IS NOT NEW.name", kJunctions[0]},
    {"albums", "album_id",
     "OLD.id IS NOT NEW.id OR OLD.album_id IS NOT NEW.album_id OR OLD.title IS NOT NEW.title OR OLD.url IS NOT "
     "NEW.url OR OLD.is_public IS NOT NEW.is_public",
     kJunctions[1]},
    {"collections", "collection_id",
     "OLD.id IS NOT NEW.id OR OLD.collection_id IS NOT NEW.collection_id OR OLD.title IS NOT NEW.title OR OLD.url "
     "IS NOT NEW.url OR OLD.is_public IS NOT NEW.is_public",
     kJunctions[2]},
};

struct Trigger {
  std::string name;
  std::string table;  // the table it is ON
  std::string body;   // everything after the name
  // How sqlite_master stores it (it drops IF NOT EXISTS).
  std::string Stored() const { return "CREATE TRIGGER " + name + " " + body; }
  std::string Create() const { return "CREATE TRIGGER IF NOT EXISTS " + name + " " + body; }
};

// The table a trigger body is ON ("... ON images BEGIN ...").
std::string OnTable(const std::string& body) {
  size_t on = body.find(" ON ");
  size_t end = body.find(' ', on + 4);
  return body.substr(on + 4, end - on - 4);
}

std::vector<Trigger> AllTriggers() {
  std::vector<Trigger> t;
  auto add = [&](std::string name, std::string body) {
    std::string table = OnTable(body);
    t.push_back({std::move(name), std::move(table), std::move(body)});
  };
  const std::string ins = "INSERT INTO syncd_publish_dirty (image_id) ";
  add("syncd_pub_images_bi",
      "BEFORE INSERT ON images BEGIN " + ins + "SELECT id FROM images WHERE id = NEW.id OR uuid = NEW.uuid; END");
  add("syncd_pub_images_ai", "AFTER INSERT ON images BEGIN " + ins + "VALUES (NEW.id); END");
  add("syncd_pub_images_bu",
      "BEFORE UPDATE ON images WHEN NEW.id IS NOT OLD.id OR NEW.uuid IS NOT OLD.uuid BEGIN " + ins +
          "SELECT id FROM images WHERE (id = NEW.id OR uuid = NEW.uuid) AND id IS NOT OLD.id; END");
  add("syncd_pub_images_au", "AFTER UPDATE ON images BEGIN " + ins + "VALUES (OLD.id); " + ins +
                                 "SELECT NEW.id WHERE NEW.id IS NOT OLD.id; END");
  add("syncd_pub_images_ad", "AFTER DELETE ON images BEGIN " + ins + "VALUES (OLD.id); END");
  for (const Junction& j : kJunctions) {
    std::string p = std::string("syncd_pub_") + j.table;
    std::string on = std::string(" ON ") + j.table + " BEGIN ";
    add(p + "_ai", "AFTER INSERT" + on + ins + "VALUES (NEW.image_id); END");
    add(p + "_au", "AFTER UPDATE" + on + ins + "VALUES (OLD.image_id); " + ins +
                       "SELECT NEW.image_id WHERE NEW.image_id IS NOT OLD.image_id; END");
    add(p + "_ad", "AFTER DELETE" + on + ins + "VALUES (OLD.image_id); END");
  }
  for (const Dimension& d : kDimensions) {
    std::string p = std::string("syncd_pub_") + d.table;
    std::string T = d.table, K = d.key;
    std::string dim = "INSERT INTO syncd_publish_dirty (dim, dim_id) ";
    // The row with the same key that a REPLACE would remove (or an IGNORE
    // keeps): counts if gone at publish time (see kTablesSql).
    add(p + "_bi", "BEFORE INSERT ON " + T + " BEGIN INSERT INTO syncd_publish_dirty (dim, dim_id, maybe) SELECT '" +
                       T + "', id, 1 FROM " + T + " WHERE " + K + " = NEW." + K + " AND id IS NOT NEW.id; END");
    // The new row: relation rows that pointed at its id now resolve (and a
    // REPLACE on the id itself changes that id's row).
    add(p + "_ai", "AFTER INSERT ON " + T + " BEGIN " + dim + "VALUES ('" + T + "', NEW.id); END");
    // Rows an UPDATE OR REPLACE would remove.
    add(p + "_bu", "BEFORE UPDATE ON " + T + " WHEN " + d.changed + " BEGIN " + dim + "SELECT '" + T + "', id FROM " +
                       T + " WHERE (id = NEW.id OR " + K + " = NEW." + K + ") AND id IS NOT OLD.id; END");
    add(p + "_au", "AFTER UPDATE ON " + T + " WHEN " + d.changed + " BEGIN " + dim + "VALUES ('" + T + "', OLD.id); " +
                       dim + "SELECT '" + T + "', NEW.id WHERE NEW.id IS NOT OLD.id; END");
    add(p + "_ad", "AFTER DELETE ON " + T + " BEGIN " + dim + "VALUES ('" + T + "', OLD.id); END");
  }
  const std::string ban = "INSERT INTO syncd_publish_dirty (author) ";
  add("syncd_pub_banned_authors_bi",
      "BEFORE INSERT ON banned_authors BEGIN " + ban + "SELECT author FROM banned_authors WHERE id = NEW.id; END");
  add("syncd_pub_banned_authors_ai", "AFTER INSERT ON banned_authors BEGIN " + ban + "VALUES (NEW.author); END");
  add("syncd_pub_banned_authors_bu",
      "BEFORE UPDATE ON banned_authors WHEN NEW.id IS NOT OLD.id OR NEW.author IS NOT OLD.author BEGIN " + ban +
          "SELECT author FROM banned_authors WHERE id = NEW.id AND id IS NOT OLD.id; END");
  add("syncd_pub_banned_authors_au", "AFTER UPDATE ON banned_authors WHEN NEW.author IS NOT OLD.author BEGIN " + ban +
                                         "VALUES (OLD.author); " + ban + "VALUES (NEW.author); END");
  add("syncd_pub_banned_authors_ad", "AFTER DELETE ON banned_authors BEGIN " + ban + "VALUES (OLD.author); END");
  return t;
}

// Columns of each UNIQUE index of `table`.
std::vector<std::vector<std::string>> UniqueIndexes(Database& db, const std::string& table) {
  std::vector<std::vector<std::string>> out;
  std::vector<std::string> names;
  {
    Statement q = db.Prepare("SELECT name FROM pragma_index_list(?) WHERE \"unique\" = 1");
    q.Bind(1, table);
    while (q.Step()) names.push_back(q.Text(0));
  }
  for (const std::string& n : names) {
    Statement q = db.Prepare("SELECT name FROM pragma_index_info(?)");
    q.Bind(1, n);
    std::vector<std::string> cols;
    while (q.Step()) cols.push_back(q.IsNull(0) ? std::string("<expression>") : q.Text(0));
    out.push_back(std::move(cols));
  }
  return out;
}

bool Contains(const std::vector<std::string>& v, const std::string& s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

// Whether trigger `t` is in place as we made it: on its table (a rename
// moves a trigger along with its table) and with its body (a rename of a
// table it names rewrites it).
bool TriggerIntact(Statement& q, const Trigger& t) {
  q.Bind(1, t.name);
  bool intact = q.Step() && q.Text(0) == t.table && q.Text(1) == t.Stored();
  q.Reset();
  return intact;
}

bool TriggersPresent(Database& db) {
  Statement q = db.Prepare("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger' AND name = ?");
  for (const Trigger& t : AllTriggers())
    if (!TriggerIntact(q, t)) return false;
  return true;
}

int64_t SchemaVersion(Database& db) {
  Statement q = db.Prepare("PRAGMA schema_version");
  return q.Step() ? q.Int(0) : -1;
}

}  // namespace

bool IsPublishTrackable(Database& db, std::string* why_not) {
  auto no = [&](std::string why) {
    *why_not = std::move(why);
    return false;
  };
  std::map<std::string, std::vector<std::string>> needed = {
      {"images", {"id", "uuid", "author"}},
      {"tags", {"id", "name"}},
      {"albums", {"id", "album_id", "title", "url", "is_public"}},
      {"collections", {"id", "collection_id", "title", "url", "is_public"}},
      {"image_tags", {"image_id", "tag_id"}},
      {"image_albums", {"image_id", "album_id"}},
      {"image_collections", {"image_id", "collection_id"}},
      {"banned_authors", {"id", "author"}},
  };
  for (const auto& [table, cols] : needed) {
    if (!db.HasTable(table)) return no("table " + table + " is missing");
    for (const std::string& c : cols)
      if (!db.HasColumn(table, c)) return no("column " + table + "." + c + " is missing");
  }
  // A REPLACE removes the rows that clash on any UNIQUE index without a
  // DELETE trigger; the BEFORE triggers find those of the indexes below.
  for (const auto& cols : UniqueIndexes(db, "images"))
    if (!(cols == std::vector<std::string>{"uuid"}) && !Contains(cols, "id"))
      return no("images has a UNIQUE index the change tracking does not know");
  for (const Dimension& d : kDimensions)
    for (const auto& cols : UniqueIndexes(db, d.table))
      if (!(cols == std::vector<std::string>{d.key}) && !Contains(cols, "id"))
        return no(std::string(d.table) + " has a UNIQUE index the change tracking does not know");
  for (const Junction& j : kJunctions)
    for (const auto& cols : UniqueIndexes(db, j.table))
      if (!Contains(cols, "image_id"))
        return no(std::string(j.table) + " has a UNIQUE index without image_id");
  for (const auto& cols : UniqueIndexes(db, "banned_authors"))
    if (!Contains(cols, "author") && !Contains(cols, "id"))
      return no("banned_authors has a UNIQUE index the change tracking does not know");
  return true;
}

Status InstallPublishTracking(Database& db, bool* trackable, std::string* why_not) {
  *trackable = false;
  try {
    if (!IsPublishTrackable(db, why_not)) return Status::Ok();
    bool complete = db.HasTable("syncd_publish_dirty") && db.HasTable("syncd_publish_absent") &&
                    db.HasTable("syncd_publish_state") && TriggersPresent(db);
    if (!complete) {
      Transaction t(db);
      db.Exec(kTablesSql);
      Statement q = db.Prepare("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger' AND name = ?");
      for (const Trigger& tr : AllTriggers()) {
        if (TriggerIntact(q, tr)) continue;
        // One of ours, moved or rewritten by someone's ALTER TABLE: made
        // again (the schema change makes the next publish a full read).
        db.Exec(("DROP TRIGGER IF EXISTS " + tr.name).c_str());
        db.Exec(tr.Create().c_str());
      }
      t.Commit();
    }
    *trackable = true;
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

Status ReadPublishTracking(Database& db, const PublishBaselineKey& key, PublishTracking* out) {
  *out = PublishTracking();
  try {
    std::string why;
    if (!db.HasTable("syncd_publish_state") || !db.HasTable("syncd_publish_dirty") ||
        !db.HasTable("syncd_publish_absent") || !TriggersPresent(db)) {
      out->why_full = "change tracking not installed";
      return Status::Ok();
    }
    if (!IsPublishTrackable(db, &why)) {
      out->why_full = why;
      return Status::Ok();
    }
    out->tracked = true;
    out->schema_version = SchemaVersion(db);
    {
      Statement q = db.Prepare("SELECT COALESCE(max(seq), 0) FROM syncd_publish_dirty");
      q.Step();
      out->upto_seq = q.Int(0);
    }
    Statement st = db.Prepare(
        "SELECT image_root, images_per_part, skip_file_checks, index_sha256, schema_version, upto_seq, full_at "
        "FROM syncd_publish_state WHERE id = 1");
    if (!st.Step()) {
      out->why_full = "no baseline recorded yet";
      return Status::Ok();
    }
    out->last_full_at = st.IsNull(6) ? 0 : st.Int(6);
    if (st.Text(0) != key.image_root || st.Int(1) != key.images_per_part ||
        (st.Int(2) != 0) != key.skip_file_checks) {
      out->why_full = "published with other settings last time";
      return Status::Ok();
    }
    if (key.index_sha256.empty() || st.Text(3) != key.index_sha256) {
      out->why_full = "manifest.json is not the one the last publish wrote";
      return Status::Ok();
    }
    if (st.Int(4) != out->schema_version) {
      out->why_full = "the database schema changed";
      return Status::Ok();
    }
    if (key.now - out->last_full_at >= key.full_interval_seconds || key.now < out->last_full_at) {
      out->why_full = "periodic full read (files deleted behind the database's back)";
      return Status::Ok();
    }
    const int64_t P = key.images_per_part;
    bool negative = false;
    auto add = [&](Statement& q) {
      while (q.Step()) {
        int64_t id = q.Int(0);
        if (id < 0) negative = true;
        else out->dirty_parts.insert(id / P);
      }
    };
    {
      Statement q = db.Prepare(
          "SELECT DISTINCT image_id FROM syncd_publish_dirty WHERE seq <= ? AND image_id IS NOT NULL");
      q.Bind(1, out->upto_seq);
      add(q);
    }
    {
      Statement q = db.Prepare("SELECT image_id FROM syncd_publish_absent");
      add(q);
    }
    {
      // A ban changed: the images of those authors (one scan of images;
      // bans are rare).
      Statement any = db.Prepare(
          "SELECT 1 FROM syncd_publish_dirty WHERE seq <= ? AND author IS NOT NULL LIMIT 1");
      any.Bind(1, out->upto_seq);
      if (any.Step()) {
        Statement q = db.Prepare(
            "SELECT id FROM images WHERE author IN (SELECT author FROM syncd_publish_dirty WHERE seq <= ? AND "
            "author IS NOT NULL)");
        q.Bind(1, out->upto_seq);
        add(q);
      }
    }
    {
      // Dimension rows (tags, albums, collections) whose images changed:
      // through the relation table's index of ours. A row an INSERT may
      // have replaced counts only if it is gone now.
      struct Dim {
        std::string table;
        int64_t id;
        bool maybe;
      };
      std::vector<Dim> dims;
      Statement q = db.Prepare(
          "SELECT dim, dim_id, min(COALESCE(maybe, 0)) FROM syncd_publish_dirty WHERE seq <= ? AND dim IS NOT NULL "
          "GROUP BY dim, dim_id");
      q.Bind(1, out->upto_seq);
      while (q.Step()) dims.push_back({q.Text(0), q.Int(1), q.Int(2) != 0});
      for (const Dim& dim : dims) {
        for (const Dimension& d : kDimensions) {
          if (dim.table != d.table) continue;
          if (dim.maybe) {
            Statement exists = db.Prepare(std::string("SELECT 1 FROM ") + d.table + " WHERE id = ?");
            exists.Bind(1, dim.id);
            if (exists.Step()) continue;
          }
          Statement images = db.Prepare(std::string("SELECT image_id FROM ") + d.junction.table + " WHERE " +
                                        d.junction.column + " = ?");
          images.Bind(1, dim.id);
          add(images);
        }
      }
    }
    if (negative) {
      out->dirty_parts.clear();
      out->why_full = "negative image ids";
      return Status::Ok();
    }
    out->incremental = true;
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

Status CommitPublishTracking(Database& db, const PublishBaselineKey& key, const PublishTracking& tracking,
                             bool full, const std::set<int64_t>& read_parts, const std::vector<int64_t>& absent) {
  if (!tracking.tracked) return Status::Ok();
  try {
    const int64_t P = key.images_per_part;
    // Nothing to write? (no dirty rows covered, same absent rows, same
    // baseline): then write nothing at all.
    bool need = full;
    if (!need) {
      Statement q = db.Prepare("SELECT 1 FROM syncd_publish_dirty WHERE seq <= ? LIMIT 1");
      q.Bind(1, tracking.upto_seq);
      need = q.Step();
    }
    if (!need) {
      Statement q = db.Prepare("SELECT index_sha256, schema_version FROM syncd_publish_state WHERE id = 1");
      need = !q.Step() || q.Text(0) != key.index_sha256 || q.Int(1) != tracking.schema_version;
    }
    if (!need) {
      // The absent rows of the parts read, before and now.
      std::set<int64_t> before;
      Statement q = db.Prepare("SELECT image_id FROM syncd_publish_absent");
      while (q.Step()) {
        int64_t id = q.Int(0);
        if (read_parts.count(id / P)) before.insert(id);
      }
      need = before != std::set<int64_t>(absent.begin(), absent.end());
    }
    if (!need) return Status::Ok();

    Transaction t(db);
    Statement del = db.Prepare("DELETE FROM syncd_publish_dirty WHERE seq <= ?");
    del.Bind(1, tracking.upto_seq);
    del.Run();
    if (full) {
      db.Exec("DELETE FROM syncd_publish_absent");
    } else {
      Statement d = db.Prepare("DELETE FROM syncd_publish_absent WHERE image_id >= ? AND image_id < ?");
      for (int64_t k : read_parts) {
        d.Bind(1, k * P).Bind(2, (k + 1) * P);
        d.Run();
        d.Reset();
      }
    }
    Statement a = db.Prepare("INSERT OR IGNORE INTO syncd_publish_absent (image_id) VALUES (?)");
    for (int64_t id : absent) {
      a.Bind(1, id);
      a.Run();
      a.Reset();
    }
    Statement up = db.Prepare(
        "INSERT OR REPLACE INTO syncd_publish_state (id, image_root, images_per_part, skip_file_checks, "
        "index_sha256, schema_version, upto_seq, full_at) VALUES (1, ?, ?, ?, ?, ?, ?, ?)");
    up.Bind(1, key.image_root)
        .Bind(2, P)
        .Bind(3, static_cast<int64_t>(key.skip_file_checks ? 1 : 0))
        .Bind(4, key.index_sha256)
        .Bind(5, tracking.schema_version)
        .Bind(6, tracking.upto_seq)
        .Bind(7, full ? key.now : tracking.last_full_at);
    up.Run();
    t.Commit();
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

}  // namespace indafoto
