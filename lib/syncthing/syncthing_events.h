// What Syncthing's REST API returns, as plain structs: the /rest/events
// array, a folder's database status (/rest/db/status and the FolderSummary
// event carry the same object). Parsing never throws and never trusts the
// input: a wrong shape is Status::Corrupt, an unknown event type is kept
// with its name so callers can skip it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lib/util/status.h"

namespace indafoto {

// The subset of a folder's status (/rest/db/status?folder=...) that is
// read: the daemon's progress line (need_files) and the tests' "in sync"
// wait. Counts are -1 when Syncthing did not send them.
struct SyncthingDbStatus {
  std::string state;  // idle, scanning, syncing, sync-preparing, error, ...
  int64_t global_files = -1;
  int64_t local_files = -1;
  int64_t need_files = -1;
  int64_t need_total_items = -1;
};

// The daemon subscribes to ItemFinished alone; any other type is kept with
// its name (`type_name`) and nothing else.
enum class SyncthingEventType {
  kUnknown,
  kItemFinished,
};

// One event.
struct SyncthingEvent {
  // `id` counts within one subscription (one set of requested types) and is
  // what `since` refers to; `global_id` counts all events of the process.
  // Both restart at 1 when Syncthing restarts.
  int64_t id = 0;
  int64_t global_id = 0;
  SyncthingEventType type = SyncthingEventType::kUnknown;
  std::string type_name;  // as sent, e.g. "ItemFinished"
  std::string time;       // RFC 3339, as sent
  std::string folder;     // the folder id, for every event whose data names one

  // ItemFinished.
  std::string item;                  // path relative to the folder, '/'-separated
  std::string item_type;             // file, dir, symlink, ...
  std::string action;                // update, delete, metadata
  std::optional<std::string> error;  // nullopt when it succeeded

  bool IsItemFinished() const { return type == SyncthingEventType::kItemFinished; }
  // A file that arrived: ItemFinished, a regular file, an update, no error.
  bool IsFileReceived() const {
    return IsItemFinished() && item_type == "file" && action == "update" && !error.has_value();
  }
};

// The type Syncthing names `name` ("ItemFinished"); kUnknown for others.
SyncthingEventType SyncthingEventTypeFromName(std::string_view name);

// Parses the body of GET /rest/events (a JSON array). On error `out` is
// cleared and the Status is Corrupt, naming what was wrong.
Status ParseSyncthingEvents(std::string_view json, std::vector<SyncthingEvent>* out);

// Parses the body of GET /rest/db/status (a JSON object).
Status ParseSyncthingDbStatus(std::string_view json, SyncthingDbStatus* out);

}  // namespace indafoto
