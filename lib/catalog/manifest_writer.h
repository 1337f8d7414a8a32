// Publishes the local archive's manifest into the shared folder
// (docs/manifest.md): <image_root>/.indafoto-sync/.
//
// Consistent: every row is read inside one read transaction on our own
// connection (WAL, busy timeout, query_only), so the manifest describes
// exactly one snapshot even while the crawler writes.
//
// Incremental: image with local id i goes to part i / images_per_part.
// Parts are content-addressed and an unchanged part is neither rewritten
// nor renamed, so growth rewrites only the last part(s) and the index.
//
// Order of writes, so a peer never sees a half-written manifest:
//   1. each new part: temp file (".syncthing.*", which Syncthing skips),
//      fsync, rename to its final name; then fsync parts/;
//   2. the index: temp file, fsync, rename over manifest.json, fsync the
//      directory;
//   3. only then parts that neither the new nor the previous index names are
//      deleted. The previous generation's parts are kept (one generation of
//      grace) so a peer that still holds the previous index, or receives the
//      deletions before the new index, keeps a complete manifest.
// When nothing changed (same parts, same key), the index is not rewritten
// at all and the sequence stays: republishing an idle archive sends nothing.
//
// Concurrent publishers on one folder are excluded with flock() on the
// .indafoto-sync directory (the second one gets Status::Busy).
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "lib/catalog/manifest.h"
#include "lib/catalog/publisher_key.h"
#include "lib/util/status.h"
#include "lib/util/unique_fd.h"

namespace indafoto {

struct PublishOptions {
  // The local crawler database (indafoto.db); must exist.
  std::filesystem::path database_path;
  // The folder Syncthing shares (indafoto_archive/); entries' paths are
  // relative to it and the manifest goes to its .indafoto-sync/.
  std::filesystem::path image_root;
  // The publisher's secret key, outside image_root; created on first use.
  std::filesystem::path key_path;
  int64_t images_per_part = kDefaultImagesPerPart;
  int busy_timeout_ms = 30000;
  // Benchmark use only: trust the database instead of the disk. No stat, no
  // hashing: rows whose sha256_hash column is a valid digest are listed with
  // size 0, whether or not their file exists. Never set it in production.
  bool benchmark_skip_file_checks = false;
  // Read only the parts whose images changed since the last publish, as
  // the change tracking in indafoto.db records them (publish_changes.h);
  // the other parts are taken over from the previous index unread. This
  // installs the tracking triggers and tables in indafoto.db (our own
  // syncd_ objects). False: read everything, write nothing to the database.
  bool incremental = true;
  // Even when incremental, read everything at least this often: a file
  // deleted on disk while its row stays is not a database change.
  int64_t full_interval_seconds = 86400;
  // Where .indafoto-sync/ is written; empty: image_root. Entries' paths
  // stay relative to image_root (the exchange publishes its manifest
  // beside the archive, lib/exchange/exchange.h).
  std::filesystem::path manifest_root;
  // Exchange members of the payload (ManifestPayload::peers,
  // banned_authors); empty: not written.
  std::vector<std::string> peers;
  std::vector<std::string> banned_authors;
};

struct PublishReport {
  uint64_t sequence = 0;     // of the manifest now in place
  bool unchanged = false;    // the index already described this snapshot
  int64_t image_count = 0;   // entries in the manifest
  int64_t rows = 0;          // rows of `images` read (all of them unless incremental)
  int64_t banned = 0;        // left out: author in banned_authors
  int64_t no_file = 0;       // left out: local_path empty or not a regular file
  int64_t outside_root = 0;  // left out: file not under image_root, or unsafe path
  int64_t hashed = 0;        // files hashed because sha256_hash was empty/invalid
  int64_t parts = 0;         // parts in the manifest
  int64_t parts_written = 0; // parts created by this publish
  int64_t parts_removed = 0; // superseded parts deleted
  int64_t bytes_total = 0;   // parts + index
  int64_t bytes_written = 0; // bytes written by this publish (parts + index)
  bool incremental = false;   // only changed parts were read
  std::string full_reason;    // why not incremental (when incremental was asked for)
  int64_t parts_read = 0;     // parts made from the database
  int64_t parts_reused = 0;   // parts taken over from the previous index unread
  bool key_created = false;
  bool key_changed = false;  // the previous index was signed by another key
  std::string public_key;    // base64
  std::filesystem::path manifest_path;
};

// Reads the database and writes or updates the manifest. The caller may run
// it while the crawler writes. It never writes the crawler's rows; with
// options.incremental it installs and maintains its own change tracking
// (syncd_ tables, indexes and triggers: publish_changes.h) in the database.
Status PublishManifest(const PublishOptions& options, PublishReport* report);

// ---------------------------------------------------------------------
// Lower level, used by PublishManifest and by tests that need a manifest
// with hand-made content.

// Writes one generation of manifest files into <image_root>/.indafoto-sync.
// Holds the directory lock from Open until destruction.
class ManifestDirWriter {
 public:
  ManifestDirWriter() = default;
  ManifestDirWriter(const ManifestDirWriter&) = delete;
  ManifestDirWriter& operator=(const ManifestDirWriter&) = delete;

  // Creates .indafoto-sync/parts if needed, takes the lock, removes our
  // stale temp files and reads the previous index (if any) for its sequence
  // and parts.
  Status Open(const std::filesystem::path& image_root);
  // Adds part number `k` whose `count` entries are `lines` (complete lines,
  // each ending in '\n'), encoded for kManifestVersion (EncodePart). Writes
  // it unless an identical file is already there. Parts must be added in
  // increasing k.
  Status AddPart(int64_t k, std::string_view lines, int64_t count);
  // Adds part `previous` of the previous index as it is, without reading
  // it (its number is the one its name starts with). NotFound when its
  // file is not there with its size, or is of an older manifest version
  // (then the caller makes it again).
  Status ReusePart(const ManifestPart& previous);
  const std::vector<ManifestPart>& previous_parts() const { return previous_parts_; }
  // The exchange members of the next index (a change of them alone is a
  // change: the index is rewritten).
  void SetExchangeMembers(std::vector<std::string> peers, std::vector<std::string> banned_authors) {
    peers_ = std::move(peers);
    banned_authors_ = std::move(banned_authors);
  }
  // Signs and installs the index (unless nothing changed), then deletes
  // superseded parts. Fills the file counters and sequence of `report`.
  Status Commit(const PublisherKey& key, PublishReport* report);

 private:
  std::filesystem::path dir_;    // .../.indafoto-sync
  std::filesystem::path parts_;  // .../.indafoto-sync/parts
  UniqueFd lock_;  // flock held on .indafoto-sync
  bool have_previous_ = false;
  uint64_t previous_sequence_ = 0;
  timespec previous_index_mtime_{};  // parts changed after it are not reused
  std::string previous_key_;
  std::vector<ManifestPart> previous_parts_;
  std::vector<std::string> previous_peers_, previous_banned_authors_;
  std::vector<std::string> peers_, banned_authors_;
  std::vector<ManifestPart> parts_list_;
  int64_t last_k_ = -1;
  int64_t parts_written_ = 0;
  int64_t bytes_written_ = 0;
};

// The payload's JSON text (members in the documented order).
std::string ManifestPayloadToJson(const ManifestPayload& payload);
// manifest.json's text for `payload_json`, signed with `key`.
std::string SignManifest(std::string_view payload_json, const PublisherKey& key);
// "<k>-<first 16 hex of sha256>.jsonl.deflate" (PartSuffix(kManifestVersion))
std::string PartFileName(int64_t k, std::string_view sha256_hex);
// The <k> of a name PartFileName made; false for any other name.
bool PartNumberOf(std::string_view name, int64_t* k);

}  // namespace indafoto
