// Over 450 lines: the manifest directory writer and the publish pass that
// feeds it share the format's invariants (docs/manifest.md).
#include "lib/catalog/manifest_writer.h"

#include <dirent.h>
#include <fcntl.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <system_error>
#include <unordered_set>

#include "lib/util/file_util.h"
#include "lib/archive/crawler_db.h"
#include "lib/archive/layout.h"
#include "lib/catalog/manifest_reader.h"
#include "lib/catalog/part_file.h"
#include "lib/catalog/publish_changes.h"
#include "lib/archive/remote_image.h"
#include "lib/util/sha256.h"
#include "lib/util/sqlite.h"

namespace indafoto {

namespace fs = std::filesystem;

namespace {


bool IsOurTemp(std::string_view name) {
  return name.substr(0, kTempPrefix.size()) == kTempPrefix && name.find(kTempMarker) != std::string_view::npos;
}

// Writes `content` to dir/name through a temp file in the same directory:
// write, fsync, rename. The directory itself is fsynced by the caller (once
// for many files).
Status WriteFileAtomically(const fs::path& dir, const std::string& name, std::string_view content) {
  static std::atomic<uint64_t> counter{0};
  std::string tmp_name = std::string(kTempPrefix) + name + std::string(kTempMarker) + std::to_string(::getpid()) +
                         "-" + std::to_string(counter++) + ".tmp";
  fs::path tmp = dir / tmp_name;
  fs::path final_path = dir / name;
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (!fd.valid()) return Status::FromErrno(errno, "create " + tmp.string());
  Status s = WriteAll(fd.get(), content, tmp.string());
  if (s.ok() && ::fsync(fd.get()) != 0) s = Status::FromErrno(errno, "fsync " + tmp.string());
  fd.Reset();
  if (s.ok() && ::rename(tmp.c_str(), final_path.c_str()) != 0)
    s = Status::FromErrno(errno, "rename " + tmp.string() + " to " + final_path.string());
  if (!s.ok()) ::unlink(tmp.c_str());
  return s;
}

std::string NowIso8601() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Mkdir that refuses to work through a symlink: .indafoto-sync/ must be a
// real directory of the shared folder.
Status EnsureRealDir(const fs::path& dir) {
  struct stat st;
  if (::lstat(dir.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return Status::Ok();
    return Status::Invalid(dir.string() + " exists but is not a directory (a symlink is not accepted)");
  }
  if (errno != ENOENT) return Status::FromErrno(errno, "stat " + dir.string());
  if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return Status::FromErrno(errno, "mkdir " + dir.string());
  return Status::Ok();
}

Status ReadPreviousIndex(const fs::path& file, SignedManifest* outer, ManifestPayload* payload) {
  UniqueFd fd;
  if (Status s = OpenRegularFile(file, "previous manifest", &fd); !s.ok()) return s;
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno(errno, "stat " + file.string());
  if (!S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) > kMaxIndexBytes)
    return Status::Corrupt(file.string() + " is not a regular file of sane size");
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  if (Status s = ParseSignedManifest(text, outer); !s.ok()) return s;
  // An index that does not verify (damaged, edited) must be replaced, not
  // kept as "unchanged".
  if (Status s = VerifySignatureBase64(outer->payload, outer->signature, outer->public_key); !s.ok()) return s;
  return ParseManifestPayload(outer->payload, payload);
}

// Remembers directories under the image root already checked to be real
// directories (no symlink on the way): Syncthing does not follow symlinks,
// so a file reached through one would never reach a peer.
class RealDirCache {
 public:
  explicit RealDirCache(fs::path root) : root_(std::move(root)) {}
  bool IsReal(const std::string& rel_dir) {
    if (rel_dir.empty()) return true;
    if (known_.count(rel_dir)) return true;
    if (known_.size() > 100000) known_.clear();  // bound memory on huge trees
    size_t pos = 0;
    while (true) {
      size_t slash = rel_dir.find('/', pos);
      std::string prefix = rel_dir.substr(0, slash);
      if (!known_.count(prefix)) {
        struct stat st;
        fs::path p = root_ / prefix;
        if (::lstat(p.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return false;
        known_.insert(prefix);
      }
      if (slash == std::string::npos) break;
      pos = slash + 1;
    }
    return true;
  }

 private:
  fs::path root_;
  std::unordered_set<std::string> known_;
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::string PartFileName(int64_t k, std::string_view sha256_hex) {
  return std::to_string(k) + "-" + std::string(sha256_hex.substr(0, 16)) + std::string(PartSuffix(kManifestVersion));
}

bool PartNumberOf(std::string_view name, int64_t* k) {
  size_t dash = name.find('-');
  if (dash == 0 || dash == std::string_view::npos || dash > 18) return false;
  int64_t v = 0;
  for (size_t i = 0; i < dash; ++i) {
    if (name[i] < '0' || name[i] > '9') return false;
    v = v * 10 + (name[i] - '0');
  }
  *k = v;
  return true;
}

std::string ManifestPayloadToJson(const ManifestPayload& p) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("version");
  w.Int64(p.version);
  w.Key("sequence");
  w.Uint64(p.sequence);
  w.Key("generated_at");
  w.String(p.generated_at.c_str());
  w.Key("image_count");
  w.Int64(p.image_count);
  w.Key("parts");
  w.StartArray();
  for (const auto& part : p.parts) {
    w.StartObject();
    w.Key("name");
    w.String(part.name.c_str());
    w.Key("sha256");
    w.String(part.sha256.c_str());
    w.Key("size");
    w.Int64(part.size);
    w.Key("count");
    w.Int64(part.count);
    w.EndObject();
  }
  w.EndArray();
  auto strings = [&w](const char* key, const std::vector<std::string>& list) {
    if (list.empty()) return;
    w.Key(key);
    w.StartArray();
    for (const auto& x : list) w.String(x.c_str(), static_cast<rapidjson::SizeType>(x.size()));
    w.EndArray();
  };
  strings("peers", p.peers);
  strings("banned_authors", p.banned_authors);
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize());
}

std::string SignManifest(std::string_view payload_json, const PublisherKey& key) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("format");
  w.String(kManifestFormat.data(), static_cast<rapidjson::SizeType>(kManifestFormat.size()));
  w.Key("payload");
  w.String(payload_json.data(), static_cast<rapidjson::SizeType>(payload_json.size()));
  w.Key("public_key");
  w.String(key.PublicKeyBase64().c_str());
  w.Key("signature");
  w.String(key.SignBase64(payload_json).c_str());
  w.EndObject();
  return std::string(buf.GetString(), buf.GetSize()) + "\n";
}

// ---------------------------------------------------------------------
// ManifestDirWriter

Status ManifestDirWriter::Open(const fs::path& image_root) {
  struct stat st;
  if (::stat(image_root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return Status::NotFound("image root " + image_root.string() + " is not a directory");
  dir_ = image_root / std::string(kManifestDirName);
  parts_ = dir_ / std::string(kPartsDirName);
  if (Status s = EnsureRealDir(dir_); !s.ok()) return s;
  if (Status s = EnsureRealDir(parts_); !s.ok()) return s;

  lock_ = UniqueFd(::open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!lock_.valid()) return Status::FromErrno(errno, "open " + dir_.string());
  if (::flock(lock_.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno == EWOULDBLOCK) return Status::Busy("another publish is writing " + dir_.string() + " right now");
    return Status::FromErrno(errno, "lock " + dir_.string());
  }

  // Temp files of ours left by a crash (we hold the lock, so none is live).
  for (const fs::path& d : {dir_, parts_}) {
    std::error_code ec;
    for (fs::directory_iterator it(d, ec), end; !ec && it != end; it.increment(ec)) {
      std::string name = it->path().filename().string();
      if (IsOurTemp(name)) ::unlink(it->path().c_str());
    }
  }

  SignedManifest outer;
  ManifestPayload payload;
  fs::path index = dir_ / std::string(kManifestFileName);
  Status s = ReadPreviousIndex(index, &outer, &payload);
  if (s.ok()) {
    struct stat ist;
    if (::lstat(index.c_str(), &ist) == 0) previous_index_mtime_ = ist.st_mtim;
    have_previous_ = true;
    previous_sequence_ = payload.sequence;
    previous_key_ = outer.public_key;
    previous_parts_ = std::move(payload.parts);
    previous_peers_ = std::move(payload.peers);
    previous_banned_authors_ = std::move(payload.banned_authors);
  } else if (!s.IsNotFound()) {
    spdlog::warn("publish: the existing {} is unreadable ({}); it will be replaced and the sequence restarts at 1",
                 index.string(), s.ToString());
  }
  return Status::Ok();
}

Status ManifestDirWriter::AddPart(int64_t k, std::string_view lines, int64_t count) {
  if (k <= last_k_) return Status::Invalid("parts must be added in increasing order");
  last_k_ = k;
  const std::string content = EncodePart(kManifestVersion, lines);
  ManifestPart part;
  part.sha256 = Sha256Hex(content);
  part.name = PartFileName(k, part.sha256);
  part.size = static_cast<int64_t>(content.size());
  part.count = count;
  fs::path path = parts_ / part.name;
  // An identical part already in place keeps its bytes and mtime: Syncthing
  // then has nothing to announce for it. Checked by full hash, not by name,
  // so a damaged copy is repaired.
  struct stat st;
  bool same = false;
  if (::lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_size == part.size) {
    FileDigest d;
    same = Sha256File(path, &d).ok() && d.sha256 == part.sha256;
  }
  if (!same) {
    if (Status s = WriteFileAtomically(parts_, part.name, content); !s.ok()) return s;
    ++parts_written_;
    bytes_written_ += part.size;
  }
  parts_list_.push_back(std::move(part));
  return Status::Ok();
}

Status ManifestDirWriter::ReusePart(const ManifestPart& previous) {
  int64_t k = 0;
  if (!PartNumberOf(previous.name, &k)) return Status::Invalid("part name " + previous.name + " has no number");
  if (k <= last_k_) return Status::Invalid("parts must be added in increasing order");
  // Not hashed again (that is the saving). A part is written before the
  // index that names it: one modified since the index was written has been
  // touched by someone else, and is made again (AddPart then repairs it).
  // Damage that keeps size and mtime is repaired by the next full read
  // (PublishOptions::full_interval_seconds).
  if (!HasPartSuffix(previous.name, kManifestVersion))
    return Status::NotFound("part " + previous.name + " is in an older format");
  struct stat st;
  fs::path path = parts_ / previous.name;
  auto later = [](const timespec& a, const timespec& b) {
    return a.tv_sec != b.tv_sec ? a.tv_sec > b.tv_sec : a.tv_nsec > b.tv_nsec;
  };
  if (::lstat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size != previous.size ||
      later(st.st_mtim, previous_index_mtime_))
    return Status::NotFound("part " + previous.name + " is not in place as written");
  last_k_ = k;
  parts_list_.push_back(previous);
  return Status::Ok();
}

Status ManifestDirWriter::Commit(const PublisherKey& key, PublishReport* report) {
  if (!lock_.valid()) return Status::Invalid("ManifestDirWriter::Commit without Open");
  const std::string pk = key.PublicKeyBase64();
  int64_t image_count = 0, bytes = 0;
  for (const auto& p : parts_list_) {
    image_count += p.count;
    bytes += p.size;
  }
  report->parts = static_cast<int64_t>(parts_list_.size());
  report->parts_written = parts_written_;
  report->image_count = image_count;
  report->public_key = pk;
  report->manifest_path = dir_ / std::string(kManifestFileName);
  report->key_changed = have_previous_ && previous_key_ != pk;
  if (report->key_changed)
    spdlog::warn("publish: the previous manifest was signed by key {}, this one by {}; receivers that pinned the old "
                 "key will reject it until their operators accept the new key",
                 previous_key_, pk);

  // Parts are durable before an index can name them.
  if (parts_written_ > 0) {
    if (Status s = FsyncDirectory(parts_); !s.ok()) return s;
  }

  fs::path index = dir_ / std::string(kManifestFileName);
  if (have_previous_ && !report->key_changed && previous_parts_ == parts_list_ && previous_peers_ == peers_ &&
      previous_banned_authors_ == banned_authors_) {
    struct stat st;
    report->unchanged = true;
    report->sequence = previous_sequence_;
    report->bytes_total = bytes + (::stat(index.c_str(), &st) == 0 ? st.st_size : 0);
    report->bytes_written = bytes_written_;
    return Status::Ok();
  }

  ManifestPayload payload;
  payload.version = kManifestVersion;
  payload.sequence = have_previous_ ? previous_sequence_ + 1 : 1;
  payload.generated_at = NowIso8601();
  payload.image_count = image_count;
  payload.parts = parts_list_;
  payload.peers = peers_;
  payload.banned_authors = banned_authors_;
  std::string text = SignManifest(ManifestPayloadToJson(payload), key);
  if (Status s = WriteFileAtomically(dir_, std::string(kManifestFileName), text); !s.ok()) return s;
  if (Status s = FsyncDirectory(dir_); !s.ok()) return s;
  report->sequence = payload.sequence;
  report->bytes_total = bytes + static_cast<int64_t>(text.size());
  report->bytes_written = bytes_written_ + static_cast<int64_t>(text.size());

  // Now that the new index is in place: drop parts neither it nor the
  // previous index names (one generation of grace for slow peers).
  std::set<std::string> keep;
  for (const auto& p : parts_list_) keep.insert(p.name);
  for (const auto& p : previous_parts_) keep.insert(p.name);
  std::error_code ec;
  for (fs::directory_iterator it(parts_, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (keep.count(name) || IsOurTemp(name)) continue;
    if (!HasAnyPartSuffix(name)) continue;
    if (::unlink(it->path().c_str()) == 0) ++report->parts_removed;
    else spdlog::warn("publish: cannot remove superseded part {}: {}", it->path().string(), std::strerror(errno));
  }
  if (report->parts_removed > 0) (void)FsyncDirectory(parts_);
  return Status::Ok();
}

// ---------------------------------------------------------------------
// PublishManifest

namespace {

// What an incremental publish needs besides the options: the baseline key
// it checks the tracking against, and what it reports back for
// CommitPublishTracking.
struct IncrementalContext {
  PublishBaselineKey key;
  PublishTracking tracking;
  std::set<int64_t> read_parts;   // parts made from the database
  std::vector<int64_t> absent;    // left out in them for want of a file
};

Status PublishFromDatabase(const PublishOptions& o, Database& db, ManifestDirWriter& writer, PublishReport* r,
                           IncrementalContext* inc) {
  std::error_code ec;
  const fs::path root_lexical = fs::absolute(o.image_root).lexically_normal();
  const fs::path root_canonical = fs::weakly_canonical(root_lexical, ec);
  const fs::path db_dir = fs::absolute(o.database_path).lexically_normal().parent_path();
  RealDirCache dirs(root_lexical);

  // One read transaction: the snapshot starts at the first read below and
  // everything (schema, rows, relations) comes from it.
  Transaction txn(db, /*immediate=*/false);
  CrawlerSchema schema;
  if (Status s = ProbeCrawlerSchema(db, &schema); !s.ok())
    return s.code() == Status::Code::kCorrupt ? Status::Corrupt(o.database_path.string() + ": " + s.message()) : s;
  LocalPathStyle style = LocalPathStyle::Learn(schema.sample_local_path, db_dir, root_lexical);
  const bool has_sha256 = schema.HasColumn("sha256_hash");

  std::string part;
  int64_t part_k = -1, part_count = 0;
  auto flush = [&]() -> Status {
    if (part_count == 0) return Status::Ok();
    Status s = writer.AddPart(part_k, part, part_count);
    part.clear();
    part_count = 0;
    return s;
  };

  // Emits the images with lo <= id <= hi (parts in increasing order).
  auto emit_range = [&](int64_t lo, int64_t hi) -> Status {
  Status read = ReadCrawlerImages(db, schema, lo, hi, [&](CrawlerRow& row) -> Status {
    ++r->rows;
    const int64_t id = row.id;
    if (row.banned) {
      ++r->banned;
      return Status::Ok();
    }
    const std::string& local_path = row.local_path;
    if (local_path.empty()) {
      ++r->no_file;
      return Status::Ok();
    }
    fs::path abs = style.ToAbsolute(local_path);
    fs::path rel = abs.lexically_relative(root_lexical);
    if ((rel.empty() || *rel.begin() == "..") && !root_canonical.empty())
      rel = abs.lexically_relative(root_canonical);
    std::string rel_s = rel.generic_string();
    if (rel.empty() || *rel.begin() == ".." || !IsSafeRelativePath(rel_s) ||
        *rel.begin() == std::string(kManifestDirName)) {
      ++r->outside_root;
      spdlog::debug("publish: image id {} local_path '{}' is not under {}; left out", id, local_path,
                    root_lexical.string());
      return Status::Ok();
    }

    RemoteImage& img = row.image;
    img.rel_path = std::move(rel_s);
    std::string sha;
    if (has_sha256) {
      const Value& v = img.Get("sha256_hash");
      if (v.type == Value::Type::kText && IsSha256Hex(v.text)) sha = Lower(v.text);
    }
    if (o.benchmark_skip_file_checks) {
      if (sha.empty()) {
        ++r->no_file;
        return Status::Ok();
      }
      img.size = 0;
    } else {
      fs::path file = root_lexical / img.rel_path;
      std::string rel_dir = img.rel_path.substr(0, img.rel_path.rfind('/') == std::string::npos ? 0 : img.rel_path.rfind('/'));
      struct stat st;
      if (!dirs.IsReal(rel_dir) || ::lstat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
        ++r->no_file;
        if (inc) inc->absent.push_back(id);  // rechecked by every publish
        spdlog::debug("publish: image id {}: {} is missing or not a regular file; left out", id, file.string());
        return Status::Ok();
      }
      img.size = st.st_size;
      if (sha.empty()) {
        // Old crawler rows carry no digest: hash the file (the database is
        // not written; the importer on the other side verifies anyway).
        FileDigest d;
        if (!Sha256File(file, &d).ok()) {
          ++r->no_file;
          if (inc) inc->absent.push_back(id);
          return Status::Ok();
        }
        ++r->hashed;
        sha = d.sha256;
        img.size = d.size;
      }
    }
    img.sha256 = std::move(sha);

    const int64_t k = id / o.images_per_part;
    if (k != part_k) {
      if (Status s = flush(); !s.ok()) return s;
      part_k = k;
    }
    part += RemoteImageToJson(img);
    part += '\n';
    ++part_count;
    return Status::Ok();
  });
  if (!read.ok()) return read;
  return flush();
  };

  if (inc) {
    if (Status s = ReadPublishTracking(db, inc->key, &inc->tracking); !s.ok()) return s;
    r->incremental = inc->tracking.incremental;
    r->full_reason = inc->tracking.why_full;
  }
  if (!r->incremental) {
    if (Status s = emit_range(std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()); !s.ok())
      return s;
  } else {
    // Parts of the previous index are taken over unread unless one of
    // their images changed (or their file is not in place); changed parts
    // are made again from their id range, in part order.
    std::map<int64_t, const ManifestPart*> previous;
    for (const auto& p : writer.previous_parts()) {
      int64_t k = 0;
      if (PartNumberOf(p.name, &k)) previous[k] = &p;
    }
    std::set<int64_t> order(inc->tracking.dirty_parts.begin(), inc->tracking.dirty_parts.end());
    for (const auto& [k, p] : previous) order.insert(k);
    const int64_t P = o.images_per_part;
    for (int64_t k : order) {
      auto it = previous.find(k);
      if (!inc->tracking.dirty_parts.count(k) && it != previous.end()) {
        Status s = writer.ReusePart(*it->second);
        if (s.ok()) {
          ++r->parts_reused;
          continue;
        }
        if (!s.IsNotFound()) return s;
      }
      inc->read_parts.insert(k);
      ++r->parts_read;
      if (Status s = emit_range(k * P, k * P + (P - 1)); !s.ok()) return s;
    }
  }
  txn.Commit();  // ends the read transaction; nothing was written
  return Status::Ok();
}

}  // namespace

Status PublishManifest(const PublishOptions& o, PublishReport* report) {
  *report = PublishReport();
  if (o.images_per_part <= 0) return Status::Invalid("images_per_part must be positive");
  struct stat st;
  if (::stat(o.database_path.c_str(), &st) != 0)
    return Status::FromErrno(errno, "publish: database " + o.database_path.string());
  if (::stat(o.image_root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return Status::NotFound("publish: image root " + o.image_root.string() + " is not a directory");

  PublisherKey key;
  if (Status s = PublisherKey::LoadOrCreate(o.key_path, o.image_root, &key, &report->key_created); !s.ok())
    return s;
  if (report->key_created)
    spdlog::info("publish: created publisher key {} (public key {})", o.key_path.string(), key.PublicKeyBase64());

  ManifestDirWriter writer;
  if (Status s = writer.Open(o.manifest_root.empty() ? o.image_root : o.manifest_root); !s.ok()) return s;
  writer.SetExchangeMembers(o.peers, o.banned_authors);

  Database db;
  if (Status s = Database::Open(o.database_path.string(), Database::Mode::kReadWrite, o.busy_timeout_ms, &db);
      !s.ok())
    return s;
  bool committed = false;  // the index is in place (incremental: before the baseline is recorded)
  try {
    // WAL lets the crawler keep writing during our (long) read transaction.
    // The crawler's database is WAL already; this only matters for a fresh
    // or foreign one, and failing to switch is not fatal.
    try {
      Statement wal = db.Prepare("PRAGMA journal_mode=WAL");
      while (wal.Step()) {
      }
    } catch (const SqliteError& e) {
      spdlog::warn("publish: cannot switch {} to WAL ({}); the crawler may wait while we read",
                   o.database_path.string(), e.what());
    }
    // Change tracking (publish_changes.h): our own triggers and tables,
    // installed before the read snapshot begins. Without them (a schema
    // they do not understand, the database busy) the publish reads
    // everything, as it always did.
    std::optional<IncrementalContext> inc;
    if (o.incremental) {
      bool trackable = false;
      std::string why_not;
      Status s = InstallPublishTracking(db, &trackable, &why_not);
      if (!s.ok())
        spdlog::warn("publish: cannot install change tracking in {} ({}); reading the whole archive",
                     o.database_path.string(), s.ToString());
      else if (!trackable)
        spdlog::info("publish: no change tracking for {}: {}; reading the whole archive", o.database_path.string(),
                     why_not);
      if (s.ok() && trackable) {
        inc.emplace();
        // The baseline belongs to the folder published into (the exchange
        // publishes beside the archive: another folder, another baseline).
        const fs::path published = o.manifest_root.empty() ? o.image_root : o.manifest_root;
        inc->key.image_root = published.string();
        inc->key.images_per_part = o.images_per_part;
        inc->key.skip_file_checks = o.benchmark_skip_file_checks;
        inc->key.now = static_cast<int64_t>(std::time(nullptr));
        inc->key.full_interval_seconds = o.full_interval_seconds;
        FileDigest d;
        if (Sha256File(published / std::string(kManifestDirName) / std::string(kManifestFileName), &d).ok())
          inc->key.index_sha256 = d.sha256;
      }
    }
    db.Exec("PRAGMA query_only=1");  // we never write the crawler's rows
    if (Status s = PublishFromDatabase(o, db, writer, report, inc ? &*inc : nullptr); !s.ok()) return s;
    if (inc) {
      if (Status s = writer.Commit(key, report); !s.ok()) return s;
      committed = true;
      if (!report->incremental) report->parts_read = report->parts;
      // The baseline: the index now in place, and what this snapshot covered.
      FileDigest d;
      inc->key.index_sha256 =
          Sha256File(report->manifest_path, &d).ok() ? d.sha256 : std::string();
      db.Exec("PRAGMA query_only=0");
      if (Status s = CommitPublishTracking(db, inc->key, inc->tracking, !report->incremental, inc->read_parts,
                                           inc->absent);
          !s.ok())
        spdlog::warn("publish: the manifest is written, but its change-tracking baseline is not ({}); the next "
                     "publish reads the whole archive",
                     s.ToString());
    }
  } catch (const SqliteError& e) {
    Status s = e.ToStatus();
    return s.IsTransient() ? s : Status::Corrupt("publish: reading " + o.database_path.string() + ": " + s.message());
  }
  db = Database();  // close before the slow part of the file work

  if (!committed) {
    if (Status s = writer.Commit(key, report); !s.ok()) return s;
    report->parts_read = report->parts;
  }

  spdlog::info(
      "publish: manifest {} sequence {}: {} images in {} parts ({} written, {} removed; {} read from the database, {} "
      "taken over unchanged{}), {} bytes; left out{}: {} banned, {} without file, {} outside the shared folder; {} "
      "files hashed",
      report->unchanged ? "unchanged at" : "written,", report->sequence, report->image_count, report->parts,
      report->parts_written, report->parts_removed, report->parts_read, report->parts_reused,
      report->full_reason.empty() || report->incremental ? "" : "; whole archive read: " + report->full_reason,
      report->bytes_total, report->incremental ? " of the parts read" : "", report->banned, report->no_file,
      report->outside_root, report->hashed);
  return Status::Ok();
}

}  // namespace indafoto
