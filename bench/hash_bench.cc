// hash_bench: SHA-256 throughput of the files the importer hashes, against
// the machine's reference, `openssl dgst -sha256`, measured in the same run.
//
// Generates two sets of files in a temporary directory (large: 64 x 16 MiB,
// small: 2000 x 200 KiB by default), reads them once so the page cache is
// warm, then hashes each set, round-robin over the methods, `--repeat`
// times:
//   openssl-dgst     `openssl dgst -sha256 <files>` as a subprocess (the reference)
//   evp-1t           indafoto::Sha256File (OpenSSL EVP), 1 thread
//   evp-2t           indafoto::Sha256File, 2 threads sharing the file list
//   sodium-1t        libsodium crypto_hash_sha256 streaming, 1 thread, 1 MiB reads
//   read-only-1t     the same read loop without hashing (I/O floor)
// plus in-memory rows (EVP and libsodium, no I/O) and `openssl speed -evp
// sha256 -bytes 16384` (OpenSSL's own figure, the kind SPEC 6 quotes).
// Every method's digests are checked against openssl's output.
//
// Prints GB/s (10^9 bytes per second) best and median, and the ratio of the
// best against openssl's best. Lines starting with "RESULT " are for
// bench/run_benchmarks.sh.
#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "lib/util/sha256.h"
#include "lib/util/unique_fd.h"
#include "testing/process.h"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Options {
  int large_count = 64;
  int64_t large_bytes = 16ll << 20;
  int small_count = 2000;
  int64_t small_bytes = 200ll << 10;
  int repeat = 3;
  int threads = 2;
  std::string openssl = "openssl";
  fs::path dir;  // empty: a fresh temporary directory
};

struct FileSet {
  std::string name;
  std::vector<fs::path> files;
  int64_t bytes = 0;
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
  std::fprintf(stderr, "hash_bench: %s\n", msg.c_str());
  std::exit(1);
}

void Usage() {
  std::printf(
      "usage: hash_bench [options]\n"
      "  --large-count N     large files (default 64)\n"
      "  --large-mib N       size of a large file in MiB (default 16)\n"
      "  --small-count N     small files (default 2000)\n"
      "  --small-kib N       size of a small file in KiB (default 200)\n"
      "  --repeat N          rounds; best and median are reported (default 3)\n"
      "  --threads N         threads of the multi-threaded EVP run (default 2)\n"
      "  --openssl PATH      the reference binary (default openssl)\n"
      "  --dir DIR           where to write the files (default: a temporary directory, removed)\n");
}

// xorshift128+: fast incompressible bytes (content does not matter to SHA-256,
// but it should not be all zeros in case a filesystem special-cases them).
void FillRandom(std::vector<unsigned char>& buf, uint64_t seed) {
  uint64_t s0 = seed * 0x9E3779B97F4A7C15ull + 1, s1 = seed ^ 0xD1B54A32D192ED03ull;
  size_t i = 0;
  for (; i + 8 <= buf.size(); i += 8) {
    uint64_t x = s0, y = s1;
    s0 = y;
    x ^= x << 23;
    s1 = x ^ y ^ (x >> 17) ^ (y >> 26);
    uint64_t r = s1 + y;
    std::memcpy(&buf[i], &r, 8);
  }
  for (; i < buf.size(); ++i) buf[i] = static_cast<unsigned char>(i * 131 + seed);
}

FileSet MakeSet(const fs::path& dir, const std::string& name, int count, int64_t bytes, uint64_t seed) {
  FileSet set;
  set.name = name;
  fs::create_directories(dir / name);
  std::vector<unsigned char> buf(static_cast<size_t>(bytes));
  for (int i = 0; i < count; ++i) {
    FillRandom(buf, seed + static_cast<uint64_t>(i));
    char file_name[32];
    std::snprintf(file_name, sizeof file_name, "f%05d.bin", i);
    fs::path p = dir / name / file_name;
    indafoto::UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!fd.valid()) Die("create " + p.string() + ": " + std::strerror(errno));
    size_t off = 0;
    while (off < buf.size()) {
      ssize_t n = ::write(fd.get(), buf.data() + off, buf.size() - off);
      if (n <= 0) Die("write " + p.string() + ": " + std::strerror(errno));
      off += static_cast<size_t>(n);
    }
    set.files.push_back(p);
    set.bytes += bytes;
  }
  return set;
}

std::string Hex(const unsigned char* d, size_t n) {
  static const char* kDigits = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[d[i] >> 4];
    out[2 * i + 1] = kDigits[d[i] & 15];
  }
  return out;
}

// Reads `path` in 1 MiB chunks (like Sha256File) and feeds `update`.
template <typename Update>
int64_t ReadLoop(const fs::path& path, std::vector<unsigned char>& buf, Update update) {
  indafoto::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) Die("open " + path.string() + ": " + std::strerror(errno));
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  int64_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) Die("read " + path.string() + ": " + std::strerror(errno));
    if (n == 0) break;
    update(buf.data(), static_cast<size_t>(n));
    total += n;
  }
  return total;
}

std::string SodiumFile(const fs::path& path) {
  static thread_local std::vector<unsigned char> buf(1 << 20);
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  ReadLoop(path, buf, [&](const unsigned char* p, size_t n) { crypto_hash_sha256_update(&st, p, n); });
  unsigned char out[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&st, out);
  return Hex(out, sizeof out);
}

std::string ReadOnlyFile(const fs::path& path) {
  static thread_local std::vector<unsigned char> buf(1 << 20);
  unsigned char x = 0;
  ReadLoop(path, buf, [&](const unsigned char* p, size_t n) { x ^= p[n - 1]; });
  return std::string(1, static_cast<char>('0' + (x & 7)));  // keeps the loop from being optimised away
}

std::string EvpFile(const fs::path& path) {
  indafoto::FileDigest d;
  indafoto::Status s = indafoto::Sha256File(path, &d);
  if (!s.ok()) Die(s.ToString());
  return d.sha256;
}

// Hashes every file of `set` with `fn` on `threads` threads (a shared index
// hands out files, so both threads stay busy until the list is done).
double TimeFiles(const FileSet& set, int threads, const std::function<std::string(const fs::path&)>& fn,
                 std::vector<std::string>* digests) {
  digests->assign(set.files.size(), std::string());
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next.fetch_add(1)) < set.files.size();) (*digests)[i] = fn(set.files[i]);
  };
  auto t0 = Clock::now();
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Runs `openssl dgst -sha256` over the set (in chunks that fit the argument
// limit) and parses "SHA2-256(path)= hex" / "SHA256(path)= hex".
double TimeOpenssl(const Options& o, const FileSet& set, std::map<std::string, std::string>* digests) {
  digests->clear();
  const size_t kChunk = 4000;
  double total = 0;
  for (size_t start = 0; start < set.files.size(); start += kChunk) {
    std::vector<std::string> argv = {o.openssl, "dgst", "-sha256"};
    for (size_t i = start; i < std::min(set.files.size(), start + kChunk); ++i) argv.push_back(set.files[i].string());
    auto t0 = Clock::now();
    indafoto::ProcessResult r = indafoto::RunProcess(argv);
    total += std::chrono::duration<double>(Clock::now() - t0).count();
    if (r.signaled || r.exit_code != 0) Die("openssl dgst failed: " + r.output.substr(0, 500));
    size_t pos = 0;
    while (pos < r.output.size()) {
      size_t eol = r.output.find('\n', pos);
      if (eol == std::string::npos) eol = r.output.size();
      std::string line = r.output.substr(pos, eol - pos);
      pos = eol + 1;
      size_t open = line.find('('), close = line.rfind(")= ");
      if (open == std::string::npos || close == std::string::npos) continue;
      (*digests)[line.substr(open + 1, close - open - 1)] = line.substr(close + 3);
    }
  }
  return total;
}

void DoNotOptimize(unsigned char c) { asm volatile("" : : "r"(c) : "memory"); }

// In-memory hashing: the hash function's own speed. A 1 MiB buffer (stays
// in L2, like Sha256File's read buffer) hashed `passes` times as one stream.
double TimeMemory(bool sodium, const std::vector<unsigned char>& buf, int passes) {
  unsigned char out[64];
  auto t0 = Clock::now();
  if (sodium) {
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    for (int i = 0; i < passes; ++i) crypto_hash_sha256_update(&st, buf.data(), buf.size());
    crypto_hash_sha256_final(&st, out);
  } else {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
    for (int i = 0; i < passes; ++i) EVP_DigestUpdate(ctx, buf.data(), buf.size());
    unsigned int n = 0;
    EVP_DigestFinal_ex(ctx, out, &n);
    EVP_MD_CTX_free(ctx);
  }
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  DoNotOptimize(out[0]);
  return s;
}

// `openssl speed -evp sha256` on 16 KiB blocks: OpenSSL's own figure for
// the machine (the kind of number SPEC 6 quotes). GB/s, or 0 if unparsable.
double OpensslSpeed(const Options& o) {
  indafoto::ProcessResult r =
      indafoto::RunProcess({o.openssl, "speed", "-evp", "sha256", "-bytes", "16384", "-seconds", "1"});
  if (r.signaled || r.exit_code != 0) return 0;
  // Last line: "sha256    1562378.24k" (thousands of bytes per second).
  std::istringstream in(r.output);
  double kbps = 0;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string name, value;
    if (words >> name >> value && name == "sha256" && !value.empty() && value.back() == 'k')
      kbps = std::atof(value.c_str());
  }
  return kbps * 1000 / 1e9;
}

struct Series {
  std::vector<double> seconds;
  double Best() const { return *std::min_element(seconds.begin(), seconds.end()); }
  double Median() const {
    std::vector<double> v = seconds;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  }
};

double Gbps(int64_t bytes, double seconds) { return seconds > 0 ? bytes / seconds / 1e9 : 0; }

int64_t ParseInt(const char* flag, const char* v) {
  char* end = nullptr;
  long long x = std::strtoll(v, &end, 10);
  if (!end || *end || x <= 0) Die(std::string(flag) + ": expected a positive integer, got '" + v + "'");
  return x;
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      Usage();
      std::exit(0);
    }
    static const std::set<std::string> kWithValue = {"--large-count", "--large-mib", "--small-count", "--small-kib",
                                                     "--repeat",      "--threads",   "--openssl",     "--dir"};
    if (!kWithValue.count(a)) Die("unknown option " + a + " (see --help)");
    if (i + 1 >= argc) Die("missing value after " + a + " (see --help)");
    const char* v = argv[++i];
    if (a == "--large-count") o.large_count = static_cast<int>(ParseInt(argv[i - 1], v));
    else if (a == "--large-mib") o.large_bytes = ParseInt(argv[i - 1], v) << 20;
    else if (a == "--small-count") o.small_count = static_cast<int>(ParseInt(argv[i - 1], v));
    else if (a == "--small-kib") o.small_bytes = ParseInt(argv[i - 1], v) << 10;
    else if (a == "--repeat") o.repeat = static_cast<int>(ParseInt(argv[i - 1], v));
    else if (a == "--threads") o.threads = static_cast<int>(ParseInt(argv[i - 1], v));
    else if (a == "--openssl") o.openssl = v;
    else if (a == "--dir") o.dir = v;
    else Die("unknown option " + a + " (see --help)");
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options o = ParseArgs(argc, argv);
  if (sodium_init() < 0) Die("sodium_init failed");

  static ScratchDir tmp("indafoto-hash-bench");  // static: removed by std::exit too (Die)
  if (o.dir.empty() && tmp.path().empty()) Die("cannot create a temporary directory");
  fs::path dir = o.dir.empty() ? tmp.path() / "hash_bench" : o.dir;

  std::printf("hash_bench: %d x %lld MiB and %d x %lld KiB in %s, %d rounds, threads %d, nproc %u\n", o.large_count,
              static_cast<long long>(o.large_bytes >> 20), o.small_count, static_cast<long long>(o.small_bytes >> 10),
              dir.c_str(), o.repeat, o.threads, std::thread::hardware_concurrency());
  std::vector<FileSet> sets;
  sets.push_back(MakeSet(dir, "large", o.large_count, o.large_bytes, 1000));
  sets.push_back(MakeSet(dir, "small", o.small_count, o.small_bytes, 5000000));
  // Warm the page cache (and check the files are all there).
  for (const FileSet& set : sets) {
    std::vector<std::string> ignored;
    TimeFiles(set, 1, ReadOnlyFile, &ignored);
  }

  const std::string threads_name = "evp-" + std::to_string(o.threads) + "t";
  struct Method {
    std::string name;
    int threads;
    std::function<std::string(const fs::path&)> fn;
    bool digest;  // produces real digests to check
  };
  const std::vector<Method> methods = {
      {"evp-1t", 1, EvpFile, true},
      {threads_name, o.threads, EvpFile, true},
      {"sodium-1t", 1, SodiumFile, true},
      {"read-only-1t", 1, ReadOnlyFile, false},
  };

  for (const FileSet& set : sets) {
    std::map<std::string, Series> results;
    std::map<std::string, std::string> reference;
    int mismatches = 0;
    for (int round = 0; round < o.repeat; ++round) {
      results["openssl-dgst"].seconds.push_back(TimeOpenssl(o, set, &reference));
      for (const Method& m : methods) {
        std::vector<std::string> digests;
        results[m.name].seconds.push_back(TimeFiles(set, m.threads, m.fn, &digests));
        if (!m.digest) continue;
        for (size_t i = 0; i < set.files.size(); ++i) {
          auto it = reference.find(set.files[i].string());
          if (it == reference.end() || it->second != digests[i]) ++mismatches;
        }
      }
    }
    if (mismatches) Die(std::to_string(mismatches) + " digests differ from openssl's in set " + set.name);

    double ref = Gbps(set.bytes, results["openssl-dgst"].Best());
    std::printf("\nset %s: %zu files, %.1f MB total (all digests equal openssl's)\n", set.name.c_str(),
                set.files.size(), set.bytes / 1e6);
    std::printf("  %-14s %10s %12s %14s\n", "method", "best GB/s", "median GB/s", "best/openssl");
    std::vector<std::string> order = {"openssl-dgst"};
    for (const Method& m : methods) order.push_back(m.name);
    for (const std::string& name : order) {
      const Series& s = results[name];
      double best = Gbps(set.bytes, s.Best()), median = Gbps(set.bytes, s.Median());
      std::printf("  %-14s %10.3f %12.3f %14.2f\n", name.c_str(), best, median, best / ref);
      std::printf("RESULT hash set=%s method=%s best_gbps=%.3f median_gbps=%.3f ratio_vs_openssl=%.2f\n",
                  set.name.c_str(), name.c_str(), best, median, best / ref);
    }
  }

  // The hash functions alone, in memory, 1 thread; and OpenSSL's own figure.
  std::vector<unsigned char> buf(1 << 20);
  FillRandom(buf, 42);
  const int passes = 256;
  std::printf("\nin memory, 1 thread (a 1 MiB buffer hashed %d times as one stream):\n", passes);
  std::printf("  %-14s %10s %12s\n", "method", "best GB/s", "median GB/s");
  std::map<std::string, Series> mem;
  for (int round = 0; round < o.repeat; ++round) {
    mem["evp-mem"].seconds.push_back(TimeMemory(false, buf, passes));
    mem["sodium-mem"].seconds.push_back(TimeMemory(true, buf, passes));
    double gbps = OpensslSpeed(o);
    if (gbps > 0) mem["openssl-speed"].seconds.push_back(1 / gbps);  // as seconds per GB
  }
  const int64_t mem_bytes = static_cast<int64_t>(buf.size()) * passes;
  for (const char* name : {"openssl-speed", "evp-mem", "sodium-mem"}) {
    auto it = mem.find(name);
    if (it == mem.end()) continue;
    int64_t n = std::string(name) == "openssl-speed" ? 1000000000 : mem_bytes;
    double best = Gbps(n, it->second.Best()), median = Gbps(n, it->second.Median());
    std::printf("  %-14s %10.3f %12.3f%s\n", name, best, median,
                std::string(name) == "openssl-speed" ? "   (openssl speed -evp sha256 -bytes 16384)" : "");
    std::printf("RESULT hash set=memory method=%s best_gbps=%.3f median_gbps=%.3f\n", name, best, median);
  }
  return 0;
}
