// Fuzz target: a remote source's indafoto.db copy (remote_db_path), mutated
// as a whole SQLite file. Each input is written to one temporary file (on
// /dev/shm when there is one) and read by RemoteDbCatalogReader::ReadAll,
// exactly as CatalogStore::Load reads it.
//
// SQLite must report every kind of damage as an error, never crash, and
// memory must stay bounded (libFuzzer's -rss_limit_mb / -malloc_limit_mb
// catch a runaway allocation). Every entry the reader hands on must be safe
// (relative path, lowercase hex sha256) and survive the catalog store's JSON
// round trip (fuzz/fuzz_util.h). The store itself is left out: it only
// writes those records, and it would halve the executions per second.
#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>

#include "fuzz/fuzz_util.h"
#include "lib/archive/layout.h"
#include "lib/catalog/remote_db_catalog.h"

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

Status CheckEntry(const RemoteImage& img) {
  if (!IsSafeRelativePath(img.rel_path)) fuzz::Fail("unsafe path accepted", img.rel_path);
  if (!img.sha256.empty() &&
      (img.sha256.size() != 64 || img.sha256.find_first_not_of("0123456789abcdef") != std::string::npos))
    fuzz::Fail("sha256 not 64 lowercase hex digits", img.sha256);
  fuzz::CheckRoundTrip(img);
  return Status::Ok();
}

}  // namespace

// The reader's warnings (refused rows) are formatted as in the daemon, then
// dropped: writing them to stderr would cost more than the reading.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  auto logger = std::make_shared<spdlog::logger>("fuzz", std::make_shared<spdlog::sinks::null_sink_mt>());
  logger->set_level(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::string path = TempPath();
  {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) std::abort();
    size_t done = 0;
    while (done < size) {
      ssize_t n = ::write(fd, data + done, size - done);
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
    ::close(fd);
  }
  RemoteDbCatalogReader reader(path);
  Status s = reader.ReadAll(CheckEntry);
  if (!s.ok() && s.message().empty()) fuzz::Fail("error without a message", "");
  RemoveFiles(path);  // and any -journal, -wal, -shm SQLite made
  return 0;
}
