// ArchiveDb: the local crawler database (indafoto.db), as the importer and
// the reports use it.
//
// Opening adds only what we own: the index on images.sha256_hash,
// sync_records (the seed's exact schema) with an index on (remote_source,
// remote_path), and syncd_placements, the placement journal that makes a
// crash between "file placed" and "row committed" recoverable. The crawler's
// tables are never altered; columns an older database lacks are simply not
// written. A fresh instance without a database gets the crawler's schema.
//
// Not thread-safe: one ArchiveDb per thread. The crawler and the explorer may
// hold the same file open; every write runs in a BEGIN IMMEDIATE transaction
// with a busy timeout. Every method that touches the database returns a
// Status: Busy when the crawler held the database past the timeout (the
// caller retries the whole import later, never records it as a decision),
// Corrupt, or another error naming SQLite's message.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lib/archive/layout.h"
#include "lib/archive/remote_image.h"
#include "lib/archive/sync_status.h"
#include "lib/util/sqlite.h"
#include "lib/util/status.h"

namespace indafoto {

struct LocalImage {
  int64_t id = 0;
  std::string local_path;  // as stored
  std::string sha256;      // empty when NULL or the column is missing
  std::string url;
  std::string author;
};

struct SyncRecord {
  int64_t id = 0;
  int64_t image_id = 0;              // 0 when NULL
  std::optional<SyncStatus> status;  // nullopt: a name this version does not know
  std::string error_message;
  bool IsFinal() const { return status && indafoto::IsFinal(*status); }
};

struct Placement {  // one row of the placement journal
  int64_t id = 0;
  std::string path;    // absolute path of the file we are about to create
  std::string sha256;  // of the delivery placed there (lowercase hex)
};

class ArchiveDb {
 public:
  ArchiveDb() = default;
  ArchiveDb(ArchiveDb&&) = default;
  ArchiveDb& operator=(ArchiveDb&&) = default;

  // Opens (or creates, when `create` and it does not exist) the database.
  // `read_only` opens without taking any lock or adding anything (status,
  // plan, verify).
  static Status Open(const std::filesystem::path& db_path, const std::filesystem::path& image_root,
                     bool create, bool read_only, ArchiveDb* out);

  Database& db() { return db_; }
  const LocalPathStyle& path_style() const { return path_style_; }
  const std::filesystem::path& image_root() const { return image_root_; }
  // The kImageColumns this database has.
  const std::vector<std::string>& image_columns() const { return image_columns_; }
  bool HasColumn(std::string_view column) const;

  // Lookups. *out is nullopt when nothing matches. FindBySha256 and
  // FindByUrl use an index (idx_images_sha256 / idx_images_url).
  Status FindBySha256(const std::string& sha256, std::optional<LocalImage>* out);
  Status FindByUrl(const std::string& url, std::optional<LocalImage>* out);
  Status FindById(int64_t id, std::optional<LocalImage>* out);
  // *out: an image other than `except_id` that records `sha256` and whose
  // local_path is `stored_local_path` (the file there is that image's).
  // Uses idx_images_sha256.
  Status FindOtherAtPath(const std::string& sha256, const std::string& stored_local_path, int64_t except_id,
                         std::optional<LocalImage>* out);
  // *reason is the ban's reason when `author` is in banned_authors.
  Status BannedReason(const std::string& author, std::optional<std::string>* reason);

  // Writes; the caller holds a Transaction.
  Status InsertImage(const RemoteImage& image, const std::string& stored_local_path, const std::string& sha256,
                     int64_t* image_id);
  // Fills columns that are NULL or '' locally from `image`; *filled counts
  // them.
  Status FillMissingColumns(int64_t image_id, const RemoteImage& image, int* filled);
  Status SetSha256(int64_t image_id, const std::string& sha256);
  Status SetLocalPath(int64_t image_id, const std::string& stored_local_path);
  // Adds the relations of `image` that the local image lacks, re-keyed by
  // natural key; creates tags/albums/collections as needed. *added counts
  // the relation rows added.
  Status AddRelations(int64_t image_id, const RemoteImage& image, int* added);
  // Records a decision for (source, path): updates the latest row while it
  // is provisional (pending, failed), else adds a row (history is kept).
  // `latest`, when given, is that path's latest record as the caller read
  // it since it holds the writer lock (nobody else writes sync_records);
  // otherwise it is looked up here.
  Status RecordSync(const std::string& source, const std::string& remote_path, int64_t image_id, SyncStatus status,
                    const std::string& message, const std::optional<SyncRecord>* latest = nullptr);
  // The latest record of (source, path); nullopt when none.
  Status FindSyncRecord(const std::string& source, const std::string& remote_path, std::optional<SyncRecord>* out);
  // (source, remote_path) of the deliveries recorded as having taken image
  // `image_id` (imported, merged, duplicate, repaired), newest first.
  Status DeliveriesOf(int64_t image_id, std::vector<std::pair<std::string, std::string>>* out);
  // Latest decision per path of `source`, counted by status name (a name
  // this version does not know is counted under its own name).
  Status StatusCounts(const std::string& source, std::map<std::string, int64_t>* out);
  Status PathsWithStatus(const std::string& source, SyncStatus status, std::vector<std::string>* out);

  // Placement journal. AddPlacements commits on its own and durably (each
  // row must be on disk before its file exists; every other commit of ours
  // is synchronous=NORMAL), one durable commit for the whole batch: ids in
  // the order of `placements` (absolute path, sha256). RemovePlacement runs
  // inside the caller's transaction: a repair's, so that the row goes with
  // the repair's commit, or Recover's.
  Status AddPlacements(const std::vector<std::pair<std::filesystem::path, std::string>>& placements,
                       std::vector<int64_t>* ids);
  Status RemovePlacement(int64_t id);
  // Removes the journal rows of placements whose images have committed, in
  // one transaction of its own (not synced: a row that outlives a crash
  // names a file its committed row references, which Recover() keeps).
  Status ClearPlacements(const std::vector<int64_t>& ids);
  // Removes a journal row in a transaction of its own, after the placement
  // was undone (the file is not there). Failures are left to Recover().
  void AbandonPlacement(int64_t id);
  Status Placements(std::vector<Placement>* out);
  Status IsLocalPathReferenced(const std::string& stored_local_path, bool* referenced);

  // AuthorFileCounter's settled subfolder counts (a cache: errors read as
  // empty and are not saved; a read-only database saves nothing).
  AuthorFileCounter::Subfolders LoadAuthorSubfolders(const std::string& author_folder);
  void SaveAuthorSubfolders(const std::string& author_folder, const AuthorFileCounter::Subfolders& settled);

 private:
  Status Prepare(bool read_only);

  Database db_;
  std::filesystem::path database_dir_;
  std::filesystem::path image_root_;
  LocalPathStyle path_style_;
  std::vector<std::string> image_columns_;
  bool has_sync_records_ = false;
  bool has_banned_authors_ = false;
  bool has_author_subfolders_ = false;
  bool read_only_ = false;
};

}  // namespace indafoto
