// Fuzz target: Syncthing's REST answers — the /rest/events array and a
// folder's /rest/db/status object — as ParseSyncthingEvents and
// ParseSyncthingDbStatus see them.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "lib/syncthing/syncthing_events.h"

using namespace indafoto;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<SyncthingEvent> events;
  Status s = ParseSyncthingEvents(text, &events);
  if (!s.ok() && !events.empty()) __builtin_trap();  // documented: cleared on error
  for (const SyncthingEvent& e : events) {
    // Exercise what the daemon reads off every event.
    (void)e.IsFileReceived();
    // A type name that parses back must be the type the event says.
    if (SyncthingEventTypeFromName(e.type_name) != e.type) __builtin_trap();
  }
  SyncthingDbStatus status;
  (void)ParseSyncthingDbStatus(text, &status);
  return 0;
}
