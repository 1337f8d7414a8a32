#include "lib/catalog/remote_db_catalog.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <vector>

#include "lib/archive/crawler_schema.h"
#include "lib/util/file_util.h"
#include "lib/archive/layout.h"
#include "lib/util/sha256.h"

namespace indafoto {

namespace fs = std::filesystem;

namespace {
const char* const kArchiveFolder = "indafoto_archive";
// No value of a crawler row comes near this; a longer one fails the read
// (SQLITE_TOOBIG) instead of being built in memory.
constexpr int kMaxRemoteValueBytes = 1 << 20;
}

std::optional<std::string> ReceivedPathOf(const std::string& remote_local_path) {
  if (remote_local_path.find('\0') != std::string::npos) return std::nullopt;
  std::string p = remote_local_path;
  // A crawler on Windows stores backslashes; the crawler's sanitising never
  // leaves a backslash inside a name, so here it is always a separator.
  for (char& c : p) {
    if (c == '\\') c = '/';
  }
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    std::string part = p.substr(start, end - start);
    if (!part.empty() && part != ".") parts.push_back(part);
    start = end + 1;
  }
  size_t first = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] == kArchiveFolder) {
      first = i + 1;
      break;
    }
  }
  bool absolute = !p.empty() && p.front() == '/';
  if (absolute && first == 0) return std::nullopt;  // cannot tell where the archive starts
  std::string rel;
  for (size_t i = first; i < parts.size(); ++i) {
    if (!rel.empty()) rel += '/';
    rel += parts[i];
  }
  if (!IsSafeRelativePath(rel)) return std::nullopt;
  return rel;
}

Status RemoteDbCatalogReader::Fingerprint(std::string* out) {
  struct stat st;
  if (::stat(db_path_.c_str(), &st) != 0) return Status::FromErrno(errno, "remote database " + db_path_.string());
  *out = "remote-db:" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
  return Status::Ok();
}

Status RemoteDbCatalogReader::ReadAll(const std::function<Status(const RemoteImage&)>& sink) {
  refused_ = 0;
  {
    // SQLite's open() would block for ever on a FIFO: look first, without
    // blocking. (The configured path may be a symlink; what it resolves to
    // must be a regular file.)
    std::error_code ec;
    fs::path real = fs::canonical(db_path_, ec);
    UniqueFd probe;
    if (Status s = OpenRegularFile(ec ? db_path_ : real, "remote database", &probe); !s.ok())
      return s.code() == Status::Code::kInvalid ? Status::Corrupt(s.message()) : s;
  }
  Database db;
  if (Status s = Database::Open(db_path_.string(), Database::Mode::kReadOnly, 5000, &db); !s.ok()) return s;
  // A hostile copy must not make us build huge values: a 1 KB file whose
  // images.local_path is generated as printf('%.*c', 900000000, 'x') took
  // gigabytes and minutes (seen with fuzz/remote_db_fuzz.cc, hand-made input).
  sqlite3_limit(db.raw(), SQLITE_LIMIT_LENGTH, kMaxRemoteValueBytes);
  try {
    if (!db.HasTable("images"))
      return Status::Corrupt(Describe() + " has no images table: not an indafoto crawler database");
    // A crawler never makes generated (or virtual tables' hidden) columns;
    // computing them is work a copy should not be able to order.
    Statement hidden = db.Prepare(
        "SELECT m.name FROM sqlite_master m, pragma_table_xinfo(m.name) x WHERE m.type = 'table' AND m.name IN "
        "('images', 'tags', 'image_tags', 'albums', 'image_albums', 'collections', 'image_collections', "
        "'banned_authors') AND x.hidden != 0 LIMIT 1");
    if (hidden.Step())
      return Status::Corrupt(Describe() + ": table " + hidden.Text(0) +
                             " has generated or hidden columns: not an indafoto crawler database");
    std::vector<std::string> columns;  // the kImageColumns `images` has, in that order
    {
      std::vector<std::string> present;
      Statement info = db.Prepare("SELECT name FROM pragma_table_info('images')");
      while (info.Step()) present.push_back(info.Text(0));
      for (std::string_view c : kImageColumns) {
        if (std::find(present.begin(), present.end(), c) != present.end()) columns.emplace_back(c);
      }
    }
    bool has_tags = db.HasTable("image_tags") && db.HasTable("tags");
    bool has_albums = db.HasTable("image_albums") && db.HasTable("albums");
    bool has_collections = db.HasTable("image_collections") && db.HasTable("collections");
    bool has_banned = db.HasTable("banned_authors");

    // One read transaction: a consistent snapshot even if the copy is being
    // replaced under us.
    db.Exec("BEGIN");
    std::string sql = "SELECT id, local_path";
    for (const auto& c : columns) sql += ", " + c;
    sql += " FROM images";
    // A publisher leaves its banned authors' images out (opt-outs both ways).
    if (has_banned) sql += " WHERE author IS NULL OR author NOT IN (SELECT author FROM banned_authors WHERE author IS NOT NULL)";
    sql += " ORDER BY id";
    Statement rows = db.Prepare(sql);
    Statement tags = db.Prepare(has_tags ? "SELECT t.name FROM image_tags it JOIN tags t ON t.id = it.tag_id WHERE it.image_id = ? ORDER BY t.name" : "SELECT 1 WHERE 0 AND ?");
    Statement albums = db.Prepare(has_albums ? "SELECT a.album_id, a.title, a.url, a.is_public FROM image_albums ia JOIN albums a ON a.id = ia.album_id WHERE ia.image_id = ? ORDER BY a.album_id" : "SELECT 1, 2, 3, 4 WHERE 0 AND ?");
    Statement colls = db.Prepare(has_collections ? "SELECT c.collection_id, c.title, c.url, c.is_public FROM image_collections ic JOIN collections c ON c.id = ic.collection_id WHERE ic.image_id = ? ORDER BY c.collection_id" : "SELECT 1, 2, 3, 4 WHERE 0 AND ?");
    while (rows.Step()) {
      int64_t id = rows.Int(0);
      std::string local_path = rows.Text(1);
      std::optional<std::string> rel = ReceivedPathOf(local_path);
      if (!rel) {
        ++refused_;
        spdlog::warn("{}: image id {} has an unusable local_path '{}'; entry refused", Describe(), id, local_path);
        continue;
      }
      RemoteImage img;
      img.rel_path = *rel;
      for (size_t i = 0; i < columns.size(); ++i) img.columns.emplace_back(columns[i], rows.Column(static_cast<int>(i + 2)));
      const Value& sha = img.Get("sha256_hash");
      if (!sha.IsMissing()) {
        std::string hex = sha.ToString();
        for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (!IsSha256Hex(hex)) {
          ++refused_;
          spdlog::warn("{}: image id {} has a malformed sha256_hash; entry refused", Describe(), id);
          continue;
        }
        img.sha256 = hex;
      }
      tags.Bind(1, id);
      while (tags.Step()) img.tags.push_back(tags.Text(0));
      tags.Reset();
      albums.Bind(1, id);
      while (albums.Step()) img.albums.push_back(AlbumRef{albums.Text(0), albums.Column(1), albums.Column(2), albums.Column(3)});
      albums.Reset();
      colls.Bind(1, id);
      while (colls.Step()) img.collections.push_back(CollectionRef{colls.Text(0), colls.Column(1), colls.Column(2), colls.Column(3)});
      colls.Reset();
      if (Status s = sink(img); !s.ok()) return s;
    }
    db.Exec("COMMIT");
    return Status::Ok();
  } catch (const SqliteError& e) {
    Status s = e.ToStatus();
    return Status::Corrupt(Describe() + ": " + s.message());
  }
}

}  // namespace indafoto
