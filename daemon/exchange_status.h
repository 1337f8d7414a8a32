// What `status` shows per exchange peer: entries in its catalog, images
// queued in its outbox (and left to another holder), sent (left the outbox
// because its catalog now lists them), received (imported from it), and
// when its catalog last changed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lib/import/instance.h"

namespace indafoto {

struct PeerStatus {
  std::string name;
  std::string device_id;
  int64_t in_catalog = 0;
  int64_t queued = 0;
  int64_t deferred = 0;
  int64_t sent = 0;
  int64_t received = 0;
  std::string catalog_at;  // UTC "YYYY-MM-DD HH:MM:SS", "" = never
};

// Reads only (works on a read-only Instance).
std::vector<PeerStatus> CollectPeerStatus(Instance& instance);

// A peer removed from the configuration whose from-<name>/ is still there
// (Exchange::RetireRemovedPeers keeps it while it holds files that were
// not imported).
struct FormerPeerStatus {
  std::string name;
  std::string path;       // its from-<name>/
  int64_t not_imported = 0;  // delivered files in it
};
std::vector<FormerPeerStatus> CollectFormerPeers(const Config& config);
std::string FormerPeerLine(const FormerPeerStatus& p);
// One line of `status` text output.
std::string PeerStatusLine(const PeerStatus& p);

}  // namespace indafoto
