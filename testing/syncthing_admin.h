// Syncthing calls that only the tests make: ping, the folder list, this
// device's id, a rescan, the connection totals. The product's client
// (lib/syncthing/syncthing_client.h) keeps only what the daemon uses; these
// are built on its public Call/Request, so they exercise the same transport
// (TLS pinning, API key, timeouts).
#pragma once

// Boost 1.74's asio/awaitable.hpp uses std::exchange without <utility>.
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "lib/syncthing/syncthing_client.h"

namespace indafoto {

// GET /rest/system/ping: Ok from Syncthing; Invalid when the address answers
// but has no such endpoint, Corrupt when it answers something else.
boost::asio::awaitable<Status> SyncthingPing(SyncthingClient& client,
                                             SyncthingClient::Timeout timeout = SyncthingClient::kDefaultTimeout);
// GET /rest/config/folders.
boost::asio::awaitable<Status> SyncthingConfigFolders(SyncthingClient& client, std::vector<SyncthingFolder>* out);
// GET /rest/system/status → myID.
boost::asio::awaitable<Status> SyncthingDeviceId(SyncthingClient& client, std::string* out);
// POST /rest/db/scan?folder=...; returns when the scan is done. NotFound
// when there is no such folder (Syncthing 1.19 says so with HTTP 500).
boost::asio::awaitable<Status> SyncthingRescan(SyncthingClient& client, std::string folder);
// GET /rest/system/connections: bytes received and sent over all
// connections since Syncthing started (its "total").
boost::asio::awaitable<Status> SyncthingConnectionTotals(SyncthingClient& client, int64_t* in_bytes,
                                                         int64_t* out_bytes);

}  // namespace indafoto
