// The outbox of one peer: the images of this archive that the peer's
// catalog lacks, as a queue kept in the state database and mirrored as
// hardlinks in the folder this daemon shares send-only with that peer.
//
// Inputs are catalogs in the CatalogStore (the same tables, so every
// lookup is an index probe and no catalog is held in RAM):
//   - this archive's own catalog (source kSelfCatalog, loaded from the
//     manifest the exchange publishes: shareable images only, banned
//     authors already left out, paths relative to image_root);
//   - the receiver's catalog (source = the peer's name);
//   - the other peers' catalogs (possible holders in a mesh).
// An image is a candidate when both its sha256 and its url are absent
// from the receiver's catalog and its author is not in the receiver's
// banned_authors (from its manifest). Among the holders this node knows
// (itself, and each other peer whose catalog lists the sha256 and whose
// manifest lists the receiver as one of its peers), the one with the
// highest RendezvousScore sends it; this node queues it only when it ranks
// first, or when the image has been missing from the receiver's catalog
// for longer than the fallback, or the catalog of the first-ranked holder
// has not changed for that long (it may be away). Holders that got the
// image from another holder are left out of the ranking by both (the
// sender remembers what it sent to whom, the relay what it imported from
// whom), so a copy that just arrived does not make a second sender. While
// the catalog of another peer has not arrived yet, nothing new is queued
// (until the fallback): who holds what is not known. Once queued an image
// stays queued until the receiver's catalog lists it (no flapping between
// senders); then its hardlink is removed and it counts as sent. If the
// receiver's catalog loses it again, it is a candidate again.
//
// Not thread-safe: the caller owns the state database connection (the
// daemon's worker thread).
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "lib/catalog/catalog.h"  // kSelfCatalog
#include "lib/config/config.h"
#include "lib/util/sqlite.h"
#include "lib/util/status.h"

namespace indafoto {


struct OutboxRequest {
  std::string self_device;    // this node's Syncthing device ID
  Peer receiver;
  std::vector<Peer> others;   // the other configured peers
  int64_t now = 0;            // unix seconds
  int64_t fallback_seconds = 1800;
  // Whether this archive's copy of `sha256` was imported from the other
  // peer `holder` (so that peer, which knows it sent it to us, sends it on
  // to the receiver itself: we do not relay it). Null: never.
  std::function<bool(const std::string& holder, const std::string& sha256)> relayed_from;
  // Look at every local image even when the catalogs' changes since the
  // last recompute would do (tests compare both ways).
  bool full = false;
};

struct OutboxChange {
  bool receiver_catalog = false;  // false: the receiver's catalog has not arrived; nothing computed
  bool unchanged = false;  // no catalog changed since the last Recompute and nothing waits: skipped
  bool incremental = false;  // only the images the catalogs' changes touch were looked at
  int64_t evaluated = 0;   // local images looked at (all of them, or those the changes touch)
  int64_t candidates = 0;  // after it: images the receiver lacks (not banned)
  int64_t queued = 0;      // of them, queued here (ranked first or fallback)
  int64_t deferred = 0;    // left to a higher-ranked holder for now
  int64_t newly_sent = 0;  // left the outbox because the receiver now lists them
  int64_t linked = 0;      // hardlinks created by SyncFiles
  int64_t unlinked = 0;    // hardlinks removed by SyncFiles
  int64_t link_errors = 0;
};

struct OutboxStats {
  int64_t queued = 0;    // waiting in the outbox (or about to be linked)
  int64_t deferred = 0;  // lacking at the peer, left to another holder
  int64_t sent = 0;      // total that left the outbox because the peer listed them
};

// What OutboxStore::Retire did.
struct RetireCounts {
  int64_t links_removed = 0;  // outbox hardlinks removed (the archive keeps its copy)
  int64_t links_kept = 0;     // recorded links left in place: no longer the archive's file
  int64_t rows = 0;           // outbox rows dropped
};

class OutboxStore {
 public:
  // Creates the exchange tables in the state database `db` (caller-owned,
  // open for the store's lifetime).
  static Status Open(Database* db, OutboxStore* out);
  // Uses the tables as they are (read-only `status`); a missing table
  // reads as empty.
  static void Attach(Database* db, OutboxStore* out) { out->db_ = db; }

  // What `peer`'s manifest says about the exchange: the device IDs it
  // exchanges with and its banned authors. `fingerprint` is the catalog
  // fingerprint they came with.
  Status SetPeerMembers(const std::string& peer, const std::vector<std::string>& peer_devices,
                        const std::vector<std::string>& banned_authors, const std::string& fingerprint);
  // The fingerprint SetPeerMembers was last called with ("" when never).
  std::string PeerMembersFingerprint(const std::string& peer);

  // Recomputes the queue of `r.receiver` in one transaction. Files are not
  // touched: call SyncFiles next. Skipped (change->unchanged) when none of
  // the catalogs it reads changed since the last one (CatalogStore
  // generations) and no image waits for another holder: an idle exchange
  // costs nothing. When the same catalogs changed by at most
  // kCatalogChangesKept loads each, only the local images whose path,
  // sha256 or url those loads added, changed or removed (anywhere), plus
  // the images waiting for another holder, are decided again: the cost
  // follows the change. Otherwise (first time, a peer added, members or
  // bans changed, r.full) every local image is.
  Status Recompute(const OutboxRequest& r, OutboxChange* change);
  // Makes `outbox_dir` hold exactly the queued images of `peer`: hardlinks
  // of `image_root/<path>` at `outbox_dir/<path>` (never a copy: a link
  // that fails is counted and retried at the next call), and removes the
  // links of images that left the queue. Empty directories left behind are
  // removed.
  Status SyncFiles(const std::string& peer, const std::filesystem::path& image_root,
                   const std::filesystem::path& outbox_dir, OutboxChange* change);

  // Re-makes each recorded link of `peer` that is no longer the archive's
  // file: a repair renames a healed file over a missing or corrupt one, so
  // the link still names the old bytes, which the peer would be sent, and
  // fail to verify, for as long as the image stays queued. Only where the
  // archive's file now has the sha256 the queue records (an operator's
  // edit of the file is not sent instead of the picture), and never where
  // the archive's file is gone (the link may be the last copy). Looks at
  // every linked row (two stats each): the daemon runs it after each full
  // periodic verify. *relinked counts the links re-made.
  Status RelinkReplaced(const std::string& peer, const std::filesystem::path& image_root,
                        const std::filesystem::path& outbox_dir, int64_t* relinked);

  Status Stats(const std::string& peer, OutboxStats* out);

  // Every peer the exchange tables hold rows of (sorted; from
  // syncd_exchange_peers, which has a row for each).
  Status KnownPeers(std::vector<std::string>* out);
  // For a peer no longer configured: removes from `outbox_dir` each link
  // the queue recorded that is still the same file as `image_root/<path>`
  // (never anything else: a link whose archive file is gone is the last
  // copy, and stays), removes the empty directories left, then drops every
  // row of `peer` from the exchange tables, in one transaction.
  Status Retire(const std::string& peer, const std::filesystem::path& image_root,
                const std::filesystem::path& outbox_dir, RetireCounts* out);

 private:
  Database* db_ = nullptr;
};

}  // namespace indafoto
