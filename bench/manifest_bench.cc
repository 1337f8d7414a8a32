// manifest_bench: how much of the manifest changes when the archive grows
// by 1% or one image's metadata changes, and how much memory reading a
// large manifest takes. See bench/README.md, section "Manifest".
//
//   manifest_bench [--images N] [--dir DIR] [--keep]
//   manifest_bench --db ARCHIVE.db [--dir DIR]   (a copy of an existing db)
//   manifest_bench --read FOLDER                 (only the read measurement)
//
// Rows have no image files: the publisher runs with
// benchmark_skip_file_checks (digests from sha256_hash, size 0), which is
// what makes a 1M-image run possible on a small disk; the manifest's
// structure and sizes are otherwise those of a real publish.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "lib/archive/crawler_schema.h"
#include "lib/catalog/key_pins.h"
#include "lib/catalog/manifest_reader.h"
#include "lib/catalog/manifest_writer.h"
#include "lib/util/sha256.h"
#include "lib/util/sqlite.h"
#include "testing/temp_dir.h"

using namespace indafoto;
namespace fs = std::filesystem;

namespace {

constexpr size_t kBlock = 128 * 1024;  // Syncthing's block size for files < 256 MiB

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

struct Rng {
  uint64_t s;
  uint64_t Next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  int64_t Below(int64_t n) { return static_cast<int64_t>(Next() % static_cast<uint64_t>(n)); }
};

const char* const kWords[] = {"Balaton", "naplemente", "Budapest", "téli", "erdő", "Duna", "híd", "macska",
                              "kutya", "virág", "hegy", "tó", "város", "éjszaka", "portré", "utca",
                              "vonat", "templom", "nyár", "ősz"};

std::string Words(Rng& r, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) {
    if (i) out += ' ';
    out += kWords[r.Below(20)];
  }
  return out;
}

// Inserts rows [first, first+count) the way the crawler fills them: all
// columns, 0-8 tags out of 20 000, an album for half, a collection for some.
void InsertImages(Database& db, int64_t first, int64_t count) {
  Transaction t(db);
  Statement img = db.Prepare(
      "INSERT INTO images (id, uuid, url, local_path, title, author, author_url, license, camera_make, focal_length, "
      "aperture, shutter_speed, taken_date, page_url, description, camera_model, sha256_hash, upload_date, "
      "metadata_updated) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  Statement tag = db.Prepare("INSERT OR IGNORE INTO tags (id, name, count) VALUES (?, ?, 1)");
  Statement it = db.Prepare("INSERT OR IGNORE INTO image_tags (image_id, tag_id) VALUES (?, ?)");
  Statement album = db.Prepare("INSERT OR IGNORE INTO albums (id, album_id, title, url, is_public) VALUES (?,?,?,?,1)");
  Statement ia = db.Prepare("INSERT OR IGNORE INTO image_albums (image_id, album_id) VALUES (?, ?)");
  Statement coll =
      db.Prepare("INSERT OR IGNORE INTO collections (id, collection_id, title, url, is_public) VALUES (?,?,?,?,1)");
  Statement ic = db.Prepare("INSERT OR IGNORE INTO image_collections (image_id, collection_id) VALUES (?, ?)");
  for (int64_t id = first; id < first + count; ++id) {
    Rng r{static_cast<uint64_t>(id) * 0x9E3779B97F4A7C15ull + 1};
    int64_t author_no = r.Below(5000);
    std::string author = "Fotós " + std::to_string(author_no);
    std::string indafoto_id = std::to_string(1000000 + id * 7);
    char uuid[40];
    std::snprintf(uuid, sizeof uuid, "%08" PRIx64 "-%04" PRIx64 "-4%03" PRIx64 "-8%03" PRIx64 "-%012" PRIx64,
                  r.Next() & 0xffffffff, r.Next() & 0xffff, r.Next() & 0xfff, r.Next() & 0xfff,
                  r.Next() & 0xffffffffffff);
    std::string url = "https://indafoto.hu/fotos" + std::to_string(author_no) + "/image/" + indafoto_id + "-" +
                      std::to_string(r.Next() % 100000000);
    img.Bind(1, id)
        .Bind(2, uuid)
        .Bind(3, url)
        .Bind(4, "indafoto_archive/" + author + "/" + std::to_string(id / 3000) + "/image_" + indafoto_id +
                     "_20250301_101010_" + std::to_string(100000 + id % 900000) + ".jpg")
        .Bind(5, Words(r, 1 + static_cast<int>(r.Below(4))))
        .Bind(6, author)
        .Bind(7, "https://indafoto.hu/fotos" + std::to_string(author_no))
        .Bind(8, r.Below(3) ? "CC BY-NC-ND 2.5" : "Minden jog fenntartva")
        .Bind(9, r.Below(2) ? "Canon" : "NIKON CORPORATION")
        .Bind(10, std::to_string(10 + r.Below(190)) + ".0 mm")
        .Bind(11, "f/" + std::to_string(1 + r.Below(16)) + ".0")
        .Bind(12, "1/" + std::to_string(1 + r.Below(2000)))
        .Bind(13, "2012:05:12 14:33:10")
        .Bind(14, url + "/user")
        .Bind(15, r.Below(2) ? Words(r, static_cast<int>(r.Below(25))) : std::string())
        .Bind(16, r.Below(2) ? "Canon EOS 550D" : "NIKON D90")
        .Bind(17, Sha256Hex(url))
        .Bind(18, "2012-05-13")
        .Bind(19, "2025-03-01 10:10:10");
    img.Run();
    int ntags = static_cast<int>(r.Below(9));
    for (int k = 0; k < ntags; ++k) {
      int64_t tag_id = 1 + r.Below(20000);
      tag.Bind(1, tag_id).Bind(2, "címke" + std::to_string(tag_id));
      tag.Run();
      it.Bind(1, id).Bind(2, tag_id);
      it.Run();
    }
    if (r.Below(2)) {
      int64_t album_id = 1 + r.Below(50000);
      album.Bind(1, album_id)
          .Bind(2, std::to_string(album_id * 13))
          .Bind(3, "Album " + Words(r, 2))
          .Bind(4, "https://indafoto.hu/album/" + std::to_string(album_id * 13));
      album.Run();
      ia.Bind(1, id).Bind(2, album_id);
      ia.Run();
    }
    if (r.Below(5) == 0) {
      int64_t coll_id = 1 + r.Below(2000);
      coll.Bind(1, coll_id)
          .Bind(2, std::to_string(coll_id * 17))
          .Bind(3, "Gyűjtemény " + Words(r, 2))
          .Bind(4, "https://indafoto.hu/collection/" + std::to_string(coll_id * 17));
      coll.Run();
      ic.Bind(1, id).Bind(2, coll_id);
      ic.Run();
    }
  }
  t.Commit();
}

// What Syncthing would hold of the manifest directory: per file its digest,
// and the set of all 128 KiB block digests (Syncthing reuses a block it has
// in any local file).
struct DirState {
  std::map<std::string, std::string> file_sha;  // relative name -> sha256
  std::set<std::string> blocks;
};

DirState Capture(const fs::path& dir) {
  DirState st;
  std::string buf(kBlock, '\0');
  for (auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::ifstream in(e.path(), std::ios::binary);
    std::string whole;
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      std::streamsize n = in.gcount();
      if (n <= 0) break;
      std::string_view block(buf.data(), static_cast<size_t>(n));
      st.blocks.insert(Sha256Hex(block));
      whole.append(block);
    }
    st.file_sha[e.path().lexically_relative(dir).generic_string()] = Sha256Hex(whole);
  }
  return st;
}

struct Change {
  int64_t files = 0, file_bytes = 0, block_bytes = 0;
};

Change Compare(const DirState& before, const fs::path& dir) {
  Change c;
  DirState after = Capture(dir);
  std::string buf(kBlock, '\0');
  for (const auto& [name, sha] : after.file_sha) {
    auto it = before.file_sha.find(name);
    if (it != before.file_sha.end() && it->second == sha) continue;
    ++c.files;
    std::ifstream in(dir / name, std::ios::binary);
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      std::streamsize n = in.gcount();
      if (n <= 0) break;
      c.file_bytes += n;
      if (!before.blocks.count(Sha256Hex(std::string_view(buf.data(), static_cast<size_t>(n))))) c.block_bytes += n;
    }
  }
  return c;
}

void PrintChange(const char* what, const Change& c, int64_t total) {
  std::printf("%s: %" PRId64 " files changed; %" PRId64 " bytes in changed files (%.3f%% of %" PRId64
              "); %" PRId64 " bytes in new 128 KiB blocks (%.3f%%)\n",
              what, c.files, c.file_bytes, 100.0 * static_cast<double>(c.file_bytes) / static_cast<double>(total),
              total, c.block_bytes, 100.0 * static_cast<double>(c.block_bytes) / static_cast<double>(total));
}

Status Publish(const PublishOptions& o, PublishReport* r, const char* label) {
  auto t0 = std::chrono::steady_clock::now();
  Status s = PublishManifest(o, r);
  if (!s.ok()) return s;
  std::printf("%s: sequence %" PRIu64 ", %" PRId64 " images in %" PRId64 " parts, %" PRId64
              " bytes total, %" PRId64 " parts written (%" PRId64 " read from the database, %" PRId64
              " taken over), %.3f s\n",
              label, r->sequence, r->image_count, r->parts, r->bytes_total, r->parts_written, r->parts_read,
              r->parts_reused, Seconds(t0));
  return s;
}

int64_t VmHwmKiB() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::atoll(line.c_str() + 6);
  }
  return -1;
}

// The read measurement, in its own process image.
int ReadOnly(const fs::path& folder) {
  Database state;
  KeyPins pins;
  if (!Database::Open(":memory:", Database::Mode::kReadWriteCreate, 1000, &state).ok() ||
      !KeyPins::Open(&state, &pins).ok())
    return 2;
  ManifestReader reader(folder, "bench", &pins);
  int64_t n = 0, tags = 0;
  auto t0 = std::chrono::steady_clock::now();
  Status s = reader.ReadAll([&](const RemoteImage& img) {
    ++n;
    tags += static_cast<int64_t>(img.tags.size());
    return Status::Ok();
  });
  double secs = Seconds(t0);
  if (!s.ok()) {
    std::fprintf(stderr, "read failed: %s\n", s.ToString().c_str());
    return 1;
  }
  struct rusage ru;
  ::getrusage(RUSAGE_SELF, &ru);
  std::printf("read: %" PRId64 " entries (%" PRId64 " tags) verified in %.2f s (%.0f entries/s); peak RSS %" PRId64
              " KiB (VmHWM), ru_maxrss %ld KiB\n",
              n, tags, secs, static_cast<double>(n) / secs, VmHwmKiB(), ru.ru_maxrss);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t images = 100000;
  fs::path dir, source_db, read_folder;
  bool keep = false;
  bool full = false;  // the reference: every publish reads the whole archive (no change tracking)
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--images") images = std::atoll(next().c_str());
    else if (a == "--dir") dir = next();
    else if (a == "--db") source_db = next();
    else if (a == "--read") read_folder = next();
    else if (a == "--keep") keep = true;
    else if (a == "--full") full = true;
    else {
      std::fprintf(stderr,
                   "usage: manifest_bench [--images N] [--dir DIR] [--keep] [--full] | --db ARCHIVE.db [--dir DIR] [--full] | "
                   "--read FOLDER\n");
      return 2;
    }
  }
  if (!read_folder.empty()) return ReadOnly(read_folder);

  TempDir tmp;
  if (dir.empty()) dir = tmp.path();
  fs::create_directories(dir / "indafoto_archive");
  fs::path db_path = dir / "indafoto.db";
  fs::path root = dir / "indafoto_archive";

  try {
    Database db;
    auto t0 = std::chrono::steady_clock::now();
    if (!source_db.empty()) {
      Database src;
      if (Status s = Database::Open(source_db.string(), Database::Mode::kReadOnly, 10000, &src); !s.ok()) {
        std::fprintf(stderr, "%s\n", s.ToString().c_str());
        return 1;
      }
      fs::remove(db_path);
      Statement v = src.Prepare("VACUUM INTO ?");
      v.Bind(1, db_path.string());
      v.Run();
      if (Status s = Database::Open(db_path.string(), Database::Mode::kReadWrite, 10000, &db); !s.ok()) return 1;
      Statement c = db.Prepare("SELECT count(*), COALESCE(max(id), 0) FROM images");
      c.Step();
      images = c.Int(0);
      std::printf("copied %s: %" PRId64 " images, %.1f s\n", source_db.c_str(), images, Seconds(t0));
    } else {
      fs::remove(db_path);
      if (Status s = Database::Open(db_path.string(), Database::Mode::kReadWriteCreate, 10000, &db); !s.ok()) return 1;
      db.Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF");
      db.Exec(kCrawlerSchemaSql);
      for (int64_t first = 1; first <= images; first += 100000) InsertImages(db, first, std::min<int64_t>(100000, images - first + 1));
      db.Exec("PRAGMA wal_checkpoint(TRUNCATE)");
      std::printf("built database: %" PRId64 " images, %" PRIuMAX " bytes, %.1f s\n", images,
                  static_cast<uintmax_t>(fs::file_size(db_path)), Seconds(t0));
    }

    PublishOptions o;
    o.database_path = db_path;
    o.image_root = root;
    o.key_path = dir / "keys" / "publisher.key";
    o.benchmark_skip_file_checks = true;
    o.incremental = !full;
    std::printf("mode: %s\n", full ? "full (every publish reads the whole archive)" : "incremental (change tracking)");

    PublishReport r1, r2, r3;
    if (Status s = Publish(o, &r1, "publish 1 (initial)"); !s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 1;
    }
    fs::path sync_dir = root / ".indafoto-sync";
    DirState s1 = Capture(sync_dir);

    Statement mx = db.Prepare("SELECT COALESCE(max(id), 0) FROM images");
    mx.Step();
    int64_t max_id = mx.Int(0);
    mx.Reset();
    int64_t grow = std::max<int64_t>(1, images / 100);
    auto t_ins = std::chrono::steady_clock::now();
    InsertImages(db, max_id + 1, grow);
    // The crawler's side: with change tracking its writes also fire our
    // triggers (compare with --full, where none are installed).
    std::printf("insert +1%% rows (as the crawler): %" PRId64 " rows in %.3f s\n", grow, Seconds(t_ins));
    if (Status s = Publish(o, &r2, "publish 2 (+1% images)"); !s.ok()) return 1;
    PrintChange("  change after +1% images", Compare(s1, sync_dir), r2.bytes_total);
    DirState s2 = Capture(sync_dir);

    // An image in the middle of its part: the blocks before it are reusable.
    int64_t edited = max_id / 2 + 537;
    Statement upd = db.Prepare("UPDATE images SET title = title || ' (javítva)' WHERE id = ?");
    upd.Bind(1, edited);
    upd.Run();
    {
      // The crawler updates tag counts all the time; not a published change.
      auto t_cnt = std::chrono::steady_clock::now();
      db.Exec("UPDATE tags SET count = count + 1 WHERE id % 10 = 0");
      std::printf("update of tags.count on 10%% of tags (not published): %.3f s\n", Seconds(t_cnt));
    }
    std::string label = "publish 3 (title of image id " + std::to_string(edited) + " edited)";
    if (Status s = Publish(o, &r3, label.c_str()); !s.ok()) return 1;
    PrintChange("  change after one metadata edit", Compare(s2, sync_dir), r3.bytes_total);

    PublishReport r4;
    if (Status s = Publish(o, &r4, "publish 4 (nothing changed)"); !s.ok()) return 1;
    std::printf("  unchanged: %s, bytes written %" PRId64 "\n", r4.unchanged ? "yes" : "no", r4.bytes_written);
  } catch (const SqliteError& e) {
    std::fprintf(stderr, "sqlite: %s\n", e.what());
    return 1;
  }

  // Reading in a fresh process image so its peak RSS is its own (VmHWM);
  // ru_maxrss also counts what the child inherited at fork.
  std::fflush(stdout);
  pid_t pid = ::fork();
  if (pid == 0) {
    std::string self = fs::read_symlink("/proc/self/exe").string();
    ::execl(self.c_str(), self.c_str(), "--read", root.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  struct rusage ru;
  ::wait4(pid, &status, 0, &ru);
  std::printf("reader child: exit %d, ru_maxrss (wait4) %ld KiB\n", WEXITSTATUS(status), ru.ru_maxrss);
  if (keep) std::printf("kept %s\n", dir.c_str());
  if (keep && dir == tmp.path()) {
    // TempDir removes its directory unless INDAFOTO_KEEP_TEMP is set.
    std::printf("(set INDAFOTO_KEEP_TEMP=1 or use --dir to keep it)\n");
  }
  return WEXITSTATUS(status);
}
