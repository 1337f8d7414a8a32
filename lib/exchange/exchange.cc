#include "lib/exchange/exchange.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <set>

#include "lib/catalog/manifest.h"
#include "lib/catalog/manifest_reader.h"
#include "lib/catalog/manifest_writer.h"
#include "lib/import/received_folder.h"
#include "lib/util/file_util.h"
#include "lib/util/sha256.h"

namespace indafoto {

namespace fs = std::filesystem;

namespace {

fs::path SelfRoot(const Config& c) { return c.exchange_root / "self"; }

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status BannedAuthors(Database& db, std::vector<std::string>* out) {
  out->clear();
  try {
    if (!db.HasTable("banned_authors") || !db.HasColumn("banned_authors", "author")) return Status::Ok();
    Statement q = db.Prepare("SELECT DISTINCT author FROM banned_authors WHERE author IS NOT NULL ORDER BY author");
    while (q.Step()) out->push_back(q.Text(0));
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

// The catalog fingerprint CatalogStore accepted for `source` ("" = none).
std::string AcceptedFingerprint(Database& state, const std::string& source) {
  try {
    Statement q = state.Prepare("SELECT fingerprint FROM syncd_catalog_sources WHERE source = ?");
    q.Bind(1, source);
    if (q.Step() && !q.IsNull(0)) return q.Text(0);
  } catch (const SqliteError&) {
  }
  return "";
}

// Whether the archive holds the image of the file `file` delivered at
// `rel` by `source`: its last decision on that path took it (imported,
// duplicate, merged) and the image's file is `file` itself or has its
// sha256.
bool ArchiveHolds(ArchiveDb& archive, const std::string& source, const std::string& rel, const fs::path& file) {
  std::string stored, sha256;
  try {
    Statement q = archive.db().Prepare(
        "SELECT i.local_path, i.sha256_hash FROM sync_records s JOIN images i ON i.id = s.image_id "
        "WHERE s.remote_source = ? AND s.remote_path = ? AND s.status IN ('imported', 'duplicate', 'merged') "
        "ORDER BY s.id DESC LIMIT 1");
    q.Bind(1, source).Bind(2, rel);
    if (!q.Step() || q.IsNull(0) || q.IsNull(1)) return false;
    stored = q.Text(0);
    sha256 = q.Text(1);
  } catch (const SqliteError& e) {
    spdlog::debug("exchange: cannot read sync_records: {}", e.what());
    return false;
  }
  if (stored.empty() || sha256.empty()) return false;
  const fs::path kept = archive.path_style().ToAbsolute(stored);
  struct stat a, b;
  if (::stat(kept.c_str(), &a) != 0 || ::lstat(file.c_str(), &b) != 0 || !S_ISREG(b.st_mode)) return false;
  if (a.st_dev == b.st_dev && a.st_ino == b.st_ino) return true;
  FileDigest d;
  if (!Sha256File(file, &d).ok()) return false;
  for (char& c : sha256) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return d.sha256 == sha256;
}

// Removes directories left empty under `root` (deepest first), then `root`
// itself when empty. Returns the regular files and other entries left.
int64_t PruneEmptyDirs(const fs::path& root) {
  std::error_code ec;
  if (!fs::is_directory(root, ec)) return 0;
  std::vector<fs::path> dirs;
  int64_t files = 0;
  for (fs::recursive_directory_iterator it(root, fs::directory_options::none, ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) dirs.push_back(it->path());
    else ++files;
  }
  for (auto d = dirs.rbegin(); d != dirs.rend(); ++d) ::rmdir(d->c_str());
  ::rmdir(root.c_str());
  return files;
}

}  // namespace

Status CheckExchangeRoot(const Config& config) {
  if (config.peers.empty()) return Status::Ok();
  std::error_code ec;
  fs::create_directories(config.exchange_root, ec);
  if (ec) return Status::Invalid("cannot create exchange_root " + config.exchange_root.string() + ": " + ec.message());
  struct stat a, b;
  if (::stat(config.image_root.c_str(), &a) != 0) {
    fs::create_directories(config.image_root, ec);
    if (::stat(config.image_root.c_str(), &a) != 0)
      return Status::FromErrno(errno, "image_root " + config.image_root.string());
  }
  if (::stat(config.exchange_root.c_str(), &b) != 0)
    return Status::FromErrno(errno, "exchange_root " + config.exchange_root.string());
  if (a.st_dev != b.st_dev)
    return Status::Invalid("exchange_root " + config.exchange_root.string() +
                           " is not on the same filesystem as image_root " + config.image_root.string() +
                           ": the exchange hardlinks images into it; choose an exchange_root on that filesystem");
  return Status::Ok();
}

Status MirrorManifest(const fs::path& from, const fs::path& to) {
  const fs::path src = from / std::string(kManifestDirName);
  const fs::path dst = to / std::string(kManifestDirName);
  const fs::path src_parts = src / std::string(kPartsDirName);
  const fs::path dst_parts = dst / std::string(kPartsDirName);
  std::error_code ec;
  fs::create_directories(dst_parts, ec);
  if (ec) return Status::Invalid("cannot create " + dst_parts.string() + ": " + ec.message());
  std::set<std::string> names;
  for (fs::directory_iterator it(src_parts, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (name.rfind(kTempPrefix, 0) == 0) continue;
    names.insert(name);
    fs::path target = dst_parts / name;
    struct stat a, b;
    if (::lstat(target.c_str(), &b) == 0) {
      if (::stat(it->path().c_str(), &a) == 0 && a.st_ino == b.st_ino) continue;
      ::unlink(target.c_str());
    }
    if (::link(it->path().c_str(), target.c_str()) != 0)
      return Status::FromErrno(errno, "hardlink " + it->path().string() + " -> " + target.string());
  }
  if (ec) return Status::Invalid("cannot list " + src_parts.string() + ": " + ec.message());
  // The index last, atomically: a peer sees the old index or the new one.
  fs::path index = src / std::string(kManifestFileName);
  fs::path temp = dst / (std::string(kTempPrefix) + "manifest.json" + std::string(kTempMarker) + "mirror.tmp");
  ::unlink(temp.c_str());
  if (::link(index.c_str(), temp.c_str()) != 0) return Status::FromErrno(errno, "hardlink " + index.string());
  if (::rename(temp.c_str(), (dst / std::string(kManifestFileName)).c_str()) != 0)
    return Status::FromErrno(errno, "rename " + temp.string());
  for (fs::directory_iterator it(dst_parts, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!names.count(name)) ::unlink(it->path().c_str());
  }
  return Status::Ok();
}

Status Exchange::Open(Instance* instance, std::unique_ptr<Exchange>* out) {
  auto e = std::make_unique<Exchange>();
  e->instance_ = instance;
  if (Status s = OutboxStore::Open(&instance->state(), &e->outbox_); !s.ok()) return s;
  *out = std::move(e);
  return Status::Ok();
}

Status Exchange::Publish(const Config& config, ExchangePublishReport* out) {
  ExchangePublishReport unused;
  ExchangePublishReport& rep = out ? *out : unused;
  rep = ExchangePublishReport();
  if (config.peers.empty()) return Status::Ok();
  PublishOptions o;
  o.database_path = config.database_path;
  o.image_root = config.image_root;
  o.key_path = config.key_path;
  o.manifest_root = SelfRoot(config);
  for (const Peer& p : config.peers) o.peers.push_back(p.device_id);
  std::sort(o.peers.begin(), o.peers.end());
  if (Status s = BannedAuthors(instance_->archive().db(), &o.banned_authors); !s.ok()) return s;
  std::error_code ec;
  fs::create_directories(o.manifest_root, ec);
  if (Status s = PublishManifest(o, &rep.manifest); !s.ok()) return s;
  for (const Peer& p : config.peers) {
    if (Status s = MirrorManifest(o.manifest_root, ExchangeOutgoingPath(config, p.name)); !s.ok()) {
      spdlog::warn("exchange {}: manifest not mirrored into its folder: {}", p.name, s.ToString());
      rep.not_mirrored.push_back(p.name);
    } else {
      rep.mirrored.push_back(p.name);
    }
  }
  // Our own catalog, which outboxes are computed from. We wrote it, so no
  // key is pinned; a manifest history that started over (exchange_root
  // lost) is simply taken.
  bool changed = false;
  ManifestReader reader(o.manifest_root, kSelfCatalog, nullptr);
  Status s = instance_->catalog().Load(kSelfCatalog, reader, &changed);
  if (s.code() == Status::Code::kCorrupt && s.message().find("refused") != std::string::npos) {
    (void)instance_->catalog().ForgetSequence(kSelfCatalog);
    ManifestReader again(o.manifest_root, kSelfCatalog, nullptr);
    s = instance_->catalog().Load(kSelfCatalog, again, &changed);
  }
  if (!s.ok()) return s;
  return RecomputeAll(config);
}

Status Exchange::OnPeerCatalog(const Config& config, const std::string& peer) {
  if (Status s = RefreshMembers(config, peer); !s.ok()) return s;
  return RecomputeAll(config);
}

Status Exchange::Refresh(const Config& config) {
  for (const Peer& p : config.peers) {
    if (Status s = RefreshMembers(config, p.name); !s.ok()) return s;
  }
  return RecomputeAll(config);
}

Status Exchange::RefreshMembers(const Config& config, const std::string& peer) {
  const RemoteSource* src = config.FindSource(peer);
  if (!src || !src->exchange) return Status::Ok();
  std::string fingerprint = AcceptedFingerprint(instance_->state(), peer);
  if (!fingerprint.empty() && fingerprint != outbox_.PeerMembersFingerprint(peer)) {
    // The members come from the manifest.json the catalog was loaded
    // from: same bytes (its SHA-256 is in the fingerprint), so its
    // signature was verified by that load.
    std::string text;
    fs::path index = src->received_folder / std::string(kManifestDirName) / std::string(kManifestFileName);
    SignedManifest outer;
    ManifestPayload payload;
    if (ReadSmallRegularFile(index, "manifest", kMaxIndexBytes, &text).ok() &&
        ParseSignedManifest(text, &outer).ok() && ParseManifestPayload(outer.payload, &payload).ok() &&
        fingerprint == "manifest:" + std::to_string(payload.sequence) + ":" + Sha256Hex(text)) {
      if (Status s = outbox_.SetPeerMembers(peer, payload.peers, payload.banned_authors, fingerprint); !s.ok())
        return s;
    }
  }
  return Status::Ok();
}

Status Exchange::RetireRemovedPeers(const Config& config,
                                   const std::function<Status(const RemoteSource&)>& import_pass,
                                   std::vector<RetiredPeer>* retired) {
  retired->clear();
  std::set<std::string> configured;
  for (const Peer& p : config.peers) configured.insert(p.name);
  std::vector<std::string> known;
  if (Status s = outbox_.KnownPeers(&known); !s.ok()) return s;
  std::set<std::string> former;
  for (const std::string& name : known)
    if (!configured.count(name)) former.insert(name);
  // Folders without rows (the state database was lost, or the peer's
  // catalog never arrived): only those that hold a manifest, as every
  // exchange folder does until it is retired, so that nothing else under
  // exchange_root is ever taken for one.
  std::error_code ec;
  for (fs::directory_iterator it(config.exchange_root, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code e2;
    if (!it->is_directory(e2) || it->is_symlink(e2)) continue;
    const std::string f = it->path().filename().string();
    std::string name = f.rfind("to-", 0) == 0 ? f.substr(3) : f.rfind("from-", 0) == 0 ? f.substr(5) : "";
    if (name.empty() || configured.count(name)) continue;
    if (fs::is_directory(it->path() / std::string(kManifestDirName), e2)) former.insert(name);
  }
  for (const std::string& name : former) {
    RetiredPeer r;
    r.name = name;
    // What we sent it. The marker first: a Syncthing that still shares the
    // folder then refuses to scan it, and no removal below reaches the peer
    // as a deletion of what it received and has not imported yet.
    const fs::path out = ExchangeOutgoingPath(config, name);
    fs::remove_all(out / ".stfolder", ec);
    if (Status s = outbox_.Retire(name, config.image_root, out, &r.outbox); !s.ok()) return s;
    fs::remove_all(out / std::string(kManifestDirName), ec);
    r.outgoing_left = PruneEmptyDirs(out);
    r.outgoing_removed = !fs::exists(out, ec);
    // What it sent us.
    const fs::path in = ExchangeIncomingPath(config, name);
    const RemoteSource* other = config.FindSource(name);
    if (fs::is_directory(in, ec) && !other) {
      RemoteSource src;
      src.name = name;
      src.exchange = true;
      src.received_folder = in;
      Status s = import_pass(src);
      r.import_ran = true;
      if (!s.ok() && !s.IsNotFound())
        spdlog::warn("exchange {}: last import from {} stopped: {}", name, in.string(), s.ToString());
      std::vector<std::string> delivered;
      Status w = WalkReceivedFolder(in, [&](const std::string& rel) {
        delivered.push_back(rel);
        return true;
      });
      if (!w.ok()) spdlog::warn("exchange {}: cannot list all of {}: {}", name, in.string(), w.ToString());
      for (const std::string& rel : delivered) {
        const fs::path file = in / rel;
        if (ArchiveHolds(instance_->archive(), name, rel, file) && ::unlink(file.c_str()) == 0)
          ++r.received_removed;
        else
          ++r.received_left;
      }
      if (r.received_left == 0 && w.ok()) {
        fs::remove_all(in, ec);  // its manifest and Syncthing's marker: nothing of the archive
      } else {
        // Only empty directories go.
        std::vector<fs::path> dirs;
        for (fs::recursive_directory_iterator it(in, fs::directory_options::none, ec), end; !ec && it != end;
             it.increment(ec))
          if (it->is_directory(ec) && !it->is_symlink(ec)) dirs.push_back(it->path());
        for (auto d = dirs.rbegin(); d != dirs.rend(); ++d) ::rmdir(d->c_str());
      }
    } else if (fs::is_directory(in, ec)) {
      spdlog::warn("exchange {}: no longer a peer, and its name is now a remote source's: {} is left as it is", name,
                   in.string());
    }
    r.incoming_removed = !fs::exists(in, ec);
    retired->push_back(r);
  }
  return Status::Ok();
}

Status Exchange::RecomputeAll(const Config& config) {
  Status first;
  for (const Peer& p : config.peers) {
    Status s = RecomputeOne(config, p);
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

Status Exchange::RelinkReplaced(const Config& config, int64_t* relinked) {
  *relinked = 0;
  Status first;
  for (const Peer& p : config.peers) {
    int64_t n = 0;
    Status s = outbox_.RelinkReplaced(p.name, config.image_root, ExchangeOutgoingPath(config, p.name), &n);
    *relinked += n;
    if (!s.ok() && first.ok()) first = s;
  }
  return first;
}

Status Exchange::RecomputeOne(const Config& config, const Peer& peer) {
  if (self_device_.empty()) return Status::Ok();
  OutboxRequest r;
  r.self_device = self_device_;
  r.receiver = peer;
  r.others = config.peers;
  r.now = NowSeconds();
  r.fallback_seconds = int64_t{config.peer_fallback_minutes} * 60;
  // Imported from `holder`: its catalog lists the sha256 at a path that
  // our sync_records record as imported from it (an outbox file sits at
  // the path its sender's catalog gives; both lookups are indexed).
  r.relayed_from = [this](const std::string& holder, const std::string& sha256) {
    std::vector<std::string> paths;
    if (!instance_->catalog().PathsWithSha256(holder, sha256, &paths).ok()) return false;
    try {
      Statement q = instance_->archive().db().Prepare(
          "SELECT 1 FROM sync_records WHERE remote_source = ? AND remote_path = ? AND status = 'imported' LIMIT 1");
      for (const std::string& p : paths) {
        q.Bind(1, holder).Bind(2, p);
        bool imported = q.Step();
        q.Reset();
        if (imported) return true;
      }
    } catch (const SqliteError& e) {
      spdlog::debug("exchange: cannot read sync_records: {}", e.what());
    }
    return false;
  };
  OutboxChange c;
  if (Status s = outbox_.Recompute(r, &c); !s.ok()) return s;
  if (!c.receiver_catalog) {
    spdlog::debug("exchange {}: no catalog from it yet; its outbox waits", peer.name);
    return Status::Ok();
  }
  if (Status s = outbox_.SyncFiles(peer.name, config.image_root, ExchangeOutgoingPath(config, peer.name), &c); !s.ok())
    return s;
  if (c.linked || c.unlinked || c.newly_sent || c.link_errors)
    spdlog::info("exchange {}: it lacks {} image(s): {} queued here, {} left to another holder; {} added to its "
                 "outbox, {} removed ({} now in its catalog), {} link errors; {} local image(s) looked at ({})",
                 peer.name, c.candidates, c.queued, c.deferred, c.linked, c.unlinked, c.newly_sent, c.link_errors,
                 c.evaluated, c.incremental ? "what the catalogs' changes touch" : "all");
  return Status::Ok();
}

}  // namespace indafoto
