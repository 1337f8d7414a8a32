// The daemon: Syncthing's events become imports.
//
// Threads: one asio event loop (the io thread) holds the long-poll on
// Syncthing's /rest/events, the timers (heartbeat, watchdog, progress,
// periodic reconcile, publish debounce) and the signals. Everything that
// touches the archive runs on one worker thread, one job at a time, so the
// long-poll never waits behind an import and the database sees one writer
// from us. Hashing inside a job uses `hash_threads` more threads.
//
// Jobs (queued on the io thread in a JobQueue, daemon/job_queue.h; run on
// the worker, the imports through SyncSource, lib/import/sync_source.h):
//   reload   a source's catalog (a manifest file arrived), then retry its
//            pending and failed files (SyncScope::kProvisional)
//   import   the files of a batch of ItemFinished events (kPaths)
//   reconcile  a scan of the received folders for files not yet accounted
//            for: at start, on (re)connect, on an event-id gap or restart,
//            after SIGHUP and every reconcile_interval_seconds (kAll)
//   publish  this instance's manifest, debounced after the database changed
//   verify   one batch of the periodic verify, when nothing else waits
#pragma once

#include "lib/config/config.h"

namespace indafoto {

// Runs until SIGTERM/SIGINT; returns the process exit code.
int RunDaemonProcess(const Config& config);

}  // namespace indafoto
