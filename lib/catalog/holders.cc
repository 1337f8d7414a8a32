#include "lib/catalog/holders.h"

#include "lib/catalog/catalog.h"

#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

namespace indafoto {

namespace {

bool IsHex64(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The columns `images` may lack in an old crawler database read as NULL.
std::string LocalSelect(Database& db, const char* where) {
  std::string sql = "SELECT id, ";
  sql += db.HasColumn("images", "sha256_hash") ? "sha256_hash" : "NULL";
  sql += ", url, local_path FROM images";
  sql += where;
  return sql;
}

LocalImageRef ReadLocal(Statement& q) {
  LocalImageRef r;
  r.id = q.Int(0);
  if (!q.IsNull(1)) {
    std::string sha = q.Text(1);
    if (IsHex64(sha)) r.sha256 = Lower(std::move(sha));
  }
  if (!q.IsNull(2)) r.url = q.Text(2);
  if (!q.IsNull(3)) r.local_path = q.Text(3);
  return r;
}

}  // namespace

HolderQueryKind ClassifyHolderQuery(const std::string& query) {
  if (!query.empty() && query.size() <= 18 &&
      std::all_of(query.begin(), query.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return HolderQueryKind::kId;
  if (IsHex64(query)) return HolderQueryKind::kSha256;
  return HolderQueryKind::kUrl;
}

Status Holders::Sources(std::vector<std::string>* out) {
  out->clear();
  try {
    if (!state_->HasTable("syncd_catalog_sources") || !state_->HasTable("syncd_catalog_entries")) return Status::Ok();
    // Not our own catalog (the exchange's kSelfCatalog): this archive is not one of its holders.
    Statement q = state_->Prepare(
        "SELECT source FROM syncd_catalog_sources WHERE entry_count > 0 AND source != ? ORDER BY source");
    q.Bind(1, kSelfCatalog);
    while (q.Step()) out->push_back(q.Text(0));
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

Status Holders::Find(const std::string& query, WhereIs* out) {
  *out = WhereIs();
  out->kind = ClassifyHolderQuery(query);
  std::vector<std::string> sources;
  if (Status s = Sources(&sources); !s.ok()) return s;
  try {
    std::set<std::string> shas, urls;
    if (archive_->HasTable("images")) {
      std::optional<Statement> q;
      switch (out->kind) {
        case HolderQueryKind::kId:
          q = archive_->Prepare(LocalSelect(*archive_, " WHERE id = ?"));
          q->Bind(1, static_cast<int64_t>(std::stoll(query)));
          break;
        case HolderQueryKind::kSha256:
          if (!archive_->HasColumn("images", "sha256_hash")) break;
          q = archive_->Prepare(LocalSelect(*archive_, " WHERE sha256_hash = ?"));
          q->Bind(1, Lower(query));
          break;
        case HolderQueryKind::kUrl:
          q = archive_->Prepare(LocalSelect(*archive_, " WHERE url = ?"));
          q->Bind(1, query);
          break;
      }
      if (q)
        while (q->Step()) out->local.push_back(ReadLocal(*q));
      // Sorted here: an ORDER BY in the query could make SQLite walk the
      // table in id order instead of probing the index.
      std::sort(out->local.begin(), out->local.end(),
                [](const LocalImageRef& a, const LocalImageRef& b) { return a.id < b.id; });
    }
    if (out->kind == HolderQueryKind::kSha256) shas.insert(Lower(query));
    if (out->kind == HolderQueryKind::kUrl) urls.insert(query);
    for (const LocalImageRef& r : out->local) {
      if (!r.sha256.empty()) shas.insert(r.sha256);
      if (!r.url.empty()) urls.insert(r.url);
    }
    if (!sources.empty()) {
      Statement by_sha = state_->Prepare(
          "SELECT rel_path FROM syncd_catalog_entries WHERE source = ? AND sha256 = ?");
      // rel_path only: then the (source, url) index covers the query, and
      // SQLite probes it instead of walking the source's whole primary key
      // (seen without it: 30 ms per lookup at 100K entries).
      Statement by_url = state_->Prepare("SELECT rel_path FROM syncd_catalog_entries WHERE source = ? AND url = ?");
      Statement sha_of = state_->Prepare("SELECT sha256 FROM syncd_catalog_entries WHERE source = ? AND rel_path = ?");
      for (const std::string& source : sources) {
        std::map<std::string, CatalogHolding> found;  // by path: one entry per (source, path)
        auto collect = [&](Statement& q, const std::string& key, const char* how) {
          q.Bind(1, source).Bind(2, key);
          std::vector<std::string> paths;
          while (q.Step()) paths.push_back(q.Text(0));
          q.Reset();
          for (std::string& path : paths) {
            if (found.count(path)) continue;  // a sha256 match, found first, wins
            std::string sha = key;
            if (&q == &by_url) {
              sha_of.Bind(1, source).Bind(2, path);
              sha = sha_of.Step() && !sha_of.IsNull(0) ? sha_of.Text(0) : std::string();
              sha_of.Reset();
            }
            CatalogHolding h{source, path, sha, how};
            found.emplace(path, std::move(h));
          }
        };
        for (const std::string& sha : shas) collect(by_sha, sha, "sha256");
        for (const std::string& url : urls) collect(by_url, url, "url");
        if (!found.empty()) ++out->archives;
        for (auto& [path, h] : found) out->holdings.push_back(std::move(h));
      }
    }
    if (!out->local.empty()) ++out->archives;
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  } catch (const std::out_of_range&) {
    return Status::Invalid("image id " + query + " is out of range");
  }
}

Status Holders::Copies(const CopiesOptions& options, const ListFn& list, CopiesReport* report) {
  *report = CopiesReport();
  std::vector<std::string> sources;
  if (Status s = Sources(&sources); !s.ok()) return s;
  for (const std::string& s : sources) report->by_source[s] = 0;
  if (options.attach && !sources.empty()) return CopiesAttached(options, sources, list, report);
  try {
    if (!archive_->HasTable("images")) return Status::Ok();
    std::optional<Statement> by_sha, by_url;
    if (!sources.empty()) {
      by_sha = state_->Prepare("SELECT 1 FROM syncd_catalog_entries WHERE source = ? AND sha256 = ? LIMIT 1");
      by_url = state_->Prepare("SELECT 1 FROM syncd_catalog_entries WHERE source = ? AND url = ? LIMIT 1");
    }
    auto probe = [](Statement& q, const std::string& source, const std::string& key) {
      q.Bind(1, source).Bind(2, key);
      bool hit = q.Step();
      q.Reset();
      return hit;
    };
    // One read transaction on indafoto.db: the counts describe one snapshot
    // of it even while the crawler or the daemon writes.
    Transaction txn(*archive_, /*immediate=*/false);
    Statement rows = archive_->Prepare(LocalSelect(*archive_, " ORDER BY id"));
    std::vector<std::string> holding;
    while (rows.Step()) {
      LocalImageRef img = ReadLocal(rows);
      ++report->local_images;
      holding.clear();
      for (const std::string& source : sources) {
        if ((!img.sha256.empty() && probe(*by_sha, source, img.sha256)) ||
            (!img.url.empty() && probe(*by_url, source, img.url))) {
          holding.push_back(source);
          ++report->by_source[source];
        }
      }
      const int64_t holders = 1 + static_cast<int64_t>(holding.size());
      ++report->by_holders[holders];
      if (holders < options.below) {
        ++report->listed;
        if (list) list(img, holders, holding);
      }
    }
    txn.Commit();  // ends the read transaction
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

Status Holders::CopiesAttached(const CopiesOptions& options, const std::vector<std::string>& sources,
                               const ListFn& list, CopiesReport* report) {
  if (options.state_path.empty()) return Status::Invalid("copies: attach needs the state database's path");
  try {
    if (!archive_->HasTable("images")) return Status::Ok();
    if (!archive_->HasColumn("images", "sha256_hash")) {
      // lower(i.sha256_hash) below needs the column: stepwise instead.
      CopiesOptions stepwise = options;
      stepwise.attach = false;
      return Copies(stepwise, list, report);
    }
    Statement attach = archive_->Prepare("ATTACH DATABASE ? AS syncd_holders_state");
    attach.Bind(1, options.state_path);
    attach.Run();
    struct Detach {
      Database* db;
      ~Detach() {
        try {
          db->Exec("DETACH DATABASE syncd_holders_state");
        } catch (const SqliteError&) {
        }
      }
    } detach{archive_};
    std::string sql =
        "SELECT id, sha256_hash, url, local_path, (SELECT group_concat(s.source, char(31)) FROM "
        "(SELECT source FROM syncd_holders_state.syncd_catalog_sources WHERE entry_count > 0 AND source != ?1 "
        "ORDER BY source) s "
        "WHERE EXISTS (SELECT 1 FROM syncd_holders_state.syncd_catalog_entries e WHERE e.source = s.source AND "
        "e.sha256 = lower(i.sha256_hash)) OR (i.url <> '' AND EXISTS (SELECT 1 FROM syncd_holders_state.syncd_catalog_entries e "
        "WHERE e.source = s.source AND e.url = i.url))) FROM images i ORDER BY id";
    Transaction txn(*archive_, /*immediate=*/false);
    Statement rows = archive_->Prepare(sql);
    rows.Bind(1, kSelfCatalog);  // not our own catalog (the exchange's)
    std::vector<std::string> holding;
    while (rows.Step()) {
      LocalImageRef img = ReadLocal(rows);
      ++report->local_images;
      holding.clear();
      if (!rows.IsNull(4)) {
        std::string all = rows.Text(4);
        size_t start = 0;
        while (true) {
          size_t end = all.find('\x1f', start);
          holding.push_back(all.substr(start, end == std::string::npos ? std::string::npos : end - start));
          if (end == std::string::npos) break;
          start = end + 1;
        }
      }
      for (const std::string& s : holding) ++report->by_source[s];
      const int64_t holders = 1 + static_cast<int64_t>(holding.size());
      ++report->by_holders[holders];
      if (holders < options.below) {
        ++report->listed;
        if (list) list(img, holders, holding);
      }
    }
    txn.Commit();
    (void)sources;
    return Status::Ok();
  } catch (const SqliteError& e) {
    return e.ToStatus();
  }
}

}  // namespace indafoto
