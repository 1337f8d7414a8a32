#include "lib/catalog/publish_schedule.h"

#include <catch2/catch.hpp>

namespace indafoto {

using namespace std::chrono_literals;
using Clock = PublishSchedule::Clock;

TEST_CASE("PublishSchedule publishes after the debounce when the database goes quiet", "[publish_schedule]") {
  PublishSchedule s(60s, 300s);
  Clock::time_point t0{};
  CHECK_FALSE(s.pending());
  CHECK_FALSE(s.TakeDue(t0 + 1000s));  // nothing changed: nothing due
  s.NoteChange(t0);
  CHECK(s.pending());
  CHECK_FALSE(s.TakeDue(t0 + 59s));
  CHECK(s.TakeDue(t0 + 60s));
  CHECK_FALSE(s.pending());
  CHECK_FALSE(s.TakeDue(t0 + 61s));  // handed over once
}

TEST_CASE("PublishSchedule bounds the delay while changes continue", "[publish_schedule]") {
  PublishSchedule s(60s, 300s);
  Clock::time_point t0{};
  // A change every 5 s (the crawler running): the debounce alone would
  // never fire.
  int published = 0;
  Clock::time_point first_publish{};
  for (auto t = t0; t <= t0 + 1000s; t += 5s) {
    s.NoteChange(t);
    if (s.TakeDue(t)) {
      if (published++ == 0) first_publish = t;
    }
  }
  CHECK(first_publish == t0 + 300s);
  // 0..1000 s: at 300, then the next change (305) starts a new window: 605, 905.
  CHECK(published == 3);
}

TEST_CASE("PublishSchedule deadline is the earlier of debounce and max delay", "[publish_schedule]") {
  PublishSchedule s(60s, 300s);
  Clock::time_point t0{};
  s.NoteChange(t0);
  CHECK(s.Deadline() == t0 + 60s);
  s.NoteChange(t0 + 280s);
  CHECK(s.Deadline() == t0 + 300s);  // bounded by the first change
  CHECK_FALSE(s.TakeDue(t0 + 299s));
  CHECK(s.TakeDue(t0 + 300s));
}

TEST_CASE("PublishSchedule with a max delay below the debounce uses the max delay", "[publish_schedule]") {
  PublishSchedule s(60s, 10s);
  Clock::time_point t0{};
  s.NoteChange(t0);
  CHECK_FALSE(s.TakeDue(t0 + 9s));
  CHECK(s.TakeDue(t0 + 10s));
}

TEST_CASE("PublishSchedule new delays apply to a pending change", "[publish_schedule]") {
  PublishSchedule s(60s, 300s);
  Clock::time_point t0{};
  s.NoteChange(t0);
  for (auto t = t0; t <= t0 + 100s; t += 5s) s.NoteChange(t);
  CHECK_FALSE(s.TakeDue(t0 + 100s));
  s.SetDelays(60s, 90s);  // SIGHUP lowered the bound: the first change is older than it
  CHECK(s.TakeDue(t0 + 100s));
}

}  // namespace indafoto
