#include "testing/archive_checks.h"

#include <map>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "lib/archive/layout.h"
#include "lib/util/sha256.h"
#include "lib/util/sqlite.h"

namespace indafoto {

namespace fs = std::filesystem;

namespace {

Database OpenOrThrow(const fs::path& db_path) {
  Database db;
  Status s = Database::Open(db_path.string(), Database::Mode::kReadWrite, 30000, &db);
  if (!s.ok()) throw std::runtime_error(s.ToString());
  return db;
}

}  // namespace

std::string InvariantReport::Describe() const {
  std::ostringstream o;
  auto list = [&](const char* what, const std::vector<std::string>& v) {
    for (const auto& x : v) o << what << ": " << x << "\n";
  };
  list("row without file", rows_without_file);
  list("row not verifying", rows_not_verifying);
  list("file without row", files_without_row);
  list("duplicate url", duplicate_urls);
  list("duplicate sha256", duplicate_sha256);
  list("placement journal row", pending_placements);
  return o.str();
}

InvariantReport CheckArchive(const fs::path& db_path, const fs::path& image_root) {
  InvariantReport r;
  Database db = OpenOrThrow(db_path);
  fs::path db_dir = fs::absolute(db_path).parent_path();
  fs::path root = fs::absolute(image_root).lexically_normal();
  std::set<std::string> referenced;
  bool has_sha = db.HasColumn("images", "sha256_hash");
  Statement q = db.Prepare(has_sha ? "SELECT id, local_path, sha256_hash, url FROM images"
                                   : "SELECT id, local_path, NULL, url FROM images");
  std::map<std::string, int> urls, shas;
  while (q.Step()) {
    ++r.images;
    std::string id = std::to_string(q.Int(0));
    fs::path p = q.Text(1);
    if (p.is_relative()) p = db_dir / p;
    p = p.lexically_normal();
    referenced.insert(p.string());
    FileDigest d;
    Status s = Sha256File(p, &d);
    if (!s.ok()) r.rows_without_file.push_back(id + ": " + q.Text(1));
    else if (!q.IsNull(2) && !q.Text(2).empty() && q.Text(2) != d.sha256) r.rows_not_verifying.push_back(id + ": " + q.Text(1));
    if (!q.IsNull(3) && ++urls[q.Text(3)] == 2) r.duplicate_urls.push_back(q.Text(3));
    if (!q.IsNull(2) && !q.Text(2).empty() && ++shas[q.Text(2)] == 2) r.duplicate_sha256.push_back(q.Text(2));
  }
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory()) {
      if (it->path().filename() == ".indafoto-sync") it.disable_recursion_pending();
      continue;
    }
    if (!referenced.count(it->path().lexically_normal().string()))
      r.files_without_row.push_back(it->path().lexically_relative(root).string());
  }
  if (db.HasTable("syncd_placements")) {
    Statement p = db.Prepare("SELECT path FROM syncd_placements");
    while (p.Step()) r.pending_placements.push_back(p.Text(0));
  }
  return r;
}

std::string DumpArchive(const fs::path& db_path) {
  Database db = OpenOrThrow(db_path);
  std::ostringstream o;
  Statement cols = db.Prepare("SELECT name FROM pragma_table_info('images') WHERE name NOT IN ('id') ORDER BY cid");
  std::vector<std::string> names;
  while (cols.Step()) names.push_back(cols.Text(0));
  std::string sql = "SELECT id";
  for (const auto& n : names) sql += ", " + n;
  sql += " FROM images ORDER BY url, id";
  Statement q = db.Prepare(sql);
  while (q.Step()) {
    int64_t id = q.Int(0);
    o << "image";
    for (size_t i = 0; i < names.size(); ++i) o << " " << names[i] << "=" << (q.IsNull(i + 1) ? "NULL" : "'" + q.Column(i + 1).ToString() + "'");
    o << "\n";
    Statement t = db.Prepare("SELECT t.name, t.count FROM image_tags it JOIN tags t ON t.id = it.tag_id WHERE it.image_id = ? ORDER BY t.name");
    t.Bind(1, id);
    while (t.Step()) o << "  tag '" << t.Text(0) << "'\n";
    Statement a = db.Prepare("SELECT a.album_id, a.title FROM image_albums ia JOIN albums a ON a.id = ia.album_id WHERE ia.image_id = ? ORDER BY a.album_id");
    a.Bind(1, id);
    while (a.Step()) o << "  album " << a.Text(0) << " '" << a.Text(1) << "'\n";
    Statement c = db.Prepare("SELECT c.collection_id, c.title FROM image_collections ic JOIN collections c ON c.id = ic.collection_id WHERE ic.image_id = ? ORDER BY c.collection_id");
    c.Bind(1, id);
    while (c.Step()) o << "  collection " << c.Text(0) << " '" << c.Text(1) << "'\n";
  }
  Statement tags = db.Prepare("SELECT name, count FROM tags ORDER BY name");
  while (tags.Step()) o << "tagcount '" << tags.Text(0) << "' " << tags.Int(1) << "\n";
  if (db.HasTable("sync_records")) {
    Statement s = db.Prepare(
        "SELECT remote_source, remote_path, status, COALESCE(error_message, ''), "
        "(SELECT url FROM images WHERE id = image_id) FROM sync_records ORDER BY remote_source, remote_path, id");
    while (s.Step())
      o << "sync " << s.Text(0) << " " << s.Text(1) << " " << s.Text(2) << " '" << s.Text(3) << "' " << s.Text(4) << "\n";
  }
  return o.str();
}

void CopyTree(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::copy_symlinks | fs::copy_options::overwrite_existing);
}

int64_t QueryInt(const fs::path& db_path, const std::string& sql) {
  Database db = OpenOrThrow(db_path);
  Statement s = db.Prepare(sql);
  return s.Step() ? s.Int(0) : 0;
}

std::vector<std::string> QueryStrings(const fs::path& db_path, const std::string& sql) {
  Database db = OpenOrThrow(db_path);
  Statement s = db.Prepare(sql);
  std::vector<std::string> out;
  while (s.Step()) out.push_back(s.Text(0));
  return out;
}

void ExecSql(const fs::path& db_path, const std::string& sql) {
  Database db = OpenOrThrow(db_path);
  db.Exec(sql.c_str());
}

std::set<std::string> ListFiles(const fs::path& root) {
  std::set<std::string> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_directory(ec)) out.insert(it->path().lexically_relative(root).generic_string());
  }
  return out;
}

}  // namespace indafoto
