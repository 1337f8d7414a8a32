#include "lib/import_pass.h"

#include <deque>
#include <future>

#include "lib/received_folder.h"

namespace indafoto {

namespace {

// Keeps up to `limit` hashes running on their own threads, and applies
// finished ones in submission order on the calling thread.
class HashPipeline {
 public:
  HashPipeline(Importer& importer, const RemoteSource& source, const PassOptions& options, PassCounts* counts)
      : importer_(importer), source_(source), options_(options), counts_(counts),
        limit_(options.hash_threads > 0 ? options.hash_threads : 1) {}

  void Submit(const std::string& rel_path) {
    if (!importer_.InCatalog(source_, rel_path)) {
      // Pending (or ignored) without reading a byte; keeps order with the
      // files in flight by draining them first.
      Drain();
      Count(rel_path, importer_.ImportFile(source_, rel_path));
      return;
    }
    while (inflight_.size() >= limit_) ApplyOldest();
    fs_path root = source_.local_path;
    inflight_.push_back(Item{rel_path, std::async(std::launch::async, [root, rel_path]() {
                               Hashed h;
                               std::filesystem::path file;
                               h.status = ResolveReceivedFile(root, rel_path, &file);
                               if (h.status.ok()) h.status = Sha256File(file, &h.digest);
                               return h;
                             })});
  }
  void Drain() {
    while (!inflight_.empty()) ApplyOldest();
  }

 private:
  using fs_path = std::filesystem::path;
  struct Hashed {
    Status status;
    FileDigest digest;
  };
  struct Item {
    std::string rel_path;
    std::future<Hashed> hashed;
  };

  void ApplyOldest() {
    Item item = std::move(inflight_.front());
    inflight_.pop_front();
    Hashed h = item.hashed.get();
    // A failed hash (vanished, symlink, I/O) is re-derived by Decide so the
    // outcome carries the proper reason.
    ImportOutcome o = importer_.ImportFile(source_, item.rel_path, h.status.ok() ? &h.digest : nullptr);
    Count(item.rel_path, o);
  }

  void Count(const std::string& rel_path, const ImportOutcome& o) {
    if (!o.error.ok()) ++counts_->errors;
    else if (o.unchanged) ++counts_->unchanged;
    else if (!o.status.empty()) ++counts_->by_status[o.status];
    if (sync_status::TookImage(o.status) && !o.unchanged) counts_->bytes += o.bytes;
    if (options_.on_outcome) options_.on_outcome(rel_path, o);
  }

  Importer& importer_;
  const RemoteSource& source_;
  const PassOptions& options_;
  PassCounts* counts_;
  size_t limit_;
  std::deque<Item> inflight_;
};

}  // namespace

Status RunImportPass(Importer& importer, ArchiveDb& archive, const RemoteSource& source, const PassOptions& options,
                     PassCounts* counts) {
  // Metadata first: images already here whose catalog entry changed.
  int64_t merged = 0;
  Status changes = importer.MergeCatalogChanges(source, &merged);
  if (merged > 0) counts->by_status[sync_status::kMerged] += merged;
  if (!changes.ok()) return changes;
  HashPipeline pipeline(importer, source, options, counts);
  Status db_error;
  Status walk = WalkReceivedFolder(source.local_path, [&](const std::string& rel) {
    if (options.should_stop && options.should_stop()) return false;
    ++counts->seen;
    if (!options.recheck_final) {
      try {
        std::optional<SyncRecord> r = archive.FindSyncRecord(source.name, rel);
        if (r && sync_status::IsFinal(r->status)) {
          ++counts->accounted;
          return true;
        }
      } catch (const SqliteError& e) {
        db_error = e.ToStatus();
        return false;
      }
    }
    pipeline.Submit(rel);
    return true;
  });
  pipeline.Drain();
  if (!db_error.ok()) return db_error;
  return walk;
}

Status ImportPaths(Importer& importer, const RemoteSource& source, const std::vector<std::string>& rel_paths,
                   const PassOptions& options, PassCounts* counts) {
  HashPipeline pipeline(importer, source, options, counts);
  for (const auto& rel : rel_paths) {
    if (options.should_stop && options.should_stop()) break;
    ++counts->seen;
    pipeline.Submit(rel);
  }
  pipeline.Drain();
  return Status::Ok();
}

}  // namespace indafoto
