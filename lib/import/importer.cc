// Over 450 lines on purpose: Decide and Apply of one delivery read best
// side by side (every outcome and its commit), and they share the
// placement-journal protocol described in importer.h.
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

std::optional<SyncStatus> StatusFor(Action action) {
  switch (action) {
    case Action::kIgnore: return std::nullopt;
    case Action::kPending: return SyncStatus::kPending;
    case Action::kFail: return SyncStatus::kFailed;
    case Action::kSkip: return SyncStatus::kSkipped;
    case Action::kNew: return SyncStatus::kImported;
    case Action::kMerge: return SyncStatus::kMerged;
    case Action::kRepair: return SyncStatus::kRepaired;
    case Action::kConflict: return SyncStatus::kConflict;
  }
  return std::nullopt;
}

namespace {

bool IsUnder(const fs::path& root, const fs::path& p) {
  fs::path rel = p.lexically_normal().lexically_relative(root);
  return !rel.empty() && *rel.begin() != ".." && rel != ".";
}

// `dir`/`name`, or where that exists, the first free `stem_2.ext`,
// `stem_3.ext`, ...: an existing file is never overwritten.
fs::path FreeNameIn(const fs::path& dir, const std::string& name) {
  fs::path dest = dir / name;
  std::error_code ec;
  for (int k = 2; fs::exists(fs::symlink_status(dest, ec)); ++k) {
    fs::path stem = fs::path(name).stem();
    dest = dir / (stem.string() + "_" + std::to_string(k) + fs::path(name).extension().string());
  }
  return dest;
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
  std::vector<Placement> placements;
  if (Status s = archive_->Placements(&placements); !s.ok()) return s;
  for (const Placement& p : placements) {
    fs::path path(p.path);
    ::unlink(TemporaryPathFor(path).c_str());
    std::error_code ec;
    std::string stored = archive_->path_style().ToStored(path);
    // A file no row references was placed by an import that never
    // committed. Unless it is another file: the crawler may have written
    // its own at the same path after the journal row (our link() then
    // failed), and that one stays. What is ours has the delivery's sha256.
    bool referenced = false;
    if (Status s = archive_->IsLocalPathReferenced(stored, &referenced); !s.ok()) return s;
    if (fs::exists(fs::symlink_status(path, ec)) && !referenced) {
      FileDigest found;
      Status hashed = Sha256File(path, &found);
      if (!hashed.ok() || found.sha256 != p.sha256) {
        spdlog::warn("recovery: kept {}: not the file an interrupted import placed there ({}); check who wrote it",
                     path.string(),
                     hashed.ok() ? "sha256 " + found.sha256 + ", the import's was " + p.sha256 : hashed.ToString());
      } else if (::unlink(path.c_str()) == 0) {
        ++*removed_files;
        FsyncDirectory(path.parent_path());
        spdlog::info("recovery: removed {} (placed by an interrupted import, never committed)", path.string());
      }
    }
    Status began;
    Transaction t(archive_->db(), &began);
    if (Status s = archive_->RemovePlacement(p.id); began.ok() && !s.ok()) return s;
    if (Status s = t.TryCommit(); !s.ok()) return s;
  }
  return Status::Ok();
}

Status Importer::IsAccounted(const RemoteSource& source, const std::string& rel_path, bool* accounted,
                             std::optional<SyncRecord>* record) {
  std::optional<SyncRecord> r;
  Status s = archive_->FindSyncRecord(source.name, rel_path, &r);
  *accounted = s.ok() && r && r->IsFinal();
  if (record) *record = std::move(r);
  return s;
}

Decision Importer::Decide(const RemoteSource& source, const std::string& rel_path, const FileDigest* digest) {
  Decision d = Examine(source, rel_path);
  if (!d.awaiting_hash) return d;
  FileDigest computed;
  Status hashed = digest ? Status::Ok() : Sha256File(d.file, &computed);
  DecideHashed(&d, hashed, digest ? *digest : computed);
  return d;
}

Decision Importer::Examine(const RemoteSource& source, const std::string& rel_path) {
  return ExamineDelivery(*catalog_, source, rel_path);
}

Decision ExamineDelivery(CatalogStore& catalog, const RemoteSource& source, const std::string& rel_path) {
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
  if (Status s = ResolveReceivedFile(source.received_folder, rel_path, &d.file); !s.ok()) {
    d.message = s.message();
    if (s.code() == Status::Code::kInvalid) {
      d.action = Action::kFail;
    } else if (!s.IsNotFound()) {
      d.error = s;  // gone is not an error; anything else is retried
    }
    return d;
  }
  Status c = catalog.FindByPath(source.name, rel_path, &d.entry);
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
  d.awaiting_hash = true;
  return d;
}

void Importer::DecideHashed(Decision* decision, const Status& hashed, const FileDigest& digest) {
  Decision& d = *decision;
  d.awaiting_hash = false;
  // A database error leaves the decision ignored with the error: retried,
  // never recorded.
  auto db_error = [&d](const Status& s) {
    d.action = Action::kIgnore;
    d.error = s;
    d.message = s.message();
  };
  if (!hashed.ok()) {
    d.message = hashed.message();
    if (!hashed.IsNotFound()) d.error = hashed;
    return;
  }
  d.digest = digest;
  if (!d.entry.sha256.empty() && d.entry.sha256 != d.digest.sha256) {
    d.action = Action::kFail;
    d.message = "sha256 mismatch: catalog " + d.entry.sha256 + ", file " + d.digest.sha256;
    return;
  }
  if (d.entry.size >= 0 && d.entry.size != d.digest.size) {
    d.action = Action::kFail;
    d.message = "size mismatch: catalog " + std::to_string(d.entry.size) + ", file " + std::to_string(d.digest.size);
    return;
  }
  std::string author = d.entry.Get("author").ToString();
  std::optional<std::string> banned;
  if (Status s = archive_->BannedReason(author, &banned); !s.ok()) return db_error(s);
  if (banned) {
    d.action = Action::kSkip;
    d.message = "author '" + author + "' is banned locally" + (banned->empty() ? "" : ": " + *banned);
    return;
  }
  if (Status s = archive_->FindBySha256(d.digest.sha256, &d.local); !s.ok()) return db_error(s);
  if (!d.local) {
    if (Status s = archive_->FindByUrl(d.entry.Get("url").ToString(), &d.local); !s.ok()) return db_error(s);
  }
  if (!d.local) {
    d.action = Action::kNew;
    return;
  }
  // The image is known locally. A row that records another sha256 is
  // another picture under the same url, whatever state its file is in:
  // never merged into, never repaired by this delivery.
  const bool hash_recorded = !d.local->sha256.empty();
  if (hash_recorded && d.local->sha256 != d.digest.sha256) {
    d.action = Action::kConflict;
    d.message = "same url as local image " + std::to_string(d.local->id) + " but different content: local records " +
                d.local->sha256 + ", delivered " + d.digest.sha256 + "; local kept";
    return;
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
    return;
  }
  d.update_sha256 = !hash_recorded;
  if (local_present && local_digest.sha256 == d.digest.sha256) {
    d.action = Action::kMerge;
    return;
  }
  if (!hash_recorded && local_present) {
    d.action = Action::kConflict;
    d.message = "same url as local image " + std::to_string(d.local->id) + " but different content: local " +
                local_digest.sha256 + ", delivered " + d.digest.sha256 + "; local kept";
    return;
  }
  d.action = Action::kRepair;
  std::string state = local_present ? "does not verify (" + local_digest.sha256 + ")"
                      : ls.code() == Status::Code::kInvalid ? "is not a regular file"
                                                            : "is missing";
  d.message = "local file " + d.local->local_path + " " + state;
  if (!hash_recorded)
    d.message += "; the local row records no sha256, so the delivery of the same url takes its place";
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
    if (!ResolveReceivedFile(source.received_folder, rel, &d.file).ok()) return Status::NotFound(rel);
    if (!Sha256File(d.file, &d.digest).ok() || d.digest.sha256 != image.sha256) return Status::NotFound(rel);
    catalog_->FindByPath(source.name, rel, &d.entry);  // columns and relations to merge, when listed
    if (image.local_path.empty() && d.entry.rel_path.empty()) return Status::NotFound(rel);  // no author to place it under
    d.action = Action::kRepair;
    d.local = image;
    d.message = "local file " + (image.local_path.empty() ? std::string("(none)") : image.local_path) +
                " was missing or corrupt (found by verify)";
    ImportOutcome o = ApplyRepair(source, rel, d);
    if (!o.error.ok()) return o.error;
    if (o.status != SyncStatus::kRepaired) return Status::Invalid(o.message);
    *healed_from = source.name + ":" + rel;
    return Status::Ok();
  };
  // First the catalogs' sha256 index; only then the image's own
  // deliveries (sync_records has no index on image_id: a scan).
  for (const RemoteSource& source : sources) {
    std::vector<std::string> paths;
    if (Status s = catalog_->PathsWithSha256(source.name, image.sha256, &paths); !s.ok()) return s;
    for (const std::string& rel : paths) {
      if (Status s = heal_from(source, rel); !s.IsNotFound()) return s;
    }
  }
  std::vector<std::pair<std::string, std::string>> deliveries;
  if (Status s = archive_->DeliveriesOf(image.id, &deliveries); !s.ok()) return s;
  for (const auto& [source_name, rel] : deliveries) {
    for (const RemoteSource& source : sources) {
      if (source.name != source_name) continue;
      if (Status s = heal_from(source, rel); !s.IsNotFound()) return s;
    }
  }
  return Status::NotFound("no received folder holds a delivery with sha256 " + image.sha256);
}

ImportOutcome Importer::ImportFile(const RemoteSource& source, const std::string& rel_path, const FileDigest* digest) {
  return Apply(source, rel_path, Decide(source, rel_path, digest));
}

ImportOutcome Importer::Apply(const RemoteSource& source, const std::string& rel_path, const Decision& d) {
  switch (d.action) {
    case Action::kIgnore: {
      ImportOutcome o;
      o.error = d.error;
      o.message = d.message;
      return o;
    }
    case Action::kPending: return ApplyRecordOnly(source, rel_path, d, SyncStatus::kPending);
    case Action::kFail: return ApplyRecordOnly(source, rel_path, d, SyncStatus::kFailed);
    case Action::kSkip: return ApplyRecordOnly(source, rel_path, d, SyncStatus::kSkipped);
    case Action::kConflict: return ApplyRecordOnly(source, rel_path, d, SyncStatus::kConflict);
    case Action::kNew: return ApplyNewImages(source, {rel_path}, {d}).at(0);
    case Action::kMerge: return ApplyMerge(source, rel_path, d);
    case Action::kRepair: return ApplyRepair(source, rel_path, d);
  }
  return ErrorOutcome(Status::Invalid("unknown action"));
}

Status Importer::Previous(const RemoteSource& source, const std::string& rel_path, const Decision& d,
                          std::optional<SyncRecord>* out) {
  if (d.previous_known) {
    *out = d.previous;
    return Status::Ok();
  }
  return archive_->FindSyncRecord(source.name, rel_path, out);
}

ImportOutcome Importer::ApplyRecordOnly(const RemoteSource& source, const std::string& rel_path, const Decision& d,
                                        SyncStatus status) {
  ImportOutcome o;
  o.status = status;
  o.message = d.message;
  o.image_id = d.local ? d.local->id : 0;
  o.bytes = d.digest.size;
  std::optional<SyncRecord> prev;
  if (Status s = Previous(source, rel_path, d, &prev); !s.ok()) return ErrorOutcome(s);
  if (prev && prev->status == status && prev->error_message == d.message) {
    o.unchanged = true;
    return o;
  }
  Status began;
  Transaction t(archive_->db(), &began);
  if (!began.ok()) return ErrorOutcome(began);
  if (Status s = archive_->RecordSync(source.name, rel_path, o.image_id, status, d.message, &prev); !s.ok())
    return ErrorOutcome(s);
  if (Status s = t.TryCommit(); !s.ok()) return ErrorOutcome(s);
  return o;
}

Status Importer::MergeCatalogChanges(const RemoteSource& source, int64_t* merged) {
  for (;;) {
    std::vector<std::string> paths;
    if (Status s = catalog_->ChangedPaths(source.name, 500, &paths); !s.ok()) return s;
    if (paths.empty()) return Status::Ok();
    for (const std::string& rel : paths) {
      std::optional<SyncRecord> r;
      if (Status s = archive_->FindSyncRecord(source.name, rel, &r); !s.ok()) return s;  // retried at the next pass
      Decision d;
      if (r && r->image_id > 0 && r->status && TookImage(*r->status) &&
          catalog_->FindByPath(source.name, rel, &d.entry).ok()) {
        if (Status s = archive_->FindById(r->image_id, &d.local); !s.ok()) return s;
      }
      // A different sha256 is a different file: its delivery decides.
      if (d.local && (d.local->sha256.empty() || d.entry.sha256.empty() || d.local->sha256 == d.entry.sha256)) {
        ImportOutcome o = ApplyMerge(source, rel, d, "catalog entry changed");
        if (!o.error.ok()) return o.error;  // the change stays noted: retried at the next pass
        if (!o.unchanged && o.status == SyncStatus::kMerged) {
          ++*merged;
          LogDecision(spdlog::level::debug, source.name, rel, SyncStatusName(*o.status), o.message);
        }
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
  // The crawler's names are unique per image; a clash means a different
  // image with the same name.
  return FreeNameIn(dir, name);
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
      out[i] = ApplyRecordOnly(source, rel_paths[i], refused, SyncStatus::kFailed);
    } else {
      ++earlier[it.author_folder];
      items.push_back(std::move(it));
    }
  }
  if (items.empty()) return out;
  std::vector<std::pair<fs::path, std::string>> journal;
  for (const Item& it : items) journal.emplace_back(it.dest, decisions[it.index].digest.sha256);
  std::vector<int64_t> ids;
  if (Status s = archive_->AddPlacements(journal, &ids); !s.ok()) {
    for (const Item& it : items) out[it.index] = ErrorOutcome(s);
    return out;
  }
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
  std::vector<int64_t> committed;
  for (const Item& it : placed) {
    if (!synced.ok()) {
      // Not known to be durable: take it back. The journal row stays for
      // Recover(), in case the removal is not durable either.
      ::unlink(it.dest.c_str());
      out[it.index] = ErrorOutcome(synced);
      continue;
    }
    out[it.index] = CommitNew(source, rel_paths[it.index], decisions[it.index], it.dest, it.placement, it.method);
    if (out[it.index].status == SyncStatus::kImported) committed.push_back(it.placement);
  }
  // 4. The committed images' journal rows, together. Their files are now
  // referenced by committed rows, so a crash before this (or a failure of
  // it) leaves rows that Recover() merely deletes.
  committed.insert(committed.end(), uncleared_placements_.begin(), uncleared_placements_.end());
  uncleared_placements_.clear();
  if (Status s = archive_->ClearPlacements(committed); !s.ok()) {
    spdlog::warn("placement journal: {} rows of committed imports not cleared ({}); retried with the next batch",
                 committed.size(), s.ToString());
    uncleared_placements_ = std::move(committed);
  }
  CrashPoint("after_clear");
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
  {
    Status began;
    Transaction t(archive_->db(), &began);
    // Rolls back, undoes the placement and reports `s` (a constraint
    // violation is recorded as a conflict: the local image stays).
    auto fail = [&](const Status& s) {
      t.Rollback();
      undo_placement();
      if (s.code() == Status::Code::kInvalid) {
        Decision conflict = d;
        conflict.message = "cannot insert: " + s.message() + "; local kept";
        return ApplyRecordOnly(source, rel_path, conflict, SyncStatus::kConflict);
      }
      return ErrorOutcome(s);
    };
    if (!began.ok()) return fail(began);
    // Identity again, now that we hold the database's write lock: Decide
    // ran without it, and the crawler (or a writer of ours that slipped
    // past the writer lock, or an earlier image of the same batch) may have
    // added the same image since. Inside this transaction nobody else can,
    // so an image is never added twice.
    std::optional<LocalImage> by_sha256, by_url;
    if (Status s = archive_->FindBySha256(d.digest.sha256, &by_sha256); !s.ok()) return fail(s);
    if (Status s = archive_->FindByUrl(d.entry.Get("url").ToString(), &by_url); !s.ok()) return fail(s);
    if (by_sha256 || by_url) {
      t.Rollback();
      undo_placement();
      if (d.retried) return ErrorOutcome(Status::Busy("the local image changed twice while importing; retried later"));
      Decision again = Decide(source, rel_path, &d.digest);  // now a merge, repair or conflict
      again.retried = true;
      return Apply(source, rel_path, again);
    }
    int added = 0;
    if (Status s = archive_->InsertImage(d.entry, stored, d.digest.sha256, &o.image_id); !s.ok()) return fail(s);
    if (Status s = archive_->AddRelations(o.image_id, d.entry, &added); !s.ok()) return fail(s);
    if (Status s = archive_->RecordSync(source.name, rel_path, o.image_id, SyncStatus::kImported, "",
                                        d.previous_known ? &d.previous : nullptr);
        !s.ok())
      return fail(s);
    CrashPoint("before_commit");
    if (int e = InjectedErrno("commit")) return fail(Status::NoSpace(std::string("injected: ") + std::strerror(e)));
    if (Status s = t.TryCommit(); !s.ok()) return fail(s);
  }
  CrashPoint("after_commit");
  o.status = SyncStatus::kImported;
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
  std::optional<SyncRecord> prev;
  if (Status s = Previous(source, rel_path, d, &prev); !s.ok()) return ErrorOutcome(s);
  Status began;
  Transaction t(archive_->db(), &began);
  if (!began.ok()) return ErrorOutcome(began);
  int filled = 0, added = 0;
  if (Status s = archive_->FillMissingColumns(d.local->id, d.entry, &filled); !s.ok()) return ErrorOutcome(s);
  if (Status s = archive_->AddRelations(d.local->id, d.entry, &added); !s.ok()) return ErrorOutcome(s);
  if (d.update_sha256) {
    if (Status s = archive_->SetSha256(d.local->id, d.digest.sha256); !s.ok()) return ErrorOutcome(s);
  }
  bool changed = filled > 0 || added > 0 || d.update_sha256;
  o.status = changed ? SyncStatus::kMerged : SyncStatus::kDuplicate;
  o.message = changed ? std::to_string(filled) + " columns filled, " + std::to_string(added) + " relations added" : "";
  if (!why.empty() && !o.message.empty()) o.message = why + ": " + o.message;
  if (!changed && prev && prev->IsFinal() && prev->image_id == d.local->id) {
    o.unchanged = true;  // already accounted for; leave the record as it is
    o.status = prev->status;
    return o;            // ~Transaction rolls back (nothing was written)
  }
  if (Status s = archive_->RecordSync(source.name, rel_path, d.local->id, *o.status, o.message, &prev); !s.ok())
    return ErrorOutcome(s);
  if (Status s = t.TryCommit(); !s.ok()) return ErrorOutcome(s);
  return o;
}

Status Importer::OtherImageAt(const fs::path& path, int64_t except_id, std::optional<LocalImage>* holder) {
  holder->reset();
  FileDigest digest;
  Status hashed = Sha256File(path, &digest);
  if (hashed.IsNotFound() || hashed.code() == Status::Code::kInvalid) return Status::Ok();  // nothing there to keep
  if (!hashed.ok()) return hashed;
  return archive_->FindOtherAtPath(digest.sha256, archive_->path_style().ToStored(path), except_id, holder);
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
    return ApplyRecordOnly(source, rel_path, conflict, SyncStatus::kFailed);
  }
  std::string moved;  // why the row's path changes, when it does
  if (!new_path) {
    // While this row's file was missing, its path was free on disk, and a
    // new image with the same author and file name (nothing indexes
    // local_path) may have been placed there. Replacing that file would
    // destroy the other image: this one goes beside it instead.
    std::optional<LocalImage> holder;
    if (Status s = OtherImageAt(target, d.local->id, &holder); !s.ok()) return ErrorOutcome(s);
    if (holder) {
      target = FreeNameIn(target.parent_path(), target.filename().string());
      author_folder = target.lexically_relative(archive_->image_root()).begin()->string();
      new_path = true;
      moved = "; " + d.local->local_path + " holds the file of image " + std::to_string(holder->id) +
              ", so the delivered file was placed beside it";
    }
  }
  std::vector<int64_t> placement;
  if (Status s = archive_->AddPlacements({{target, d.digest.sha256}}, &placement); !s.ok()) return ErrorOutcome(s);
  CrashPoint("after_journal");
  PlaceMethod method;
  if (Status s = ReplaceFile(d.file, target, d.digest, &method); !s.ok()) {
    archive_->AbandonPlacement(placement[0]);
    return ErrorOutcome(s);
  }
  if (new_path) counter_.Added(author_folder, target);
  CrashPoint("after_place");
  ImportOutcome o;
  o.image_id = d.local->id;
  o.local_path = new_path ? archive_->path_style().ToStored(target) : d.local->local_path;
  o.bytes = d.digest.size;
  o.status = SyncStatus::kRepaired;
  o.message = d.message + (moved.empty() ? "; replaced with the delivered file" : moved);
  // A failure from here on leaves the delivered bytes in place of a file
  // that was missing or corrupt: no worse than before. The journal row
  // stays; Recover() keeps the file because its row references it.
  Status began;
  Transaction t(archive_->db(), &began);
  if (!began.ok()) return ErrorOutcome(began);
  int filled = 0, added = 0;
  Status s = archive_->FillMissingColumns(d.local->id, d.entry, &filled);
  if (s.ok()) s = archive_->AddRelations(d.local->id, d.entry, &added);
  if (s.ok() && d.update_sha256) s = archive_->SetSha256(d.local->id, d.digest.sha256);
  if (s.ok() && new_path) s = archive_->SetLocalPath(d.local->id, o.local_path);
  if (s.ok()) s = archive_->RecordSync(source.name, rel_path, d.local->id, *o.status, o.message);
  if (s.ok()) s = archive_->RemovePlacement(placement[0]);
  if (!s.ok()) return ErrorOutcome(s);
  CrashPoint("before_commit");
  if (Status c = t.TryCommit(); !c.ok()) return ErrorOutcome(c);
  CrashPoint("after_commit");
  return o;
}

}  // namespace indafoto
