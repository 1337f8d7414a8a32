#include "lib/instance.h"

#include <system_error>

#include "lib/manifest_reader.h"
#include "lib/remote_db_catalog.h"

namespace indafoto {

namespace fs = std::filesystem;

Status Instance::Open(const Config& config, Access access, std::unique_ptr<Instance>* out) {
  auto inst = std::unique_ptr<Instance>(new Instance());
  inst->config_ = config;
  bool ro = access == Access::kReadOnly;
  if (Status s = ArchiveDb::Open(config.database_path, config.image_root, /*create=*/!ro, ro, &inst->archive_); !s.ok())
    return s;
  std::error_code ec;
  if (ro && !fs::exists(config.state_path, ec)) {
    // Nothing was ever imported: an empty in-memory state keeps reports simple.
    if (Status s = Database::Open(":memory:", Database::Mode::kReadWriteCreate, 1000, &inst->state_); !s.ok()) return s;
  } else {
    fs::create_directories(fs::absolute(config.state_path).parent_path(), ec);
    if (Status s = Database::Open(config.state_path.string(),
                                  ro ? Database::Mode::kReadOnly : Database::Mode::kReadWriteCreate, 30000,
                                  &inst->state_);
        !s.ok())
      return s;
    if (!ro) {
      try {
        inst->state_.Exec("PRAGMA journal_mode=WAL");
      } catch (const SqliteError& e) {
        return e.ToStatus();
      }
    }
  }
  if (!ro || !inst->state_.HasTable("syncd_catalog_entries")) {
    if (Status s = CatalogStore::Open(&inst->state_, &inst->catalog_); !s.ok()) return s;
  } else {
    CatalogStore::Attach(&inst->state_, &inst->catalog_);
  }
  if (ro) {
    KeyPins::AttachReadOnly(&inst->state_, &inst->pins_);
  } else if (Status s = KeyPins::Open(&inst->state_, &inst->pins_); !s.ok()) {
    return s;
  }
  KeyPins::AttachReadOnly(&inst->state_, &inst->dry_pins_);
  inst->importer_ = std::make_unique<Importer>(&inst->archive_, &inst->catalog_);
  *out = std::move(inst);
  return Status::Ok();
}

Status Instance::RefreshCatalog(const RemoteSource& source, bool* changed, std::string* description) {
  return LoadCatalogInto(source, &catalog_, /*dry_run=*/false, changed, description);
}

Status Instance::LoadCatalogInto(const RemoteSource& source, CatalogStore* store, bool dry_run, bool* changed,
                                 std::string* description) {
  *changed = false;
  if (HasManifest(source.local_path)) {
    ManifestReader reader(source.local_path, source.name, dry_run ? &dry_pins_ : &pins_);
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
                          source.local_path.string() + "/.indafoto-sync and no remote_db_path configured");
}

}  // namespace indafoto
