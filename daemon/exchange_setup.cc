#include "daemon/exchange_setup.h"

#include <spdlog/spdlog.h>

#include <filesystem>

#include "lib/exchange/exchange_ids.h"

// See daemon.cc: a GCC 12 false positive at the end of Asio coroutines.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace indafoto {

namespace net = boost::asio;

void AssignExchangeFolderIds(const std::string& my_device, Config* config) {
  for (RemoteSource& src : config->sources) {
    if (src.exchange) src.folder_id = ExchangeFolderId(src.device_id, my_device);
  }
}

namespace {

std::string DeviceJson(const Peer& peer) {
  // Names and ids are [A-Za-z0-9._-] (config.cc checks): no escaping needed.
  return "{\"deviceID\":\"" + peer.device_id + "\",\"name\":\"" + peer.name +
         "\",\"addresses\":[\"dynamic\"],\"autoAcceptFolders\":false}";
}

net::awaitable<void> EnsureFolder(SyncthingClient& client, const Peer& peer, const std::string& my_device,
                                  SyncthingFolder want) {
  SyncthingFolder have;
  Status s = co_await client.GetFolder(want.id, &have);
  if (s.IsNotFound()) {
    std::error_code ec;
    std::filesystem::create_directories(want.path, ec);
    want.device_ids = {my_device, peer.device_id};
    Status c = co_await client.PutFolder(want);
    if (c.ok())
      spdlog::info("exchange {}: created {} Syncthing folder '{}' at {}", peer.name, want.type, want.id, want.path);
    else
      spdlog::error("exchange {}: could not create Syncthing folder '{}': {}", peer.name, want.id, c.ToString());
    co_return;
  }
  if (!s.ok()) {
    spdlog::warn("exchange {}: cannot read Syncthing folder '{}': {}", peer.name, want.id, s.ToString());
    co_return;
  }
  if (std::filesystem::path(have.path).lexically_normal() != std::filesystem::path(want.path).lexically_normal())
    spdlog::warn("exchange {}: Syncthing folder '{}' is at {}, expected {}; fix its path in Syncthing or remove it "
                 "(indafoto-syncd then creates it again)",
                 peer.name, want.id, have.path, want.path);
  bool shared = false;
  for (const auto& d : have.device_ids) shared = shared || d == peer.device_id;
  if (shared) co_return;
  std::string devices = "{\"devices\":[";
  bool first = true;
  have.device_ids.push_back(peer.device_id);
  for (const auto& d : have.device_ids) {
    devices += std::string(first ? "" : ",") + "{\"deviceID\":\"" + d + "\"}";
    first = false;
  }
  devices += "]}";
  Status p = co_await client.PatchFolder(want.id, devices);
  if (p.ok()) spdlog::info("exchange {}: shared Syncthing folder '{}' with its device", peer.name, want.id);
  else spdlog::error("exchange {}: could not share folder '{}' with its device: {}", peer.name, want.id, p.ToString());
}

}  // namespace

net::awaitable<void> SetUpExchangeFolders(SyncthingClient& client, const std::string& my_device, const Config& config) {
  for (const Peer& peer : config.peers) {
    if (peer.device_id == my_device) {
      spdlog::error("exchange {}: its device_id {} is this Syncthing's own; fix peers in {}", peer.name,
                    peer.device_id, config.config_path.string());
      continue;
    }
    // The device first: a folder shared with an unknown device loses it.
    Status s = co_await client.GetDevice(peer.device_id);
    if (s.IsNotFound()) {
      Status a = co_await client.PutDevice(peer.device_id, DeviceJson(peer));
      if (!a.ok()) {
        spdlog::error("exchange {}: could not add its device {} to Syncthing: {}", peer.name, peer.device_id,
                      a.ToString());
        continue;
      }
      spdlog::info("exchange {}: added its device {} to Syncthing", peer.name, peer.device_id);
    } else if (!s.ok()) {
      spdlog::warn("exchange {}: cannot read device {} from Syncthing: {}", peer.name, peer.device_id, s.ToString());
      continue;
    }
    SyncthingFolder out;
    out.id = ExchangeFolderId(my_device, peer.device_id);
    out.label = "indafoto exchange to " + peer.name;
    out.path = ExchangeOutgoingPath(config, peer.name).string();
    out.type = "sendonly";
    // Outbox links appear in batches: announce them soon.
    out.fs_watcher_delay_s = 2;
    co_await EnsureFolder(client, peer, my_device, out);
    SyncthingFolder in;
    in.id = ExchangeFolderId(peer.device_id, my_device);
    in.label = "indafoto exchange from " + peer.name;
    in.path = ExchangeIncomingPath(config, peer.name).string();
    in.type = "receiveonly";
    // The manifest (written after the images it lists) before the images.
    in.order = "newestFirst";
    co_await EnsureFolder(client, peer, my_device, in);
  }
}

}  // namespace indafoto
