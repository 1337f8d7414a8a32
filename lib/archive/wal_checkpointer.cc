#include "lib/archive/wal_checkpointer.h"

#include <spdlog/spdlog.h>

namespace indafoto {

Status WalCheckpointer::Attach(Database& writer, const std::string& db_path, std::unique_ptr<WalCheckpointer>* out) {
  std::unique_ptr<WalCheckpointer> c(new WalCheckpointer());
  // No busy timeout: a PASSIVE checkpoint never waits for a lock anyway.
  if (Status s = Database::Open(db_path, Database::Mode::kReadWrite, 0, &c->own_); !s.ok()) return s;
  c->writer_ = writer.raw();
  c->thread_ = std::thread([p = c.get()] { p->Run(); });
  // Replaces SQLite's automatic checkpoint (which is itself a WAL hook).
  sqlite3_wal_hook(c->writer_, &WalCheckpointer::OnCommit, c.get());
  *out = std::move(c);
  return Status::Ok();
}

WalCheckpointer::~WalCheckpointer() {
  // The writer may commit again after this: back to SQLite's own hook.
  sqlite3_wal_autocheckpoint(writer_, kWriterFrames);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

int64_t WalCheckpointer::completed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return completed_;
}

// Runs on the writer's thread, inside its commit, after the WAL frames are
// written: `wal_frames` counts every frame now in the WAL.
int WalCheckpointer::OnCommit(void* self_ptr, sqlite3* writer, const char* schema, int wal_frames) {
  auto* self = static_cast<WalCheckpointer*>(self_ptr);
  if (wal_frames >= kWriterFrames) {
    // What SQLite's default hook does. Errors are not the commit's: it has
    // happened; a checkpoint that fails is tried again at the next commit.
    sqlite3_wal_checkpoint_v2(writer, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    self->frames_at_last_wake_ = 0;
    return SQLITE_OK;
  }
  if (wal_frames < self->frames_at_last_wake_) self->frames_at_last_wake_ = 0;  // the WAL started over
  if (wal_frames - self->frames_at_last_wake_ >= kBackgroundEveryFrames) {
    self->frames_at_last_wake_ = wal_frames;
    {
      std::lock_guard<std::mutex> lock(self->mu_);
      self->requested_ = true;
    }
    self->wake_.notify_one();
  }
  return SQLITE_OK;
}

void WalCheckpointer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return requested_ || stopping_; });
    if (stopping_) return;
    requested_ = false;
    lock.unlock();
    int rc = sqlite3_wal_checkpoint_v2(own_.raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    std::string error = rc == SQLITE_OK ? "" : sqlite3_errmsg(own_.raw());
    lock.lock();
    if (rc == SQLITE_OK) {
      ++completed_;
    } else if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
      // Another checkpoint runs (the crawler's, or the writer's own).
      spdlog::debug("background checkpoint of indafoto.db skipped: {}", error);
      error.clear();
    } else if (error != last_error_) {
      // Nothing is lost: the commits are in the WAL, and the writer's own
      // checkpoint at kWriterFrames frames tries again.
      spdlog::warn("background checkpoint of indafoto.db failed: {}; the writer's own checkpoints go on", error);
    }
    last_error_ = error;
  }
}

}  // namespace indafoto
