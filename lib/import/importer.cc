#include "lib/import/importer.h"

#include <spdlog/spdlog.h>
#include <limits.h>
#include <unistd.h>

#include <map>
#include <set>
#include <system_error>

#include "lib/util/fault_injection.h"
#include "lib/util/logging.h"
#include "lib/archive/placement.h"
#include "lib/import/received_folder.h"

namespace indafoto {

namespace fs = std::filesystem;

const char* ActionName(Action a) {
  switch (a) {
    case Action::kIgnore: return "ignore";
    case Action::kPending: return "pending";
    case Action::kFail: return "reject";
    case Action::kSkip: return "skip";
    case Action::kNew: return "add";
    case Action::kMerge: return "merge";
    case Action::kRepair: return "repair";
    case Action::kConflict: return "conflict";
  }
  return "?";
}

namespace {

bool IsUnder(const fs::path& root, const fs::path& p) {
  fs::path rel = p.lexically_normal().lexically_relative(root);
  return !rel.empty() && *rel.begin() != ".." && rel != ".";
}

ImportOutcome ErrorOutcome(Status s) {
  ImportOutcome o;
  o.error = std::move(s);
  o.message = o.error.ToString();
  return o;
}

}  // namespace

Importer::Importer(ArchiveDb* archive, CatalogStore* catalog)
    : archive_(archive),
      catalog_(catalog),
      counter_(archive->image_root(), std::chrono::seconds(60),
               {[archive](const std::string& author) { return archive->LoadAuthorSubfolders(author); },
                [archive](const std::string& author, const AuthorFileCounter::Subfolders& settled) {
                  archive->SaveAuthorSubfolders(author, settled);
                }}) {}

Status Importer::Recover(int* removed_files) {
  *removed_files = 0;
  try {
    for (const Placement& p : archive_->Placements()) {
      fs::path path(p.path);
      ::unlink(TemporaryPathFor(path).c_str());
      std::error_code ec;
      std::string stored = archive_->path_style().ToStored(path);
      // The journal row outlives the image's transaction only when that
      // transaction never committed: the file is ours and has no row.
      if (fs::exists(fs::symlink_status(path, ec)) && !archive_->IsLocalPathReferenced(stored)) {
        if (::unlink(path.c_str()) == 0) {
          ++*removed_files;
          FsyncDirectory(path.parent_path());
          spdlog::info("recovery: removed {} (placed by an interrupted import, never committed)", path.string());
        }
      }
      Transaction t(archive_->db());
      archive_->RemovePlacement(p.id);
      t.Commit();
    }
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

Decision Importer::Decide(const RemoteSource& source, const std::string& rel_path, const FileDigest* digest) {
  Decision d;
  if (std::string_view why = IgnoreReason(rel_path); !why.empty()) {
    d.message = std::string(why);
    return d;
  }
  // A delivery we cannot take (unsafe or over-long name, conflict copy,
  // symlink, FIFO, ...) is recorded as failed with the reason: nothing in a
  // received folder is dropped silently.
  if (std::string why = RefusedReason(rel_path); !why.empty()) {
    d.action = Action::kFail;
    d.message = why;
    return d;
  }
  if (Status s = ResolveReceivedFile(source.local_path, rel_path, &d.file); !s.ok()) {
    d.message = s.message();
    if (s.code() == Status::Code::kInvalid) {
      d.action = Action::kFail;
    } else if (!s.IsNotFound()) {
      d.error = s;  // gone is not an error; anything else is retried
    }
    return d;
  }
  Status c = catalog_->FindByPath(source.name, rel_path, &d.entry);
  if (c.IsNotFound()) {
    d.action = Action::kPending;
    d.message = "no catalog entry yet";
    return d;
  }
  if (!c.ok()) {
    d.message = c.message();
    if (c.IsTransient()) d.error = c;  // a busy state database: retried, never recorded as a decision
    else d.action = Action::kFail;     // an entry that cannot be parsed
    return d;
  }
  if (digest) {
    d.digest = *digest;
  } else if (Status s = Sha256File(d.file, &d.digest); !s.ok()) {
    d.message = s.message();
    if (!s.IsNotFound()) d.error = s;
    return d;
  }
  if (!d.entry.sha256.empty() && d.entry.sha256 != d.digest.sha256) {
    d.action = Action::kFail;
    d.message = "sha256 mismatch: catalog " + d.entry.sha256 + ", file " + d.digest.sha256;
    return d;
  }
  if (d.entry.size >= 0 && d.entry.size != d.digest.size) {
    d.action = Action::kFail;
    d.message = "size mismatch: catalog " + std::to_string(d.entry.size) + ", file " + std::to_string(d.digest.size);
    return d;
  }
  try {
    std::string author = d.entry.Get("author").ToString();
    if (std::optional<std::string> reason = archive_->BannedReason(author)) {
      d.action = Action::kSkip;
      d.message = "author '" + author + "' is banned locally" + (reason->empty() ? "" : ": " + *reason);
      return d;
    }
    d.local = archive_->FindBySha256(d.digest.sha256);
    if (!d.local) d.local = archive_->FindByUrl(d.entry.Get("url").ToString());
    if (!d.local) {
      d.action = Action::kNew;
      return d;
    }
    // The image is known locally. A row that records another sha256 is
    // another picture under the same url, whatever state its file is in:
    // never merged into, never repaired by this delivery.
    const bool hash_recorded = !d.local->sha256.empty();
    if (hash_recorded && d.local->sha256 != d.digest.sha256) {
      d.action = Action::kConflict;
      d.message = "same url as local image " + std::to_string(d.local->id) + " but different content: local records " +
                  d.local->sha256 + ", delivered " + d.digest.sha256 + "; local kept";
      return d;
    }
    // Check its file: the delivery repairs a missing or corrupt one.
    FileDigest local_digest;
    Status ls = d.local->local_path.empty()
                    ? Status::NotFound("no local_path")
                    : Sha256File(archive_->path_style().ToAbsolute(d.local->local_path), &local_digest);
    bool local_present = ls.ok();
    if (!ls.ok() && !ls.IsNotFound() && ls.code() != Status::Code::kInvalid) {
      d.action = Action::kIgnore;
      d.error = ls;
      d.message = "cannot check the local file: " + ls.message();
      return d;
    }
    d.update_sha256 = !hash_recorded;
    if (local_present && local_digest.sha256 == d.digest.sha256) {
      d.action = Action::kMerge;
      return d;
    }
    if (!hash_recorded && local_present) {
      d.action = Action::kConflict;
      d.message = "same url as local image " + std::to_string(d.local->id) + " but different content: local " +
                  local_digest.sha256 + ", delivered " + d.digest.sha256 + "; local kept";
      return d;
    }
    d.action = Action::kRepair;
    std::string state = local_present ? "does not verify (" + local_digest.sha256 + ")"
                        : ls.code() == Status::Code::kInvalid ? "is not a regular file"
                                                              : "is missing";
    d.message = "local file " + d.local->local_path + " " + state;
    if (!hash_recorded)
      d.message += "; the local row records no sha256, so the delivery of the same url takes its place";
    return d;
  } catch (const SqliteError& e) {
    d.action = Action::kIgnore;
    d.error = e.ToStatus();
    d.message = d.error.message();
    return d;
  }
}

Status Importer::HealLocalFile(const std::vector<RemoteSource>& sources, const LocalImage& image,
                               std::string* healed_from) {
  if (image.sha256.empty())
    return Status::NotFound("the row records no sha256, so no delivery can be proven to be the same picture");
  // Replaces the local file with the delivery at `rel` of `source` when it
  // hashes to the recorded sha256: Ok, or NotFound to try the next one.
  auto heal_from = [&](const RemoteSource& source, const std::string& rel) -> Status {
    Decision d;
    if (!IgnoreReason(rel).empty() || !RefusedReason(rel).empty()) return Status::NotFound(rel);
    if (!ResolveReceivedFile(source.local_path, rel, &d.file).ok()) return Status::NotFound(rel);
    if (!Sha256File(d.file, &d.digest).ok() || d.digest.sha256 != image.sha256) return Status::NotFound(rel);
    catalog_->FindByPath(source.name, rel, &d.entry);  // columns and relations to merge, when listed
    if (image.local_path.empty() && d.entry.rel_path.empty()) return Status::NotFound(rel);  // no author to place it under
    d.action = Action::kRepair;
    d.local = image;
    d.message = "local file " + (image.local_path.empty() ? std::string("(none)") : image.local_path) +
                " was missing or corrupt (found by verify)";
    ImportOutcome o = ApplyRepair(source, rel, d);
    if (!o.error.ok()) return o.error;
    if (o.status != sync_status::kRepaired) return Status::Invalid(o.message);
    *healed_from = source.name + ":" + rel;
    return Status::Ok();
  };
  try {
    // First the catalogs' sha256 index; only then the image's own
    // deliveries (sync_records has no index on image_id: a scan).
    for (const RemoteSource& source : sources) {
      std::vector<std::string> paths;
      if (Status s = catalog_->PathsWithSha256(source.name, image.sha256, &paths); !s.ok()) return s;
      for (const std::string& rel : paths) {
        if (Status s = heal_from(source, rel); !s.IsNotFound()) return s;
      }
    }
    for (const auto& [source_name, rel] : archive_->DeliveriesOf(image.id)) {
      for (const RemoteSource& source : sources) {
        if (source.name != source_name) continue;
        if (Status s = heal_from(source, rel); !s.IsNotFound()) return s;
      }
    }
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
  return Status::NotFound("no received folder holds a delivery with sha256 " + image.sha256);
}

bool Importer::InCatalog(const RemoteSource& source, const std::string& rel_path) {
  return catalog_->Contains(source.name, rel_path);
}

ImportOutcome Importer::ImportFile(const RemoteSource& source, const std::string& rel_path, const FileDigest* digest) {
  return Apply(source, rel_path, Decide(source, rel_path, digest));
}

ImportOutcome Importer::Apply(const RemoteSource& source, const std::string& rel_path, const Decision& d) {
  try {
    switch (d.action) {
      case Action::kIgnore: {
        ImportOutcome o;
        o.error = d.error;
        o.message = d.message;
        return o;
      }
      case Action::kPending: return ApplyRecordOnly(source, rel_path, d, sync_status::kPending);
      case Action::kFail: return ApplyRecordOnly(source, rel_path, d, sync_status::kFailed);
      case Action::kSkip: return ApplyRecordOnly(source, rel_path, d, sync_status::kSkipped);
      case Action::kConflict: return ApplyRecordOnly(source, rel_path, d, sync_status::kConflict);
      case Action::kNew: return ApplyNewImages(source, {rel_path}, {d}).at(0);
      case Action::kMerge: return ApplyMerge(source, rel_path, d);
      case Action::kRepair: return ApplyRepair(source, rel_path, d);
    }
  } catch (const SqliteError& e) {
    return ErrorOutcome(e.ToStatus());
  }
  return ErrorOutcome(Status::Invalid("unknown action"));
}

ImportOutcome Importer::ApplyRecordOnly(const RemoteSource& source, const std::string& rel_path, const Decision& d,
                                        const char* status) {
  ImportOutcome o;
  o.status = status;
  o.message = d.message;
  o.image_id = d.local ? d.local->id : 0;
  o.bytes = d.digest.size;
  std::optional<SyncRecord> prev = archive_->FindSyncRecord(source.name, rel_path);
  if (prev && prev->status == status && prev->error_message == d.message) {
    o.unchanged = true;
    return o;
  }
  Transaction t(archive_->db());
  archive_->RecordSync(source.name, rel_path, o.image_id, status, d.message);
  t.Commit();
  return o;
}

Status Importer::MergeCatalogChanges(const RemoteSource& source, int64_t* merged) {
  for (;;) {
    std::vector<std::string> paths;
    if (Status s = catalog_->ChangedPaths(source.name, 500, &paths); !s.ok()) return s;
    if (paths.empty()) return Status::Ok();
    for (const std::string& rel : paths) {
      try {
        std::optional<SyncRecord> r = archive_->FindSyncRecord(source.name, rel);
        Decision d;
        if (r && r->image_id > 0 && sync_status::TookImage(r->status) &&
            catalog_->FindByPath(source.name, rel, &d.entry).ok())
          d.local = archive_->FindById(r->image_id);
        // A different sha256 is a different file: its delivery decides.
        if (d.local && (d.local->sha256.empty() || d.entry.sha256.empty() || d.local->sha256 == d.entry.sha256)) {
          ImportOutcome o = ApplyMerge(source, rel, d, "catalog entry changed");
          if (!o.unchanged && o.status == sync_status::kMerged) {
            ++*merged;
            LogDecision(spdlog::level::debug, source.name, rel, o.status, o.message);
          }
        }
      } catch (const SqliteError& e) {
        return e.ToStatus();  // the change stays noted: retried at the next pass
      }
      // After the commit: a crash in between merges again, which adds nothing.
      if (Status s = catalog_->ForgetChange(source.name, rel); !s.ok()) return s;
    }
  }
}

fs::path Importer::NewImagePath(const RemoteImage& entry, const std::string& rel_path, int64_t earlier_in_batch,
                               std::string* author_folder) {
  *author_folder = AuthorFolderName(entry.Get("author").ToString());
  std::string name = rel_path.substr(rel_path.rfind('/') == std::string::npos ? 0 : rel_path.rfind('/') + 1);
  fs::path dir = archive_->image_root() / *author_folder /
                 std::to_string(SubfolderFor(counter_.Count(*author_folder) + earlier_in_batch));
  fs::path dest = dir / name;
  std::error_code ec;
  // The crawler's names are unique per image; a clash means a different
  // image with the same name. Never overwrite: take the next free variant.
  for (int k = 2; fs::exists(fs::symlink_status(dest, ec)); ++k) {
    fs::path stem = fs::path(name).stem();
    dest = dir / (stem.string() + "_" + std::to_string(k) + fs::path(name).extension().string());
  }
  return dest;
}

std::vector<ImportOutcome> Importer::ApplyNewImages(const RemoteSource& source,
                                                    const std::vector<std::string>& rel_paths,
                                                    const std::vector<Decision>& decisions) {
  const size_t n = decisions.size();
  std::vector<ImportOutcome> out(n);
  // 1. Destinations, and the journal rows of all, in one durable commit.
  struct Item {
    size_t index;
    fs::path dest;
    std::string author_folder;
    int64_t placement = 0;
    PlaceMethod method = PlaceMethod::kHardlink;
  };
  std::vector<Item> items;
  std::map<std::string, int64_t> earlier;  // per author folder, placed before in this batch
  for (size_t i = 0; i < n; ++i) {
    const Decision& d = decisions[i];
    Item it{i, {}, {}};
    std::string author = AuthorFolderName(d.entry.Get("author").ToString());
    it.dest = NewImagePath(d.entry, rel_paths[i], earlier[author], &it.author_folder);
    if (!IsUnder(archive_->image_root(), it.dest)) {
      out[i] = ErrorOutcome(Status::Invalid("refusing to write outside image_root: " + it.dest.string()));
    } else if (it.dest.native().size() >= PATH_MAX) {
      Decision refused = d;
      refused.message = "the archive path " + it.dest.string().substr(0, 200) + "... would be " +
                        std::to_string(it.dest.native().size()) + " bytes, longer than the system allows; not imported";
      out[i] = ApplyRecordOnly(source, rel_paths[i], refused, sync_status::kFailed);
    } else {
      ++earlier[it.author_folder];
      items.push_back(std::move(it));
    }
  }
  if (items.empty()) return out;
  std::vector<std::pair<fs::path, std::string>> journal;
  for (const Item& it : items) journal.emplace_back(it.dest, decisions[it.index].digest.sha256);
  std::vector<int64_t> ids = archive_->AddPlacements(journal);
  for (size_t k = 0; k < items.size(); ++k) items[k].placement = ids[k];
  CrashPoint("after_journal");

  // 2. The files, then the directories they touched synced together.
  std::set<fs::path> dirs;
  std::vector<Item> placed;
  for (Item& it : items) {
    const Decision& d = decisions[it.index];
    if (Status s = PlaceFile(d.file, it.dest, d.digest, &it.method, &dirs); !s.ok()) {
      archive_->AbandonPlacement(it.placement);
      out[it.index] = ErrorOutcome(s);
      continue;
    }
    counter_.Added(it.author_folder, it.dest);  // (if the commit fails, the unlink moves the mtime: listed again)
    CrashPoint("after_place");
    placed.push_back(std::move(it));
  }
  Status synced = SyncDirectories(dirs);
  CrashPoint("after_sync");

  // 3. One transaction per image.
  for (const Item& it : placed) {
    if (!synced.ok()) {
      // Not known to be durable: take it back. The journal row stays for
      // Recover(), in case the removal is not durable either.
      ::unlink(it.dest.c_str());
      out[it.index] = ErrorOutcome(synced);
      continue;
    }
    out[it.index] = CommitNew(source, rel_paths[it.index], decisions[it.index], it.dest, it.placement, it.method);
  }
  return out;
}

ImportOutcome Importer::CommitNew(const RemoteSource& source, const std::string& rel_path, const Decision& d,
                                  const fs::path& dest, int64_t placement, PlaceMethod method) {
  std::string stored = archive_->path_style().ToStored(dest);
  // Undoes the placement now; if this fails too, Recover() does it at the
  // next start because the journal row is still there.
  auto undo_placement = [&]() {
    ::unlink(dest.c_str());
    FsyncDirectory(dest.parent_path());
    archive_->AbandonPlacement(placement);
  };
  ImportOutcome o;
  try {
    Transaction t(archive_->db());
    // Identity again, now that we hold the database's write lock: Decide
    // ran without it, and the crawler (or a writer of ours that slipped
    // past the writer lock, or an earlier image of the same batch) may have
    // added the same image since. Inside this transaction nobody else can,
    // so an image is never added twice.
    if (archive_->FindBySha256(d.digest.sha256) || archive_->FindByUrl(d.entry.Get("url").ToString())) {
      t.Rollback();
      undo_placement();
      if (d.retried) return ErrorOutcome(Status::Busy("the local image changed twice while importing; retried later"));
      Decision again = Decide(source, rel_path, &d.digest);  // now a merge, repair or conflict
      again.retried = true;
      return Apply(source, rel_path, again);
    }
    o.image_id = archive_->InsertImage(d.entry, stored, d.digest.sha256);
    archive_->AddRelations(o.image_id, d.entry);
    archive_->RecordSync(source.name, rel_path, o.image_id, sync_status::kImported, "");
    archive_->RemovePlacement(placement);
    CrashPoint("before_commit");
    if (int e = InjectedErrno("commit")) throw SqliteError(SQLITE_FULL, std::string("injected: ") + std::strerror(e));
    t.Commit();
  } catch (const SqliteError& e) {
    undo_placement();
    if ((e.code() & 0xff) == SQLITE_CONSTRAINT) {
      Decision conflict = d;
      conflict.message = std::string("cannot insert: ") + e.what() + "; local kept";
      return ApplyRecordOnly(source, rel_path, conflict, sync_status::kConflict);
    }
    return ErrorOutcome(e.ToStatus());
  }
  CrashPoint("after_commit");
  o.status = sync_status::kImported;
  o.local_path = stored;
  o.bytes = d.digest.size;
  o.message = method == PlaceMethod::kHardlink ? "hardlinked" : "copied";
  return o;
}

ImportOutcome Importer::ApplyMerge(const RemoteSource& source, const std::string& rel_path, const Decision& d,
                                   const std::string& why) {
  ImportOutcome o;
  o.image_id = d.local->id;
  o.local_path = d.local->local_path;
  o.bytes = d.digest.size;
  std::optional<SyncRecord> prev = archive_->FindSyncRecord(source.name, rel_path);
  Transaction t(archive_->db());
  int filled = archive_->FillMissingColumns(d.local->id, d.entry);
  int added = archive_->AddRelations(d.local->id, d.entry);
  if (d.update_sha256) archive_->SetSha256(d.local->id, d.digest.sha256);
  bool changed = filled > 0 || added > 0 || d.update_sha256;
  o.status = changed ? sync_status::kMerged : sync_status::kDuplicate;
  o.message = changed ? std::to_string(filled) + " columns filled, " + std::to_string(added) + " relations added" : "";
  if (!why.empty() && !o.message.empty()) o.message = why + ": " + o.message;
  if (!changed && prev && sync_status::IsFinal(prev->status) && prev->image_id == d.local->id) {
    o.unchanged = true;  // already accounted for; leave the record as it is
    o.status = prev->status;
    return o;            // ~Transaction rolls back (nothing was written)
  }
  archive_->RecordSync(source.name, rel_path, d.local->id, o.status, o.message);
  t.Commit();
  return o;
}

ImportOutcome Importer::ApplyRepair(const RemoteSource& source, const std::string& rel_path, const Decision& d) {
  fs::path target;
  std::string author_folder;
  bool new_path = d.local->local_path.empty();
  target = new_path ? NewImagePath(d.entry, rel_path, 0, &author_folder)
                    : archive_->path_style().ToAbsolute(d.local->local_path);
  if (!IsUnder(archive_->image_root(), target)) {
    Decision conflict = d;
    conflict.message = d.message + "; not repaired: " + target.string() + " lies outside image_root";
    return ApplyRecordOnly(source, rel_path, conflict, sync_status::kFailed);
  }
  int64_t placement = archive_->AddPlacement(target, d.digest.sha256);
  CrashPoint("after_journal");
  PlaceMethod method;
  if (Status s = ReplaceFile(d.file, target, d.digest, &method); !s.ok()) {
    archive_->AbandonPlacement(placement);
    return ErrorOutcome(s);
  }
  if (new_path) counter_.Added(author_folder, target);
  CrashPoint("after_place");
  ImportOutcome o;
  o.image_id = d.local->id;
  o.local_path = new_path ? archive_->path_style().ToStored(target) : d.local->local_path;
  o.bytes = d.digest.size;
  o.status = sync_status::kRepaired;
  o.message = d.message + "; replaced with the delivered file";
  Transaction t(archive_->db());
  archive_->FillMissingColumns(d.local->id, d.entry);
  archive_->AddRelations(d.local->id, d.entry);
  if (d.update_sha256) archive_->SetSha256(d.local->id, d.digest.sha256);
  if (new_path) {
    Statement u = archive_->db().Prepare("UPDATE images SET local_path = ? WHERE id = ?");
    u.Bind(1, o.local_path).Bind(2, d.local->id);
    u.Run();
  }
  archive_->RecordSync(source.name, rel_path, d.local->id, o.status, o.message);
  archive_->RemovePlacement(placement);
  CrashPoint("before_commit");
  t.Commit();
  CrashPoint("after_commit");
  return o;
}

}  // namespace indafoto
