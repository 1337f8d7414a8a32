// Health: what the daemon says about itself — its state ("starting",
// "running", "waiting for syncthing", ...), the decisions of this session
// per source, the STATUS= line systemd shows, the periodic progress line,
// and the heartbeat row `indafoto-syncd status` reads.
//
// Thread-safe: the worker records outcomes while the io thread reports.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "lib/archive/sync_status.h"
#include "lib/import/importer.h"
#include "lib/util/sqlite.h"

namespace indafoto {

class Health {
 public:
  // Per source, this session.
  struct SourceProgress {
    std::map<SyncStatus, int64_t> by_status;
    int64_t decisions = 0;      // decisions written
    int64_t last_reported = 0;  // `decisions` at the last progress line
    int64_t errors = 0;         // transient failures (retried)
  };

  // `heartbeat` is the state database's connection the heartbeat goes to
  // (may be closed: then nothing is written); it must outlive Health.
  explicit Health(Database* heartbeat) : heartbeat_(heartbeat) {}

  // Worker thread: one import outcome of `source`.
  void Record(const std::string& source, const ImportOutcome& outcome);

  // io thread. A change of state is shown at once (heartbeat and STATUS=).
  void SetState(const std::string& state, const std::string& message);
  std::string state() const;
  // "STATE: N decisions this session, M failed[; message]".
  std::string StatusLine() const;
  // Sends STATUS= (a no-op outside systemd).
  void NotifyStatus() const;
  void WriteHeartbeat() const;
  // The progress line of `source` over the last `interval` (then marks it
  // reported), or nullopt for a quiet source. `still_to_deliver` is
  // Syncthing's count of files it has yet to deliver, -1 when unknown.
  std::optional<std::string> TakeProgressLine(const std::string& source, std::chrono::seconds interval,
                                              int64_t still_to_deliver);

 private:
  Database* heartbeat_;
  mutable std::mutex mu_;
  std::string state_ = "starting";
  std::string message_;
  std::map<std::string, SourceProgress> progress_;
};

}  // namespace indafoto
