#include "lib/import/instance.h"

#include <system_error>

#include "lib/catalog/manifest_reader.h"
#include "lib/catalog/remote_db_catalog.h"

namespace indafoto {

namespace fs = std::filesystem;

namespace {

// Prefixes `s` with the file it concerns, so that an operator restores the
// right one (a corrupt state database is not a reason to touch indafoto.db).
Status Naming(const std::string& what, const fs::path& path, const Status& s, const std::string& hint = "") {
  if (s.ok()) return s;
  std::string m = what + " " + path.string() + ": " + s.message();
  if (!hint.empty() && s.code() == Status::Code::kCorrupt) m += " (" + hint + ")";
  switch (s.code()) {
    case Status::Code::kNotFound: return Status::NotFound(m);
    case Status::Code::kInvalid: return Status::Invalid(m);
    case Status::Code::kCorrupt: return Status::Corrupt(m);
    case Status::Code::kBusy: return Status::Busy(m);
    case Status::Code::kNoSpace: return Status::NoSpace(m);
    case Status::Code::kPermission: return Status::Permission(m);
    default: return Status::IoError(m);
  }
}

constexpr const char* kStateHint =
    "it holds only catalogs, pinned publisher keys and the daemon's heartbeat, never images: move it aside and it "
    "is rebuilt at the next start, catalogs from the sources and keys pinned again on first sight";

}  // namespace

Status Instance::Open(const Config& config, const OpenOptions& options, std::unique_ptr<Instance>* out) {
  auto inst = std::unique_ptr<Instance>(new Instance());
  inst->config_ = config;
  bool ro = options.access == Access::kReadOnly;
  std::error_code ec;
  if (!ro) {
    fs::create_directories(fs::absolute(config.database_path).parent_path(), ec);
    if (Status s = WriterLock::Acquire(WriterLockPath(config.database_path), options.command, options.wait_for_lock,
                                       &inst->writer_lock_, options.on_wait);
        !s.ok())
      return s;
  }
  if (Status s = ArchiveDb::Open(config.database_path, config.image_root, /*create=*/!ro, ro, &inst->archive_); !s.ok())
    return Naming("archive database", config.database_path, s);
  Status state = inst->OpenState(ro);
  if (!state.ok()) return Naming("state database", config.state_path, state, kStateHint);
  inst->importer_ = std::make_unique<Importer>(&inst->archive_, &inst->catalog_);
  *out = std::move(inst);
  return Status::Ok();
}

Status Instance::OpenState(bool ro) {
  std::error_code ec;
  if (ro && !fs::exists(config_.state_path, ec)) {
    // Nothing was ever imported: an empty in-memory state keeps reports simple.
    if (Status s = Database::Open(":memory:", Database::Mode::kReadWriteCreate, 1000, &state_); !s.ok()) return s;
  } else {
    fs::create_directories(fs::absolute(config_.state_path).parent_path(), ec);
    if (Status s = Database::Open(config_.state_path.string(),
                                  ro ? Database::Mode::kReadOnly : Database::Mode::kReadWriteCreate, 30000, &state_);
        !s.ok())
      return s;
    try {
      // Reads the header: a file that is not a database fails here, by name.
      state_.Exec(ro ? "SELECT count(*) FROM sqlite_master" : "PRAGMA journal_mode=WAL");
    } catch (const SqliteError& e) {
      return e.ToStatus();
    }
  }
  if (!ro || !state_.HasTable("syncd_catalog_entries")) {
    if (Status s = CatalogStore::Open(&state_, &catalog_); !s.ok()) return s;
  } else {
    CatalogStore::Attach(&state_, &catalog_);
  }
  if (ro) {
    KeyPins::AttachReadOnly(&state_, &pins_);
  } else if (Status s = KeyPins::Open(&state_, &pins_); !s.ok()) {
    return s;
  }
  KeyPins::AttachReadOnly(&state_, &dry_pins_);
  return Status::Ok();
}

Status Instance::RefreshCatalog(const RemoteSource& source, bool* changed, std::string* description) {
  return LoadCatalogInto(source, &catalog_, /*dry_run=*/false, changed, description);
}

Status Instance::LoadCatalogInto(const RemoteSource& source, CatalogStore* store, bool dry_run, bool* changed,
                                 std::string* description) {
  *changed = false;
  if (HasManifest(source.received_folder)) {
    ManifestReader reader(source.received_folder, source.name, dry_run ? &dry_pins_ : &pins_);
    *description = reader.Describe();
    return store->Load(source.name, reader, changed);
  }
  if (!source.remote_db_path.empty()) {
    RemoteDbCatalogReader reader(source.remote_db_path);
    *description = reader.Describe();
    return store->Load(source.name, reader, changed);
  }
  *description = kNoCatalogYet;
  return Status::NotFound("source '" + source.name + "' has no catalog: no manifest in " +
                          source.received_folder.string() + "/.indafoto-sync and no remote_db_path configured");
}

}  // namespace indafoto
