#include "lib/import/import_pass.h"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <deque>
#include <future>
#include <memory>
#include <mutex>

#include "lib/import/received_folder.h"

namespace indafoto {

namespace {

// New images are applied in groups of this many (their journal commit and
// directory syncs shared, Importer::ApplyNewImages). A group also ends when
// the pipeline runs dry, so a lone delivery is committed at once.
constexpr size_t kNewImageBatch = 64;

// Read-only catalog connections for the hashing threads, lent out one at a
// time and kept for the pass, so each thread looks up the catalog entry of
// the file it hashes (the lookup and the entry's parsing are about a sixth
// of what the applying thread did per file before).
class CatalogReaders {
 public:
  struct Reader {
    Database db;
    CatalogStore catalog;
  };
  // `file` is the state database; "" (an in-memory store) means none.
  explicit CatalogReaders(std::string file) : file_(std::move(file)) {}
  bool available() const { return !file_.empty(); }

  Status Borrow(std::unique_ptr<Reader>* out) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        *out = std::move(idle_.back());
        idle_.pop_back();
        return Status::Ok();
      }
    }
    auto reader = std::make_unique<Reader>();
    if (Status s = CatalogStore::OpenReader(file_, &reader->db, &reader->catalog); !s.ok()) return s;
    *out = std::move(reader);
    return Status::Ok();
  }
  void Return(std::unique_ptr<Reader> reader) {
    std::lock_guard<std::mutex> lock(mu_);
    idle_.push_back(std::move(reader));
  }

 private:
  const std::string file_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Reader>> idle_;
};

// Examines and hashes ahead on a pool of `hash_threads` threads while the
// calling thread decides and applies finished files in submission order:
// the hash of file N+k overlaps the commit of file N. At most
// kNewImageBatch + 2 x threads files are in flight, so memory does not
// grow with the folder. The applying thread keeps everything that touches
// indafoto.db; the pool reads only the received folder and the catalog
// (which no one changes during a pass: loads and passes run one after the
// other on the applying thread).
class HashPipeline {
 public:
  HashPipeline(Importer& importer, const RemoteSource& source, const PassOptions& options, PassCounts* counts)
      : importer_(importer), source_(source), options_(options), counts_(counts),
        readers_(importer.catalog().DatabaseFile()), threads_(options.hash_threads > 0 ? options.hash_threads : 1),
        pool_(threads_), window_(kNewImageBatch + 2 * threads_) {}
  ~HashPipeline() { pool_.join(); }

  // `previous`, when given, is the path's latest record as just read.
  void Submit(const std::string& rel_path, const std::optional<SyncRecord>* previous = nullptr) {
    while (inflight_.size() >= window_) ApplyOldest();
    Item item{rel_path, previous != nullptr, previous ? *previous : std::nullopt, {}};
    // Without a catalog file to share (an in-memory state database), this
    // thread examines and the pool only hashes.
    std::optional<Decision> examined;
    if (!readers_.available()) examined = importer_.Examine(source_, rel_path);
    std::packaged_task<Worked()> task([this, rel_path, examined = std::move(examined)]() mutable {
      Worked w;
      if (examined) {
        w.decision = std::move(*examined);
      } else {
        std::unique_ptr<CatalogReaders::Reader> reader;
        if (Status s = readers_.Borrow(&reader); !s.ok()) {
          w.decision.error = s;  // retried by the next pass
          w.decision.message = s.message();
          return w;
        }
        w.decision = ExamineDelivery(reader->catalog, source_, rel_path);
        readers_.Return(std::move(reader));
      }
      if (w.decision.awaiting_hash) w.hashed = Sha256File(w.decision.file, &w.digest);
      return w;
    });
    item.worked = task.get_future();
    inflight_.push_back(std::move(item));
    boost::asio::post(pool_, std::move(task));
  }
  void Drain() {
    while (!inflight_.empty()) ApplyOldest();
    FlushNewImages();
  }

 private:
  struct Worked {
    Decision decision;  // examined; awaiting_hash: hashed too
    Status hashed;
    FileDigest digest;
  };
  struct Item {
    std::string rel_path;
    bool previous_known = false;
    std::optional<SyncRecord> previous;
    std::future<Worked> worked;
  };

  void ApplyOldest() {
    Item item = std::move(inflight_.front());
    inflight_.pop_front();
    Worked w = item.worked.get();
    Decision d = std::move(w.decision);
    if (item.previous_known) {
      d.previous_known = true;
      d.previous = std::move(item.previous);
    }
    if (d.awaiting_hash) importer_.DecideHashed(&d, w.hashed, w.digest);
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
  CatalogReaders readers_;
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
