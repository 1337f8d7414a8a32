// Verifying the local archive: every image's file exists and matches the
// sha256 its row records. `indafoto-syncd verify` and the daemon's periodic
// verify both walk the images with CheckLocalFiles, in id order and in
// batches (so the daemon can interleave imports), heal what they can with
// Importer::HealLocalFile, and record a VerifySummary in the state
// database, which `status` reports until the next verify.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "lib/archive/archive_db.h"
#include "lib/util/sqlite.h"
#include "lib/util/status.h"

namespace indafoto {

struct LocalFileCheck {
  LocalImage image;
  std::string problem;  // "" (verifies), "missing", "mismatch", "unreadable"
  std::string detail;
  std::string file_sha256;  // of the file found, when it is a mismatch
};

struct VerifyCursor {
  int64_t after_id = 0;  // images with a larger id are still to check
  bool done = false;
};

// Checks the files of up to `limit` images with id > cursor->after_id, in id
// order, hashing on `threads` threads, and advances the cursor. Appends one
// entry per image checked to `out`. A FIFO or device at an image's path is
// "unreadable" and never blocks. Database errors come back as a Status.
Status CheckLocalFiles(ArchiveDb& archive, int threads, int64_t limit, VerifyCursor* cursor,
                       std::vector<LocalFileCheck>* out);

class Importer;
struct RemoteSource;

struct VerifySummary {
  std::string finished_at;  // UTC "YYYY-MM-DD HH:MM:SS"
  int64_t checked = 0;
  int64_t without_sha256 = 0;  // existence checked only
  int64_t missing = 0;
  int64_t corrupt = 0;         // mismatch or unreadable
  int64_t healed = 0;          // of missing + corrupt
  int64_t Unhealed() const { return missing + corrupt - healed; }
};

// One batch of a verify: CheckLocalFiles, then each problem counted into
// `summary` and, with `importer`, healed (Importer::HealLocalFile from the
// received folders of `sources`). `on_problem` (may be empty) hears of each
// problem with where it was healed from ("" when not) and why not.
using ProblemReport = std::function<void(const LocalFileCheck&, const std::string& healed_from, const Status& why_not)>;
Status VerifyBatch(ArchiveDb& archive, Importer* importer, const std::vector<RemoteSource>& sources, int threads,
                   int64_t limit, VerifyCursor* cursor, VerifySummary* summary, const ProblemReport& on_problem);

// The latest summary lives in the state database (one row).
Status RecordVerifySummary(Database& state, const VerifySummary& summary);
// False when no verify ever recorded one.
bool ReadVerifySummary(Database& state, VerifySummary* out);

}  // namespace indafoto
