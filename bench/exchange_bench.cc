// exchange_bench: working out one peer's outbox (lib/exchange/outbox.h) for
// two large catalogs: time and peak memory. See bench/README.md, section
// "Exchange".
//
//   exchange_bench [--images N] [--overlap PERCENT] [--dir DIR]
//       builds a state database with this archive's catalog (@self, N
//       entries) and a peer's (N entries, PERCENT of them shared), then runs
//       the measurements below, each in a fresh process;
//   exchange_bench --recompute DIR [--grow N] [--full]
//       one Recompute of the peer's outbox on DIR/state.db (after adding N
//       entries of what the peer lacked to its catalog), printing time and
//       peak RSS; --full decides every local image again (the reference
//       for the incremental recompute).
//
// Catalog entries are synthetic but of realistic size (~600 bytes of JSON:
// every column the manifest carries for a typical row, a few tags).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "lib/catalog/catalog.h"
#include "lib/exchange/outbox.h"
#include "lib/util/sha256.h"
#include "lib/util/sqlite.h"

using namespace indafoto;
namespace fs = std::filesystem;

namespace {

const Peer kBob{"bob", "BOBBBBB-BOBBBBB-BOBBBBB-BOBBBBB-BOBBBBB-BOBBBBB-BOBBBBB-BOBBBBB"};
const char* kMe = "MEMEMEM-MEMEMEM-MEMEMEM-MEMEMEM-MEMEMEM-MEMEMEM-MEMEMEM-MEMEMEM";

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

long PeakRssKib() {
  struct rusage ru;
  ::getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

RemoteImage Entry(int64_t id) {
  RemoteImage e;
  std::string author = "Szerző " + std::to_string(id % 5000);
  e.rel_path = author + "/" + std::to_string(id / 1000 % 10) + "/image_" + std::to_string(id) +
               "_20250301_101010_123456.jpg";
  e.sha256 = Sha256Hex("image " + std::to_string(id));
  e.size = 2000000 + id % 100000;
  e.Set("uuid", Value::Text("3606517b-0000-4000-8000-" + std::to_string(100000000000 + id)));
  e.Set("url", Value::Text("https://indafoto.hu/user" + std::to_string(id % 5000) + "/image/" + std::to_string(id) +
                           "-abcdef12/user"));
  e.Set("title", Value::Text("Balaton naplemente " + std::to_string(id)));
  e.Set("author", Value::Text(author));
  e.Set("author_url", Value::Text("https://indafoto.hu/user" + std::to_string(id % 5000)));
  e.Set("license", Value::Text("CC BY-NC-ND 2.5"));
  e.Set("camera_make", Value::Text("Canon"));
  e.Set("camera_model", Value::Text("Canon EOS 5D Mark II"));
  e.Set("focal_length", Value::Text("50 mm"));
  e.Set("aperture", Value::Text("f/2.8"));
  e.Set("shutter_speed", Value::Text("1/250"));
  e.Set("taken_date", Value::Text("2012-07-14 18:22:01"));
  e.Set("page_url", Value::Text("https://indafoto.hu/user/image/" + std::to_string(id)));
  e.Set("sha256_hash", Value::Text(e.sha256));
  e.tags = {"Balaton", "naplemente", "nyár"};
  return e;
}

// Entries first..first+count-1, in parts of the ids' blocks of 1000 as a
// manifest's parts hold them (a part's id names exactly the entries in it,
// so the same id means the same content, as a part's sha256 does), or as
// one unparted stream (`parted` false: every load reads everything).
class RangeReader : public CatalogReader {
 public:
  RangeReader(int64_t first, int64_t count, std::string fp, bool parted = true)
      : first_(first), count_(count), fp_(std::move(fp)), parted_(parted) {}
  Status Fingerprint(std::string* out) override {
    *out = fp_;
    return Status::Ok();
  }
  Status ReadAll(const std::function<Status(const RemoteImage&)>& sink) override {
    for (int64_t i = first_; i < first_ + count_; ++i) {
      if (Status s = sink(Entry(i)); !s.ok()) return s;
    }
    return Status::Ok();
  }
  bool Parted() const override { return parted_; }
  Status ReadParts(const std::function<bool(const std::string&)>& held,
                   const std::function<Status(const std::string&, const RemoteImage&)>& sink) override {
    constexpr int64_t kBlock = 1000;
    std::vector<std::pair<int64_t, int64_t>> parts;  // [lo, hi)
    for (int64_t lo = first_; lo < first_ + count_;) {
      int64_t hi = std::min(first_ + count_, (lo / kBlock + 1) * kBlock);
      parts.emplace_back(lo, hi);
      lo = hi;
    }
    std::vector<bool> skip;
    for (auto [lo, hi] : parts) skip.push_back(held(Id(lo, hi)));
    for (size_t k = 0; k < parts.size(); ++k) {
      if (skip[k]) continue;
      std::string id = Id(parts[k].first, parts[k].second);
      for (int64_t i = parts[k].first; i < parts[k].second; ++i)
        if (Status s = sink(id, Entry(i)); !s.ok()) return s;
    }
    return Status::Ok();
  }
  std::string Describe() const override { return "synthetic"; }

 private:
  static std::string Id(int64_t lo, int64_t hi) { return std::to_string(lo) + "-" + std::to_string(hi); }
  int64_t first_, count_;
  std::string fp_;
  bool parted_;
};

int Fail(const Status& s) {
  std::fprintf(stderr, "exchange_bench: %s\n", s.ToString().c_str());
  return 1;
}

int Recompute(const fs::path& dir, int64_t grow, int64_t images, int64_t overlap, bool full) {
  Database db;
  if (Status s = Database::Open((dir / "state.db").string(), Database::Mode::kReadWrite, 10000, &db); !s.ok())
    return Fail(s);
  CatalogStore catalog;
  OutboxStore outbox;
  if (Status s = CatalogStore::Open(&db, &catalog); !s.ok()) return Fail(s);
  if (Status s = OutboxStore::Open(&db, &outbox); !s.ok()) return Fail(s);
  if (grow > 0) {
    // The peer imported `grow` of what it lacked: its catalog now lists
    // them (a reload, as a new manifest would bring).
    auto t0 = std::chrono::steady_clock::now();
    int64_t first_peer = images - overlap;
    // (the reference, --full, reads the whole catalog, as loads did before
    // parts were kept).
    RangeReader grown(first_peer - grow, images + grow, "grown" + std::to_string(grow), !full);
    bool changed = false;
    if (Status s = catalog.Load("bob", grown, &changed); !s.ok()) return Fail(s);
    std::printf("peer catalog reloaded with %lld more entries (%s): %.1f s\n", static_cast<long long>(grow),
                full ? "every entry read" : "new parts read", Seconds(t0));
  }
  OutboxRequest req;
  req.self_device = kMe;
  req.receiver = kBob;
  req.now = 1;
  req.full = full;
  auto t0 = std::chrono::steady_clock::now();
  OutboxChange c;
  if (Status s = outbox.Recompute(req, &c); !s.ok()) return Fail(s);
  if (c.unchanged) {
    std::printf("recompute: %.3f s: skipped, no catalog changed; peak RSS %.1f MiB\n", Seconds(t0),
                PeakRssKib() / 1024.0);
    return 0;
  }
  std::printf("recompute (%s): %.2f s, %lld local images looked at, %lld candidates, %lld queued, %lld left the "
              "queue; peak RSS %.1f MiB\n",
              c.incremental ? "incremental" : "every local image", Seconds(t0), static_cast<long long>(c.evaluated),
              static_cast<long long>(c.candidates), static_cast<long long>(c.queued),
              static_cast<long long>(c.newly_sent), PeakRssKib() / 1024.0);
  std::fflush(stdout);
  return 0;
}

int RunChild(const std::vector<std::string>& args) {
  std::fflush(stdout);
  pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv("/proc/self/exe", argv.data());
    _exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t images = 1000000, overlap_pct = 70, grow = 0;
  fs::path dir = "/tmp/exchange-bench";
  bool recompute = false, full = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--images") images = std::stoll(next());
    else if (a == "--overlap") overlap_pct = std::stoll(next());
    else if (a == "--dir") dir = next();
    else if (a == "--grow") grow = std::stoll(next());
    else if (a == "--full") full = true;
    else if (a == "--recompute") {
      recompute = true;
      dir = next();
    } else {
      std::fprintf(stderr, "usage: exchange_bench [--images N] [--overlap PERCENT] [--dir DIR]\n"
                           "       exchange_bench --recompute DIR [--images N] [--overlap PERCENT] [--grow N] [--full]\n");
      return 2;
    }
  }
  int64_t overlap = images * overlap_pct / 100;
  if (recompute) return Recompute(dir, grow, images, overlap, full);

  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    Database db;
    if (Status s = Database::Open((dir / "state.db").string(), Database::Mode::kReadWriteCreate, 10000, &db); !s.ok())
      return Fail(s);
    CatalogStore catalog;
    if (Status s = CatalogStore::Open(&db, &catalog); !s.ok()) return Fail(s);
    auto t0 = std::chrono::steady_clock::now();
    bool changed = false;
    RangeReader self(0, images, "self");
    if (Status s = catalog.Load(kSelfCatalog, self, &changed); !s.ok()) return Fail(s);
    // The peer holds the last `overlap` of ours and as many of its own.
    RangeReader peer(images - overlap, images, "peer");
    if (Status s = catalog.Load("bob", peer, &changed); !s.ok()) return Fail(s);
    std::printf("two catalogs of %lld entries (%lld shared) loaded: %.1f s; state db %.0f MiB\n",
                static_cast<long long>(images), static_cast<long long>(overlap), Seconds(t0),
                fs::file_size(dir / "state.db") / 1048576.0);
  }
  std::string self = "/proc/self/exe";
  std::string n = std::to_string(images), o = std::to_string(overlap_pct);
  std::printf("-- first recompute (empty queue):\n");
  if (RunChild({self, "--recompute", dir.string(), "--images", n, "--overlap", o}) != 0) return 1;
  std::printf("-- again, nothing changed:\n");
  if (RunChild({self, "--recompute", dir.string(), "--images", n, "--overlap", o}) != 0) return 1;
  std::string g = std::to_string(images / 100);
  std::printf("-- the peer's catalog lists 1%% more (%s of what it lacked):\n", g.c_str());
  if (RunChild({self, "--recompute", dir.string(), "--images", n, "--overlap", o, "--grow", g}) != 0) return 1;
  // The reference: the same kind of change (1% more again), every local
  // image decided again.
  std::string g2 = std::to_string(2 * (images / 100));
  std::printf("-- the peer's catalog lists 1%% more again; every local image looked at (reference):\n");
  if (RunChild({self, "--recompute", dir.string(), "--images", n, "--overlap", o, "--grow", g2, "--full"}) != 0)
    return 1;
  return 0;
}
