// import_bench: import throughput against the size of the local archive.
//
// SPEC 6: "Import throughput stays flat as the local archive grows (no
// per-file full scans): same files/s at 10K and at 1M local images, within
// 20%."
//
// For every local size N (default 10K and 1M) the bench builds, once:
//   A  the local archive: N rows (generator, variant 1, rows only), of which
//      `--overlap` ids spread evenly over 1..N are added with real files
//      (AppendImages, as the crawler does). With --populate-tree (default)
//      every other row gets an empty placeholder file at its local_path, so
//      the author folders hold what a real N-image archive holds (the
//      importer counts files on disk to pick the <n> subfolder).
//      ArchiveDb::Open runs once on it (adds idx_images_sha256, sync_records)
//      and the result is kept as a snapshot.
//   B  a remote archive (variant 2) of the `--overlap` shared ids plus
//      `--new` new ids, with files, copied into A's received folder as
//      Syncthing leaves it; its indafoto.db is the catalog (remote_db_path).
// Then, `--repeat` rounds, each round over every N (interleaved, so both
// sizes see the same machine noise): restore A's database from the
// snapshot, open the Instance, recover, refresh the catalog (untimed), and
// time RunImportPass — the whole `indafoto-syncd import` pass, hash threads
// as configured. With --binary, the real binary's `import --config` is
// timed as well (wall clock of the process). Imported files are removed
// after each round.
//
// Afterwards, one traced pass per N records every SQL statement the
// importer ran (sqlite3_trace_v2 on both connections: count and time per
// statement), and EXPLAIN QUERY PLAN is printed for each of them on the
// largest database: lookups must be SEARCH ... USING INDEX, never a SCAN
// that grows with the archive.
//
// Lines starting with "RESULT " are for bench/run_benchmarks.sh.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

#include "lib/archive/archive_db.h"
#include "lib/config/config.h"
#include "lib/import/import_pass.h"
#include "lib/import/instance.h"
#include "lib/archive/layout.h"
#include "lib/util/unique_fd.h"
#include "testing/archive_checks.h"
#include "testing/archive_generator.h"
#include "testing/process.h"

// The no-fsync series: while g_skip_fsync is set, fsync, fdatasync and syncfs are
// no-ops in this process. The bench defines them, so they interpose both the
// statically linked importer (placement.cc's directory fsync) and
// libsqlite3.so (WAL commits): ld exports an executable's definition of a
// symbol that a linked shared library references. Diagnostic only: it shows
// the importer's CPU and SQL cost without the disk, where a per-file scan
// would stand out instead of drowning in fsync latency.
static std::atomic<bool> g_skip_fsync{false};
extern "C" int fsync(int fd) {
  if (g_skip_fsync.load(std::memory_order_relaxed)) return 0;
  return static_cast<int>(::syscall(SYS_fsync, fd));
}
extern "C" int fdatasync(int fd) {
  if (g_skip_fsync.load(std::memory_order_relaxed)) return 0;
  return static_cast<int>(::syscall(SYS_fdatasync, fd));
}
extern "C" int syncfs(int fd) {
  if (g_skip_fsync.load(std::memory_order_relaxed)) return 0;
  return static_cast<int>(::syscall(SYS_syncfs, fd));
}

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using indafoto::Status;

// Ids of the remote's new images: far above any local N.
constexpr int64_t kNewIdBase = 100000000;
constexpr uint64_t kSeed = 11;
constexpr const char* kSourceName = "peerB";

struct Options {
  std::vector<int64_t> sizes = {10000, 1000000};
  int64_t new_images = 2000;
  int64_t overlap = 200;
  int repeat = 3;
  int hash_threads = 2;
  int64_t file_size = indafoto::kDefaultFileSize;
  bool populate_tree = true;
  bool trace = true;
  bool library_series = true;  // RunImportPass, real fsyncs: the SPEC 6 figure
  bool nosync_series = true;   // RunImportPass, fsync/fdatasync no-ops: diagnostic
  bool floor_series = false;   // the per-image transactions alone: diagnostic
  int archive_cache_mib = 0;  // >0: PRAGMA cache_size on the importer's connection (diagnostic)
  fs::path work_dir;  // empty: temporary, removed at the end
  fs::path binary;    // also time `BINARY import --config`
};

// A scratch directory of our own, removed at exit (also after Die, which
// calls std::exit: the object is static). Not testing/temp_dir.h's
// "indafoto-test-*" name, which test clean-ups may sweep while we run.
class ScratchDir {
 public:
  explicit ScratchDir(const char* prefix) {
    std::string tmpl = (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
    if (::mkdtemp(tmpl.data())) path_ = tmpl;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty() && !std::getenv("INDAFOTO_KEEP_TEMP")) std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "import_bench: %s\n", msg.c_str());
  std::exit(1);
}

void Check(const Status& s, const std::string& what) {
  if (!s.ok()) Die(what + ": " + s.ToString());
}

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

void Log(const char* fmt, const std::string& a = "", double x = 0) {
  std::printf(fmt, a.c_str(), x);
  std::fflush(stdout);
}

void Usage() {
  std::printf(
      "usage: import_bench [options]\n"
      "  --sizes LIST        local archive sizes, e.g. 10K,1M (default 10000,1000000)\n"
      "  --new N             new images delivered by the remote (default 2000)\n"
      "  --overlap N         delivered images the local archive already has (default 200)\n"
      "  --repeat N          rounds; best and median are reported (default 3)\n"
      "  --hash-threads N    PassOptions::hash_threads (default 2)\n"
      "  --file-size BYTES   size of the delivered files (default 4096)\n"
      "  --no-populate-tree  do not create placeholder files for the local rows\n"
      "  --no-trace          skip the traced pass (SQL profile and EXPLAIN QUERY PLAN)\n"
      "  --series LIST       which timed series to run, of library,nosync,floor (default\n"
      "                      library,nosync). library: RunImportPass as the daemon runs it;\n"
      "                      nosync: the same with fsync/fdatasync as no-ops (diagnostic: CPU\n"
      "                      and SQL cost without the disk); floor: only the new images'\n"
      "                      transactions, without files or syncs, against openssl (the\n"
      "                      bound of one transaction per image). --binary adds the real\n"
      "                      binary's series.\n"
      "  --binary PATH       also time PATH import --config (the real indafoto-syncd)\n"
      "  --archive-cache-mib N  diagnostic: PRAGMA cache_size=-N*1024 on the importer's\n"
      "                      connection to indafoto.db before the library passes\n"
      "  --work-dir DIR      keep archives in DIR and reuse them on the next run\n"
      "                      (default: a temporary directory, removed at the end)\n");
}

int64_t ParseCount(const std::string& flag, std::string v) {
  int64_t mult = 1;
  if (!v.empty() && (v.back() == 'K' || v.back() == 'k')) mult = 1000, v.pop_back();
  else if (!v.empty() && (v.back() == 'M' || v.back() == 'm')) mult = 1000000, v.pop_back();
  char* end = nullptr;
  long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || !end || *end || x < 0) Die(flag + ": expected a count like 2000, 10K or 1M, got '" + v + "'");
  return x * mult;
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      Usage();
      std::exit(0);
    }
    if (a == "--no-populate-tree") {
      o.populate_tree = false;
      continue;
    }
    if (a == "--no-trace") {
      o.trace = false;
      continue;
    }
    static const std::set<std::string> kWithValue = {"--sizes",     "--new",    "--overlap",           "--repeat",
                                                     "--file-size", "--series", "--archive-cache-mib", "--binary",
                                                     "--work-dir",  "--hash-threads"};
    if (!kWithValue.count(a)) Die("unknown option " + a + " (see --help)");
    if (i + 1 >= argc) Die("missing value after " + a + " (see --help)");
    std::string v = argv[++i];
    if (a == "--sizes") {
      o.sizes.clear();
      std::stringstream ss(v);
      for (std::string part; std::getline(ss, part, ',');) o.sizes.push_back(ParseCount(a, part));
    } else if (a == "--new") {
      o.new_images = ParseCount(a, v);
    } else if (a == "--overlap") {
      o.overlap = ParseCount(a, v);
    } else if (a == "--repeat") {
      o.repeat = static_cast<int>(ParseCount(a, v));
    } else if (a == "--hash-threads") {
      o.hash_threads = static_cast<int>(ParseCount(a, v));
    } else if (a == "--file-size") {
      o.file_size = ParseCount(a, v);
    } else if (a == "--series") {
      o.library_series = o.nosync_series = false;
      std::stringstream ss(v);
      for (std::string part; std::getline(ss, part, ',');) {
        if (part == "library") o.library_series = true;
        else if (part == "nosync") o.nosync_series = true;
        else if (part == "floor") o.floor_series = true;
        else Die("--series: unknown series '" + part + "' (library, nosync, floor)");
      }
    } else if (a == "--archive-cache-mib") {
      o.archive_cache_mib = static_cast<int>(ParseCount(a, v));
    } else if (a == "--binary") {
      o.binary = fs::absolute(v);
    } else if (a == "--work-dir") {
      o.work_dir = fs::absolute(v);
    } else {
      Die("unknown option " + a + " (see --help)");
    }
  }
  if (o.sizes.empty() || o.repeat < 1) Die("need at least one size and one round");
  for (int64_t n : o.sizes)
    if (n < o.overlap || n < 1) Die("each size must be at least --overlap (" + std::to_string(o.overlap) + ")");
  return o;
}

void FsyncFile(const fs::path& p) {
  indafoto::UniqueFd fd(::open(p.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.valid()) ::syscall(SYS_fdatasync, fd.get());  // real, even in the no-fsync series
}

// One local size: its directories and what was generated.
struct Setup {
  int64_t n = 0;
  fs::path root, a_dir, b_dir, received, snapshot, config_path;
  std::vector<int64_t> overlap_ids;
  int64_t placeholder_files = 0;
  double generate_seconds = 0;
  fs::path a_db() const { return a_dir / "indafoto.db"; }
  fs::path a_root() const { return a_dir / "indafoto_archive"; }
};

std::string SetupKey(const Options& o, int64_t n) {
  return "v1 n=" + std::to_string(n) + " new=" + std::to_string(o.new_images) +
         " overlap=" + std::to_string(o.overlap) + " file_size=" + std::to_string(o.file_size) +
         " populate=" + (o.populate_tree ? "1" : "0") + " seed=" + std::to_string(kSeed);
}

// Creates an empty file at every row's local_path that has no file yet.
int64_t PopulateTree(const fs::path& db_path, const fs::path& archive_dir) {
  indafoto::Database db;
  Check(indafoto::Database::Open(db_path.string(), indafoto::Database::Mode::kReadOnly, 10000, &db), "open A");
  indafoto::Statement q = db.Prepare("SELECT local_path FROM images");
  std::unordered_set<std::string> dirs;
  int64_t created = 0;
  while (q.Step()) {
    fs::path p = archive_dir / q.Text(0);
    std::string dir = p.parent_path().string();
    if (dirs.insert(dir).second) fs::create_directories(dir);
    int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      ::close(fd);
      ++created;
    } else if (errno != EEXIST) {
      Die("create " + p.string() + ": " + std::strerror(errno));
    }
  }
  return created;
}

// The importer keeps the settled file counts of the author subfolders in
// indafoto.db (AuthorFileCounter's SubfolderStore), so only the first
// import into an archive lists every author folder (0.26 s at 1M). The
// snapshot every pass starts from gets them too, as an archive that has
// been imported into before has them; the first listing is measured apart
// ("AuthorFileCounter::Count" below).
void PersistAuthorCounts(const Setup& s) {
  int64_t rows = 0;
  {
    indafoto::Database db;
    Check(indafoto::Database::Open(s.snapshot.string(), indafoto::Database::Mode::kReadOnly, 1000, &db), "open");
    indafoto::Statement q = db.Prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'syncd_author_subfolders'");
    if (q.Step() && q.Int(0) > 0) {
      indafoto::Statement c = db.Prepare("SELECT COUNT(*) FROM syncd_author_subfolders");
      if (c.Step()) rows = c.Int(0);
    }
  }
  if (rows > 0) return;
  fs::copy_file(s.snapshot, s.a_db(), fs::copy_options::overwrite_existing);
  ::sleep(3);  // counts are kept only for folders whose mtime has settled
  {
    indafoto::ArchiveDb adb;
    Check(indafoto::ArchiveDb::Open(s.a_db(), s.a_root(), false, false, &adb), "open A as ArchiveDb");
    indafoto::AuthorFileCounter counter(
        s.a_root(), std::chrono::seconds(60),
        {[&](const std::string& a) { return adb.LoadAuthorSubfolders(a); },
         [&](const std::string& a, const indafoto::AuthorFileCounter::Subfolders& f) { adb.SaveAuthorSubfolders(a, f); }});
    for (const auto& e : fs::directory_iterator(s.a_root())) {
      if (e.is_directory() && e.path().filename().string()[0] != '.') counter.Count(e.path().filename().string());
    }
    adb.db().Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  fs::copy_file(s.a_db(), s.snapshot, fs::copy_options::overwrite_existing);
  Log("  author subfolder counts persisted into the snapshot\n");
}

Setup Prepare(const Options& o, const fs::path& work, int64_t n) {
  Setup s;
  s.n = n;
  s.root = work / ("n" + std::to_string(n));
  s.a_dir = s.root / "A";
  s.b_dir = s.root / "B";
  s.received = s.root / "received" / kSourceName;
  s.snapshot = s.root / "A-snapshot.db";
  s.config_path = s.root / "config.json";
  for (int64_t k = 0; k < o.overlap; ++k) s.overlap_ids.push_back(1 + k * (n / std::max<int64_t>(o.overlap, 1)));

  const std::string key = SetupKey(o, n);
  fs::path marker = s.root / "setup.ok";
  {
    std::ifstream in(marker);
    std::string have;
    std::getline(in, have);
    if (have == key && fs::exists(s.snapshot)) {
      std::printf("N=%lld: reusing %s\n", static_cast<long long>(n), s.root.c_str());
      PersistAuthorCounts(s);
      return s;
    }
  }
  std::error_code ec;
  fs::remove_all(s.root, ec);
  fs::create_directories(s.root);
  auto t0 = Clock::now();

  // A: N rows; the overlap ids come last, with real files.
  std::set<int64_t> overlap(s.overlap_ids.begin(), s.overlap_ids.end());
  indafoto::ArchiveSpec a;
  a.dir = s.a_dir;
  a.universe_seed = kSeed;
  a.variant = 1;
  a.file_size = o.file_size;
  a.write_files = false;
  a.record_images = false;
  a.batch_size = 20000;
  a.ids.reserve(static_cast<size_t>(n));
  for (int64_t id = 1; id <= n; ++id)
    if (!overlap.count(id)) a.ids.push_back(id);
  Log("N=%s: generating the local archive (rows only)...\n", std::to_string(n));
  Check(indafoto::GenerateArchive(a, nullptr), "generate A");
  Log("  %s rows in %.1f s\n", std::to_string(a.ids.size()), Since(t0));
  if (o.populate_tree) {
    auto t1 = Clock::now();
    s.placeholder_files = PopulateTree(s.a_db(), s.a_dir);
    Log("  %s placeholder files in %.1f s\n", std::to_string(s.placeholder_files), Since(t1));
  }
  indafoto::AppendOptions append;
  append.universe_seed = kSeed;
  append.variant = 1;
  append.file_size = o.file_size;
  Check(indafoto::AppendImages(s.a_dir, s.overlap_ids, append, nullptr), "append overlap images to A");

  // Our additions (sha256 index, sync_records, journal), then a clean snapshot.
  {
    auto t1 = Clock::now();
    indafoto::ArchiveDb adb;
    Check(indafoto::ArchiveDb::Open(s.a_db(), s.a_root(), false, false, &adb), "open A as ArchiveDb");
    adb.db().Exec("PRAGMA wal_checkpoint(TRUNCATE)");
    Log("  ArchiveDb::Open (adds idx_images_sha256)%s %.1f s\n", "", Since(t1));
  }
  fs::copy_file(s.a_db(), s.snapshot, fs::copy_options::overwrite_existing);
  PersistAuthorCounts(s);

  // B: the shared ids and the new ones, with files, delivered by "Syncthing".
  indafoto::ArchiveSpec b;
  b.dir = s.b_dir;
  b.universe_seed = kSeed;
  b.variant = 2;
  b.file_size = o.file_size;
  b.record_images = false;
  b.ids = s.overlap_ids;
  for (int64_t k = 1; k <= o.new_images; ++k) b.ids.push_back(kNewIdBase + k);
  Check(indafoto::GenerateArchive(b, nullptr), "generate B");
  indafoto::CopyTree(s.b_dir / "indafoto_archive", s.received);

  std::ofstream(s.config_path) << "{\n  \"database_path\": \"A/indafoto.db\",\n"
                               << "  \"image_root\": \"A/indafoto_archive\",\n"
                               << "  \"hash_threads\": " << o.hash_threads << ",\n"
                               << "  \"log_level\": \"warning\",\n"
                               << "  \"remote_sources\": [{\"name\": \"" << kSourceName
                               << "\", \"folder_id\": \"indafoto-b\",\n"
                               << "    \"local_path\": \"received/" << kSourceName
                               << "\", \"remote_db_path\": \"B/indafoto.db\"}]\n}\n";
  s.generate_seconds = Since(t0);
  std::ofstream(marker) << key << "\n";
  Log("N=%s: ready (%.1f s)\n", std::to_string(n), s.generate_seconds);
  return s;
}

// Back to the snapshot: the database as before any import, no imported files.
void Restore(const Setup& s) {
  indafoto::ArchiveDb adb;
  if (fs::exists(s.a_db())) {
    // Remove the files the previous round imported (hardlinks of the deliveries).
    Check(indafoto::ArchiveDb::Open(s.a_db(), s.a_root(), false, true, &adb), "open A");
    if (adb.db().HasTable("sync_records")) {
      indafoto::Statement q = adb.db().Prepare(
          "SELECT i.local_path FROM sync_records r JOIN images i ON i.id = r.image_id WHERE r.status = 'imported'");
      while (q.Step()) ::unlink(adb.path_style().ToAbsolute(q.Text(0)).c_str());
    }
    adb = indafoto::ArchiveDb();
  }
  std::error_code ec;
  for (const char* suffix : {"-wal", "-shm"}) fs::remove(s.a_dir / (std::string("indafoto.db") + suffix), ec);
  fs::copy_file(s.snapshot, s.a_db(), fs::copy_options::overwrite_existing);
  // Flush now, so the kernel's writeback of the copy does not compete with
  // the timed pass's fsyncs.
  FsyncFile(s.a_db());
}

struct Run {
  double seconds = 0;
  indafoto::PassCounts counts;
};

// SQL profile of a pass: per statement text, count and time. Timed with
// SQLITE_TRACE_STMT (first step) .. SQLITE_TRACE_PROFILE (done or reset) on
// the steady clock; SQLite's own PROFILE duration has only millisecond
// resolution.
struct SqlStat {
  int64_t count = 0;
  int64_t ns = 0;
  std::string db;
};
struct TraceContext {
  std::string db;
  std::map<std::string, SqlStat>* stats;
  std::map<sqlite3_stmt*, Clock::time_point> started;
};

int TraceCallback(unsigned type, void* ctx, void* p, void* x) {
  auto* c = static_cast<TraceContext*>(ctx);
  auto* stmt = static_cast<sqlite3_stmt*>(p);
  if (type == SQLITE_TRACE_STMT) {
    // Also called for each trigger program ("-- ..."): keep the first start.
    c->started.try_emplace(stmt, Clock::now());
    return 0;
  }
  if (type != SQLITE_TRACE_PROFILE) return 0;
  auto it = c->started.find(stmt);
  int64_t ns = it == c->started.end()
                   ? *static_cast<int64_t*>(x)
                   : std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - it->second).count();
  if (it != c->started.end()) c->started.erase(it);
  const char* sql = sqlite3_sql(stmt);
  SqlStat& st = (*c->stats)[sql ? sql : "?"];
  st.count++;
  st.ns += ns;
  st.db = c->db;
  return 0;
}

indafoto::Config LoadConfigOrDie(const Setup& s) {
  indafoto::Config config;
  Check(indafoto::LoadConfig(s.config_path, &config), "config");
  return config;
}

// A's database restored from the snapshot, opened as the importer opens
// it, recovered, with the source's catalog loaded: what every timed pass
// starts from (untimed).
std::unique_ptr<indafoto::Instance> OpenRestored(const Setup& s, indafoto::Config* config) {
  Restore(s);
  *config = LoadConfigOrDie(s);
  std::unique_ptr<indafoto::Instance> inst;
  Check(indafoto::Instance::Open(*config, {indafoto::Instance::Access::kReadWrite, "bench", false, {}}, &inst),
        "open instance");
  int removed = 0;
  Check(inst->importer().Recover(&removed), "recover");
  bool changed = false;
  std::string used;
  Check(inst->RefreshCatalog(config->sources.at(0), &changed, &used), "catalog");
  return inst;
}

Run TimeLibraryPass(const Options& o, const Setup& s, bool skip_fsync, std::map<std::string, SqlStat>* trace,
                    std::map<std::string, std::vector<std::string>>* plans) {
  indafoto::Config config;
  std::unique_ptr<indafoto::Instance> inst = OpenRestored(s, &config);
  const indafoto::RemoteSource& source = config.sources.at(0);

  if (o.archive_cache_mib > 0) {
    std::string pragma = "PRAGMA cache_size=-" + std::to_string(int64_t{o.archive_cache_mib} * 1024);
    inst->archive().db().Exec(pragma.c_str());
  }
  TraceContext archive_ctx{"indafoto.db", trace, {}}, state_ctx{"state.db", trace, {}};
  if (trace) {
    const unsigned mask = SQLITE_TRACE_STMT | SQLITE_TRACE_PROFILE;
    sqlite3_trace_v2(inst->archive().db().raw(), mask, TraceCallback, &archive_ctx);
    sqlite3_trace_v2(inst->state().raw(), mask, TraceCallback, &state_ctx);
  }
  indafoto::PassOptions options;
  options.hash_threads = o.hash_threads;
  Run run;
  g_skip_fsync = skip_fsync;
  auto t0 = Clock::now();
  Status pass = indafoto::RunImportPass(inst->importer(), source, options, &run.counts);
  run.seconds = Since(t0);
  g_skip_fsync = false;
  Check(pass, "import pass");
  if (trace) {
    sqlite3_trace_v2(inst->archive().db().raw(), 0, nullptr, nullptr);
    sqlite3_trace_v2(inst->state().raw(), 0, nullptr, nullptr);
  }
  if (plans) {
    for (const auto& [sql, st] : *trace) {
      indafoto::Database& db = st.db == "state.db" ? inst->state() : inst->archive().db();
      std::vector<std::string>& rows = (*plans)[sql];
      rows.clear();
      std::string upper = sql.substr(0, 8);
      for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (upper.rfind("BEGIN", 0) == 0 || upper.rfind("COMMIT", 0) == 0 || upper.rfind("ROLLBACK", 0) == 0 ||
          upper.rfind("PRAGMA", 0) == 0)
        continue;
      try {
        indafoto::Statement q = db.Prepare("EXPLAIN QUERY PLAN " + sql);
        while (q.Step()) rows.push_back(q.Text(3));
      } catch (const indafoto::SqliteError& e) {
        rows.push_back(std::string("(cannot explain: ") + e.what() + ")");
      }
    }
  }
  return run;
}

// The floor of one transaction per image (`--series floor`, diagnostic):
// the importer's database work for the pass's new images and nothing else.
// No file is opened, hashed, linked or synced, fsync is a no-op, and the
// catalog entries are read before the clock starts. What is timed is
// exactly the SQL that Importer::ApplyNewImages and CommitNew run for each
// image: the batch's journal rows in one commit (64 per batch), then per
// image a transaction of its own with the identity check, the image row,
// its relations and its sync_records row, then the batch's journal rows
// cleared in one commit.
// Any importer that commits each image alone (SPEC section 2, issue "import
// at the speed of hashing") cannot import faster than this on this machine
// and schema. Returns seconds; *images is how many were committed.
double TimeTransactionFloor(const Setup& s, int64_t* images) {
  indafoto::Config config;
  std::unique_ptr<indafoto::Instance> inst = OpenRestored(s, &config);
  const indafoto::RemoteSource& source = config.sources.at(0);
  indafoto::ArchiveDb& archive = inst->archive();

  // The catalog's new images (not yet local by sha256), as Examine reads them.
  struct NewImage {
    std::string rel_path;
    indafoto::RemoteImage entry;
  };
  std::vector<NewImage> fresh;
  {
    std::vector<std::string> paths;
    indafoto::Statement q = inst->state().Prepare("SELECT rel_path FROM syncd_catalog_entries WHERE source = ?");
    q.Bind(1, source.name);
    while (q.Step()) paths.push_back(q.Text(0));
    for (const std::string& rel : paths) {
      NewImage n{rel, {}};
      Check(inst->catalog().FindByPath(source.name, rel, &n.entry), "catalog entry");
      std::optional<indafoto::LocalImage> local;
      Check(archive.FindBySha256(n.entry.sha256, &local), "sha256 lookup");
      if (!local) fresh.push_back(std::move(n));
    }
  }

  g_skip_fsync = true;
  auto t0 = Clock::now();
  constexpr size_t kBatch = 64;  // as import_pass.cc's kNewImageBatch
  for (size_t begin = 0; begin < fresh.size(); begin += kBatch) {
    size_t end = std::min(fresh.size(), begin + kBatch);
    std::vector<std::pair<fs::path, std::string>> journal;
    std::vector<std::string> stored;
    for (size_t i = begin; i < end; ++i) {
      fs::path dest = s.a_root() / "floor" / ("image_" + std::to_string(i) + "_20250101_000000_000000.jpg");
      journal.emplace_back(dest, fresh[i].entry.sha256);
      stored.push_back(archive.path_style().ToStored(dest));
    }
    std::vector<int64_t> ids;
    Check(archive.AddPlacements(journal, &ids), "journal rows");
    for (size_t i = begin; i < end; ++i) {
      const NewImage& n = fresh[i];
      indafoto::Transaction t(archive.db());
      std::optional<indafoto::LocalImage> by_sha256, by_url;
      Check(archive.FindBySha256(n.entry.sha256, &by_sha256), "sha256 lookup");
      Check(archive.FindByUrl(n.entry.Get("url").ToString(), &by_url), "url lookup");
      if (by_sha256 || by_url) Die("floor: " + n.rel_path + " is already local");
      int64_t image_id = 0;
      int added = 0;
      Check(archive.InsertImage(n.entry, stored[i - begin], n.entry.sha256, &image_id), "insert");
      Check(archive.AddRelations(image_id, n.entry, &added), "relations");
      Check(archive.RecordSync(source.name, n.rel_path, image_id, indafoto::SyncStatus::kImported, ""),
            "sync_records");
      t.Commit();
    }
    Check(archive.ClearPlacements(ids), "journal rows cleared");
  }
  double seconds = Since(t0);
  g_skip_fsync = false;
  *images = static_cast<int64_t>(fresh.size());
  return seconds;
}

// The reference the importer is measured against (SPEC 6, issue "import at
// the speed of hashing"): `openssl dgst -sha256` over the same delivered
// files, in two processes, from the page cache as the import reads them.
// Returns files/s.
double TimeOpensslReference(const Setup& s, int64_t files) {
  std::string cmd = "cd '" + s.received.string() +
                    "' && find . -type f -not -path './.indafoto-sync/*' -print0 | "
                    "xargs -0 -P2 -n 256 openssl dgst -sha256 > /dev/null";
  auto t0 = Clock::now();
  indafoto::ProcessResult r = indafoto::RunProcess({"/bin/sh", "-c", cmd});
  double seconds = Since(t0);
  if (r.signaled || r.exit_code != 0) Die("openssl reference failed:\n" + r.output);
  return static_cast<double>(files) / seconds;
}

Run TimeBinaryPass(const Options& o, const Setup& s, long* max_rss_kib) {
  Restore(s);
  Run run;
  // Through a fresh copy of this program (--measure-child): a child forked
  // from this process would report at least this process's own resident
  // set as its peak (50 MB once the 1M setup has run), not the import's.
  indafoto::ProcessResult r = indafoto::RunProcess(
      {"/proc/self/exe", "--measure-child", o.binary.string(), "import", "--config", s.config_path.string()});
  if (r.signaled || r.exit_code != 0)
    Die("binary import failed (exit " + std::to_string(r.exit_code) + "):\n" + r.output);
  long rss_kib = 0;
  size_t m = r.output.rfind("measured: peak_rss_kib=");
  if (m == std::string::npos || std::sscanf(r.output.c_str() + m, "measured: peak_rss_kib=%ld seconds=%lf", &rss_kib,
                                            &run.seconds) != 2)
    Die("binary import: no measurement in its output:\n" + r.output);
  *max_rss_kib = std::max(*max_rss_kib, rss_kib);
  // "  this run: imported N merged N duplicate N ..."
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) {
    size_t p = line.find("this run:");
    if (p == std::string::npos) continue;
    std::istringstream words(line.substr(p + 9));
    std::string status, count;
    while (words >> status >> count) {
      if (count.back() == ',') count.pop_back();
      if (status == "errors") break;
      if (std::optional<indafoto::SyncStatus> st = indafoto::ParseSyncStatus(status))
        run.counts.by_status[*st] = std::atoll(count.c_str());
    }
  }
  return run;
}

struct Series {
  std::vector<double> v;
  double Best() const { return *std::max_element(v.begin(), v.end()); }
  double Median() const {
    std::vector<double> w = v;
    std::sort(w.begin(), w.end());
    return w.size() % 2 ? w[w.size() / 2] : (w[w.size() / 2 - 1] + w[w.size() / 2]) / 2;
  }
};

int64_t Delivered(const indafoto::PassCounts& c) {
  int64_t n = 0;
  for (const auto& [status, count] : c.by_status) n += count;
  return n + c.unchanged + c.errors;
}

void CheckCounts(const Options& o, const Setup& s, const indafoto::PassCounts& c, const char* what) {
  auto get = [&](indafoto::SyncStatus st) {
    auto it = c.by_status.find(st);
    return it == c.by_status.end() ? int64_t{0} : it->second;
  };
  int64_t imported = get(indafoto::SyncStatus::kImported),
          shared = get(indafoto::SyncStatus::kMerged) + get(indafoto::SyncStatus::kDuplicate);
  if (imported != o.new_images || shared != o.overlap || c.errors != 0) {
    std::string all;
    for (const auto& [st, n] : c.by_status) all += std::string(" ") + indafoto::SyncStatusName(st) + "=" + std::to_string(n);
    Die(std::string(what) + " at N=" + std::to_string(s.n) + ": expected imported=" +
        std::to_string(o.new_images) + " merged+duplicate=" + std::to_string(o.overlap) + ", got" + all +
        " errors=" + std::to_string(c.errors));
  }
}

// How long the importer's per-author file count (AuthorFileCounter, lib/archive/layout.h)
// takes on the largest tree: for the largest author folder, and for every
// author folder (what a pass whose deliveries touch every author pays, once
// per Importer and author, again after 60 s).
void MeasureAuthorScan(const Setup& s) {
  std::string largest;
  {
    indafoto::Database db;
    Check(indafoto::Database::Open(s.snapshot.string(), indafoto::Database::Mode::kReadOnly, 1000, &db), "open");
    indafoto::Statement q = db.Prepare("SELECT author, COUNT(*) FROM images GROUP BY author ORDER BY 2 DESC LIMIT 1");
    if (q.Step()) largest = indafoto::AuthorFolderName(q.Text(0));
  }
  std::vector<std::string> folders;
  for (const auto& e : fs::directory_iterator(s.a_root()))
    if (e.is_directory()) folders.push_back(e.path().filename().string());
  auto time_count = [&](const std::vector<std::string>& which, int64_t* files) {
    double best = 1e30;
    for (int i = 0; i < 3; ++i) {
      indafoto::AuthorFileCounter counter(s.a_root());
      int64_t n = 0;
      auto t0 = Clock::now();
      for (const auto& f : which) n += counter.Count(f);
      best = std::min(best, Since(t0));
      *files = n;
    }
    return best;
  };
  int64_t files_largest = 0, files_all = 0;
  double t_largest = time_count({largest}, &files_largest);
  double t_all = time_count(folders, &files_all);
  std::printf("\nAuthorFileCounter::Count at N=%lld (best of 3, warm cache):\n", static_cast<long long>(s.n));
  std::printf("  largest author folder: %lld files in %.3f s\n", static_cast<long long>(files_largest), t_largest);
  std::printf("  all %zu author folders: %lld files in %.3f s\n", folders.size(), static_cast<long long>(files_all),
              t_all);
  std::printf("RESULT import author_scan n=%lld largest_files=%lld largest_s=%.3f all_files=%lld all_s=%.3f\n",
              static_cast<long long>(s.n), static_cast<long long>(files_largest), t_largest,
              static_cast<long long>(files_all), t_all);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 2 && std::string(argv[1]) == "--measure-child") return indafoto::MeasureChildMain(argv + 2);
  Options o = ParseArgs(argc, argv);
  static ScratchDir tmp("indafoto-import-bench");  // static: removed by std::exit too (Die)
  if (o.work_dir.empty() && tmp.path().empty()) Die("cannot create a temporary directory");
  fs::path work = o.work_dir.empty() ? tmp.path() / "import_bench" : o.work_dir;
  fs::create_directories(work);
  std::printf("import_bench: sizes");
  for (int64_t n : o.sizes) std::printf(" %lld", static_cast<long long>(n));
  std::printf("; %lld new + %lld shared deliveries of %lld bytes; %d rounds; hash threads %d; %s; work dir %s\n",
              static_cast<long long>(o.new_images), static_cast<long long>(o.overlap),
              static_cast<long long>(o.file_size), o.repeat, o.hash_threads,
              o.populate_tree ? "placeholder files for every local row" : "local rows without files",
              work.c_str());

  if (o.archive_cache_mib > 0)
    std::printf("diagnostic: PRAGMA cache_size of %d MiB on the importer's indafoto.db connection\n",
                o.archive_cache_mib);
  std::vector<Setup> setups;
  for (int64_t n : o.sizes) setups.push_back(Prepare(o, work, n));

  // Timed rounds, sizes interleaved.
  std::map<int64_t, Series> lib_rate, bin_rate, nosync_rate, openssl_rate, floor_ratio;
  long max_rss_kib = 0;
  for (int round = 0; round < o.repeat; ++round) {
    // ABBA order (sizes reversed every other round), so a drift in the
    // machine's load does not always favour the same size.
    std::vector<const Setup*> order;
    for (const Setup& s : setups) order.push_back(&s);
    if (round % 2) std::reverse(order.begin(), order.end());
    for (const Setup* sp : order) {
      const Setup& s = *sp;
      if (o.library_series) {
        Run r = TimeLibraryPass(o, s, false, nullptr, nullptr);
        CheckCounts(o, s, r.counts, "RunImportPass");
        double rate = Delivered(r.counts) / r.seconds;
        lib_rate[s.n].v.push_back(rate);
        std::printf("round %d N=%-8lld RunImportPass: %lld files in %.2f s = %.0f files/s\n", round + 1,
                    static_cast<long long>(s.n), static_cast<long long>(Delivered(r.counts)), r.seconds, rate);
      }
      if (!o.binary.empty()) {
        Run b = TimeBinaryPass(o, s, &max_rss_kib);
        CheckCounts(o, s, b.counts, "binary import");
        double brate = Delivered(b.counts) / b.seconds;
        bin_rate[s.n].v.push_back(brate);
        std::printf("round %d N=%-8lld binary import: %lld files in %.2f s = %.0f files/s\n", round + 1,
                    static_cast<long long>(s.n), static_cast<long long>(Delivered(b.counts)), b.seconds, brate);
        double orate = TimeOpensslReference(s, Delivered(b.counts));
        openssl_rate[s.n].v.push_back(orate);
        std::printf("round %d N=%-8lld openssl dgst -sha256, 2 processes: %.0f files/s (import/openssl %.2f)\n",
                    round + 1, static_cast<long long>(s.n), orate, brate / orate);
      }
      if (o.nosync_series) {
        Run n = TimeLibraryPass(o, s, true, nullptr, nullptr);
        CheckCounts(o, s, n.counts, "RunImportPass without fsync");
        double nrate = Delivered(n.counts) / n.seconds;
        nosync_rate[s.n].v.push_back(nrate);
        std::printf("round %d N=%-8lld RunImportPass, fsync no-op: %lld files in %.2f s = %.0f files/s\n",
                    round + 1, static_cast<long long>(s.n), static_cast<long long>(Delivered(n.counts)), n.seconds,
                    nrate);
      }
      if (o.floor_series) {
        int64_t images = 0;
        double seconds = TimeTransactionFloor(s, &images);
        int64_t delivered = o.new_images + o.overlap;
        // Generous to the importer: the shared deliveries' merges count as free.
        double ceiling = delivered / seconds;
        double orate = TimeOpensslReference(s, delivered);
        floor_ratio[s.n].v.push_back(ceiling / orate);
        std::printf("round %d N=%-8lld transactions alone: %lld new images in %.3f s = %.0f us each; "
                    "%lld deliveries could go at most at %.0f files/s; openssl %.0f files/s (ceiling %.2f)\n",
                    round + 1, static_cast<long long>(s.n), static_cast<long long>(images), seconds,
                    1e6 * seconds / images, static_cast<long long>(delivered), ceiling, orate, ceiling / orate);
      }
      std::fflush(stdout);
    }
  }
  for (const auto& [n, ratios] : floor_ratio) {
    std::printf("one transaction per image, no files, no syncs, at N=%lld: at most %.2f x openssl (median)\n",
                static_cast<long long>(n), ratios.Median());
    std::printf("RESULT import_floor_vs_openssl n=%lld ratio=%.2f\n", static_cast<long long>(n), ratios.Median());
  }

  std::printf("\nimport throughput (files/s; delivered files / wall time of the pass)\n");
  std::printf("  %-22s %10s %10s %12s %12s\n", "what", "N", "best", "median", "vs smallest");
  bool pass = true;
  for (auto* rates : {&lib_rate, &bin_rate, &nosync_rate}) {
    if (rates->empty()) continue;
    const char* what = rates == &lib_rate  ? "RunImportPass"
                       : rates == &bin_rate ? "binary import"
                                            : "RunImportPass no-fsync";
    const char* mode = rates == &lib_rate ? "library" : rates == &bin_rate ? "binary" : "library-nofsync";
    double ref = rates->begin()->second.Median();
    for (const auto& [n, s] : *rates) {
      double ratio = s.Median() / ref;
      std::printf("  %-22s %10lld %10.0f %12.0f %12.2f\n", what, static_cast<long long>(n), s.Best(), s.Median(),
                  ratio);
      std::printf("RESULT import mode=%s n=%lld best_fps=%.0f median_fps=%.0f ratio_vs_smallest=%.2f\n", mode,
                  static_cast<long long>(n), s.Best(), s.Median(), ratio);
      if (ratio < 0.8 && rates != &nosync_rate) pass = false;  // the no-fsync series is diagnostic
    }
  }
  if (!o.binary.empty()) {
    std::printf("  binary: peak RSS of the import process %ld KiB\n", max_rss_kib);
    for (const auto& [n, ref] : openssl_rate) {
      double ratio = bin_rate[n].Median() / ref.Median();
      std::printf("  binary import vs openssl dgst -sha256 (2 processes) at N=%lld: %.0f vs %.0f files/s = %.2f\n",
                  static_cast<long long>(n), bin_rate[n].Median(), ref.Median(), ratio);
      std::printf("RESULT import_vs_openssl n=%lld ratio=%.2f\n", static_cast<long long>(n), ratio);
    }
  }
  const char* verdict = lib_rate.empty() && bin_rate.empty() ? "n/a" : pass ? "PASS" : "FAIL";
  std::printf("flat within 20%% (median at every N >= 0.8 x the smallest N's, series with real fsyncs): %s\n",
              verdict);
  std::printf("RESULT import flat=%s\n", verdict);

  if (o.trace) {
    // One traced pass per size: SQL time per statement, and the plans on the
    // largest database.
    std::map<int64_t, std::map<std::string, SqlStat>> traces;
    std::map<int64_t, double> pass_seconds;
    std::map<std::string, std::vector<std::string>> plans;
    for (const Setup& s : setups) {
      bool largest = &s == &setups.back();
      Run r = TimeLibraryPass(o, s, false, &traces[s.n], largest ? &plans : nullptr);
      pass_seconds[s.n] = r.seconds;
    }
    std::printf("\nSQL profile of one traced pass per N (sqlite3_trace_v2; us per delivered file)\n");
    std::set<std::string> all;
    for (const auto& [n, t] : traces)
      for (const auto& [sql, st] : t) all.insert(sql);
    std::vector<std::pair<double, std::string>> order;
    int64_t files = o.new_images + o.overlap;
    for (const std::string& sql : all) {
      auto it = traces.rbegin()->second.find(sql);
      order.push_back({it == traces.rbegin()->second.end() ? 0.0 : static_cast<double>(it->second.ns), sql});
    }
    std::sort(order.rbegin(), order.rend());
    std::printf("  ");
    for (const auto& [n, t] : traces) std::printf("%13s ", ("N=" + std::to_string(n)).c_str());
    std::printf(" calls/file  statement\n");
    std::map<int64_t, double> total_sql;
    for (const auto& [ns, sql] : order) {
      std::printf("  ");
      double calls = 0;
      for (const auto& [n, t] : traces) {
        auto it = t.find(sql);
        double us = it == t.end() ? 0 : it->second.ns / 1e3 / files;
        total_sql[n] += us;
        if (it != t.end()) calls = static_cast<double>(it->second.count) / files;
        std::printf("%13.1f ", us);
      }
      std::string one_line = sql;
      std::replace(one_line.begin(), one_line.end(), '\n', ' ');
      if (one_line.size() > 110) one_line = one_line.substr(0, 107) + "...";
      std::printf(" %10.2f  %s\n", calls, one_line.c_str());
    }
    std::printf("  ");
    for (const auto& [n, t] : traces) std::printf("%13.1f ", total_sql[n]);
    std::printf("             all SQL (us per file)\n  ");
    for (const auto& [n, t] : traces) std::printf("%13.1f ", pass_seconds[n] * 1e6 / files);
    std::printf("             whole traced pass (us per file)\n");
    for (const auto& [n, t] : traces)
      std::printf("RESULT import sql_us_per_file n=%lld sql=%.1f pass=%.1f\n", static_cast<long long>(n),
                  total_sql[n], pass_seconds[n] * 1e6 / files);

    std::printf("\nEXPLAIN QUERY PLAN of every statement the import pass ran, on the N=%lld database\n",
                static_cast<long long>(setups.back().n));
    int scans = 0;
    for (const auto& [sql, rows] : plans) {
      if (rows.empty()) continue;
      std::string one_line = sql;
      std::replace(one_line.begin(), one_line.end(), '\n', ' ');
      bool scan = false;
      for (const auto& r : rows) {
        // A SCAN of sqlite_master (schema lookups) is bounded by the number
        // of schema objects, not by the archive.
        if (r.rfind("SCAN", 0) == 0 && r.find("sqlite_master") == std::string::npos &&
            r.find("sqlite_schema") == std::string::npos)
          scan = true;
      }
      scans += scan;
      std::printf("  [%s] %s\n", scan ? "SCAN!" : "ok", one_line.c_str());
      for (const auto& r : rows) std::printf("        %s\n", r.c_str());
    }
    std::printf("statements with a table SCAN: %d\n", scans);
    std::printf("RESULT import plan_scans=%d\n", scans);
  }

  if (o.populate_tree) MeasureAuthorScan(setups.back());
  return 0;
}
