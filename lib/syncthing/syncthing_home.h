// Syncthing's own configuration (config.xml in its home directory): where
// its GUI/API listens, whether with TLS, its API key, and the certificate to
// pin for https. Lets the daemon talk to a local Syncthing when its own
// configuration names neither address nor key.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "lib/util/status.h"
#include "lib/syncthing/syncthing_client.h"

namespace indafoto {

struct SyncthingHomeInfo {
  std::filesystem::path config_path;      // the config.xml that was read
  std::filesystem::path https_cert_path;  // https-cert.pem beside it (may not exist yet)
  bool gui_enabled = true;
  bool tls = false;         // <gui tls="true">
  std::string gui_address;  // <gui><address> as written
  std::string host;         // where to connect (wildcards → loopback)
  uint16_t port = 0;
  std::string api_key;  // secret: never logged; may be empty
};

// Reads `config_xml` (a config.xml file). Invalid when it is not a Syncthing
// configuration we understand (no <gui>, an address that is not host:port),
// Corrupt when it is not XML, NotFound when it does not exist.
Status ReadSyncthingConfig(const std::filesystem::path& config_xml, SyncthingHomeInfo* out);

// Reads <home>/config.xml.
Status ReadSyncthingHome(const std::filesystem::path& home, SyncthingHomeInfo* out);

// Where Syncthing keeps its home, in the order to search: $STCONFDIR and
// $STHOMEDIR when set; $XDG_CONFIG_HOME/syncthing and ~/.config/syncthing
// (Syncthing < 1.27, Debian 12's 1.19, and any home made by one: Syncthing
// keeps using it while it holds a config.xml); $XDG_STATE_HOME/syncthing and
// ~/.local/state/syncthing (new homes of Syncthing >= 1.27 and 2.x, Debian
// 13's 1.29); /var/syncthing/config (the official Docker image). Candidates
// whose variables are unset or relative are left out.
std::vector<std::filesystem::path> DefaultSyncthingHomes();

// The first default home that holds a readable config.xml. NotFound names
// every place searched.
Status FindSyncthingHome(SyncthingHomeInfo* out);

// The endpoint for `info`; for TLS it reads https-cert.pem to pin. Invalid
// when the GUI is disabled; NotFound when TLS is on but the certificate file
// is missing and the host is not loopback (loopback goes unpinned).
Status SyncthingEndpointFromHome(const SyncthingHomeInfo& info, SyncthingEndpoint* out);

}  // namespace indafoto
