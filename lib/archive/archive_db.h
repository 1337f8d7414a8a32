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
// with a busy timeout, and callers retry Status::Busy.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "lib/archive/layout.h"
#include "lib/archive/remote_image.h"
#include "lib/util/sqlite.h"
#include "lib/util/status.h"

namespace indafoto {

// sync_records.status values (documented in docs/architecture.md and
// docs/operations.md).
namespace sync_status {
inline constexpr const char* kImported = "imported";    // new image added
inline constexpr const char* kMerged = "merged";        // same image; metadata or relations added
inline constexpr const char* kDuplicate = "duplicate";  // same image; nothing new
inline constexpr const char* kRepaired = "repaired";    // local file was missing/corrupt; replaced
inline constexpr const char* kPending = "pending";      // no catalog entry yet; retried on catalog change
inline constexpr const char* kFailed = "failed";        // hash mismatch or unusable entry
inline constexpr const char* kConflict = "conflict";    // same url, different verified content; local kept
inline constexpr const char* kSkipped = "skipped";      // author banned locally
// Final statuses are not re-examined by a reconcile scan.
bool IsFinal(const std::string& status);
// The delivery left the source's image in the archive (imported, merged,
// duplicate, repaired): the record's image_id is that image.
bool TookImage(const std::string& status);
}  // namespace sync_status

struct LocalImage {
  int64_t id = 0;
  std::string local_path;  // as stored
  std::string sha256;      // empty when NULL or the column is missing
  std::string url;
  std::string author;
};

struct SyncRecord {
  int64_t id = 0;
  int64_t image_id = 0;  // 0 when NULL
  std::string status;
  std::string error_message;
};

struct Placement {  // one row of the placement journal
  int64_t id = 0;
  std::string path;  // absolute path of the file we are about to create
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

  // Lookups. Both use an index (idx_images_sha256 / idx_images_url).
  std::optional<LocalImage> FindBySha256(const std::string& sha256);
  std::optional<LocalImage> FindByUrl(const std::string& url);
  std::optional<LocalImage> FindById(int64_t id);
  // Reason when `author` is in banned_authors.
  std::optional<std::string> BannedReason(const std::string& author);

  // Writes; the caller holds a Transaction.
  int64_t InsertImage(const RemoteImage& image, const std::string& stored_local_path,
                      const std::string& sha256);
  // Fills columns that are NULL or '' locally from `image`. Returns the
  // number of columns filled.
  int FillMissingColumns(int64_t image_id, const RemoteImage& image);
  void SetSha256(int64_t image_id, const std::string& sha256);
  // Adds the relations of `image` that the local image lacks, re-keyed by
  // natural key; creates tags/albums/collections as needed. Returns how many
  // relation rows were added.
  int AddRelations(int64_t image_id, const RemoteImage& image);
  // Records a decision for (source, path): updates the latest row while it
  // is provisional (pending, failed), else adds a row (history is kept).
  void RecordSync(const std::string& source, const std::string& remote_path, int64_t image_id,
                  const std::string& status, const std::string& message);
  std::optional<SyncRecord> FindSyncRecord(const std::string& source, const std::string& remote_path);
  // (source, remote_path) of the deliveries recorded as having taken image
  // `image_id` (imported, merged, duplicate, repaired), newest first.
  std::vector<std::pair<std::string, std::string>> DeliveriesOf(int64_t image_id);
  // Latest decision per path of `source`, counted by status.
  std::map<std::string, int64_t> StatusCounts(const std::string& source);
  std::vector<std::string> PathsWithStatus(const std::string& source, const std::string& status);

  // Placement journal. AddPlacement commits on its own and durably (it must
  // be on disk before the file exists; every other commit of ours is
  // synchronous=NORMAL); RemovePlacement runs inside the image's
  // transaction so both commit together.
  int64_t AddPlacement(const std::filesystem::path& absolute_path, const std::string& sha256);
  // The same for a batch, in one durable commit (one sync for all): ids in
  // the order of `placements` (absolute path, sha256).
  std::vector<int64_t> AddPlacements(const std::vector<std::pair<std::filesystem::path, std::string>>& placements);
  void RemovePlacement(int64_t id);
  // Removes a journal row in a transaction of its own, after the placement
  // was undone (the file is not there). Failures are left to Recover().
  void AbandonPlacement(int64_t id);
  std::vector<Placement> Placements();
  bool IsLocalPathReferenced(const std::string& stored_local_path);

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
