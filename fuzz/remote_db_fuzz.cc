// Fuzz target: a remote source's indafoto.db copy (remote_db_path), mutated
// as a whole SQLite file. Each input is written to one temporary file (on
// /dev/shm when there is one) and read by RemoteDbCatalogReader, through
// CatalogStore::Load into an in-memory state database as the daemon does,
// then every stored record is read back.
//
// SQLite must report every kind of damage as an error, never crash, and
// memory must stay bounded (libFuzzer's -rss_limit_mb / -malloc_limit_mb
// catch a runaway allocation). Every entry the reader hands on must be safe
// (relative path, lowercase hex sha256) and survive the store's JSON round
// trip.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "fuzz/fuzz_util.h"
#include "lib/catalog.h"
#include "lib/layout.h"
#include "lib/remote_db_catalog.h"
#include "lib/sqlite.h"

using namespace indafoto;

namespace {

std::string TempPath() {
  std::filesystem::path dir = "/dev/shm";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    const char* t = std::getenv("TMPDIR");
    dir = t && *t ? t : "/tmp";
  }
  return (dir / ("indafoto-remote-db-fuzz-" + std::to_string(::getpid()) + ".db")).string();
}

void RemoveFiles(const std::string& path) {
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) ::unlink((path + suffix).c_str());
}

struct State {
  std::string path = TempPath();
  Database db;
  CatalogStore store;
  State() {
    if (!Database::Open(":memory:", Database::Mode::kReadWriteCreate, 0, &db).ok()) std::abort();
    if (!CatalogStore::Open(&db, &store).ok()) std::abort();
  }
  ~State() { RemoveFiles(path); }
};

// The reader under test, with a fingerprint that changes on every input
// (the real one, size and mtime, may repeat within a tick).
class Reader : public CatalogReader {
 public:
  explicit Reader(std::string path) : inner_(std::move(path)) {}
  Status Fingerprint(std::string* out) override {
    *out = "fuzz:" + std::to_string(++n_);
    return Status::Ok();
  }
  Status ReadAll(const std::function<Status(const RemoteImage&)>& sink) override {
    return inner_.ReadAll([&](const RemoteImage& img) -> Status {
      if (!IsSafeRelativePath(img.rel_path)) fuzz::Fail("unsafe path accepted", img.rel_path);
      if (!img.sha256.empty() &&
          (img.sha256.size() != 64 || img.sha256.find_first_not_of("0123456789abcdef") != std::string::npos))
        fuzz::Fail("sha256 not 64 lowercase hex digits", img.sha256);
      fuzz::CheckRoundTrip(img);
      return sink(img);
    });
  }
  std::string Describe() const override { return inner_.Describe(); }

 private:
  RemoteDbCatalogReader inner_;
  static inline uint64_t n_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static State* state = new State();
  {
    int fd = ::open(state->path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) std::abort();
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::write(fd, data + done, size - done);
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
    ::close(fd);
  }
  state->db.Exec(
      "DELETE FROM syncd_catalog_entries; DELETE FROM syncd_catalog_changes; DELETE FROM syncd_catalog_sources;");
  Reader reader(state->path);
  bool changed = false;
  Status s = state->store.Load("fuzz", reader, &changed);
  if (s.ok()) {
    // What the importer does with the stored catalog: every record parses.
    Status each = state->store.ForEach("fuzz", [](const RemoteImage&) { return Status::Ok(); });
    if (!each.ok()) fuzz::Fail("stored catalog does not read back", each.message());
  } else if (s.message().empty()) {
    fuzz::Fail("error without a message", "");
  }
  RemoveFiles(state->path);
  return 0;
}
