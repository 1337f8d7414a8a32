// Over 450 lines: one reader that applies every check of docs/manifest.md
// section 9 in order; split, the order would be harder to see.
#include "lib/catalog/manifest_reader.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <memory>
#include <set>
#include <vector>

#include "lib/util/file_util.h"
#include "lib/archive/crawler_schema.h"
#include "lib/archive/layout.h"
#include "lib/catalog/part_file.h"
#include "lib/catalog/publisher_key.h"
#include "lib/util/sha256.h"
#include "lib/util/unique_fd.h"

namespace indafoto {

namespace fs = std::filesystem;

namespace {

// Incremental SHA-256 over OpenSSL EVP (lib/util/sha256.h hashes whole files by
// path; here we hash an fd we opened without following symlinks, while
// reading it).
class Sha256Stream {
 public:
  Sha256Stream() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr); }
  void Update(const char* p, size_t n) { EVP_DigestUpdate(ctx_.get(), p, n); }
  std::string FinishHex() {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx_.get(), md, &n);
    static const char* kDigits = "0123456789abcdef";
    std::string out(n * 2, '0');
    for (unsigned int i = 0; i < n; ++i) {
      out[2 * i] = kDigits[md[i] >> 4];
      out[2 * i + 1] = kDigits[md[i] & 15];
    }
    return out;
  }

 private:
  struct Free {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  std::unique_ptr<EVP_MD_CTX, Free> ctx_;
};

constexpr size_t kReadChunk = size_t{1} << 20;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Printable form of untrusted text for error messages: bounded, control
// characters escaped, so a hostile manifest cannot forge log lines.
std::string Printable(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size() && i < 200; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > 200) out += "...";
  return out;
}

Status WithCode(Status::Code code, std::string m) {
  switch (code) {
    case Status::Code::kNotFound: return Status::NotFound(std::move(m));
    case Status::Code::kInvalid: return Status::Invalid(std::move(m));
    case Status::Code::kIoError: return Status::IoError(std::move(m));
    case Status::Code::kBusy: return Status::Busy(std::move(m));
    case Status::Code::kNoSpace: return Status::NoSpace(std::move(m));
    case Status::Code::kPermission: return Status::Permission(std::move(m));
    case Status::Code::kUnavailable: return Status::Unavailable(std::move(m));
    default: return Status::Corrupt(std::move(m));
  }
}

// Opens `name` inside directory `dir_fd` without following a symlink.
Status OpenAt(int dir_fd, const std::string& name, bool directory, UniqueFd* out) {
  if (!directory) {
    // Never blocks on a FIFO planted under a part's name.
    Status s = OpenRegularFile(name, "manifest file", out, dir_fd);
    if (s.IsNotFound()) return Status::NotFound(name + " does not exist (not received yet?)");
    if (s.code() == Status::Code::kInvalid) return Status::Corrupt(s.message());
    return s;
  }
  UniqueFd fd(::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_DIRECTORY));
  if (!fd.valid()) {
    int err = errno;
    if (err == ELOOP || err == ENOTDIR) return Status::Corrupt(name + " is a symlink or not a directory; not followed");
    if (err == ENOENT) return Status::NotFound(name + " does not exist (not received yet?)");
    return Status::FromErrno(err, "open " + name);
  }
  *out = std::move(fd);
  return Status::Ok();
}

Status OpenSyncDir(const fs::path& folder, UniqueFd* out) {
  // The received folder itself is configured by the operator: follow it.
  UniqueFd root(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root.valid()) return Status::FromErrno(errno, "received folder " + folder.string());
  return OpenAt(root.get(), std::string(kManifestDirName), true, out);
}

Status ReadWholeSmallFile(int fd, size_t limit, const std::string& name, std::string* out) {
  struct stat st;
  if (::fstat(fd, &st) != 0) return Status::FromErrno(errno, "stat " + name);
  if (static_cast<uint64_t>(st.st_size) > limit)
    return Status::Corrupt(name + " is " + std::to_string(st.st_size) + " bytes, more than the limit of " +
                           std::to_string(limit));
  out->assign(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < out->size()) {
    ssize_t n = ::read(fd, out->data() + got, out->size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, "read " + name);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out->resize(got);
  return Status::Ok();
}

bool GetInt64(const rapidjson::Value& o, const char* key, int64_t* out) {
  if (!o.HasMember(key) || !o[key].IsInt64()) return false;
  *out = o[key].GetInt64();
  return true;
}

// JSON allows repeated member names; two readers could then pick different
// ones. We refuse them in the objects that carry the signature and index.
std::string RepeatedMember(const rapidjson::Value& o) {
  std::set<std::string_view> seen;
  for (const auto& m : o.GetObject()) {
    if (!seen.insert(std::string_view(m.name.GetString(), m.name.GetStringLength())).second)
      return std::string(m.name.GetString(), m.name.GetStringLength());
  }
  return std::string();
}

bool IsPartName(std::string_view name, int64_t version) {
  return IsSafeFileName(name) && name.front() != '.' && HasPartSuffix(name, version) &&
         std::none_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

bool IsKnownColumn(std::string_view name) {
  return std::find(kImageColumns.begin(), kImageColumns.end(), name) != kImageColumns.end();
}

// Checks one parsed entry and normalises it (lowercase sha256, unknown
// columns dropped). Returns an empty string when fine, else the problem.
std::string CheckEntry(RemoteImage* img) {
  if (!IsSafeRelativePath(img->rel_path))
    return "path '" + Printable(img->rel_path) +
           "' is not a safe relative path (absolute, '..', '.', empty component, backslash or NUL)";
  std::string_view first = std::string_view(img->rel_path).substr(0, img->rel_path.find('/'));
  if (first == kManifestDirName) return "path '" + Printable(img->rel_path) + "' points into the manifest directory";
  if (!IsSha256Hex(img->sha256)) return "sha256 '" + Printable(img->sha256) + "' is not 64 hex digits";
  img->sha256 = Lower(std::move(img->sha256));
  if (img->size < 0) return "size is missing or negative";
  std::vector<std::pair<std::string, Value>> kept;
  kept.reserve(img->columns.size());
  for (auto& [name, value] : img->columns) {
    // Columns this version does not know are dropped: a newer publisher may
    // add some, and only known names may ever reach SQL text.
    if (!IsKnownColumn(name)) continue;
    for (const auto& k : kept) {
      if (k.first == name) return "column '" + name + "' appears twice";
    }
    kept.emplace_back(std::move(name), std::move(value));
  }
  img->columns = std::move(kept);
  return std::string();
}

}  // namespace

bool HasManifest(const fs::path& received_folder) {
  UniqueFd dir;
  if (!OpenSyncDir(received_folder, &dir).ok()) return false;
  struct stat st;
  if (::fstatat(dir.get(), std::string(kManifestFileName).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
  return S_ISREG(st.st_mode);
}

Status ParseSignedManifest(std::string_view text, SignedManifest* out) {
  rapidjson::Document d;
  // Iterative: a deeply nested document cannot overflow the stack.
  d.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (d.HasParseError())
    return Status::Corrupt(std::string("manifest.json is not JSON: ") + rapidjson::GetParseError_En(d.GetParseError()) +
                           " at offset " + std::to_string(d.GetErrorOffset()));
  if (!d.IsObject()) return Status::Corrupt("manifest.json is not a JSON object");
  if (std::string rep = RepeatedMember(d); !rep.empty())
    return Status::Corrupt("manifest.json repeats member '" + Printable(rep) + "'");
  if (!d.HasMember("format") || !d["format"].IsString())
    return Status::Corrupt("manifest.json has no string 'format': not an indafoto-syncd manifest");
  std::string_view format(d["format"].GetString(), d["format"].GetStringLength());
  if (format != kManifestFormat)
    return Status::Corrupt("manifest.json has format '" + Printable(format) + "', expected '" +
                           std::string(kManifestFormat) + "'");
  for (const char* key : {"payload", "public_key", "signature"}) {
    if (!d.HasMember(key) || !d[key].IsString())
      return Status::Corrupt(std::string("manifest.json has no string '") + key + "'");
  }
  out->payload.assign(d["payload"].GetString(), d["payload"].GetStringLength());
  out->public_key.assign(d["public_key"].GetString(), d["public_key"].GetStringLength());
  out->signature.assign(d["signature"].GetString(), d["signature"].GetStringLength());
  return Status::Ok();
}

Status ParseManifestPayload(std::string_view text, ManifestPayload* out) {
  rapidjson::Document d;
  // Iterative: a deeply nested document cannot overflow the stack.
  d.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (d.HasParseError())
    return Status::Corrupt(std::string("payload is not JSON: ") + rapidjson::GetParseError_En(d.GetParseError()) +
                           " at offset " + std::to_string(d.GetErrorOffset()));
  if (!d.IsObject()) return Status::Corrupt("payload is not a JSON object");
  if (std::string rep = RepeatedMember(d); !rep.empty())
    return Status::Corrupt("payload repeats member '" + Printable(rep) + "'");
  ManifestPayload p;
  if (!GetInt64(d, "version", &p.version)) return Status::Corrupt("payload has no integer 'version'");
  const std::string known =
      "versions " + std::to_string(kOldestManifestVersion) + " to " + std::to_string(kManifestVersion);
  if (p.version > kManifestVersion)
    return Status::Corrupt("manifest version " + std::to_string(p.version) +
                           " is from the future: this indafoto-syncd reads " + known +
                           " only; upgrade indafoto-syncd to read it");
  if (p.version < kOldestManifestVersion)
    return Status::Corrupt("unknown manifest version " + std::to_string(p.version) + "; this indafoto-syncd reads " +
                           known);
  if (!d.HasMember("sequence") || !d["sequence"].IsUint64())
    return Status::Corrupt("payload has no non-negative integer 'sequence'");
  p.sequence = d["sequence"].GetUint64();
  if (!d.HasMember("generated_at") || !d["generated_at"].IsString())
    return Status::Corrupt("payload has no string 'generated_at'");
  p.generated_at = d["generated_at"].GetString();
  if (!GetInt64(d, "image_count", &p.image_count) || p.image_count < 0)
    return Status::Corrupt("payload has no non-negative integer 'image_count'");
  if (!d.HasMember("parts") || !d["parts"].IsArray()) return Status::Corrupt("payload has no array 'parts'");
  std::set<std::string> names;
  int64_t total = 0;
  size_t index = 0;
  for (const auto& j : d["parts"].GetArray()) {
    std::string where = "parts[" + std::to_string(index++) + "]";
    if (!j.IsObject()) return Status::Corrupt(where + " is not an object");
    ManifestPart part;
    if (!j.HasMember("name") || !j["name"].IsString()) return Status::Corrupt(where + " has no string 'name'");
    part.name.assign(j["name"].GetString(), j["name"].GetStringLength());
    if (!IsPartName(part.name, p.version))
      return Status::Corrupt(where + " name '" + Printable(part.name) + "' is not a plain file name ending in " +
                             std::string(PartSuffix(p.version)));
    if (!names.insert(part.name).second) return Status::Corrupt(where + " repeats part name " + part.name);
    if (!j.HasMember("sha256") || !j["sha256"].IsString() ||
        !IsSha256Hex(std::string_view(j["sha256"].GetString(), j["sha256"].GetStringLength())))
      return Status::Corrupt(where + " (" + part.name + ") has no 64-hex 'sha256'");
    part.sha256 = Lower(std::string(j["sha256"].GetString(), j["sha256"].GetStringLength()));
    if (!GetInt64(j, "size", &part.size) || part.size < 0)
      return Status::Corrupt(where + " (" + part.name + ") has no non-negative integer 'size'");
    if (!GetInt64(j, "count", &part.count) || part.count < 0)
      return Status::Corrupt(where + " (" + part.name + ") has no non-negative integer 'count'");
    total += part.count;
    p.parts.push_back(std::move(part));
  }
 // Exchange members (optional; docs/manifest.md 4.2).
  for (const char* key : {"peers", "banned_authors"}) {
    if (!d.HasMember(key)) continue;
    const auto& list = d[key];
    if (!list.IsArray()) return Status::Corrupt(std::string("payload '") + key + "' is not an array of strings");
    std::vector<std::string>& out_list = std::string_view(key) == "peers" ? p.peers : p.banned_authors;
    for (const auto& x : list.GetArray()) {
      if (!x.IsString()) return Status::Corrupt(std::string("payload '") + key + "' is not an array of strings");
      out_list.emplace_back(x.GetString(), x.GetStringLength());
    }
  }
  if (total != p.image_count)
    return Status::Corrupt("payload image_count is " + std::to_string(p.image_count) +
                           " but its parts hold " + std::to_string(total) + " entries");
  *out = std::move(p);
  return Status::Ok();
}

ManifestReader::ManifestReader(fs::path received_folder, std::string source, KeyPins* pins)
    : folder_(std::move(received_folder)), source_(std::move(source)), pins_(pins) {}

std::string ManifestReader::Describe() const {
  return "manifest of source " + source_ + " in " + (folder_ / std::string(kManifestDirName)).string();
}

Status ManifestReader::Error(Status::Code code, const std::string& what) const {
  return WithCode(code, Describe() + ": " + what);
}

Status ManifestReader::Fingerprint(std::string* out) {
  UniqueFd dir, file;
  std::string text;
  Status s = OpenSyncDir(folder_, &dir);
  if (s.ok()) s = OpenAt(dir.get(), std::string(kManifestFileName), false, &file);
  if (s.ok()) s = ReadWholeSmallFile(file.get(), kMaxIndexBytes, std::string(kManifestFileName), &text);
  SignedManifest outer;
  if (s.ok()) s = ParseSignedManifest(text, &outer);
  ManifestPayload payload;
  if (s.ok()) s = ParseManifestPayload(outer.payload, &payload);
  if (!s.ok()) return Error(s.code(), s.message());
  sequence_ = payload.sequence;
  *out = "manifest:" + std::to_string(payload.sequence) + ":" + Sha256Hex(text);
  return Status::Ok();
}

Status ParseManifestEntryLine(std::string_view line, RemoteImage* out) {
  if (Status s = RemoteImageFromJson(line, out); !s.ok()) return s;
  if (std::string why = CheckEntry(out); !why.empty()) return Status::Corrupt(why);
  return Status::Ok();
}

Status ManifestReader::ReadAll(const std::function<Status(const RemoteImage&)>& sink) {
  return ReadParts([](const std::string&) { return false; },
                   [&](const std::string&, const RemoteImage& img) { return sink(img); });
}

Status ManifestReader::ReadParts(const std::function<bool(const std::string& part_sha256)>& held,
                                 const std::function<Status(const std::string& part_sha256, const RemoteImage&)>& sink) {
  payload_ = ManifestPayload();
  public_key_.clear();
  read_fingerprint_.clear();

  // 1-3: index, signature, payload.
  UniqueFd dir, file;
  std::string text;
  Status s = OpenSyncDir(folder_, &dir);
  if (s.ok()) s = OpenAt(dir.get(), std::string(kManifestFileName), false, &file);
  if (s.ok()) s = ReadWholeSmallFile(file.get(), kMaxIndexBytes, std::string(kManifestFileName), &text);
  if (!s.ok()) return Error(s.code(), s.message());
  file.Reset();
  SignedManifest outer;
  if (s = ParseSignedManifest(text, &outer); !s.ok()) return Error(s.code(), s.message());
  const std::string text_sha256 = Sha256Hex(text);
  text.clear();
  text.shrink_to_fit();
  if (s = VerifySignatureBase64(outer.payload, outer.signature, outer.public_key); !s.ok())
    return Error(Status::Code::kCorrupt, "manifest.json rejected: " + s.message());
  ManifestPayload payload;
  if (s = ParseManifestPayload(outer.payload, &payload); !s.ok()) return Error(s.code(), s.message());
  outer.payload.clear();
  outer.payload.shrink_to_fit();
  sequence_ = payload.sequence;
  read_fingerprint_ = "manifest:" + std::to_string(payload.sequence) + ":" + text_sha256;

  // 4: the key must be the one pinned for this source.
  if (pins_) {
    if (s = pins_->CheckOrPin(source_, outer.public_key); !s.ok()) return Error(s.code(), s.message());
  }

  // 5: the parts.
  UniqueFd parts_dir;
  if (!payload.parts.empty()) {
    if (s = OpenAt(dir.get(), std::string(kPartsDirName), true, &parts_dir); !s.ok())
      return Error(s.code(), std::string(kPartsDirName) + "/: " + s.message());
  }
  // Which parts to read: those the caller does not hold already (asked
  // once per part, in index order). Every one of them present before any
  // is read: while Syncthing still delivers a new manifest, an attempt
  // ends here for the price of a stat per part, so the daemon may retry as
  // soon as each file arrives.
  std::vector<bool> skip(payload.parts.size());
  for (size_t i = 0; i < payload.parts.size(); ++i) skip[i] = held(payload.parts[i].sha256);
  for (size_t i = 0; i < payload.parts.size(); ++i) {
    if (skip[i]) continue;
    const ManifestPart& part = payload.parts[i];
    struct stat st;
    if (::fstatat(parts_dir.get(), part.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 && errno == ENOENT)
      return Error(Status::Code::kNotFound,
                   "part " + part.name + " named by the index is missing (not received yet, or deleted); will retry");
  }
  std::vector<char> buf(kReadChunk);
  for (size_t i = 0; i < payload.parts.size(); ++i) {
    if (skip[i]) continue;
    const ManifestPart& part = payload.parts[i];
    const std::string where = "part " + part.name;
    UniqueFd fd;
    if (s = OpenAt(parts_dir.get(), part.name, false, &fd); !s.ok()) {
      if (s.IsNotFound())
        return Error(Status::Code::kNotFound,
                     where + " named by the index is missing (not received yet, or deleted); will retry");
      return Error(s.code(), where + ": " + s.message());
    }
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return Error(Status::Code::kIoError, where + ": stat failed");
    if (st.st_size != part.size)
      return Error(Status::Code::kCorrupt, where + " has " + std::to_string(st.st_size) + " bytes, the index says " +
                                               std::to_string(part.size) +
                                               (st.st_size < part.size ? " (truncated or still syncing)" : ""));

    // Pass 1: size and hash, before any entry goes anywhere.
    {
      Sha256Stream h;
      int64_t total = 0;
      for (;;) {
        ssize_t n = ::read(fd.get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return Error(Status::FromErrno(errno, "").code(), where + ": read failed");
        if (n == 0) break;
        h.Update(buf.data(), static_cast<size_t>(n));
        total += n;
      }
      if (total != part.size)
        return Error(Status::Code::kCorrupt, where + " changed size while being read");
      std::string got = h.FinishHex();
      if (got != part.sha256)
        return Error(Status::Code::kCorrupt, where + " has sha256 " + got + ", the index says " + part.sha256 +
                                                 " (altered, or not fully synced)");
    }

    // Pass 2: parse and hand over line by line (inflating a version 2
    // part), hashing the file's bytes again.
    if (::lseek(fd.get(), 0, SEEK_SET) != 0) return Error(Status::Code::kIoError, where + ": seek failed");
    Sha256Stream h;
    PartLineReader lines(payload.version, kMaxEntryLineBytes);
    // A sink failure is passed on as it is; a problem of the part gets
    // the part's name (and the line's number) in front.
    Status sink_failure;
    auto on_line = [&](std::string_view line) -> Status {
      const int64_t line_no = lines.lines();
      if (line_no > part.count)
        return Status::Corrupt("holds more than the " + std::to_string(part.count) + " entries the index says");
      RemoteImage img;
      if (Status e = ParseManifestEntryLine(line, &img); !e.ok())
        return Status::Corrupt("line " + std::to_string(line_no) + ": " + e.message());
      if (Status e = sink(part.sha256, img); !e.ok()) {
        sink_failure = e;
        return e;
      }
      return Status::Ok();
    };
    for (;;) {
      ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Error(Status::FromErrno(errno, "").code(), where + ": read failed");
      if (n == 0) break;
      h.Update(buf.data(), static_cast<size_t>(n));
      if (s = lines.Feed(buf.data(), static_cast<size_t>(n), on_line); !s.ok()) {
        if (!sink_failure.ok()) return sink_failure;
        return Error(Status::Code::kCorrupt, where + " " + s.message());
      }
    }
    if (s = lines.Finish(); !s.ok()) return Error(Status::Code::kCorrupt, where + " " + s.message());
    if (lines.lines() != part.count)
      return Error(Status::Code::kCorrupt, where + " holds " + std::to_string(lines.lines()) +
                                               " entries, the index says " + std::to_string(part.count));
    if (h.FinishHex() != part.sha256)
      return Error(Status::Code::kCorrupt, where + " changed while being read");
  }
  payload_ = std::move(payload);
  public_key_ = std::move(outer.public_key);
  return Status::Ok();
}

}  // namespace indafoto
