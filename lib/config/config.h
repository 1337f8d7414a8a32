// The configuration file (JSON). Accepts the documented form of the original
// Python tool (flat syncthing_* keys) and the nested `syncthing: {...}` form.
// Unknown keys and wrong types are errors that name the key; relative paths
// are resolved against the configuration file's directory. Every key, its
// default and an example are in docs/configuration.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "lib/util/status.h"

namespace indafoto {

struct RemoteSource {
  std::string name;                     // provenance name (sync_records.remote_source)
  std::string folder_id;                // the Syncthing folder that receives it
  std::filesystem::path received_folder;  // where that folder is on disk (JSON key: local_path)
  std::filesystem::path remote_db_path; // optional copy of the remote's indafoto.db
  std::string device_id;                // optional: the publisher's Syncthing device,
                                        // shared with when we create the folder
  // A peer's incoming exchange folder (docs/architecture.md, "The
  // exchange"), made from `peers`, not from `remote_sources`. Its folder_id
  // is empty until the daemon knows its own device id (the id is derived
  // from both devices); the daemon creates the folder itself.
  bool exchange = false;
};

// A peer of the exchange: another instance of indafoto-syncd. Each side
// sends the other what it lacks (lib/exchange/).
struct Peer {
  std::string name;       // also the source name of what it sends us
  std::string device_id;  // its Syncthing device ID, upper case
};

struct SyncthingSettings {
  std::string api_key;      // never logged
  std::string api_key_env;  // name of an environment variable holding the key
  std::string host;         // empty: from Syncthing's config.xml, else "localhost"
  int port = 0;             // 0: from config.xml, else 8384
  bool https = false;
  std::filesystem::path home;  // Syncthing's home (config.xml, https-cert.pem)
  bool create_folders = false; // create missing receive-only folders via /rest/config
};

struct PublishSettings {
  bool enabled = false;
  std::string folder_id;       // the Syncthing folder that shares image_root
  int debounce_seconds = 60;
  // Republish at most this long after the first unpublished change, even
  // while changes continue (PublishSchedule).
  int max_delay_seconds = 300;
};

struct Config {
  std::filesystem::path config_path;
  std::filesystem::path database_path;
  std::filesystem::path image_root;  // default: <database dir>/indafoto_archive
  std::filesystem::path state_path;  // default: <database dir>/indafoto-syncd-state.db
  std::filesystem::path key_path;    // default: <state dir>/indafoto-syncd.key
  SyncthingSettings syncthing;
  std::vector<RemoteSource> sources;  // remote_sources, then one per peer (exchange = true)
  std::vector<Peer> peers;
  // Where the exchange folders live (default <image_root's dir>/.indafoto-exchange);
  // same filesystem as image_root (outboxes are hardlinks).
  std::filesystem::path exchange_root;
  // An image missing from a peer's catalog this long is sent to it even by
  // a holder that does not rank first for it (docs/architecture.md).
  int peer_fallback_minutes = 30;
  PublishSettings publish;
  int reconcile_interval_seconds = 600;
  // The daemon verifies every local image's file this often (0: never),
  // healing what it can from the received folders; `status` reports what
  // it could not heal.
  int verify_interval_hours = 168;
  int hash_threads = 0;  // 0: one per core (HashThreads())
  std::string log_level = "info";

  // Threads to hash with: hash_threads, or one per core.
  int HashThreads() const;
  const RemoteSource* FindSource(const std::string& name) const;
  // The API key after applying api_key_env; empty when none is configured.
  std::string ResolvedApiKey() const;
};

// The exchange folders of peer `peer` (under exchange_root): what it sends
// us (received, imported like a remote source) and what we send it (our
// manifest and its outbox of hardlinks).
std::filesystem::path ExchangeIncomingPath(const Config& c, const std::string& peer);
std::filesystem::path ExchangeOutgoingPath(const Config& c, const std::string& peer);

// Parses the file at `path`. On error, `out` is unspecified and the Status
// names the file and the offending key.
Status LoadConfig(const std::filesystem::path& path, Config* out);
// Parses `json` as if it were the file `path` (used by tests).
Status ParseConfig(const std::string& json, const std::filesystem::path& path, Config* out);

}  // namespace indafoto
