#include "daemon/job_queue.h"

namespace indafoto {

Job JobQueue::Next() {
  Job job;
  if (!reloads_.empty()) {
    job.kind = Job::Kind::kReloadCatalog;
    job.source = *reloads_.begin();
    reloads_.erase(reloads_.begin());
  } else if (!imports_.empty()) {
    auto it = imports_.begin();
    job.kind = Job::Kind::kImportPaths;
    job.source = it->first;
    job.paths = std::move(it->second);
    imports_.erase(it);
  } else if (reconcile_) {
    reconcile_ = false;
    job.kind = Job::Kind::kReconcile;
  } else if (publish_) {
    publish_ = false;
    job.kind = Job::Kind::kPublish;
  } else if (verify_) {
    job.kind = Job::Kind::kVerifyBatch;
  }
  return job;
}

}  // namespace indafoto
