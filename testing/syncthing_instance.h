// SyncthingInstance: a real Syncthing (the `syncthing` binary on PATH, or
// $INDAFOTO_SYNCTHING) running on loopback for end-to-end tests. Discovery,
// relays, NAT, usage reporting, crash reporting and upgrades are off; GUI/API
// and the sync protocol listen on free 127.0.0.1 ports; the API key is known.
//
//   SyncthingInstance a;
//   REQUIRE(a.Create(dir / "a").ok());   // generate home, start, wait for ping
//   a.AddDevice(b.DeviceId(), b.SyncAddress());
//   a.AddFolder("photos", dir / "photos", "sendonly", {b.DeviceId()});
//
// All calls block; REST calls go through the lib's SyncthingClient on a
// private io_context. The destructor kills the process.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "lib/util/status.h"
#include "lib/syncthing/syncthing_client.h"
#include "lib/syncthing/syncthing_events.h"

namespace indafoto {

class SyncthingInstance {
 public:
  struct Options {
    std::string name = "indafoto-test";  // the device name
    bool gui_tls = false;                // <gui tls="true">: the API over https
    std::chrono::seconds start_timeout{60};
  };

  SyncthingInstance() = default;
  ~SyncthingInstance();
  SyncthingInstance(const SyncthingInstance&) = delete;
  SyncthingInstance& operator=(const SyncthingInstance&) = delete;

  // Generates a home in `home` (created if missing), configures it for
  // loopback-only testing, and starts Syncthing.
  Status Create(const std::filesystem::path& home, const Options& options);
  Status Create(const std::filesystem::path& home) { return Create(home, Options()); }

  // Starts Syncthing on the existing home (after Stop/Kill) and waits until
  // /rest/system/ping answers.
  Status Start();
  // SIGTERM and wait for the exit (SIGKILL after `grace`).
  Status Stop(std::chrono::seconds grace = std::chrono::seconds(30));
  // SIGKILL and wait.
  void Kill();
  bool Running() const { return pid_ > 0; }

  const std::string& DeviceId() const { return device_id_; }
  const std::string& ApiKey() const { return api_key_; }
  uint16_t GuiPort() const { return gui_port_; }
  uint16_t SyncPort() const { return sync_port_; }
  const std::filesystem::path& Home() const { return home_; }
  std::filesystem::path LogPath() const { return home_ / "syncthing.log"; }
  // "tcp://127.0.0.1:<sync port>", for the peer's AddDevice.
  std::string SyncAddress() const;
  // How to reach the API: host, port, key, and for TLS the pinned cert.
  SyncthingEndpoint Endpoint() const;

  // Adds (or replaces) a remote device with a fixed address.
  Status AddDevice(const std::string& device_id, const std::string& address);
  // Adds a folder shared with `peers` (this device is always a member), with
  // a short rescan interval and the filesystem watcher on.
  Status AddFolder(const std::string& id, const std::filesystem::path& path, const std::string& type,
                   const std::vector<std::string>& peers);
  Status GetDbStatus(const std::string& folder, SyncthingDbStatus* out);
  Status Rescan(const std::string& folder);
  // Polls /rest/db/status until the folder needs nothing, local and global
  // file counts agree, and the state is idle. With `expected_files` >= 0 the
  // global file count must also have reached it (an empty folder that has
  // not heard from its peer yet is "in sync" with nothing).
  Status WaitUntilInSync(const std::string& folder, std::chrono::milliseconds timeout,
                         int64_t expected_files = -1);
  Status GetEvents(int64_t since, int timeout_seconds, const std::vector<std::string>& types,
                   std::vector<SyncthingEvent>* out);

  // The last `bytes` of Syncthing's log, for failure messages.
  std::string LogTail(size_t bytes = 4000) const;

 private:
  Status Configure(const Options& options);
  Status Spawn();
  Status WaitForPing(std::chrono::seconds timeout);
  // Reaps the child if it has exited; true when it is gone.
  bool Reap(bool block);

  std::filesystem::path home_;
  Options options_;
  std::string device_id_;
  std::string api_key_;
  uint16_t gui_port_ = 0;
  uint16_t sync_port_ = 0;
  pid_t pid_ = -1;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
uint16_t FreeLoopbackPort();

}  // namespace indafoto
