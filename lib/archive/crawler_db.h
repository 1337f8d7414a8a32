// The one reader of a crawler database (indafoto.db as the crawler writes
// it): the schema probe, the image rows with their relations, banned
// authors, and the sample that tells the local_path form. Used by
// ArchiveDb (the local archive), RemoteDbCatalogReader (a copy of a
// remote's database) and the publisher, so that they agree on every rule:
//
//  - columns: the kImageColumns the table has, in the crawler's order;
//  - relations: tags, albums and collections joined by their natural keys;
//    a relation whose natural key is NULL (tags.name, albums.album_id,
//    collections.collection_id) is dropped, since it cannot be re-keyed;
//  - banned: a row whose author is in banned_authors (author not NULL);
//  - the local_path form: learned from the newest row that has one.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/archive/remote_image.h"
#include "lib/util/sqlite.h"
#include "lib/util/status.h"

namespace indafoto {

struct CrawlerSchema {
  std::vector<std::string> image_columns;  // kImageColumns present, in order
  bool has_tags = false;
  bool has_albums = false;
  bool has_collections = false;
  bool has_banned_authors = false;  // banned_authors(author) and images.author
  // local_path of the newest image that has one ("" when none): what
  // LocalPathStyle::Learn decides the form from.
  std::string sample_local_path;
  bool HasColumn(std::string_view column) const;
};

// Probes `db`. Corrupt when it has no images table, or when a crawler
// table has generated or hidden columns (a crawler never makes them;
// computing them is work a hostile copy should not be able to order).
Status ProbeCrawlerSchema(Database& db, CrawlerSchema* out);

struct CrawlerRow {
  int64_t id = 0;
  std::string local_path;  // as stored
  bool banned = false;     // the author is in banned_authors
  // Columns and relations; rel_path, sha256 and size are the caller's to
  // derive (each reader has its own rule for where the file is).
  RemoteImage image;
};

// Calls `sink` for each image in id order, with its relations unless the
// row is banned (a banned row is announced, not read). For a consistent
// snapshot the caller holds a read transaction. A non-ok Status from the
// sink stops the read and is returned.
Status ReadCrawlerImages(Database& db, const CrawlerSchema& schema, const std::function<Status(CrawlerRow&)>& sink);
// The same for the images with first_id <= id <= last_id only (the
// publisher reads again just the parts whose images changed).
Status ReadCrawlerImages(Database& db, const CrawlerSchema& schema, int64_t first_id, int64_t last_id,
                         const std::function<Status(CrawlerRow&)>& sink);

}  // namespace indafoto
