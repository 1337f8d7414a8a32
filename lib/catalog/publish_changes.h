// Change tracking in indafoto.db, so that a republish reads only the parts
// of the manifest whose images changed (PublishManifest, manifest_writer.cc).
//
// Why triggers: the crawler writes the same database with its own code,
// which we cannot change; SQLite triggers stored in the database fire for
// every writer. The publisher installs them (CREATE ... IF NOT EXISTS, all
// named syncd_pub_*; nothing of the crawler's is altered, dropped or
// renamed) and each change to a row that a manifest entry is made from
// appends the image id (or, for banned_authors, the author) to
// syncd_publish_dirty:
//   images            insert, update, delete, and rows an INSERT/UPDATE OR
//                     REPLACE removes (uuid or id conflict, BEFORE triggers,
//                     since SQLite fires no DELETE trigger for them)
//   image_tags, image_albums, image_collections   insert, update, delete
//   tags, albums, collections   insert (dangling references become live),
//                     update of a published column, delete, REPLACE victims
//                     (the row id; resolved to image ids at publish time
//                     through our indexes syncd_image_*_by_* on the
//                     relation tables' second column)
//   banned_authors    insert, update of author, delete (the author; its
//                     images are found at publish time by one scan)
//
// A trigger reads no table but its own, so renaming or replacing another
// table cannot make the crawler's writes fail; a trigger that a rename
// moved to another table or rewrote is detected (name, table and text are
// compared with ours) and made again.
//
// Soundness rests on three checks made by the publisher (ReadPublishTracking):
//   - the database's schema_version equals the one recorded with the last
//     publish: any DDL since (a dropped trigger, a recreated table, a new
//     column, a new UNIQUE index) forces a full read;
//   - manifest.json is byte for byte the index that publish wrote;
//   - the schema is one the triggers understand (IsTrackable): every UNIQUE
//     index is one whose REPLACE victims the BEFORE triggers find.
// Otherwise the publish reads everything, as before, and records a new
// baseline. Files that change on disk without their row changing (deleted,
// or appearing for a row that was left out) are not database changes: rows
// left out for want of a file are rechecked by every publish
// (syncd_publish_absent), and a full read is made at least every
// PublishOptions::full_interval_seconds.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "lib/util/sqlite.h"
#include "lib/util/status.h"

namespace indafoto {

// Whether the schema is one the triggers track soundly; `why_not` says what
// is missing or unexpected. Reads only.
bool IsPublishTrackable(Database& db, std::string* why_not);

// Creates the tracking tables, indexes and triggers that are missing, in
// one write transaction (none when all exist). The caller's connection must
// allow writes (not query_only). Returns Ok with *trackable = false (and
// creates nothing) when IsPublishTrackable says no.
Status InstallPublishTracking(Database& db, bool* trackable, std::string* why_not);

struct PublishTracking {
  // Parts may be reused: the baseline below is valid for this snapshot.
  bool incremental = false;
  std::string why_full;  // when !incremental (for the log)
  // Tracking is installed and verified in this snapshot: after a
  // successful publish, CommitPublishTracking records a new baseline.
  bool tracked = false;
  int64_t schema_version = 0;
  int64_t upto_seq = 0;          // dirty rows up to this sequence are covered
  std::set<int64_t> dirty_parts; // parts to read again (incremental only)
  int64_t last_full_at = 0;      // unix seconds of the last full read
};

struct PublishBaselineKey {
  std::string image_root;        // the folder published into, as configured
  int64_t images_per_part = 0;
  bool skip_file_checks = false; // benchmark mode makes other entries
  std::string index_sha256;      // of manifest.json as it is now ("" = none)
  int64_t now = 0;               // unix seconds
  int64_t full_interval_seconds = 86400;
};

// Inside the publisher's read transaction: whether this publish may be
// incremental, and which parts changed since the recorded baseline.
Status ReadPublishTracking(Database& db, const PublishBaselineKey& key, PublishTracking* out);

// After the manifest is committed: forgets the dirty rows the snapshot
// covered, replaces the absent rows of the parts that were read (all of
// them after a full read) and records the baseline. Writes nothing when
// nothing changes (an idle archive's republish must not look like a
// database change to the daemon's watch). `read_parts` are the parts read
// (ignored when `full`); `absent` the image ids left out in them for want
// of a file.
Status CommitPublishTracking(Database& db, const PublishBaselineKey& key, const PublishTracking& tracking,
                             bool full, const std::set<int64_t>& read_parts, const std::vector<int64_t>& absent);

}  // namespace indafoto
