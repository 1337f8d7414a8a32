// Syncthing set-up for the exchange (docs/architecture.md, "The exchange"):
// for every configured peer, the device and the two folders, through the
// REST API, at each (re)connect to Syncthing (so also after SIGHUP).
//
// Order matters: the device is added BEFORE any folder shared with it. A
// folder created while Syncthing does not know a device drops that device
// from the folder's list.
#pragma once

// Boost 1.74's asio/awaitable.hpp uses std::exchange without <utility>.
#include <utility>

#include <boost/asio/awaitable.hpp>
#include <string>

#include "lib/config/config.h"
#include "lib/syncthing/syncthing_client.h"

namespace indafoto {

// Fills in the folder ids of the exchange sources of `config` (derived
// from `my_device` and each peer's device; see lib/exchange/exchange_ids.h).
// Needs no Syncthing: call it before events are mapped to sources.
void AssignExchangeFolderIds(const std::string& my_device, Config* config);

// Adds each peer's device when Syncthing does not know it (addresses
// "dynamic": Syncthing's discovery finds it), then creates what is missing
// of its folders: to-<peer> (send-only) and from-<peer> (receive-only),
// each shared with that peer alone, and adds the peer to an existing
// folder that lacks it. Problems are logged; the daemon keeps running.
// First, the folders of peers no longer configured (to-<name>/from-<name>
// under exchange_root, exchange folder ids) are removed from Syncthing's
// configuration (their files stay on disk: the worker retires them,
// Exchange::RetireRemovedPeers).
boost::asio::awaitable<void> SetUpExchangeFolders(SyncthingClient& client, const std::string& my_device,
                                                  const Config& config);

}  // namespace indafoto
