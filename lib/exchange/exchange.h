// Exchange: the worker-side jobs of the peer exchange (docs/architecture.md,
// "The exchange"). Per configured peer P there are two Syncthing folders
// under exchange_root (config.h, ExchangeIncomingPath/ExchangeOutgoingPath):
//
//   to-P/     send-only, shared with P alone: this archive's signed manifest
//             (.indafoto-sync/, hardlinked from exchange_root/self/) and
//             P's outbox (hardlinks of images P lacks, lib/exchange/outbox.h)
//   from-P/   receive-only: P's to-<us>/, imported like any remote source
//             with a manifest (Config::sources holds it, exchange = true)
//
// Publish() writes this archive's manifest once into exchange_root/self
// (the existing publisher; entries relative to image_root, with the
// exchange members: our peers' device IDs and our banned authors), mirrors
// it into every to-P by hardlinks, and loads it as the catalog kSelfCatalog
// that outboxes are computed from. OnPeerCatalog() takes a peer's new
// catalog into account. Each recomputes the outboxes.
//
// Not thread-safe: owned by the thread that owns the Instance.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "lib/catalog/manifest_writer.h"
#include "lib/exchange/outbox.h"
#include "lib/import/instance.h"

namespace indafoto {

// What Exchange::Publish wrote.
struct ExchangePublishReport {
  PublishReport manifest;                 // exchange_root/self/.indafoto-sync
  std::vector<std::string> mirrored;      // peers whose to-<peer>/ now holds it
  std::vector<std::string> not_mirrored;  // peers whose folder could not take it (logged)
};

// What Exchange::RetireRemovedPeers did for one former peer.
struct RetiredPeer {
  std::string name;
  RetireCounts outbox;             // to-<peer>/: links removed, rows dropped
  bool outgoing_removed = false;   // to-<peer>/ is gone (or never existed)
  int64_t outgoing_left = 0;       // files left in to-<peer>/ (kept: not links of archive images)
  bool import_ran = false;         // the last import pass over from-<peer>/ ran
  int64_t received_removed = 0;    // files of from-<peer>/ removed: the archive holds their image
  int64_t received_left = 0;       // files of from-<peer>/ kept: not imported (pending, failed, conflict...)
  bool incoming_removed = false;   // from-<peer>/ is gone (or never existed)
};

class Exchange {
 public:
  // `instance` outlives the exchange. Creates the exchange tables.
  static Status Open(Instance* instance, std::unique_ptr<Exchange>* out);

  // This node's Syncthing device ID (learnt from Syncthing); outboxes are
  // not computed before it is known (the sender choice needs it).
  void set_self_device(const std::string& id) { self_device_ = id; }
  const std::string& self_device() const { return self_device_; }

  // Publishes, mirrors and reloads our own catalog, then recomputes every
  // peer's outbox (only once self_device is known: `indafoto-syncd
  // publish` writes the catalogs, the daemon keeps the outboxes). No peers:
  // nothing. `report` may be null.
  Status Publish(const Config& config, ExchangePublishReport* report = nullptr);
  // After peer `peer`'s catalog was (re)loaded: reads the exchange members
  // of its manifest, then recomputes every outbox (a peer's catalog also
  // decides who sends what to the others).
  Status OnPeerCatalog(const Config& config, const std::string& peer);
  // Recomputes every peer's outbox and brings its folder in line.
  Status RecomputeAll(const Config& config);
  // OutboxStore::RelinkReplaced for every peer's outbox (after a full
  // verify: links that still name a file a repair replaced).
  Status RelinkReplaced(const Config& config, int64_t* relinked);
  // OnPeerCatalog for every peer at once (after a reconcile reloaded
  // their catalogs), then RecomputeAll.
  Status Refresh(const Config& config);

  // Peers no longer in config.peers but still known here (rows in the
  // exchange tables, or to-<name>/ or from-<name>/ under exchange_root
  // holding a manifest, .indafoto-sync/):
  //   to-<name>/    its Syncthing marker (.stfolder) is removed first, so a
  //                 Syncthing that still shares the folder stops it instead
  //                 of sending the removals below as deletions; then the
  //                 outbox links (OutboxStore::Retire: only links of archive
  //                 files) and our mirrored manifest go, and the folder when
  //                 nothing else is left in it; the peer's exchange rows are
  //                 dropped.
  //   from-<name>/  nothing received is lost: `import_pass` (the daemon's
  //                 import of one source) runs once more over it as source
  //                 <name>, with its last catalog; then each file whose
  //                 image the archive holds (sync_records: imported,
  //                 duplicate or merged, and the archive's file is that file
  //                 or has its sha256) is removed, and the folder when none
  //                 is left. Files not imported stay, and are reported, at
  //                 every reconcile until the operator deals with them.
  // Its catalog (whereis/copies: the last known state of that archive) and
  // its pinned key stay. The Syncthing folders are the daemon's part
  // (daemon/exchange_setup.h). A name now used by a remote source: its
  // from-<name>/ is left alone.
  Status RetireRemovedPeers(const Config& config, const std::function<Status(const RemoteSource&)>& import_pass,
                            std::vector<RetiredPeer>* retired);

  OutboxStore& outbox() { return outbox_; }

 private:
  Status RecomputeOne(const Config& config, const Peer& peer);
  // Reads the exchange members of `peer`'s manifest when its accepted
  // catalog is not the one they were last read from.
  Status RefreshMembers(const Config& config, const std::string& peer);

  Instance* instance_ = nullptr;
  OutboxStore outbox_;
  std::string self_device_;
};

// Creates exchange_root and checks that it is on the same filesystem as
// image_root (outboxes are hardlinks); the error names both paths.
Status CheckExchangeRoot(const Config& config);

// Makes `to`/.indafoto-sync a copy by hardlinks of `from`/.indafoto-sync:
// parts first, then manifest.json (linked under a temporary name that
// Syncthing skips and renamed into place), then stale parts removed.
Status MirrorManifest(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace indafoto
