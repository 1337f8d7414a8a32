#include "daemon/exchange_setup.h"

#include <rapidjson/document.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <vector>

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

// Compression "always": Syncthing then LZ4-compresses also the blocks of
// files it sends this device (Response messages; its default, "metadata",
// compresses index messages only), and sends a block as it is when LZ4 does
// not save at least 1/32 of it (lib/protocol). The catalogs (JSON, ~1 KB per
// image) shrink several times over; images (JPEG) go as they are. The
// setting is per device, for what this side sends to it.
std::string DeviceJson(const Peer& peer) {
  // Names and ids are [A-Za-z0-9._-] (config.cc checks): no escaping needed.
  return "{\"deviceID\":\"" + peer.device_id + "\",\"name\":\"" + peer.name +
         "\",\"addresses\":[\"dynamic\"],\"compression\":\"always\",\"autoAcceptFolders\":false}";
}

// A device Syncthing already knew is the operator's: its settings stay. Its
// compression is only reported when it is not "always" (logged once per
// connect to Syncthing).
net::awaitable<void> HintCompression(SyncthingClient& client, const Peer& peer) {
  std::string body;
  Status s = co_await client.Call(boost::beast::http::verb::get, "/rest/config/devices/" + UrlEncode(peer.device_id),
                                  "", SyncthingClient::kDefaultTimeout, &body);
  if (!s.ok()) co_return;
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("compression") || !d["compression"].IsString()) co_return;
  std::string compression = d["compression"].GetString();
  if (compression != "always")
    spdlog::info("exchange {}: its device was already in Syncthing, with compression \"{}\"; left as it is. "
                 "\"always\" sends the catalogs compressed (images that do not compress go as they are): "
                 "Syncthing GUI, the device's Advanced tab, Compression: All Data",
                 peer.name, compression);
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

// The name of the former peer whose exchange folder `folder` is (to-<name>
// or from-<name> directly under exchange_root, with an exchange folder id),
// or "" when it is not one or the peer is still configured.
std::string FormerPeerOf(const SyncthingFolder& folder, const Config& config) {
  if (folder.id.rfind("indafoto-x-", 0) != 0) return "";
  std::filesystem::path p = std::filesystem::path(folder.path).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  std::filesystem::path root = config.exchange_root.lexically_normal();
  if (root.filename().empty()) root = root.parent_path();
  if (p.parent_path() != root) return "";
  const std::string leaf = p.filename().string();
  std::string name = leaf.rfind("to-", 0) == 0 ? leaf.substr(3) : leaf.rfind("from-", 0) == 0 ? leaf.substr(5) : "";
  for (const Peer& peer : config.peers)
    if (peer.name == name) return "";
  return name;
}

// A peer removed from the configuration: its two folders leave Syncthing's
// configuration (Syncthing keeps the files on disk; the worker empties and
// removes the directories: Exchange::RetireRemovedPeers). Its device stays:
// it may share other folders; the operator removes it if not.
net::awaitable<void> RemoveFormerPeerFolders(SyncthingClient& client, const Config& config) {
  std::error_code ec;
  if (!std::filesystem::is_directory(config.exchange_root, ec)) co_return;  // never exchanged
  std::string body;
  Status s = co_await client.Call(boost::beast::http::verb::get, "/rest/config/folders", "",
                                  SyncthingClient::kDefaultTimeout, &body);
  std::vector<SyncthingFolder> folders;
  if (s.ok()) s = ParseSyncthingFolders(body, &folders);
  if (!s.ok()) {
    spdlog::warn("exchange: cannot list Syncthing's folders to remove those of former peers: {}", s.ToString());
    co_return;
  }
  for (const SyncthingFolder& f : folders) {
    const std::string name = FormerPeerOf(f, config);
    if (name.empty()) continue;
    Status d = co_await client.Call(boost::beast::http::verb::delete_, "/rest/config/folders/" + UrlEncode(f.id), "",
                                    SyncthingClient::kDefaultTimeout, nullptr);
    if (d.ok())
      spdlog::info("exchange {}: no longer a peer: removed Syncthing folder '{}' ({}) from Syncthing's configuration; "
                   "its device stays in Syncthing",
                   name, f.id, f.path);
    else
      spdlog::warn("exchange {}: no longer a peer, but its Syncthing folder '{}' could not be removed: {}", name, f.id,
                   d.ToString());
  }
}

}  // namespace

net::awaitable<void> SetUpExchangeFolders(SyncthingClient& client, const std::string& my_device, const Config& config) {
  co_await RemoveFormerPeerFolders(client, config);
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
    } else {
      co_await HintCompression(client, peer);
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
