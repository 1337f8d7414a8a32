#include "daemon/exchange_status.h"

#include <map>

#include "lib/archive/archive_db.h"
#include "lib/exchange/outbox.h"

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

std::string PeerStatusLine(const PeerStatus& p) {
  return "peer " + p.name + ": catalog " + std::to_string(p.in_catalog) + " entries (last arrived " +
         (p.catalog_at.empty() ? std::string("never") : p.catalog_at + " UTC") + "), outbox " +
         std::to_string(p.queued) + " queued (" + std::to_string(p.deferred) + " left to another holder), sent " +
         std::to_string(p.sent) + ", received " + std::to_string(p.received);
}

}  // namespace indafoto
