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

// The subset of a folder's status we act on (/rest/db/status?folder=...).
// Counts are -1 when Syncthing did not send them.
struct SyncthingDbStatus {
  std::string state;          // idle, scanning, syncing, sync-preparing, error, ...
  std::string state_changed;  // RFC 3339, as sent
  std::string invalid;        // non-empty: why the folder cannot run
  int64_t errors = -1;
  int64_t pull_errors = -1;
  int64_t global_files = -1;
  int64_t global_bytes = -1;
  int64_t global_deleted = -1;
  int64_t global_total_items = -1;
  int64_t local_files = -1;
  int64_t local_bytes = -1;
  int64_t local_deleted = -1;
  int64_t local_total_items = -1;
  int64_t need_files = -1;
  int64_t need_bytes = -1;
  int64_t need_deletes = -1;
  int64_t need_total_items = -1;
  int64_t in_sync_files = -1;
  int64_t in_sync_bytes = -1;
  int64_t receive_only_changed_files = -1;
  int64_t receive_only_total_items = -1;
  int64_t sequence = -1;
  int64_t version = -1;
};

enum class SyncthingEventType {
  kUnknown,  // any type not listed here; `type_name` says which
  kItemStarted,
  kItemFinished,
  kStateChanged,
  kFolderSummary,
  kFolderCompletion,
  kFolderErrors,
  kLocalIndexUpdated,
  kRemoteIndexUpdated,
  kStarting,
  kStartupComplete,
  kDeviceConnected,
  kDeviceDisconnected,
  kConfigSaved,
};

// One event. Fields that the event's type does not carry stay empty / -1.
struct SyncthingEvent {
  // `id` counts within one subscription (one set of requested types) and is
  // what `since` refers to; `global_id` counts all events of the process.
  // Both restart at 1 when Syncthing restarts.
  int64_t id = 0;
  int64_t global_id = 0;
  SyncthingEventType type = SyncthingEventType::kUnknown;
  std::string type_name;  // as sent, e.g. "ItemFinished"
  std::string time;       // RFC 3339, as sent

  // Set for every event whose data names a folder (by id).
  std::string folder;

  // ItemStarted / ItemFinished.
  std::string item;                  // path relative to the folder, '/'-separated
  std::string item_type;             // file, dir, symlink, ...
  std::string action;                // update, delete, metadata
  std::optional<std::string> error;  // ItemFinished: nullopt when it succeeded

  // StateChanged.
  std::string from;
  std::string to;
  std::string state_error;  // set when the folder went to "error"

  // LocalIndexUpdated / RemoteIndexUpdated / FolderCompletion.
  std::string device;  // RemoteIndexUpdated, FolderCompletion, Device*
  int64_t items = -1;
  int64_t sequence = -1;
  int64_t version = -1;
  std::vector<std::string> filenames;  // LocalIndexUpdated
  double completion = -1;              // FolderCompletion, percent

  // FolderSummary.
  SyncthingDbStatus summary;

  // FolderErrors: (path, error) pairs.
  std::vector<std::pair<std::string, std::string>> folder_errors;

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
