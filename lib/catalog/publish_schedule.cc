#include "lib/catalog/publish_schedule.h"

#include <algorithm>

namespace indafoto {

void PublishSchedule::NoteChange(Clock::time_point now) {
  if (!pending_) {
    pending_ = true;
    first_change_ = now;
  }
  last_change_ = now;
}

PublishSchedule::Clock::time_point PublishSchedule::Deadline() const {
  return std::min(last_change_ + debounce_, first_change_ + max_delay_);
}

bool PublishSchedule::TakeDue(Clock::time_point now) {
  if (!pending_ || now < Deadline()) return false;
  pending_ = false;
  return true;
}

}  // namespace indafoto
