// holders_bench: `copies` and `whereis` at scale (bench/README.md, section
// "Holders"): a local archive of N images and K catalogs of M entries each
// in the state database, a fraction of which list local images (by sha256,
// or by url only). Times Holders::Copies stepwise (probes from this
// process, two connections) against one statement over the ATTACHed state
// database, in the same run, and whereis lookups; reports peak RSS.
//
//   holders_bench [--local N] [--catalogs K] [--entries M] [--overlap F] [--dir DIR]
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "lib/archive/crawler_schema.h"
#include "lib/catalog/catalog.h"
#include "lib/catalog/holders.h"
#include "lib/util/sha256.h"
#include "lib/util/sqlite.h"
#include "testing/temp_dir.h"

using namespace indafoto;
namespace fs = std::filesystem;

namespace {

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

int64_t VmHwmKiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::atoll(line.c_str() + 6);
  return -1;
}

std::string ShaOf(int64_t n) { return Sha256Hex("image " + std::to_string(n)); }
std::string UrlOf(int64_t n) { return "https://indafoto.hu/x/image/" + std::to_string(n); }

}  // namespace

int main(int argc, char** argv) {
  int64_t local = 1000000, entries = 1000000;
  int catalogs = 3;
  double overlap = 0.7;
  fs::path dir;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) std::exit(2);
      return argv[++i];
    };
    if (a == "--local") local = std::atoll(next().c_str());
    else if (a == "--catalogs") catalogs = std::atoi(next().c_str());
    else if (a == "--entries") entries = std::atoll(next().c_str());
    else if (a == "--overlap") overlap = std::atof(next().c_str());
    else if (a == "--dir") dir = next();
    else {
      std::fprintf(stderr, "usage: holders_bench [--local N] [--catalogs K] [--entries M] [--overlap F] [--dir DIR]\n");
      return 2;
    }
  }
  TempDir tmp;
  if (dir.empty()) dir = tmp.path();
  fs::create_directories(dir);
  fs::path archive_path = dir / "indafoto.db", state_path = dir / "state.db";
  try {
    auto t0 = std::chrono::steady_clock::now();
    fs::remove(archive_path);
    fs::remove(state_path);
    {
      Database db;
      if (!Database::Open(archive_path.string(), Database::Mode::kReadWriteCreate, 10000, &db).ok()) return 1;
      db.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF");
      db.Exec(kCrawlerSchemaSql);
      db.Exec("CREATE INDEX IF NOT EXISTS idx_images_sha256 ON images(sha256_hash)");
      Transaction t(db);
      Statement ins = db.Prepare("INSERT INTO images (id, sha256_hash, url, local_path) VALUES (?, ?, ?, ?)");
      for (int64_t n = 1; n <= local; ++n) {
        ins.Bind(1, n).Bind(2, ShaOf(n)).Bind(3, UrlOf(n)).Bind(4, "indafoto_archive/a/0/image_" + std::to_string(n));
        ins.Run();
      }
      t.Commit();
    }
    {
      Database st;
      CatalogStore store;
      if (!Database::Open(state_path.string(), Database::Mode::kReadWriteCreate, 10000, &st).ok() ||
          !CatalogStore::Open(&st, &store).ok())
        return 1;
      st.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF");
      Transaction t(st);
      Statement ins = st.Prepare(
          "INSERT INTO syncd_catalog_entries (source, rel_path, sha256, url, record, load_generation) "
          "VALUES (?, ?, ?, ?, '{}', 1)");
      Statement src = st.Prepare(
          "INSERT INTO syncd_catalog_sources (source, fingerprint, generation, entry_count) VALUES (?, 'x', 1, ?)");
      for (int c = 0; c < catalogs; ++c) {
        std::string name = "peer" + std::to_string(c);
        // Catalog c lists `overlap` of its entries from the local archive
        // (shifted per catalog, so holders vary: 1..K+1), the rest its own.
        const int64_t shared = static_cast<int64_t>(static_cast<double>(entries) * overlap);
        const int64_t shift = static_cast<int64_t>(c) * local / (catalogs + 1);
        for (int64_t e = 0; e < entries; ++e) {
          int64_t n;
          std::string sha, url;
          if (e < shared) {
            n = 1 + (e + shift) % local;
            // Every tenth shared entry matches by url only (another sha256).
            sha = e % 10 == 0 ? Sha256Hex("other " + std::to_string(n)) : ShaOf(n);
            url = UrlOf(n);
          } else {
            n = local + 1 + e + static_cast<int64_t>(c) * entries;
            sha = ShaOf(n);
            url = UrlOf(n);
          }
          ins.Bind(1, name).Bind(2, "a/0/image_" + std::to_string(n)).Bind(3, sha).Bind(4, url);
          ins.Run();
        }
        src.Bind(1, name).Bind(2, entries);
        src.Run();
      }
      t.Commit();
      st.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
    }
    std::printf("built: %" PRId64 " local images, %d catalogs of %" PRId64 " entries (overlap %.2f), %.1f s\n", local,
                catalogs, entries, overlap, Seconds(t0));

    Database archive, state;
    if (!Database::Open(archive_path.string(), Database::Mode::kReadOnly, 10000, &archive).ok() ||
        !Database::Open(state_path.string(), Database::Mode::kReadOnly, 10000, &state).ok())
      return 1;
    Holders holders(&archive, &state);
    for (int round = 0; round < 2; ++round) {
      for (bool attach : {false, true}) {
        CopiesOptions o;
        o.attach = attach;
        o.state_path = state_path.string();
        CopiesReport r;
        int64_t listed = 0;
        auto t = std::chrono::steady_clock::now();
        Status s = holders.Copies(o, [&](const LocalImageRef&, int64_t, const std::vector<std::string>&) { ++listed; },
                                  &r);
        double secs = Seconds(t);
        if (!s.ok()) {
          std::fprintf(stderr, "copies: %s\n", s.ToString().c_str());
          return 1;
        }
        std::printf("round %d copies %-8s %.2f s (%.0f images/s); held by:", round, attach ? "attached" : "stepwise",
                    secs, static_cast<double>(r.local_images) / secs);
        for (const auto& [n, count] : r.by_holders) std::printf(" %" PRId64 ":%" PRId64, n, count);
        std::printf("; listed %" PRId64 "\n", listed);
      }
    }
    auto t = std::chrono::steady_clock::now();
    const int kQueries = 1000;
    int64_t found = 0;
    for (int q = 0; q < kQueries; ++q) {
      WhereIs w;
      int64_t n = 1 + (static_cast<int64_t>(q) * 7919) % local;
      std::string query = q % 3 == 0 ? std::to_string(n) : q % 3 == 1 ? ShaOf(n) : UrlOf(n);
      if (!holders.Find(query, &w).ok()) return 1;
      found += w.archives;
    }
    std::printf("whereis: %d lookups (id, sha256, url in turn) in %.3f s, %.2f ms each; %" PRId64
                " holders found\n",
                kQueries, Seconds(t), Seconds(t) * 1000.0 / kQueries, found);
    std::printf("peak RSS %" PRId64 " KiB (VmHWM)\n", VmHwmKiB());
  } catch (const SqliteError& e) {
    std::fprintf(stderr, "sqlite: %s\n", e.what());
    return 1;
  }
  return 0;
}
