// What a careless or hostile peer, or an unlucky disk, puts in front of the
// real binary: replayed manifests, pictures that only share a url, FIFOs,
// a corrupt state database, damaged local files, nested paths, names the
// filesystem cannot hold, control characters. Each case is one finding of
// the hostile review (SPEC section 5).
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>

#include "lib/archive/layout.h"
#include "testing/child_process.h"
#include "tests/import_fixture.h"

namespace indafoto {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

PairOptions Pair() {
  PairOptions o;
  o.a_count = 60;
  o.b_count = 60;
  o.overlap = 20;
  o.universe_seed = 41;
  return o;
}


fs::path SyncDir(const fs::path& archive_root) { return archive_root / ".indafoto-sync"; }

// Runs a command that must not hang: killed after `limit`, which fails the
// test (a FIFO opened blocking would wait for ever).
int RunBounded(const ImportFixture& f, const std::vector<std::string>& args, const fs::path& log,
               std::chrono::seconds limit = 60s) {
  std::vector<std::string> argv = {BinaryPath("indafoto-syncd")};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--config", f.config.string()});
  ChildProcess p;
  if (!p.Start(argv, log)) return -2;
  int rc = p.Wait(limit);
  if (rc == -1) p.Signal(SIGKILL);
  return rc;
}

std::string Bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Replaces `p` by a new file (a new inode: the received copy hardlinked to
// it stays intact, as when a disk sector of the archive goes bad).
void Corrupt(const fs::path& p) {
  fs::remove(p);
  std::ofstream(p, std::ios::binary) << "bit rot";
}

}  // namespace

TEST_CASE("an older signed manifest put back in place is refused naming both sequences", "[manifest][faults]") {
  ImportFixture f(Pair());
  REQUIRE(f.PublishB().exit_code == 0);
  fs::path b_root = f.b_dir / "indafoto_archive";
  fs::path saved = f.tmp.path() / "sync-at-1";
  CopyTree(SyncDir(b_root), saved);
  REQUIRE(AppendImages(f.b_dir, {9001, 9002}, Pair().universe_seed).ok());
  REQUIRE(f.PublishB().exit_code == 0);
  fs::remove_all(f.received);
  CopyTree(b_root, f.received);
  f.UseManifestOnly();
  ProcessResult first = f.Run("import");
  INFO(first.output);
  REQUIRE(first.exit_code == 0);
  std::string dump = DumpArchive(f.a_db());
  int64_t imported = QueryInt(f.a_db(), "SELECT COUNT(*) FROM sync_records WHERE status = 'imported'");

  // An attacker (or a careless restore) puts the sequence-1 index and its
  // parts back into the received folder.
  CopyTree(saved, SyncDir(f.received));
  ProcessResult replay = f.Run("import");
  INFO(replay.output);
  CHECK(replay.exit_code == 0);
  CHECK(replay.output.find("sequence 1 is older than sequence 2") != std::string::npos);
  CHECK(replay.output.find("indafoto-syncd trust") != std::string::npos);
  CHECK(replay.output.find("previous catalog (62 entries)") != std::string::npos);
  CHECK(QueryInt(f.a_db(), "SELECT COUNT(*) FROM sync_records WHERE status = 'pending'") == 0);
  CHECK(DumpArchive(f.a_db()) == dump);
  CHECK(QueryInt(f.a_db(), "SELECT COUNT(*) FROM sync_records WHERE status = 'imported'") == imported);

  // A fork: another index with the same sequence 2 but other content.
  fs::remove_all(SyncDir(b_root));
  CopyTree(saved, SyncDir(b_root));
  REQUIRE(AppendImages(f.b_dir, {9003}, Pair().universe_seed).ok());
  ProcessResult forked = f.PublishB();
  INFO(forked.output);
  REQUIRE(forked.output.find("sequence 2") != std::string::npos);
  fs::remove_all(SyncDir(f.received));
  CopyTree(SyncDir(b_root), SyncDir(f.received));
  ProcessResult fork = f.Run("import");
  INFO(fork.output);
  CHECK(fork.output.find("sequence 2 was already accepted with other content") != std::string::npos);
  CHECK(DumpArchive(f.a_db()) == dump);

  // `trust` is the documented way to start over.
  REQUIRE(f.Run("trust", {"--source", "peerB"}).exit_code == 0);
  CopyTree(b_root, f.received);  // with the image only the fork lists
  ProcessResult after = f.Run("import");
  INFO(after.output);
  CHECK(after.output.find("refused") == std::string::npos);
  CHECK(QueryInt(f.a_db(), "SELECT COUNT(*) FROM images WHERE url = '" + FactsFor(9003, Pair().universe_seed).url +
                               "'") == 1);
}

TEST_CASE("a corrupt local image and a delivery with the same url but other content: conflict, local kept",
          "[import][faults]") {
  PairOptions o = Pair();
  ArchiveSpec sa, sb;
  ImportFixture f(o, false);
  fs::remove_all(f.b_dir);
  fs::remove_all(f.received);
  REQUIRE(MakePairSpecs(f.a_dir / "unused", f.b_dir, o, &sa, &sb).ok());
  int64_t shared_id = sb.ids.front();
  sb.altered_ids.insert(shared_id);  // B's picture under this url differs
  REQUIRE(GenerateArchive(sb, &f.b).ok());
  CopyTree(f.b_dir / "indafoto_archive", f.received);
  f.WriteConfig("");
  std::string url = FactsFor(shared_id, o.universe_seed).url;
  std::string local_sha = Strings(f.a_db(), "SELECT sha256_hash FROM images WHERE url = ?", url).at(0);
  fs::path local = f.a_dir / Strings(f.a_db(), "SELECT local_path FROM images WHERE url = ?", url).at(0);
  { std::ofstream(local, std::ios::binary | std::ios::app) << "damage"; }
  std::string damaged = Bytes(local);

  ProcessResult r = f.Run("import");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(Bytes(local) == damaged);  // byte for byte
  CHECK(Strings(f.a_db(), "SELECT sha256_hash FROM images WHERE url = ?", url) == std::vector<std::string>{local_sha});
  CHECK(QueryInt(f.a_db(), "SELECT COUNT(*) FROM sync_records WHERE status = 'repaired'") == 0);
  std::vector<std::string> conflicts =
      QueryStrings(f.a_db(), "SELECT error_message FROM sync_records WHERE status = 'conflict'");
  REQUIRE(conflicts.size() == 1);
  CHECK_THAT(conflicts[0], Catch::Contains("local records " + local_sha));
}

TEST_CASE("FIFOs where files are expected never hang verify, import or the manifest reader", "[faults][fifo]") {
  SECTION("at a local image's path") {
    ImportFixture f(Pair());
    std::string rel = QueryStrings(f.a_db(), "SELECT local_path FROM images ORDER BY id DESC LIMIT 1").at(0);
    fs::remove(f.a_dir / rel);
    REQUIRE(::mkfifo((f.a_dir / rel).c_str(), 0644) == 0);
    fs::path log = f.tmp.path() / "verify.log";
    CHECK(RunBounded(f, {"verify"}, log) == 1);
    INFO(ReadFile(log));
    CHECK(ReadFile(log).find("a FIFO") != std::string::npos);
    // The same image comes from B: the import repairs it (a local copy
    // that is a FIFO is hashed before the merge, without blocking).
    CHECK(RunBounded(f, {"import"}, f.tmp.path() / "import.log") == 0);
    INFO(ReadFile(f.tmp.path() / "import.log"));
    CHECK(fs::is_regular_file(fs::symlink_status(f.a_dir / rel)));
    CHECK(CheckArchive(f.a_db(), f.a_root()).ok());
  }
  SECTION("at a manifest part's name, and as a delivery") {
    ImportFixture f(Pair());
    REQUIRE(f.PublishB().exit_code == 0);
    fs::remove_all(f.received);
    CopyTree(f.b_dir / "indafoto_archive", f.received);
    f.UseManifestOnly();
    fs::path part = *fs::directory_iterator(SyncDir(f.received) / "parts");
    fs::remove(part.string());
    REQUIRE(::mkfifo(part.c_str(), 0644) == 0);
    REQUIRE(::mkfifo((f.received / "stray.fifo").c_str(), 0644) == 0);
    fs::path log = f.tmp.path() / "import.log";
    CHECK(RunBounded(f, {"import"}, log) == 0);
    std::string out = ReadFile(log);
    INFO(out);
    CHECK(out.find("a FIFO, not a regular file") != std::string::npos);  // the part: catalog rejected whole
    CHECK(Strings(f.a_db(), "SELECT status FROM sync_records WHERE remote_path = ?", "stray.fifo") ==
          std::vector<std::string>{"failed"});
  }
}

TEST_CASE("a corrupt state database is named as such, never as the archive", "[faults]") {
  ImportFixture f(Pair());
  REQUIRE(f.Run("import").exit_code == 0);
  fs::path state = f.a_dir / "indafoto-syncd-state.db";
  REQUIRE(fs::exists(state));
  for (const char* suffix : {"-wal", "-shm"}) fs::remove(state.string() + suffix);
  std::ofstream(state, std::ios::binary | std::ios::trunc) << std::string(8192, 'x');
  for (const char* command : {"import", "status"}) {
    ProcessResult r = f.Run(command);
    INFO(command << ": " << r.output);
    CHECK(r.exit_code == 3);
    CHECK(r.output.find("state database " + state.string()) != std::string::npos);
    CHECK(r.output.find("move it aside") != std::string::npos);
    CHECK(r.output.find("archive database") == std::string::npos);
  }
}

TEST_CASE("verify --repair heals a deleted and a corrupted local image from the received folder",
          "[verify][faults]") {
  ImportFixture f(Pair());
  REQUIRE(f.Run("import").exit_code == 0);
  CHECK(f.Run("verify").exit_code == 0);
  // One image A took from B (deleted), one A had and B shares (corrupted),
  // one only A ever had (deleted: nothing can heal it).
  std::string from_b = Strings(f.a_db(),
                               "SELECT i.local_path FROM images i JOIN sync_records r ON r.image_id = i.id "
                               "WHERE r.status = ? ORDER BY i.id LIMIT 1",
                               "imported")
                           .at(0);
  std::string shared = Strings(f.a_db(),
                               "SELECT i.local_path FROM images i JOIN sync_records r ON r.image_id = i.id "
                               "WHERE r.status IN ('duplicate', 'merged') AND i.id <= ? ORDER BY i.id LIMIT 1",
                               "60")
                           .at(0);
  std::string only_a = Strings(f.a_db(),
                               "SELECT local_path FROM images WHERE id NOT IN (SELECT image_id FROM sync_records "
                               "WHERE image_id IS NOT NULL) AND ? ORDER BY id LIMIT 1",
                               "1")
                           .at(0);
  fs::remove(f.a_dir / from_b);
  Corrupt(f.a_dir / shared);
  fs::remove(f.a_dir / only_a);

  // A second import does not look again (the decisions are final)...
  REQUIRE(f.Run("import").exit_code == 0);
  CHECK_FALSE(fs::exists(f.a_dir / from_b));
  // ...and status, after a verify, is not healthy and says how many.
  CHECK(f.Run("verify").exit_code == 1);
  ProcessResult st = f.Run("status");
  INFO(st.output);
  CHECK(st.exit_code == 1);
  CHECK(st.output.find("3 local images missing or corrupt") != std::string::npos);

  ProcessResult repair = f.Run("verify", {"--repair"});
  INFO(repair.output);
  CHECK(repair.exit_code == 1);  // one cannot be healed
  CHECK(repair.output.find("2 healed") != std::string::npos);
  CHECK(repair.output.find("not healed: no received folder holds") != std::string::npos);
  CHECK(fs::exists(f.a_dir / from_b));
  CHECK(Bytes(f.a_dir / shared) != "bit rot");
  CHECK(QueryInt(f.a_db(), "SELECT COUNT(*) FROM sync_records WHERE status = 'repaired'") == 2);
  ProcessResult after = f.Run("status");
  INFO(after.output);
  CHECK(after.output.find("1 local images missing or corrupt") != std::string::npos);
  ProcessResult v = f.Run("verify", {"--json"});
  INFO(v.output);
  CHECK(v.output.find("\"missing\"") != std::string::npos);
  CHECK(v.output.find(only_a) != std::string::npos);
  CHECK(v.output.find(from_b) == std::string::npos);
}

TEST_CASE("image_root inside a received folder, or a symlink to it, is refused naming both keys", "[config]") {
  ImportFixture f(Pair(), false);
  // The received folder is A's own directory: image_root and indafoto.db in it.
  std::ofstream(f.config) << R"({"database_path": "A/indafoto.db",
    "remote_sources": [{"name": "peerB", "folder_id": "indafoto-b", "local_path": "A"}]})";
  ProcessResult r = f.Run("import");
  INFO(r.output);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("'image_root'") != std::string::npos);
  CHECK(r.output.find("remote_sources[0].local_path") != std::string::npos);

  fs::create_directory_symlink(f.a_dir / "indafoto_archive", f.tmp.path() / "looks-elsewhere");
  std::ofstream(f.config) << R"({"database_path": "A/indafoto.db",
    "remote_sources": [{"name": "peerB", "folder_id": "indafoto-b", "local_path": "looks-elsewhere"}]})";
  ProcessResult s = f.Run("import");
  INFO(s.output);
  CHECK(s.exit_code == 2);
  CHECK(s.output.find("'image_root'") != std::string::npos);
  CHECK_FALSE(fs::exists(f.a_dir / "indafoto-syncd-state.db"));  // nothing touched
}

TEST_CASE("names the filesystem cannot hold are recorded, never dropped or retried for ever", "[import][faults]") {
  ImportFixture f(Pair());
  // A backslash in a delivered name.
  std::string backslash = *ListFiles(f.received).begin();
  backslash = backslash.substr(0, backslash.rfind('/') + 1) + "image_9\\1.jpg";
  std::ofstream(f.received / backslash) << "x";
  // A path longer than PATH_MAX (created step by step, relative to a
  // directory descriptor, as only such a path can be).
  std::string deep_rel;
  {
    int dir = ::open(f.received.c_str(), O_RDONLY | O_DIRECTORY);
    std::string name(200, 'd');
    for (int i = 0; i < 22; ++i) {
      REQUIRE(::mkdirat(dir, name.c_str(), 0755) == 0);
      int next = ::openat(dir, name.c_str(), O_RDONLY | O_DIRECTORY);
      ::close(dir);
      dir = next;
      deep_rel += name + "/";
    }
    int fd = ::openat(dir, "image_1_1.jpg", O_WRONLY | O_CREAT, 0644);
    REQUIRE(fd >= 0);
    ::close(fd);
    ::close(dir);
    deep_rel += "image_1_1.jpg";
  }
  // An author whose folder name is longer than a file name may be.
  int64_t b_only = QueryInt(f.b_db(), "SELECT MAX(id) FROM images");
  std::string long_author;
  for (int i = 0; i < 120; ++i) long_author += "Á";  // 240 bytes
  long_author += std::string(60, 'x');                // 300 bytes
  ExecSql(f.b_db(), "UPDATE images SET author = '" + long_author + "' WHERE id = " + std::to_string(b_only));

  ProcessResult r = f.Run("import");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(Strings(f.a_db(), "SELECT error_message FROM sync_records WHERE remote_path = ?", backslash).at(0).find(
            "unsafe path") != std::string::npos);
  CHECK(Strings(f.a_db(), "SELECT error_message FROM sync_records WHERE remote_path = ?", deep_rel).at(0).find(
            "longer than") != std::string::npos);
  std::string local = Strings(f.a_db(), "SELECT local_path FROM images WHERE author = ?", long_author).at(0);
  std::string folder = (*std::next(fs::path(local).begin())).string();
  CHECK(folder == AuthorFolderName(long_author));
  CHECK(folder.size() <= 255);
  CHECK(folder.substr(folder.size() - 9, 1) == "~");
  CHECK(CheckArchive(f.a_db(), f.a_root()).ok());
  ProcessResult st = f.Run("status");
  INFO(st.output);
  CHECK(st.output.find("failed 2") != std::string::npos);
  // A second pass records nothing new and retries nothing for ever.
  ProcessResult again = f.Run("import");
  INFO(again.output);
  CHECK(again.output.find("retried later") == std::string::npos);
  CHECK(again.output.find("imported 0 merged 0 duplicate 0 repaired 0 pending 0 failed 0") != std::string::npos);
}

TEST_CASE("control characters in delivered names cannot forge a log line", "[import][logging]") {
  ImportFixture f(Pair(), false);
  f.WriteConfig(R"(, "log_level": "debug")");
  std::string forged = "evil\n2026-01-01 00:00:00.000 error: forged\x1b[2J.jpg";
  std::ofstream(f.received / forged) << "x";
  ProcessResult r = f.Run("import");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("\n2026-01-01 00:00:00.000 error: forged") == std::string::npos);
  CHECK(r.output.find("\x1b") == std::string::npos);
  CHECK(r.output.find("evil\\n2026-01-01") != std::string::npos);
}

TEST_CASE("a placement that fails on a full disk leaves no empty author folder behind", "[import][faults]") {
  ImportFixture f(Pair());
  // An author A has never had: the import would create its folder.
  ExecSql(f.b_db(), "UPDATE images SET author = 'Senki Sem Volt' WHERE id = (SELECT MAX(id) FROM images)");
  std::set<std::string> dirs_before;
  for (auto& e : fs::recursive_directory_iterator(f.a_root()))
    if (e.is_directory()) dirs_before.insert(e.path().string());
  ProcessResult r = f.Run("import", {}, {"INDAFOTO_SYNCD_FAIL_AT=place:ENOSPC"});
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  std::set<std::string> dirs_after;
  for (auto& e : fs::recursive_directory_iterator(f.a_root()))
    if (e.is_directory()) dirs_after.insert(e.path().string());
  CHECK(dirs_after == dirs_before);
  CHECK(r.output.find("Senki Sem Volt") != std::string::npos);  // it was tried, and failed
}

}  // namespace indafoto
