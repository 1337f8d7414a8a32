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

#include <memory>
#include <string>

#include "lib/exchange/outbox.h"
#include "lib/import/instance.h"

namespace indafoto {

class Exchange {
 public:
  // `instance` outlives the exchange. Creates the exchange tables.
  static Status Open(Instance* instance, std::unique_ptr<Exchange>* out);

  // This node's Syncthing device ID (learnt from Syncthing); outboxes are
  // not computed before it is known (the sender choice needs it).
  void set_self_device(const std::string& id) { self_device_ = id; }
  const std::string& self_device() const { return self_device_; }

  // Publishes, mirrors and reloads our own catalog, then recomputes every
  // peer's outbox.
  Status Publish(const Config& config);
  // After peer `peer`'s catalog was (re)loaded: reads the exchange members
  // of its manifest, then recomputes every outbox (a peer's catalog also
  // decides who sends what to the others).
  Status OnPeerCatalog(const Config& config, const std::string& peer);
  // Recomputes every peer's outbox and brings its folder in line.
  Status RecomputeAll(const Config& config);
  // OnPeerCatalog for every peer at once (after a reconcile reloaded
  // their catalogs), then RecomputeAll.
  Status Refresh(const Config& config);

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
