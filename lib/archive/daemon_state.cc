#include "lib/archive/daemon_state.h"

#include <unistd.h>

namespace indafoto {

Status WriteHeartbeat(Database& db, const std::string& state, const std::string& message) {
  try {
    db.Exec(
        "CREATE TABLE IF NOT EXISTS syncd_heartbeat (id INTEGER PRIMARY KEY CHECK (id = 1), pid INTEGER, "
        "state TEXT, message TEXT, updated_at INTEGER)");
    Statement s = db.Prepare(
        "INSERT OR REPLACE INTO syncd_heartbeat (id, pid, state, message, updated_at) "
        "VALUES (1, ?, ?, ?, strftime('%s','now'))");
    s.Bind(1, static_cast<int64_t>(::getpid())).Bind(2, state).Bind(3, message);
    s.Run();
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

bool ReadHeartbeat(Database& db, DaemonHeartbeat* out) {
  try {
    if (!db.HasTable("syncd_heartbeat")) return false;
    Statement s = db.Prepare(
        "SELECT pid, state, message, datetime(updated_at, 'unixepoch'), strftime('%s','now') - updated_at "
        "FROM syncd_heartbeat WHERE id = 1");
    if (!s.Step()) return false;
    out->pid = s.Int(0);
    out->state = s.Text(1);
    out->message = s.Text(2);
    out->updated_at = s.Text(3);
    out->age_seconds = s.Int(4);
    return true;
  } catch (const SqliteError&) {
    return false;
  }
}

}  // namespace indafoto
