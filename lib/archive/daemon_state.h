// The daemon's heartbeat and small persistent state, kept in the state
// database so that `status` (another process) can tell whether a daemon is
// alive and what it is doing, without talking to it.
#pragma once

#include <cstdint>
#include <string>

#include "lib/util/sqlite.h"
#include "lib/util/status.h"

namespace indafoto {

struct DaemonHeartbeat {
  int64_t pid = 0;
  std::string state;      // "starting", "running", "waiting for syncthing", "stopped"
  std::string message;    // what it is doing or what is wrong
  std::string updated_at; // UTC, "YYYY-MM-DD HH:MM:SS"
  int64_t age_seconds = 0;
  // Seconds without a heartbeat after which a daemon that did not say it
  // stopped counts as stalled (it beats every 30 s).
  static constexpr int64_t kStaleAfterSeconds = 180;
  bool IsStale() const { return state != "stopped" && age_seconds > kStaleAfterSeconds; }
};

// Creates the table if needed and records the heartbeat.
Status WriteHeartbeat(Database& state_db, const std::string& state, const std::string& message);
// False when no daemon ever wrote one.
bool ReadHeartbeat(Database& state_db, DaemonHeartbeat* out);

}  // namespace indafoto
