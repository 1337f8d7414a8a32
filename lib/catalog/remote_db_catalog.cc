#include "lib/catalog/remote_db_catalog.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <vector>

#include "lib/archive/crawler_db.h"
#include "lib/util/file_util.h"
#include "lib/archive/layout.h"
#include "lib/util/sha256.h"

namespace indafoto {

namespace fs = std::filesystem;

namespace {
const char* const kArchiveFolder = "indafoto_archive";
// No value of a crawler row comes near this; a longer one fails the read
// (SQLITE_TOOBIG) instead of being built in memory.
constexpr int kMaxRemoteValueBytes = 1 << 20;
}

std::optional<std::string> ReceivedPathOf(const std::string& remote_local_path) {
  if (remote_local_path.find('\0') != std::string::npos) return std::nullopt;
  std::string p = remote_local_path;
  // A crawler on Windows stores backslashes; the crawler's sanitising never
  // leaves a backslash inside a name, so here it is always a separator.
  for (char& c : p) {
    if (c == '\\') c = '/';
  }
  std::vector<std::string> parts;
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find('/', start);
    if (end == std::string::npos) end = p.size();
    std::string part = p.substr(start, end - start);
    if (!part.empty() && part != ".") parts.push_back(part);
    start = end + 1;
  }
  size_t first = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i] == kArchiveFolder) {
      first = i + 1;
      break;
    }
  }
  bool absolute = !p.empty() && p.front() == '/';
  if (absolute && first == 0) return std::nullopt;  // cannot tell where the archive starts
  std::string rel;
  for (size_t i = first; i < parts.size(); ++i) {
    if (!rel.empty()) rel += '/';
    rel += parts[i];
  }
  if (!IsSafeRelativePath(rel)) return std::nullopt;
  return rel;
}

Status RemoteDbCatalogReader::Fingerprint(std::string* out) {
  struct stat st;
  if (::stat(db_path_.c_str(), &st) != 0) return Status::FromErrno(errno, "remote database " + db_path_.string());
  *out = "remote-db:" + std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
  return Status::Ok();
}

Status RemoteDbCatalogReader::ReadAll(const std::function<Status(const RemoteImage&)>& sink) {
  refused_ = 0;
  {
    // SQLite's open() would block for ever on a FIFO: look first, without
    // blocking. (The configured path may be a symlink; what it resolves to
    // must be a regular file.)
    std::error_code ec;
    fs::path real = fs::canonical(db_path_, ec);
    UniqueFd probe;
    if (Status s = OpenRegularFile(ec ? db_path_ : real, "remote database", &probe); !s.ok())
      return s.code() == Status::Code::kInvalid ? Status::Corrupt(s.message()) : s;
  }
  Database db;
  if (Status s = Database::Open(db_path_.string(), Database::Mode::kReadOnly, 5000, &db); !s.ok()) return s;
  // A hostile copy must not make us build huge values: a 1 KB file whose
  // images.local_path is generated as printf('%.*c', 900000000, 'x') took
  // gigabytes and minutes (seen with fuzz/remote_db_fuzz.cc, hand-made input).
  sqlite3_limit(db.raw(), SQLITE_LIMIT_LENGTH, kMaxRemoteValueBytes);
  CrawlerSchema schema;
  if (Status s = ProbeCrawlerSchema(db, &schema); !s.ok()) return Status::Corrupt(Describe() + ": " + s.message());
  // One read transaction: a consistent snapshot even if the copy is being
  // replaced under us.
  Status began;
  Transaction snapshot(db, &began, /*immediate=*/false);
  if (!began.ok()) return Status::Corrupt(Describe() + ": " + began.message());
  Status from_sink;
  Status read = ReadCrawlerImages(db, schema, [&](CrawlerRow& row) -> Status {
    // A publisher leaves its banned authors' images out (opt-outs both ways).
    if (row.banned) return Status::Ok();
    std::optional<std::string> rel = ReceivedPathOf(row.local_path);
    if (!rel) {
      ++refused_;
      spdlog::warn("{}: image id {} has an unusable local_path '{}'; entry refused", Describe(), row.id,
                   row.local_path);
      return Status::Ok();
    }
    RemoteImage& img = row.image;
    img.rel_path = *rel;
    const Value& sha = img.Get("sha256_hash");
    if (!sha.IsMissing()) {
      std::string hex = sha.ToString();
      for (char& c : hex) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!IsSha256Hex(hex)) {
        ++refused_;
        spdlog::warn("{}: image id {} has a malformed sha256_hash; entry refused", Describe(), row.id);
        return Status::Ok();
      }
      img.sha256 = hex;
    }
    from_sink = sink(img);
    return from_sink;
  });
  // The sink's own errors (the catalog store's) pass as they are; the
  // copy's are named as the copy's.
  if (!from_sink.ok()) return from_sink;
  if (!read.ok()) return Status::Corrupt(Describe() + ": " + read.message());
  return Status::Ok();
}

}  // namespace indafoto
