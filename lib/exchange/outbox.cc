#include "lib/exchange/outbox.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <set>

#include "lib/archive/remote_image.h"
#include "lib/exchange/exchange_ids.h"
#include "lib/util/sha256.h"

namespace indafoto {

namespace fs = std::filesystem;

namespace {

const char* const kOutboxSchemaSql = R"sql(
-- One row per image this archive holds and a peer's catalog lacks.
CREATE TABLE IF NOT EXISTS syncd_outbox (
    peer TEXT NOT NULL,
    rel_path TEXT NOT NULL,            -- relative to image_root and to the outbox folder
    sha256 TEXT NOT NULL,
    queued INTEGER NOT NULL DEFAULT 0, -- 1: this node sends it (its hardlink belongs in the outbox)
    linked INTEGER NOT NULL DEFAULT 0, -- 1: the hardlink is in the outbox folder
    missing_since INTEGER NOT NULL,    -- unix seconds: first seen missing from the peer's catalog
    pass INTEGER NOT NULL,             -- the Recompute that last listed it
    PRIMARY KEY (peer, rel_path)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS syncd_outbox_by_state ON syncd_outbox(peer, queued, linked);
CREATE TABLE IF NOT EXISTS syncd_exchange_peers (
    peer TEXT PRIMARY KEY,
    members_fingerprint TEXT,          -- catalog fingerprint the members below came with
    pass INTEGER NOT NULL DEFAULT 0,
    sent INTEGER NOT NULL DEFAULT 0,   -- images that left the outbox because the peer listed them
    inputs TEXT                        -- catalog generations the last Recompute saw
);
-- Device IDs a peer's manifest says it exchanges with.
CREATE TABLE IF NOT EXISTS syncd_exchange_links (
    peer TEXT NOT NULL,
    device_id TEXT NOT NULL,
    PRIMARY KEY (peer, device_id)
) WITHOUT ROWID;
-- Images that left a peer's outbox because its catalog listed them: that
-- peer got them from us, so it is not a sender of them to third peers.
CREATE TABLE IF NOT EXISTS syncd_exchange_sent (
    peer TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (peer, sha256)
) WITHOUT ROWID;
-- Authors a peer's manifest lists as banned there.
CREATE TABLE IF NOT EXISTS syncd_exchange_banned (
    peer TEXT NOT NULL,
    author TEXT NOT NULL,
    PRIMARY KEY (peer, author)
) WITHOUT ROWID;
)sql";

// Creates the parent directories of `file` below `root` (mode 0755).
bool MakeParents(const fs::path& root, const fs::path& file) {
  std::error_code ec;
  fs::create_directories(file.parent_path(), ec);
  (void)root;
  return !ec;
}

// Removes now-empty directories from `file`'s parent up to (excluding) `root`.
void RemoveEmptyParents(const fs::path& root, fs::path file) {
  for (fs::path dir = file.parent_path(); dir != root && dir.string().size() > root.string().size();
       dir = dir.parent_path()) {
    if (::rmdir(dir.c_str()) != 0) break;
  }
}

}  // namespace

Status OutboxStore::Open(Database* db, OutboxStore* out) {
  try {
    db->Exec(kOutboxSchemaSql);
    if (!db->HasColumn("syncd_exchange_peers", "inputs"))  // state made by an earlier build of this branch
      db->Exec("ALTER TABLE syncd_exchange_peers ADD COLUMN inputs TEXT");
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
  out->db_ = db;
  return Status::Ok();
}

Status OutboxStore::SetPeerMembers(const std::string& peer, const std::vector<std::string>& peer_devices,
                                   const std::vector<std::string>& banned_authors, const std::string& fingerprint) {
  try {
    Transaction t(*db_);
    Statement up = db_->Prepare(
        "INSERT INTO syncd_exchange_peers (peer, members_fingerprint) VALUES (?, ?) "
        "ON CONFLICT(peer) DO UPDATE SET members_fingerprint = excluded.members_fingerprint");
    up.Bind(1, peer).Bind(2, fingerprint);
    up.Run();
    // Who exchanges with whom decides the senders of every outbox.
    db_->Exec("UPDATE syncd_exchange_peers SET inputs = NULL");
    Statement del_links = db_->Prepare("DELETE FROM syncd_exchange_links WHERE peer = ?");
    del_links.Bind(1, peer);
    del_links.Run();
    Statement del_banned = db_->Prepare("DELETE FROM syncd_exchange_banned WHERE peer = ?");
    del_banned.Bind(1, peer);
    del_banned.Run();
    Statement link = db_->Prepare("INSERT OR IGNORE INTO syncd_exchange_links (peer, device_id) VALUES (?, ?)");
    for (const auto& d : peer_devices) {
      link.Bind(1, peer).Bind(2, d);
      link.Run();
      link.Reset();
    }
    Statement ban = db_->Prepare("INSERT OR IGNORE INTO syncd_exchange_banned (peer, author) VALUES (?, ?)");
    for (const auto& a : banned_authors) {
      ban.Bind(1, peer).Bind(2, a);
      ban.Run();
      ban.Reset();
    }
    t.Commit();
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

std::string OutboxStore::PeerMembersFingerprint(const std::string& peer) {
  try {
    Statement q = db_->Prepare("SELECT members_fingerprint FROM syncd_exchange_peers WHERE peer = ?");
    q.Bind(1, peer);
    if (q.Step() && !q.IsNull(0)) return q.Text(0);
  } catch (const SqliteError&) {
  }
  return "";
}

namespace {

// The catalogs a peer's queue depends on, by generation: "v2;@self=5;bob=7;
// carol=-;<self device>" ("-": not loaded yet). Equal strings mean nothing
// changed; the generations tell an incremental recompute where to start.
struct Inputs {
  std::string text;
  std::map<std::string, int64_t> generation;  // known sources only
  bool all_known = true;
};

Inputs ReadInputs(Database& db, const std::string& self_device, const std::vector<std::string>& sources) {
  Inputs in;
  in.text = "v2;";
  Statement gen = db.Prepare(
      "SELECT generation FROM syncd_catalog_sources WHERE source = ? AND fingerprint IS NOT NULL AND fingerprint != ''");
  for (const std::string& source : sources) {
    gen.Bind(1, source);
    if (gen.Step()) {
      in.generation[source] = gen.Int(0);
      in.text += source + "=" + std::to_string(gen.Int(0)) + ";";
    } else {
      in.all_known = false;
      in.text += source + "=-;";
    }
    gen.Reset();
  }
  in.text += self_device;
  return in;
}

// Parses what ReadInputs wrote; false for anything else (an older format).
bool ParseInputs(const std::string& text, Inputs* out) {
  if (text.rfind("v2;", 0) != 0) return false;
  size_t pos = 3;
  for (size_t semi; (semi = text.find(';', pos)) != std::string::npos; pos = semi + 1) {
    std::string item = text.substr(pos, semi - pos);
    size_t eq = item.rfind('=');
    if (eq == std::string::npos) return false;
    std::string value = item.substr(eq + 1);
    if (value == "-") {
      out->all_known = false;
      continue;
    }
    int64_t generation = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), generation);
    if (ec != std::errc() || end != value.data() + value.size()) return false;
    out->generation[item.substr(0, eq)] = generation;
  }
  out->text = text;
  return true;
}

}  // namespace

Status OutboxStore::Recompute(const OutboxRequest& r, OutboxChange* change) {
  *change = OutboxChange();
  const std::string& peer = r.receiver.name;
  try {
    // Nothing is known of what the receiver holds before its catalog
    // arrives: queueing everything then would send the whole archive.
    {
      Statement q = db_->Prepare(
          "SELECT 1 FROM syncd_catalog_sources WHERE source = ? AND fingerprint IS NOT NULL AND fingerprint != ''");
      q.Bind(1, peer);
      if (!q.Step()) return Status::Ok();
    }
    change->receiver_catalog = true;
    std::vector<std::string> sources{kSelfCatalog, peer};
    for (const Peer& o : r.others)
      if (o.name != peer) sources.push_back(o.name);
    Inputs now = ReadInputs(*db_, r.self_device, sources);
    // Unchanged, and no image waiting for another holder (whose fallback
    // is a matter of time): the queue is what it was, nothing to do.
    Inputs before;
    bool have_before = false;
    {
      Statement last = db_->Prepare(
          "SELECT p.inputs, EXISTS (SELECT 1 FROM syncd_outbox o WHERE o.peer = p.peer AND o.queued = 0 AND "
          "o.linked = 0 AND o.pass != 0) FROM syncd_exchange_peers p WHERE p.peer = ?");
      last.Bind(1, peer);
      if (last.Step() && !last.IsNull(0)) {
        if (last.Text(0) == now.text && last.Int(1) == 0) {
          change->unchanged = true;
          return Status::Ok();
        }
        have_before = ParseInputs(last.Text(0), &before);
      }
    }
    // Incremental when the last recompute saw the same catalogs (every one
    // loaded, the same peers, the same members: SetPeerMembers clears the
    // inputs) at generations whose changes are still kept: then only the
    // local images whose keys changed somewhere, and the images waiting for
    // another holder, are looked at again. Otherwise every local image.
    bool incremental = have_before && before.all_known && now.all_known && !r.full;
    if (incremental) {
      for (const std::string& source : sources) {
        auto b = before.generation.find(source);
        if (b == before.generation.end() || b->second > now.generation[source] ||
            now.generation[source] - b->second >= kCatalogChangesKept) {
          incremental = false;
          break;
        }
      }
      if (before.text.substr(before.text.rfind(';') + 1) != r.self_device) incremental = false;
    }
    change->incremental = incremental;

    Transaction t(*db_);
    int64_t pass = 1;
    {
      Statement ensure = db_->Prepare("INSERT OR IGNORE INTO syncd_exchange_peers (peer) VALUES (?)");
      ensure.Bind(1, peer);
      ensure.Run();
      Statement q = db_->Prepare("SELECT pass FROM syncd_exchange_peers WHERE peer = ?");
      q.Bind(1, peer);
      if (q.Step()) pass = q.Int(0) + 1;
    }
    // Holders this node knows of, besides itself: the other peers that say
    // they exchange with the receiver. `stale` = its catalog has not
    // changed for the fallback time (it may be away).
    struct Holder {
      std::string name, device;
      bool stale = false;
    };
    std::vector<Holder> holders;
    bool others_unknown = !now.all_known;  // a peer whose catalog has not arrived
    for (const Peer& o : r.others) {
      if (o.name == peer) continue;
      Statement q = db_->Prepare("SELECT 1 FROM syncd_exchange_links WHERE peer = ? AND device_id = ?");
      q.Bind(1, o.name).Bind(2, r.receiver.device_id);
      if (!q.Step()) continue;
      Holder h{o.name, o.device_id, true};
      Statement at = db_->Prepare(
          "SELECT CAST(strftime('%s', loaded_at) AS INTEGER) FROM syncd_catalog_sources WHERE source = ?");
      at.Bind(1, o.name);
      if (at.Step() && !at.IsNull(0)) h.stale = r.now - at.Int(0) > r.fallback_seconds;
      holders.push_back(h);
    }

    Statement lacks = db_->Prepare(
        "SELECT NOT EXISTS (SELECT 1 FROM syncd_catalog_entries c WHERE c.source = ?1 AND c.sha256 = ?2) "
        "AND (?3 IS NULL OR NOT EXISTS (SELECT 1 FROM syncd_catalog_entries c WHERE c.source = ?1 AND c.url = ?3))");
    Statement banned = db_->Prepare("SELECT 1 FROM syncd_exchange_banned WHERE peer = ? AND author = ?");
    Statement holds =
        db_->Prepare("SELECT 1 FROM syncd_catalog_entries WHERE source = ? AND sha256 = ? LIMIT 1");
    Statement sent_to = db_->Prepare("SELECT 1 FROM syncd_exchange_sent WHERE peer = ? AND sha256 = ?");
    Statement existing = db_->Prepare("SELECT queued, missing_since, sha256 FROM syncd_outbox WHERE peer = ? AND rel_path = ?");
    Statement put = db_->Prepare(
        "INSERT INTO syncd_outbox (peer, rel_path, sha256, queued, linked, missing_since, pass) "
        "VALUES (?1, ?2, ?3, ?4, 0, ?5, ?6) ON CONFLICT(peer, rel_path) DO UPDATE SET "
        "sha256 = excluded.sha256, queued = excluded.queued, missing_since = excluded.missing_since, "
        "pass = excluded.pass");
    // pass = 0 marks a row that left the candidates (see below).
    Statement leaves = db_->Prepare("UPDATE syncd_outbox SET pass = 0 WHERE peer = ? AND rel_path = ?");

    // Decides one local image (`record` = its catalog entry) for the
    // receiver: a candidate (queued here or left to a higher-ranked holder;
    // returns true) or not.
    auto evaluate = [&](const std::string& rel_path, const std::string& sha256, const std::string& url,
                        const std::string& record) -> bool {
      bool candidate = !sha256.empty();
      if (candidate) {
        lacks.Bind(1, peer).Bind(2, sha256);
        if (url.empty()) lacks.BindNull(3);
        else lacks.Bind(3, url);
        candidate = lacks.Step() && lacks.Int(0) != 0;
        lacks.Reset();
      }
      RemoteImage img;
      if (candidate) candidate = RemoteImageFromJson(record, &img).ok();
      if (candidate) {
        const Value& author = img.Get("author");
        if (!author.IsMissing()) {
          banned.Bind(1, peer).Bind(2, author.ToString());
          candidate = !banned.Step();
          banned.Reset();
        }
      }
      if (!candidate) return false;
      bool was_queued = false;
      int64_t missing_since = r.now;
      existing.Bind(1, peer).Bind(2, rel_path);
      if (existing.Step()) {
        was_queued = existing.Int(0) != 0 && existing.Text(2) == sha256;
        missing_since = existing.Int(1);
      }
      existing.Reset();
      bool queue = was_queued;
      if (!queue) {
        // Rendezvous among the holders we know of. A holder that got the
        // image from another holder is not a contender (unless that leaves
        // nobody).
        struct Contender {
          const Holder* holder;  // null: this node
          uint64_t score;
        };
        std::vector<Contender> all, firsthand;
        bool self_relayed = false;
        for (const Holder& h : holders) {
          holds.Bind(1, h.name).Bind(2, sha256);
          bool has = holds.Step();
          holds.Reset();
          if (!has) continue;
          Contender c{&h, RendezvousScore(sha256, h.device, r.receiver.device_id)};
          all.push_back(c);
          sent_to.Bind(1, h.name).Bind(2, sha256);
          bool we_sent_it = sent_to.Step();
          sent_to.Reset();
          if (!we_sent_it) firsthand.push_back(c);
          if (!self_relayed && r.relayed_from && r.relayed_from(h.name, sha256)) self_relayed = true;
        }
        Contender self{nullptr, RendezvousScore(sha256, r.self_device, r.receiver.device_id)};
        all.push_back(self);
        if (!self_relayed) firsthand.push_back(self);
        const std::vector<Contender>& field = firsthand.empty() ? all : firsthand;
        const Contender* best = &field.front();
        for (const Contender& c : field)
          if (c.score > best->score) best = &c;
        bool expired = r.now - missing_since > r.fallback_seconds;
        if (best->holder == nullptr) queue = !others_unknown || expired;
        else queue = best->holder->stale || expired;
      }
      put.Bind(1, peer).Bind(2, rel_path).Bind(3, sha256).Bind(4, queue ? 1 : 0).Bind(5, missing_since).Bind(6, pass);
      put.Run();
      put.Reset();
      return true;
    };

    if (!incremental) {
      // Every local image: what is not listed again leaves.
      Statement all = db_->Prepare(
          "SELECT rel_path, COALESCE(sha256, ''), COALESCE(url, ''), record FROM syncd_catalog_entries WHERE source = ?");
      all.Bind(1, std::string(kSelfCatalog));
      while (all.Step()) {
        evaluate(all.Text(0), all.Text(1), all.Text(2), all.Text(3));
        ++change->evaluated;
      }
      all.Reset();
      Statement unlisted = db_->Prepare("UPDATE syncd_outbox SET pass = 0 WHERE peer = ? AND pass != ? AND pass != 0");
      unlisted.Bind(1, peer).Bind(2, pass);
      unlisted.Run();
    } else {
      // The local paths to look at again, in proportion to the change:
      // local images added or changed; local paths removed; local images
      // whose sha256 or url the receiver or another holder added or
      // removed; and every image left to another holder (its fallback).
      std::set<std::string> paths;
      auto collect = [&](Statement& q) {
        while (q.Step()) paths.insert(q.Text(0));
        q.Reset();
      };
      {
        int64_t since = before.generation[kSelfCatalog];
        Statement changed = db_->Prepare(
            "SELECT rel_path FROM syncd_catalog_entries WHERE source = ? AND changed_generation > ?");
        changed.Bind(1, std::string(kSelfCatalog)).Bind(2, since);
        collect(changed);
        Statement removed = db_->Prepare("SELECT rel_path FROM syncd_catalog_removed WHERE source = ? AND generation > ?");
        removed.Bind(1, std::string(kSelfCatalog)).Bind(2, since);
        collect(removed);
      }
      Statement local_by_key = db_->Prepare(
          "SELECT rel_path FROM syncd_catalog_entries WHERE source = ?1 AND sha256 = ?2 "
          "UNION SELECT rel_path FROM syncd_catalog_entries WHERE source = ?1 AND ?3 IS NOT NULL AND url = ?3");
      auto by_key = [&](Statement& keys) {
        while (keys.Step()) {
          local_by_key.Bind(1, std::string(kSelfCatalog));
          if (keys.IsNull(0)) local_by_key.BindNull(2);
          else local_by_key.Bind(2, keys.Text(0));
          if (keys.IsNull(1)) local_by_key.BindNull(3);
          else local_by_key.Bind(3, keys.Text(1));
          collect(local_by_key);
        }
        keys.Reset();
      };
      for (size_t i = 1; i < sources.size(); ++i) {
        int64_t since = before.generation[sources[i]];
        Statement changed = db_->Prepare(
            "SELECT sha256, url FROM syncd_catalog_entries WHERE source = ? AND changed_generation > ?");
        changed.Bind(1, sources[i]).Bind(2, since);
        by_key(changed);
        Statement removed = db_->Prepare("SELECT sha256, url FROM syncd_catalog_removed WHERE source = ? AND generation > ?");
        removed.Bind(1, sources[i]).Bind(2, since);
        by_key(removed);
      }
      Statement waiting = db_->Prepare("SELECT rel_path FROM syncd_outbox WHERE peer = ? AND queued = 0 AND pass != 0");
      waiting.Bind(1, peer);
      collect(waiting);
      Statement entry = db_->Prepare(
          "SELECT COALESCE(sha256, ''), COALESCE(url, ''), record FROM syncd_catalog_entries WHERE source = ? AND "
          "rel_path = ?");
      for (const std::string& rel_path : paths) {
        bool candidate = false;  // gone here: its row leaves
        entry.Bind(1, std::string(kSelfCatalog)).Bind(2, rel_path);
        if (entry.Step()) {
          std::string sha256 = entry.Text(0), url = entry.Text(1), record = entry.Text(2);
          entry.Reset();
          candidate = evaluate(rel_path, sha256, url, record);
        }
        entry.Reset();
        if (!candidate) {
          leaves.Bind(1, peer).Bind(2, rel_path);
          leaves.Run();
          leaves.Reset();
        }
      }
      change->evaluated = static_cast<int64_t>(paths.size());
    }
    // Rows that left the candidates (pass = 0) left the queue: the
    // receiver lists them now (sent, when we had linked them), or they are
    // no longer ours to send (gone here, banned there). Their links go in
    // SyncFiles.
    {
      Statement sent = db_->Prepare(
          "SELECT COUNT(*) FROM syncd_outbox o WHERE o.peer = ?1 AND o.pass = 0 AND o.queued = 1 AND o.linked = 1 "
          "AND EXISTS (SELECT 1 FROM syncd_catalog_entries c WHERE c.source = ?1 AND c.sha256 = o.sha256)");
      sent.Bind(1, peer);
      if (sent.Step()) change->newly_sent = sent.Int(0);
    }
    Statement remember = db_->Prepare(
        "INSERT OR IGNORE INTO syncd_exchange_sent (peer, sha256) SELECT o.peer, o.sha256 FROM syncd_outbox o "
        "WHERE o.peer = ?1 AND o.pass = 0 AND o.linked = 1 AND EXISTS "
        "(SELECT 1 FROM syncd_catalog_entries c WHERE c.source = ?1 AND c.sha256 = o.sha256)");
    remember.Bind(1, peer);
    remember.Run();
    Statement leave = db_->Prepare("UPDATE syncd_outbox SET queued = 0 WHERE peer = ? AND pass = 0");
    leave.Bind(1, peer);
    leave.Run();
    Statement drop = db_->Prepare("DELETE FROM syncd_outbox WHERE peer = ? AND pass = 0 AND linked = 0");
    drop.Bind(1, peer);
    drop.Run();
    {
      Statement counts = db_->Prepare(
          "SELECT COUNT(*), COALESCE(SUM(queued), 0) FROM syncd_outbox WHERE peer = ? AND pass != 0");
      counts.Bind(1, peer);
      if (counts.Step()) {
        change->candidates = counts.Int(0);
        change->queued = counts.Int(1);
        change->deferred = change->candidates - change->queued;
      }
    }
    Statement up =
        db_->Prepare("UPDATE syncd_exchange_peers SET pass = ?, sent = sent + ?, inputs = ? WHERE peer = ?");
    up.Bind(1, pass).Bind(2, change->newly_sent).Bind(3, now.text).Bind(4, peer);
    up.Run();
    t.Commit();
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

Status OutboxStore::SyncFiles(const std::string& peer, const fs::path& image_root, const fs::path& outbox_dir,
                              OutboxChange* change) {
  constexpr int kBatch = 1000;
  try {
    // Links to create. A failed link stays linked = 0 and is retried next
    // time; `attempted` keeps this call from looping over it.
    int64_t after_errors = 0;
    for (;;) {
      std::vector<std::string> paths;
      {
        Statement q = db_->Prepare(
            "SELECT rel_path FROM syncd_outbox WHERE peer = ? AND queued = 1 AND linked = 0 ORDER BY rel_path "
            "LIMIT ? OFFSET ?");
        q.Bind(1, peer).Bind(2, kBatch).Bind(3, after_errors);
        while (q.Step()) paths.push_back(q.Text(0));
      }
      if (paths.empty()) break;
      Transaction t(*db_);
      Statement mark = db_->Prepare("UPDATE syncd_outbox SET linked = 1 WHERE peer = ? AND rel_path = ?");
      for (const std::string& rel : paths) {
        fs::path from = image_root / rel;
        fs::path to = outbox_dir / rel;
        bool ok = MakeParents(outbox_dir, to) && ::link(from.c_str(), to.c_str()) == 0;
        if (!ok && errno == EEXIST) {
          // Left by a run that stopped before it recorded the link: keep it
          // if it is the same file, else replace it.
          struct stat a, b;
          if (::stat(from.c_str(), &a) == 0 && ::lstat(to.c_str(), &b) == 0 && a.st_ino == b.st_ino &&
              a.st_dev == b.st_dev)
            ok = true;
          else if (::unlink(to.c_str()) == 0)
            ok = ::link(from.c_str(), to.c_str()) == 0;
        }
        if (!ok) {
          ++change->link_errors;
          ++after_errors;
          spdlog::warn("exchange {}: cannot hardlink {} into the outbox {}: {}", peer, from.string(),
                       outbox_dir.string(), std::strerror(errno));
          continue;
        }
        ++change->linked;
        mark.Bind(1, peer).Bind(2, rel);
        mark.Run();
        mark.Reset();
      }
      t.Commit();
    }
    // Links to remove: rows that left the queue.
    for (int64_t removed = -1; removed != 0;) {
      removed = 0;
      std::vector<std::string> paths;
      {
        Statement q = db_->Prepare(
            "SELECT rel_path FROM syncd_outbox WHERE peer = ? AND queued = 0 AND linked = 1 LIMIT ?");
        q.Bind(1, peer).Bind(2, kBatch);
        while (q.Step()) paths.push_back(q.Text(0));
      }
      if (paths.empty()) break;
      Transaction t(*db_);
      Statement unmark = db_->Prepare("UPDATE syncd_outbox SET linked = 0 WHERE peer = ? AND rel_path = ?");
      for (const std::string& rel : paths) {
        fs::path to = outbox_dir / rel;
        if (::unlink(to.c_str()) != 0 && errno != ENOENT) {
          spdlog::warn("exchange {}: cannot remove {} from the outbox: {}", peer, to.string(), std::strerror(errno));
          continue;  // stays linked; retried next time
        }
        RemoveEmptyParents(outbox_dir, to);
        ++change->unlinked;
        ++removed;
        unmark.Bind(1, peer).Bind(2, rel);
        unmark.Run();
        unmark.Reset();
      }
      t.Commit();
    }
    Statement drop = db_->Prepare("DELETE FROM syncd_outbox WHERE peer = ? AND queued = 0 AND linked = 0 AND pass = 0");
    drop.Bind(1, peer);
    drop.Run();
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

Status OutboxStore::RelinkReplaced(const std::string& peer, const fs::path& image_root, const fs::path& outbox_dir,
                                   int64_t* relinked) {
  *relinked = 0;
  try {
    std::vector<std::string> unlinked;  // removed but not re-made: SyncFiles retries them
    Statement q = db_->Prepare("SELECT rel_path, sha256 FROM syncd_outbox WHERE peer = ? AND linked = 1");
    q.Bind(1, peer);
    while (q.Step()) {
      const std::string rel = q.Text(0);
      const fs::path link = outbox_dir / rel, original = image_root / rel;
      struct stat a, b;
      if (::stat(original.c_str(), &a) != 0 || !S_ISREG(a.st_mode)) continue;  // the link may be the last copy
      const bool have_link = ::lstat(link.c_str(), &b) == 0;
      if (have_link && a.st_dev == b.st_dev && a.st_ino == b.st_ino) continue;  // still the archive's file
      FileDigest digest;
      if (Status s = Sha256File(original, &digest); !s.ok() || digest.sha256 != q.Text(1)) {
        spdlog::warn("exchange {}: {} is no longer the archive's file {}, whose content is not the image's ({}); "
                     "the link is left as it is",
                     peer, link.string(), original.string(), s.ok() ? digest.sha256 : s.message());
        continue;
      }
      if (have_link && ::unlink(link.c_str()) != 0) {
        spdlog::warn("exchange {}: cannot remove {} to re-link it: {}", peer, link.string(), std::strerror(errno));
        continue;
      }
      if (!MakeParents(outbox_dir, link) || ::link(original.c_str(), link.c_str()) != 0) {
        spdlog::warn("exchange {}: cannot re-link {} to the archive's file {}: {}; retried", peer, link.string(),
                     original.string(), std::strerror(errno));
        unlinked.push_back(rel);
        continue;
      }
      ++*relinked;
    }
    q.Reset();
    Transaction t(*db_);
    Statement unmark = db_->Prepare("UPDATE syncd_outbox SET linked = 0 WHERE peer = ? AND rel_path = ?");
    for (const std::string& rel : unlinked) {
      unmark.Bind(1, peer).Bind(2, rel);
      unmark.Run();
      unmark.Reset();
    }
    t.Commit();
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

Status OutboxStore::KnownPeers(std::vector<std::string>* out) {
  out->clear();
  try {
    // Every row of the other tables comes with one here (Recompute and
    // SetPeerMembers write it first, in the same transaction; Retire drops
    // them together): no scan of the big tables.
    Statement q = db_->Prepare("SELECT peer FROM syncd_exchange_peers ORDER BY peer");
    while (q.Step()) out->push_back(q.Text(0));
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

Status OutboxStore::Retire(const std::string& peer, const fs::path& image_root, const fs::path& outbox_dir,
                           RetireCounts* out) {
  *out = RetireCounts();
  try {
    {
      Statement q = db_->Prepare("SELECT rel_path FROM syncd_outbox WHERE peer = ? AND linked = 1");
      q.Bind(1, peer);
      while (q.Step()) {
        const std::string rel = q.Text(0);
        const fs::path link = outbox_dir / rel, original = image_root / rel;
        struct stat a, b;
        if (::lstat(link.c_str(), &b) != 0) continue;  // already gone
        if (S_ISREG(b.st_mode) && ::stat(original.c_str(), &a) == 0 && a.st_dev == b.st_dev &&
            a.st_ino == b.st_ino && ::unlink(link.c_str()) == 0) {
          ++out->links_removed;
          RemoveEmptyParents(outbox_dir, link);
          continue;
        }
        ++out->links_kept;
        spdlog::warn("exchange {}: {} left in place: it is no longer the archive's file {}", peer, link.string(),
                     original.string());
      }
    }
    Transaction t(*db_);
    Statement count = db_->Prepare("SELECT COUNT(*) FROM syncd_outbox WHERE peer = ?");
    count.Bind(1, peer);
    if (count.Step()) out->rows = count.Int(0);
    for (const char* table :
         {"syncd_outbox", "syncd_exchange_peers", "syncd_exchange_links", "syncd_exchange_banned",
          "syncd_exchange_sent"}) {
      Statement d = db_->Prepare(std::string("DELETE FROM ") + table + " WHERE peer = ?");
      d.Bind(1, peer);
      d.Run();
    }
    // The other outboxes' sender choice no longer counts this peer.
    db_->Exec("UPDATE syncd_exchange_peers SET inputs = NULL");
    t.Commit();
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

Status OutboxStore::Stats(const std::string& peer, OutboxStats* out) {
  *out = OutboxStats();
  try {
    if (!db_->HasTable("syncd_outbox")) return Status::Ok();
    Statement q = db_->Prepare(
        "SELECT COALESCE(SUM(queued = 1), 0), COALESCE(SUM(queued = 0), 0) FROM syncd_outbox WHERE peer = ?");
    q.Bind(1, peer);
    if (q.Step()) {
      out->queued = q.Int(0);
      out->deferred = q.Int(1);
    }
    Statement s = db_->Prepare("SELECT sent FROM syncd_exchange_peers WHERE peer = ?");
    s.Bind(1, peer);
    if (s.Step()) out->sent = s.Int(0);
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

}  // namespace indafoto
