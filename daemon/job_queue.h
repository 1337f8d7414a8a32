// JobQueue: the daemon's pending work, and the order in which the worker
// takes it. Owned by the io thread (not thread-safe); the worker runs one
// job at a time.
//
// Priority: a catalog reload first (files may be waiting for it), then
// event-driven imports (per source, in arrival order), then a reconcile
// scan, then a publish, then one batch of the periodic verify (lowest, so
// deliveries never wait long behind it). Requests coalesce: one reconcile,
// one publish and one reload per source stand for any number asked for.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

namespace indafoto {

struct Job {
  enum class Kind { kNone, kReloadCatalog, kImportPaths, kReconcile, kPublish, kVerifyBatch };
  Kind kind = Kind::kNone;
  std::string source;              // kReloadCatalog, kImportPaths
  std::vector<std::string> paths;  // kImportPaths
};

class JobQueue {
 public:
  void RequestReload(const std::string& source) { reloads_.insert(source); }
  void AddImport(const std::string& source, const std::string& rel_path) { imports_[source].push_back(rel_path); }
  void RequestReconcile() { reconcile_ = true; }
  void RequestPublish() { publish_ = true; }
  // The periodic verify runs in batches until FinishVerify.
  void StartVerify() { verify_ = true; }
  void FinishVerify() { verify_ = false; }
  bool verify_running() const { return verify_; }

  bool empty() const { return reloads_.empty() && imports_.empty() && !reconcile_ && !publish_ && !verify_; }
  // Takes the most urgent job (kNone when empty). A verify batch stays
  // queued until FinishVerify.
  Job Next();

 private:
  std::set<std::string> reloads_;
  std::map<std::string, std::vector<std::string>> imports_;
  bool reconcile_ = false;
  bool publish_ = false;
  bool verify_ = false;
};

}  // namespace indafoto
