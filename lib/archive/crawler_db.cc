#include "lib/archive/crawler_db.h"

#include <algorithm>
#include <limits>

#include "lib/archive/crawler_schema.h"

namespace indafoto {

bool CrawlerSchema::HasColumn(std::string_view column) const {
  return std::find(image_columns.begin(), image_columns.end(), column) != image_columns.end();
}

Status ProbeCrawlerSchema(Database& db, CrawlerSchema* out) {
  *out = CrawlerSchema();
  try {
    if (!db.HasTable("images")) return Status::Corrupt("no images table: not an indafoto crawler database");
    Statement hidden = db.Prepare(
        "SELECT m.name FROM sqlite_master m, pragma_table_xinfo(m.name) x WHERE m.type = 'table' AND m.name IN "
        "('images', 'tags', 'image_tags', 'albums', 'image_albums', 'collections', 'image_collections', "
        "'banned_authors') AND x.hidden != 0 LIMIT 1");
    if (hidden.Step())
      return Status::Corrupt("table " + hidden.Text(0) +
                             " has generated or hidden columns: not an indafoto crawler database");
    std::vector<std::string> present;
    Statement info = db.Prepare("SELECT name FROM pragma_table_info('images')");
    while (info.Step()) present.push_back(info.Text(0));
    for (std::string_view c : kImageColumns) {
      if (std::find(present.begin(), present.end(), c) != present.end()) out->image_columns.emplace_back(c);
    }
    out->has_tags = db.HasTable("image_tags") && db.HasTable("tags");
    out->has_albums = db.HasTable("image_albums") && db.HasTable("albums");
    out->has_collections = db.HasTable("image_collections") && db.HasTable("collections");
    out->has_banned_authors =
        out->HasColumn("author") && db.HasTable("banned_authors") && db.HasColumn("banned_authors", "author");
    Statement sample = db.Prepare(
        "SELECT local_path FROM images WHERE local_path IS NOT NULL AND local_path <> '' ORDER BY id DESC LIMIT 1");
    if (sample.Step()) out->sample_local_path = sample.Text(0);
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

Status ReadCrawlerImages(Database& db, const CrawlerSchema& schema, const std::function<Status(CrawlerRow&)>& sink) {
  return ReadCrawlerImages(db, schema, std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(), sink);
}

Status ReadCrawlerImages(Database& db, const CrawlerSchema& schema, int64_t first_id, int64_t last_id,
                         const std::function<Status(CrawlerRow&)>& sink) {
  try {
    std::string sql = "SELECT id, local_path, ";
    sql += schema.has_banned_authors
               ? "COALESCE(author IN (SELECT author FROM banned_authors WHERE author IS NOT NULL), 0)"
               : "0";
    for (const auto& c : schema.image_columns) sql += ", " + c;
    sql += " FROM images WHERE id BETWEEN ? AND ? ORDER BY id";
    Statement rows = db.Prepare(sql);
    rows.Bind(1, first_id).Bind(2, last_id);
    std::optional<Statement> tags, albums, colls;
    if (schema.has_tags)
      tags = db.Prepare("SELECT t.name FROM image_tags it JOIN tags t ON t.id = it.tag_id "
                        "WHERE it.image_id = ? AND t.name IS NOT NULL ORDER BY t.name");
    if (schema.has_albums)
      albums = db.Prepare("SELECT a.album_id, a.title, a.url, a.is_public FROM image_albums ia "
                          "JOIN albums a ON a.id = ia.album_id WHERE ia.image_id = ? AND a.album_id IS NOT NULL "
                          "ORDER BY a.album_id");
    if (schema.has_collections)
      colls = db.Prepare("SELECT c.collection_id, c.title, c.url, c.is_public FROM image_collections ic "
                         "JOIN collections c ON c.id = ic.collection_id WHERE ic.image_id = ? "
                         "AND c.collection_id IS NOT NULL ORDER BY c.collection_id");
    CrawlerRow row;
    while (rows.Step()) {
      row.id = rows.Int(0);
      row.local_path = rows.Text(1);
      row.banned = rows.Int(2) != 0;
      row.image = RemoteImage();
      if (!row.banned) {
        for (size_t i = 0; i < schema.image_columns.size(); ++i)
          row.image.columns.emplace_back(schema.image_columns[i], rows.Column(static_cast<int>(i) + 3));
        if (tags) {
          tags->Bind(1, row.id);
          while (tags->Step()) row.image.tags.push_back(tags->Text(0));
          tags->Reset();
        }
        if (albums) {
          albums->Bind(1, row.id);
          while (albums->Step())
            row.image.albums.push_back(
                AlbumRef{albums->Text(0), albums->Column(1), albums->Column(2), albums->Column(3)});
          albums->Reset();
        }
        if (colls) {
          colls->Bind(1, row.id);
          while (colls->Step())
            row.image.collections.push_back(
                CollectionRef{colls->Text(0), colls->Column(1), colls->Column(2), colls->Column(3)});
          colls->Reset();
        }
      }
      if (Status s = sink(row); !s.ok()) return s;
    }
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

}  // namespace indafoto
