// Instance: one archive instance's open state — its configuration, the
// local archive database, the daemon's state database and the catalog
// store in it. Every command opens one; the daemon keeps one for its life.
//
// The state database (config `state_path`) holds what need not commit with
// an image: the catalogs of remote sources, pinned publisher keys, the
// daemon's heartbeat and the last verify's summary. What must commit
// atomically with an image (the image, its relations, its sync_records
// row, the placement journal) is in indafoto.db.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "lib/archive/archive_db.h"
#include "lib/catalog/catalog.h"
#include "lib/config/config.h"
#include "lib/import/importer.h"
#include "lib/catalog/key_pins.h"
#include "lib/util/sqlite.h"
#include "lib/util/writer_lock.h"

namespace indafoto {

// The catalog description of a source with neither a manifest nor a
// remote_db_path (see Instance::RefreshCatalog).
inline constexpr const char* kNoCatalogYet = "none";

class Instance {
 public:
  enum class Access {
    kReadOnly,   // status, plan, verify: take no write lock, create nothing
    kReadWrite,  // import, run, publish
  };

  // Read-write: takes the archive's WriterLock for `command` first (Locked
  // when another process holds it and `wait_for_lock` is false; with it,
  // `on_wait` is called once and the call blocks), then opens and prepares
  // both databases. Errors name the file they concern (archive database,
  // state database, lock file). Crash recovery is the caller's next step
  // (Importer::Recover), made safe by the lock this instance now holds.
  struct OpenOptions {
    Access access = Access::kReadOnly;
    std::string command;  // named in the lock for whoever is refused
    bool wait_for_lock = false;
    std::function<void(const LockHolder&)> on_wait;
  };
  static Status Open(const Config& config, const OpenOptions& options, std::unique_ptr<Instance>* out);

  const Config& config() const { return config_; }
  // After a configuration reload (SIGHUP): every setting of `config` applies
  // from now on (sources may come and go, hash_threads change). The caller
  // keeps database_path, image_root and state_path as they were opened.
  void Reconfigure(Config config) { config_ = std::move(config); }
  ArchiveDb& archive() { return archive_; }
  Database& state() { return state_; }
  CatalogStore& catalog() { return catalog_; }
  KeyPins& pins() { return pins_; }
  bool holds_writer_lock() const { return writer_lock_.held(); }
  Importer& importer() { return *importer_; }

  // Loads (or reloads, when its published version changed) the catalog of
  // `source`: from the signed manifest in its received folder when there is
  // one (its publisher key pinned on first sight), else from
  // `remote_db_path`. On error the previous catalog stays.
  // `description` says which was used, or is kNoCatalogYet (with NotFound)
  // when the source has neither: a new source whose manifest has not
  // arrived.
  Status RefreshCatalog(const RemoteSource& source, bool* changed, std::string* description);
  // The same, into another store (plan's temporary one). With `dry_run`,
  // nothing of this instance's state is written (e.g. no key is pinned).
  Status LoadCatalogInto(const RemoteSource& source, CatalogStore* store, bool dry_run, bool* changed,
                         std::string* description);

 private:
  Status OpenState(bool read_only);

  WriterLock writer_lock_;  // first member: released last, after both databases are closed
  Config config_;
  ArchiveDb archive_;
  Database state_;
  CatalogStore catalog_;
  KeyPins pins_;      // pins first-seen publisher keys (read-write state only)
  KeyPins dry_pins_;  // checks pins without recording new ones
  std::unique_ptr<Importer> importer_;
};

}  // namespace indafoto
