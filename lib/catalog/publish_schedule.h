// When to republish the manifest after the archive database changed.
//
// Why: a republish right after every commit would rewrite the index for
// each imported image; waiting for quiet alone (the debounce) never
// republishes while the crawler runs or a long import goes on, so peers
// would never learn what this archive holds. The schedule therefore
// publishes after `debounce` without a change, but at the latest
// `max_delay` after the first change not yet published, even while
// changes continue.
//
// A pure class: times are passed in (a steady clock's time points), so it
// is tested without sleeping. Not thread-safe: the caller (the daemon's
// housekeeping, on the io thread) owns it.
#pragma once

#include <chrono>

namespace indafoto {

class PublishSchedule {
 public:
  using Clock = std::chrono::steady_clock;

  // `debounce`: quiet wanted before publishing. `max_delay`: the longest
  // a change waits, however busy the database. The earlier of the two
  // deadlines wins (a max_delay below the debounce makes it the delay).
  PublishSchedule(std::chrono::seconds debounce, std::chrono::seconds max_delay)
      : debounce_(debounce), max_delay_(max_delay) {}

  // New settings (SIGHUP); a pending change keeps its first-change time.
  void SetDelays(std::chrono::seconds debounce, std::chrono::seconds max_delay) {
    debounce_ = debounce;
    max_delay_ = max_delay;
  }

  // The database changed at `now` (seen, e.g., through PRAGMA data_version).
  void NoteChange(Clock::time_point now);

  // Whether a publish is due at `now`. When it returns true the change is
  // considered handed over: the schedule is idle until the next NoteChange
  // (a change during the publish is noted by the caller after it and
  // leads to another publish).
  bool TakeDue(Clock::time_point now);

  // Whether a change waits to be published.
  bool pending() const { return pending_; }
  // When the pending change will be published if nothing else changes
  // (the earlier of last change + debounce and first change + max_delay).
  // Meaningless when !pending().
  Clock::time_point Deadline() const;

 private:
  std::chrono::seconds debounce_;
  std::chrono::seconds max_delay_;
  bool pending_ = false;
  Clock::time_point first_change_{};
  Clock::time_point last_change_{};
};

}  // namespace indafoto
