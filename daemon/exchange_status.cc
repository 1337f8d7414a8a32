#include "daemon/exchange_status.h"

#include <filesystem>
#include <map>

#include "lib/archive/archive_db.h"
#include "lib/exchange/outbox.h"
#include "lib/import/received_folder.h"

namespace indafoto {

std::vector<PeerStatus> CollectPeerStatus(Instance& instance) {
  std::vector<PeerStatus> out;
  OutboxStore outbox;
  OutboxStore::Attach(&instance.state(), &outbox);
  for (const Peer& peer : instance.config().peers) {
    PeerStatus p;
    p.name = peer.name;
    p.device_id = peer.device_id;
    int64_t entries = 0;
    if (instance.catalog().Count(peer.name, &entries).ok()) p.in_catalog = entries;
    OutboxStats st;
    if (outbox.Stats(peer.name, &st).ok()) {
      p.queued = st.queued;
      p.deferred = st.deferred;
      p.sent = st.sent;
    }
    try {
      std::map<std::string, int64_t> counts;
      if (instance.archive().StatusCounts(peer.name, &counts).ok()) p.received = counts["imported"];
      if (instance.state().HasTable("syncd_catalog_sources")) {
        Statement q = instance.state().Prepare("SELECT loaded_at FROM syncd_catalog_sources WHERE source = ?");
        q.Bind(1, peer.name);
        if (q.Step() && !q.IsNull(0)) p.catalog_at = q.Text(0);
      }
    } catch (const SqliteError&) {
    }
    out.push_back(p);
  }
  return out;
}

std::vector<FormerPeerStatus> CollectFormerPeers(const Config& config) {
  std::vector<FormerPeerStatus> out;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(config.exchange_root, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code e2;
    const std::string f = it->path().filename().string();
    if (f.rfind("from-", 0) != 0 || !it->is_directory(e2) || it->is_symlink(e2)) continue;
    FormerPeerStatus p;
    p.name = f.substr(5);
    bool configured = false;
    for (const Peer& peer : config.peers) configured = configured || peer.name == p.name;
    if (configured || config.FindSource(p.name)) continue;
    p.path = it->path().string();
    (void)WalkReceivedFolder(it->path(), [&](const std::string&) {
      ++p.not_imported;
      return true;
    });
    out.push_back(p);
  }
  return out;
}

std::string FormerPeerLine(const FormerPeerStatus& p) {
  return "former peer " + p.name + ": " + std::to_string(p.not_imported) + " file(s) it sent not imported, kept in " +
         p.path;
}

std::string PeerStatusLine(const PeerStatus& p) {
  return "peer " + p.name + ": catalog " + std::to_string(p.in_catalog) + " entries (last arrived " +
         (p.catalog_at.empty() ? std::string("never") : p.catalog_at + " UTC") + "), outbox " +
         std::to_string(p.queued) + " queued (" + std::to_string(p.deferred) + " left to another holder), sent " +
         std::to_string(p.sent) + ", received " + std::to_string(p.received);
}

}  // namespace indafoto
