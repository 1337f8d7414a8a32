#include "lib/catalog/publisher_key.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <system_error>
#include <vector>

#include "lib/util/file_util.h"
#include "lib/util/unique_fd.h"

namespace indafoto {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxKeyFileBytes = 4096;
const char* const kKeyFileHeader =
    "# indafoto-syncd publisher key (Ed25519 seed, base64). Secret: keep mode 0600,\n"
    "# never inside the shared folder. The public key is in the .pub file beside it.\n";

Status InitSodium() {
  // Idempotent and thread-safe; -1 only when no randomness is available.
  if (sodium_init() < 0) return Status::IoError("libsodium could not be initialised");
  return Status::Ok();
}

// True when `p` equals `root` or lies below it (both absolute and normal).
bool IsInside(const fs::path& p, const fs::path& root) {
  auto pi = p.begin();
  for (auto ri = root.begin(); ri != root.end(); ++ri, ++pi) {
    if (ri->empty()) continue;  // trailing separator
    if (pi == p.end() || *pi != *ri) return false;
  }
  return true;
}


// Creates the missing directories of `dir`, each with mode 0700: a fresh
// key directory is private from its first instant.
Status MakePrivateDirs(const fs::path& dir) {
  std::vector<fs::path> missing;
  for (fs::path p = dir; !p.empty(); p = p.parent_path()) {
    struct stat st;
    if (::stat(p.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) return Status::Invalid(p.string() + " is not a directory");
      break;
    }
    if (errno != ENOENT) return Status::FromErrno(errno, "stat " + p.string());
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST)
      return Status::FromErrno(errno, "mkdir " + it->string());
  }
  return Status::Ok();
}

}  // namespace

std::string Base64Encode(const unsigned char* data, size_t size) {
  std::string out(sodium_base64_encoded_len(size, sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), data, size, sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

bool Base64Decode(std::string_view text, std::string* out) {
  if (InitSodium().ok() == false) return false;
  std::string bin(text.size() / 4 * 3 + 3, '\0');
  size_t len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(reinterpret_cast<unsigned char*>(bin.data()), bin.size(), text.data(), text.size(),
                        nullptr, &len, &end, sodium_base64_VARIANT_ORIGINAL) != 0)
    return false;
  if (end != text.data() + text.size()) return false;
  bin.resize(len);
  // Canonical form only, so one key has exactly one spelling (pins compare
  // strings).
  if (Base64Encode(reinterpret_cast<const unsigned char*>(bin.data()), bin.size()) != text) return false;
  *out = std::move(bin);
  return true;
}

PublisherKey::~PublisherKey() { Wipe(); }

PublisherKey::PublisherKey(PublisherKey&& o) noexcept : pk_(o.pk_), sk_(o.sk_), valid_(o.valid_) { o.Wipe(); }

PublisherKey& PublisherKey::operator=(PublisherKey&& o) noexcept {
  if (this != &o) {
    Wipe();
    pk_ = o.pk_;
    sk_ = o.sk_;
    valid_ = o.valid_;
    o.Wipe();
  }
  return *this;
}

void PublisherKey::Wipe() {
  sodium_memzero(sk_.data(), sk_.size());
  valid_ = false;
}

Status PublisherKey::Generate(PublisherKey* out) {
  if (Status s = InitSodium(); !s.ok()) return s;
  PublisherKey k;
  crypto_sign_keypair(k.pk_.data(), k.sk_.data());
  k.valid_ = true;
  *out = std::move(k);
  return Status::Ok();
}

std::string PublisherKey::PublicKeyBase64() const { return Base64Encode(pk_.data(), pk_.size()); }

std::string PublisherKey::SignBase64(std::string_view message) const {
  unsigned char sig[crypto_sign_BYTES];
  crypto_sign_detached(sig, nullptr, reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                       sk_.data());
  return Base64Encode(sig, sizeof sig);
}

Status PublisherKey::Load(const fs::path& key_path, PublisherKey* out) {
  if (Status s = InitSodium(); !s.ok()) return s;
  // The operator may point key_path at a symlink; still never a FIFO.
  UniqueFd fd(::open(key_path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) return Status::FromErrno(errno, "publisher key " + key_path.string());
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Status::FromErrno(errno, "stat " + key_path.string());
  if (!S_ISREG(st.st_mode)) return Status::Invalid("publisher key " + key_path.string() + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Status::Permission("publisher key " + key_path.string() + " has mode " + mode +
                              ": group or others may access the secret key; refusing to use it. Run `chmod 600 " +
                              key_path.string() + "` (and replace the key if others could have read it)");
  }
  if (st.st_size > static_cast<off_t>(kMaxKeyFileBytes))
    return Status::Corrupt("publisher key " + key_path.string() + " is too large to be a key file");
  std::string text(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + got, text.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::FromErrno(errno, "read " + key_path.string());
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  text.resize(got);
  // The first line that is neither empty nor a comment holds the seed.
  std::string seed_b64;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    start = end + 1;
    if (line.empty() || line[0] == '#') continue;
    seed_b64 = line;
    break;
  }
  std::string seed;
  bool ok = Base64Decode(seed_b64, &seed) && seed.size() == crypto_sign_SEEDBYTES;
  PublisherKey k;
  if (ok) {
    crypto_sign_seed_keypair(k.pk_.data(), k.sk_.data(), reinterpret_cast<const unsigned char*>(seed.data()));
    k.valid_ = true;
  }
  sodium_memzero(seed.data(), seed.size());
  sodium_memzero(seed_b64.data(), seed_b64.size());
  sodium_memzero(text.data(), text.size());
  if (!ok)
    return Status::Corrupt("publisher key " + key_path.string() +
                           " does not hold a base64 Ed25519 seed of 32 bytes");
  *out = std::move(k);
  return Status::Ok();
}

Status PublisherKey::LoadOrCreate(const fs::path& key_path, const fs::path& shared_folder, PublisherKey* out,
                                  bool* created) {
  if (created) *created = false;
  if (Status s = InitSodium(); !s.ok()) return s;
  if (key_path.empty()) return Status::Invalid("no publisher key path configured");
  std::error_code ec;
  fs::path key_abs = fs::weakly_canonical(fs::absolute(key_path), ec);
  if (ec) return Status::IoError("cannot resolve publisher key path " + key_path.string() + ": " + ec.message());
  if (!shared_folder.empty()) {
    fs::path root = fs::weakly_canonical(fs::absolute(shared_folder), ec);
    if (ec) return Status::IoError("cannot resolve shared folder " + shared_folder.string() + ": " + ec.message());
    if (IsInside(key_abs, root))
      return Status::Invalid("publisher key path " + key_path.string() + " is inside the shared folder " +
                             shared_folder.string() +
                             ": Syncthing would publish the secret key. Configure a key_path outside it");
  }

  Status loaded = Load(key_path, out);
  if (!loaded.IsNotFound()) return loaded;

  if (Status s = MakePrivateDirs(key_abs.parent_path()); !s.ok()) return s;
  PublisherKey k;
  unsigned char seed[crypto_sign_SEEDBYTES];
  randombytes_buf(seed, sizeof seed);
  crypto_sign_seed_keypair(k.pk_.data(), k.sk_.data(), seed);
  k.valid_ = true;
  std::string text = kKeyFileHeader + Base64Encode(seed, sizeof seed) + "\n";
  sodium_memzero(seed, sizeof seed);

  // O_EXCL: if another process creates the key at the same moment, we use
  // theirs rather than overwrite it.
  UniqueFd fd(::open(key_path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd.valid()) {
    int err = errno;
    sodium_memzero(text.data(), text.size());
    if (err == EEXIST) return Load(key_path, out);
    return Status::FromErrno(err, "create publisher key " + key_path.string());
  }
  Status w = WriteAll(fd.get(), text, key_path.string());
  sodium_memzero(text.data(), text.size());
  if (w.ok() && ::fchmod(fd.get(), 0600) != 0) w = Status::FromErrno(errno, "chmod " + key_path.string());
  if (w.ok() && ::fsync(fd.get()) != 0) w = Status::FromErrno(errno, "fsync " + key_path.string());
  fd.Reset();
  if (!w.ok()) {
    ::unlink(key_path.c_str());  // never leave a half-written key behind
    return w;
  }
  if (Status s = FsyncDirectory(key_abs.parent_path()); !s.ok()) return s;

  // The public half, for operators to compare with what receivers pinned.
  fs::path pub = key_path;
  pub += ".pub";
  UniqueFd pfd(::open(pub.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644));
  if (pfd.valid()) (void)WriteAll(pfd.get(), k.PublicKeyBase64() + "\n", pub.string());

  if (created) *created = true;
  *out = std::move(k);
  return Status::Ok();
}

Status VerifySignatureBase64(std::string_view message, std::string_view signature_b64,
                             std::string_view public_key_b64) {
  if (Status s = InitSodium(); !s.ok()) return s;
  std::string pk, sig;
  if (!Base64Decode(public_key_b64, &pk) || pk.size() != crypto_sign_PUBLICKEYBYTES)
    return Status::Corrupt("public key is not base64 of " + std::to_string(crypto_sign_PUBLICKEYBYTES) + " bytes");
  if (!Base64Decode(signature_b64, &sig) || sig.size() != crypto_sign_BYTES)
    return Status::Corrupt("signature is not base64 of " + std::to_string(crypto_sign_BYTES) + " bytes");
  if (crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(sig.data()),
                                  reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                                  reinterpret_cast<const unsigned char*>(pk.data())) != 0)
    return Status::Corrupt("Ed25519 signature does not verify: the payload was altered or signed by another key");
  return Status::Ok();
}

}  // namespace indafoto
