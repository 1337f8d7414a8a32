#include "lib/import/import_pass.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <deque>
#include <future>

#include "lib/import/received_folder.h"

namespace indafoto {

namespace {

// New images are applied in groups of this many (their journal commit and
// directory syncs shared, Importer::ApplyNewImages). A group also ends when
// the pipeline runs dry, so a lone delivery is committed at once.
constexpr size_t kNewImageBatch = 64;

// Hashes ahead on a pool of `hash_threads` threads while the calling
// thread decides and applies finished files in submission order: the hash
// of file N+k overlaps the commit of file N. At most kNewImageBatch +
// 2 x threads files are in flight, so memory does not grow with the folder.
class HashPipeline {
 public:
  HashPipeline(Importer& importer, const RemoteSource& source, const PassOptions& options, PassCounts* counts)
      : importer_(importer), source_(source), options_(options), counts_(counts),
        threads_(options.hash_threads > 0 ? options.hash_threads : 1), pool_(threads_),
        window_(kNewImageBatch + 2 * threads_) {}
  ~HashPipeline() { pool_.join(); }

  // `previous`, when given, is the path's latest record as just read.
  void Submit(const std::string& rel_path, const std::optional<SyncRecord>* previous = nullptr) {
    Decision examined = importer_.Examine(source_, rel_path);
    if (previous) {
      examined.previous_known = true;
      examined.previous = *previous;
    }
    if (!examined.awaiting_hash) {
      // Pending, refused or ignored without reading a byte; keeps order
      // with the files in flight by draining them first.
      Drain();
      Count(rel_path, importer_.Apply(source_, rel_path, examined));
      return;
    }
    while (inflight_.size() >= window_) ApplyOldest();
    std::filesystem::path file = examined.file;
    std::packaged_task<Hashed()> task([file]() {
      Hashed h;
      h.status = Sha256File(file, &h.digest);
      return h;
    });
    inflight_.push_back(Item{rel_path, std::move(examined), task.get_future()});
    boost::asio::post(pool_, std::move(task));
  }
  void Drain() {
    while (!inflight_.empty()) ApplyOldest();
    FlushNewImages();
  }

 private:
  struct Hashed {
    Status status;
    FileDigest digest;
  };
  struct Item {
    std::string rel_path;
    Decision decision;  // examined, awaiting its hash
    std::future<Hashed> hashed;
  };

  void ApplyOldest() {
    Item item = std::move(inflight_.front());
    inflight_.pop_front();
    Hashed h = item.hashed.get();
    Decision d = std::move(item.decision);
    importer_.DecideHashed(&d, h.status, h.digest);
    if (d.action == Action::kNew) {
      new_paths_.push_back(item.rel_path);
      new_decisions_.push_back(std::move(d));
      if (new_decisions_.size() >= kNewImageBatch || inflight_.empty()) FlushNewImages();
      return;
    }
    Count(item.rel_path, importer_.Apply(source_, item.rel_path, d));
  }

  void FlushNewImages() {
    if (new_decisions_.empty()) return;
    std::vector<ImportOutcome> outcomes = importer_.ApplyNewImages(source_, new_paths_, new_decisions_);
    for (size_t i = 0; i < outcomes.size(); ++i) Count(new_paths_[i], outcomes[i]);
    new_paths_.clear();
    new_decisions_.clear();
  }

  void Count(const std::string& rel_path, const ImportOutcome& o) {
    if (!o.error.ok()) ++counts_->errors;
    else if (o.unchanged) ++counts_->unchanged;
    else if (o.status) ++counts_->by_status[*o.status];
    if (o.status && TookImage(*o.status) && !o.unchanged) counts_->bytes += o.bytes;
    if (options_.on_outcome) options_.on_outcome(rel_path, o);
  }

  Importer& importer_;
  const RemoteSource& source_;
  const PassOptions& options_;
  PassCounts* counts_;
  size_t threads_;
  boost::asio::thread_pool pool_;
  size_t window_;
  std::deque<Item> inflight_;
  std::vector<std::string> new_paths_;  // decided new, waiting for FlushNewImages
  std::vector<Decision> new_decisions_;
};

}  // namespace

Status RunImportPass(Importer& importer, const RemoteSource& source, const PassOptions& options, PassCounts* counts) {
  HashPipeline pipeline(importer, source, options, counts);
  Status db_error;
  Status walk = WalkReceivedFolder(source.received_folder, [&](const std::string& rel) {
    if (options.should_stop && options.should_stop()) return false;
    ++counts->seen;
    bool accounted = false;
    std::optional<SyncRecord> record;
    if (Status s = importer.IsAccounted(source, rel, &accounted, &record); !s.ok()) {
      db_error = s;  // busy or corrupt: the pass ends, the next one retries
      return false;
    }
    if (accounted && !options.recheck_final) {
      ++counts->accounted;
      return true;
    }
    // The record goes with the file: Apply need not read it again.
    pipeline.Submit(rel, &record);
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
