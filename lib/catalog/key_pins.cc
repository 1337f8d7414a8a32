#include "lib/catalog/key_pins.h"

#include <spdlog/spdlog.h>

namespace indafoto {

namespace {

const char* const kKeyPinsSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS syncd_key_pins (
    source TEXT PRIMARY KEY,
    public_key TEXT,
    pinned_at TEXT
);
)sql";

}  // namespace

Status KeyPins::Open(Database* db, KeyPins* out) {
  try {
    db->Exec(kKeyPinsSchemaSql);
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
  out->db_ = db;
  out->read_only_ = false;
  return Status::Ok();
}

void KeyPins::AttachReadOnly(Database* db, KeyPins* out) {
  out->db_ = db;
  out->read_only_ = true;
}

Status KeyPins::Get(const std::string& source, std::string* public_key_b64, std::string* pinned_at) {
  try {
    if (read_only_ && !db_->HasTable("syncd_key_pins")) return Status::NotFound("no key pinned for " + source);
    Statement q = db_->Prepare("SELECT public_key, pinned_at FROM syncd_key_pins WHERE source = ?");
    q.Bind(1, source);
    if (!q.Step()) return Status::NotFound("no key pinned for source " + source);
    if (public_key_b64) *public_key_b64 = q.Text(0);
    if (pinned_at) *pinned_at = q.Text(1);
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

Status KeyPins::CheckOrPin(const std::string& source, const std::string& public_key_b64) {
  std::string pinned, pinned_at;
  Status s = Get(source, &pinned, &pinned_at);
  if (s.ok()) {
    if (pinned == public_key_b64) return Status::Ok();
    return Status::Corrupt(
        "source " + source + ": the manifest is signed by key " + public_key_b64 + ", but key " + pinned +
        " was pinned for this source at " + pinned_at +
        "; manifest rejected. If the publisher really changed its key (check the new key with its operator, "
        "e.g. against their <key>.pub file), remove the pin with `indafoto-syncd trust --config FILE --source " +
        source + "` or `DELETE FROM syncd_key_pins WHERE source = '" + source +
        "'` in the state database; the next manifest then pins the new key");
  }
  if (!s.IsNotFound()) return s;
  if (read_only_) return Status::Ok();
  try {
    Statement ins = db_->Prepare(
        "INSERT INTO syncd_key_pins (source, public_key, pinned_at) "
        "VALUES (?, ?, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))");
    ins.Bind(1, source).Bind(2, public_key_b64);
    ins.Run();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
  spdlog::info("source {}: pinned publisher key {} (first manifest seen from this source)", source, public_key_b64);
  return Status::Ok();
}

Status KeyPins::Unpin(const std::string& source, bool* removed) {
  if (removed) *removed = false;
  if (read_only_) return Status::Invalid("key pins are attached read-only");
  try {
    Statement del = db_->Prepare("DELETE FROM syncd_key_pins WHERE source = ?");
    del.Bind(1, source);
    del.Run();
    if (removed) *removed = db_->Changes() > 0;
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
  spdlog::info("source {}: publisher key pin removed; the next manifest pins its key", source);
  return Status::Ok();
}

}  // namespace indafoto
