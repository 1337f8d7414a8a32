#include "daemon/health.h"

#include <spdlog/fmt/fmt.h>
#include <systemd/sd-daemon.h>

#include "lib/archive/daemon_state.h"

namespace indafoto {

void Health::Record(const std::string& source, const ImportOutcome& outcome) {
  std::lock_guard<std::mutex> l(mu_);
  SourceProgress& p = progress_[source];
  if (!outcome.error.ok()) {
    ++p.errors;
  } else if (!outcome.unchanged && outcome.status) {
    ++p.by_status[*outcome.status];
    ++p.decisions;
  }
}

void Health::SetState(const std::string& state, const std::string& message) {
  bool changed;
  {
    std::lock_guard<std::mutex> l(mu_);
    changed = state != state_;
    state_ = state;
    message_ = message;
  }
  // `status` and `systemctl status` show a state change at once, not at
  // the next heartbeat.
  if (!changed) return;
  WriteHeartbeat();
  NotifyStatus();
}

std::string Health::state() const {
  std::lock_guard<std::mutex> l(mu_);
  return state_;
}

std::string Health::StatusLine() const {
  std::lock_guard<std::mutex> l(mu_);
  int64_t decisions = 0, failed = 0;
  for (const auto& [name, p] : progress_) {
    decisions += p.decisions;
    auto it = p.by_status.find(SyncStatus::kFailed);
    if (it != p.by_status.end()) failed += it->second;
  }
  return state_ + ": " + std::to_string(decisions) + " decisions this session, " + std::to_string(failed) +
         " failed" + (message_.empty() ? "" : "; " + message_);
}

void Health::NotifyStatus() const { sd_notify(0, ("STATUS=" + StatusLine()).c_str()); }

void Health::WriteHeartbeat() const {
  if (!heartbeat_ || !heartbeat_->is_open()) return;
  std::string state, message;
  {
    std::lock_guard<std::mutex> l(mu_);
    state = state_;
    message = message_;
  }
  indafoto::WriteHeartbeat(*heartbeat_, state, message);
}

std::optional<std::string> Health::TakeProgressLine(const std::string& source, std::chrono::seconds interval,
                                                    int64_t still_to_deliver) {
  SourceProgress p;
  {
    std::lock_guard<std::mutex> l(mu_);
    SourceProgress& live = progress_[source];
    p = live;
    live.last_reported = live.decisions;
  }
  int64_t delta = p.decisions - p.last_reported;
  if (delta == 0 && still_to_deliver <= 0) return std::nullopt;  // quiet source: nothing to say
  double rate = interval.count() > 0 ? static_cast<double>(delta) / static_cast<double>(interval.count()) : 0;
  std::string eta = still_to_deliver > 0 && rate > 0
                        ? std::to_string(static_cast<int64_t>(static_cast<double>(still_to_deliver) / rate)) + "s"
                        : "unknown";
  std::string counts;
  for (SyncStatus s : kAllSyncStatuses) {
    auto it = p.by_status.find(s);
    counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", SyncStatusName(s),
                          it == p.by_status.end() ? 0 : it->second);
  }
  return fmt::format("source {}: {} decisions this session ({}), {:.1f} files/s; Syncthing still to deliver: {}; ETA {}",
                     source, p.decisions, counts, rate,
                     still_to_deliver < 0 ? std::string("unknown") : std::to_string(still_to_deliver), eta);
}

}  // namespace indafoto
