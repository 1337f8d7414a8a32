// Importer: turns one file that Syncthing delivered into an entry of the
// local archive. This is where an image's import happens.
//
// For one (source, path) the importer first *decides* (read-only: catalog
// lookup, hash check, identity by sha256 then url, local file check) and
// then *applies* the decision: a new image is placed by the crawler's layout
// rules and inserted with its relations and its sync_records row in one
// transaction; a known image is merged (NULL/empty columns filled, relations
// united) or repaired. `plan` shows decisions without applying them.
//
// Crash safety: before a file is placed, its destination is written to the
// placement journal (syncd_placements) and committed; the image's
// transaction deletes the journal row. Recover() at start-up removes any
// file whose journal row is still there (placed, never committed), so the
// archive never holds a row without its file nor a file without its row,
// and the still-unaccounted delivery is imported again by the next scan.
//
// Not thread-safe; hashing may happen on other threads (pass the digest in).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "lib/archive/archive_db.h"
#include "lib/archive/sync_status.h"
#include "lib/catalog/catalog.h"
#include "lib/config/config.h"
#include "lib/archive/layout.h"
#include "lib/archive/placement.h"
#include "lib/util/sha256.h"
#include "lib/util/status.h"

namespace indafoto {

enum class Action {
  kIgnore,    // not an image delivery (directory, temp, conflict copy, gone, symlink)
  kPending,   // no catalog entry yet
  kFail,      // hash mismatch or unusable catalog entry
  kSkip,      // author banned locally
  kNew,       // new image: place and insert
  kMerge,     // same image already local: merge metadata and relations
  kRepair,    // same image, local file missing or corrupt: the delivery replaces it
  kConflict,  // same url, different verified content: keep local
};
// The status Apply records for `action` (kMerge: merged, or duplicate when
// the image gains nothing); nullopt for kIgnore, which records nothing.
std::optional<SyncStatus> StatusFor(Action action);

struct Decision {
  Action action = Action::kIgnore;
  std::string message;          // reason, for the log and sync_records.error_message
  RemoteImage entry;            // the catalog entry (kNew/kMerge/kRepair/...)
  FileDigest digest;            // of the delivered file
  std::filesystem::path file;   // absolute path of the delivered file
  std::optional<LocalImage> local;  // the matching local image, if any
  bool update_sha256 = false;   // the local row's sha256 must become digest.sha256
  Status error;                 // kIgnore because of a (transient) failure
  bool retried = false;         // decided again after the identity was taken meanwhile
  // Set by Examine: the file and its catalog entry are known, its hash is
  // needed to decide (DecideHashed).
  bool awaiting_hash = false;
  // The path's latest sync_records row, when the caller already read it
  // (an import pass does, to skip what is accounted for): Apply then does
  // not read it again.
  bool previous_known = false;
  std::optional<SyncRecord> previous;
};

struct ImportOutcome {
  std::optional<SyncStatus> status;  // written, or nullopt (ignored / error)
  bool unchanged = false;  // the same decision was already recorded; nothing written
  int64_t image_id = 0;
  std::string message;
  std::string local_path;  // where the image's file is (new/merged/repaired)
  int64_t bytes = 0;       // size of the delivered file
  Status error;            // non-ok: nothing recorded; transient ones are retried later
};

// Importer::Examine over `catalog`: reads only the received folder and the
// catalog, so a hashing thread may run it with a catalog connection of its
// own (lib/import/import_pass.cc) while the importer applies other files.
Decision ExamineDelivery(CatalogStore& catalog, const RemoteSource& source, const std::string& rel_path);

class Importer {
 public:
  // Both must outlive the importer.
  Importer(ArchiveDb* archive, CatalogStore* catalog);

  CatalogStore& catalog() { return *catalog_; }

  // Crash recovery from the placement journal. Call once before importing.
  Status Recover(int* removed_files);

  // Whether the delivery `rel_path` of `source` is accounted for: its
  // latest record holds a final decision, so an import pass does not
  // examine it again (unless asked to recheck). The one place that says so.
  Status IsAccounted(const RemoteSource& source, const std::string& rel_path, bool* accounted,
                     std::optional<SyncRecord>* record = nullptr);
  // Read-only decision for `rel_path` of `source`. `digest`, when given, is
  // the already computed hash of the delivered file. The same as Examine,
  // then (when awaiting_hash) hashing and DecideHashed.
  Decision Decide(const RemoteSource& source, const std::string& rel_path, const FileDigest* digest = nullptr);
  // The part of a decision that needs no hash: ignored, refused, gone,
  // pending (no catalog entry), or awaiting_hash with the delivered file's
  // path and its catalog entry (looked up once, here). ExamineDelivery
  // over the importer's catalog.
  Decision Examine(const RemoteSource& source, const std::string& rel_path);
  // Completes a decision that awaits its hash. `hashed` is the result of
  // hashing d->file: a failure is recorded on the decision as its reason.
  void DecideHashed(Decision* d, const Status& hashed, const FileDigest& digest);
  // Decides and applies.
  ImportOutcome ImportFile(const RemoteSource& source, const std::string& rel_path,
                           const FileDigest* digest = nullptr);
  ImportOutcome Apply(const RemoteSource& source, const std::string& rel_path, const Decision& d);
  // Applies several new-image decisions (Action::kNew each) with their
  // durable steps grouped: the journal rows of all in one durable commit,
  // the files placed, each directory they went into synced once, one
  // transaction per image, then the journal rows of the images that
  // committed deleted in one (unsynced) commit. One outcome per decision,
  // in order; Apply of a new image is a batch of one. The crash argument
  // (docs/architecture.md): every journal row is on disk before its file
  // exists, every file before its row commits, and a journal row outlives
  // its image's commit only until Recover() sees that a row references it.
  std::vector<ImportOutcome> ApplyNewImages(const RemoteSource& source, const std::vector<std::string>& rel_paths,
                                            const std::vector<Decision>& decisions);
  // Images already taken from `source` whose catalog entry has changed since
  // (the publisher added tags, filled a column, ...) get what is new: NULL
  // or empty columns filled, tags/albums/collections united, recorded as
  // `merged`; nothing local is overwritten. Files are not read: the image
  // is the same one as long as the entry's sha256 still matches. Adds the
  // number of images changed to *merged.
  Status MergeCatalogChanges(const RemoteSource& source, int64_t* merged);
  // Heals local image `image` (its file missing or not matching the sha256
  // its row records): finds a delivery with that sha256 in the received
  // folders of `sources` (catalog entries listing the sha256, and the
  // deliveries sync_records says gave this image), hashes it, and replaces
  // the local file with the first that verifies, journaled like any
  // placement and recorded as `repaired` on that delivery's path.
  // `*healed_from` says "source:path". NotFound when no received folder
  // holds a verified copy, or the row records no sha256 (then nothing
  // proves that a delivery is the same picture).
  Status HealLocalFile(const std::vector<RemoteSource>& sources, const LocalImage& image, std::string* healed_from);
 private:
  ImportOutcome ApplyRecordOnly(const RemoteSource& source, const std::string& rel_path, const Decision& d,
                                SyncStatus status);
  // The path's latest record: the one the decision carries, else read now.
  Status Previous(const RemoteSource& source, const std::string& rel_path, const Decision& d,
                  std::optional<SyncRecord>* out);
  // The commit of one placed new image (ApplyNewImages' last step).
  ImportOutcome CommitNew(const RemoteSource& source, const std::string& rel_path, const Decision& d,
                          const std::filesystem::path& dest, int64_t placement, PlaceMethod method);
  // `why`, when given, prefixes the recorded message.
  ImportOutcome ApplyMerge(const RemoteSource& source, const std::string& rel_path, const Decision& d,
                           const std::string& why = "");
  ImportOutcome ApplyRepair(const RemoteSource& source, const std::string& rel_path, const Decision& d);
  // *holder: the image other than `except_id` whose file `path` holds (its
  // row names `path` and records the file's sha256), if any.
  Status OtherImageAt(const std::filesystem::path& path, int64_t except_id, std::optional<LocalImage>* holder);
  // Where a new image goes. `earlier_in_batch` counts the files of the same
  // author folder that are about to be placed before it (not on disk yet).
  std::filesystem::path NewImagePath(const RemoteImage& entry, const std::string& rel_path, int64_t earlier_in_batch,
                                     std::string* author_folder);

  ArchiveDb* archive_;
  CatalogStore* catalog_;
  AuthorFileCounter counter_;
  // Journal rows of committed images that ClearPlacements failed to delete
  // (the database busy past its timeout): retried with the next batch, so
  // a daemon that runs for months does not keep them until its restart.
  std::vector<int64_t> uncleared_placements_;
};

}  // namespace indafoto
