// End-to-end tests of `indafoto-syncd import`, on generated archives and the
// real binary (no Syncthing needed: the received folder is filled by copy).
#include <catch2/catch.hpp>

#include <algorithm>
#include <csignal>
#include <set>
#include <thread>

#include "lib/archive/layout.h"
#include "lib/util/sha256.h"
#include "tests/import_fixture.h"

namespace indafoto {

namespace fs = std::filesystem;

namespace {

PairOptions SmallPair() {
  PairOptions o;
  o.a_count = 120;
  o.b_count = 120;
  o.overlap = 40;
  o.universe_seed = 7;
  return o;
}

}  // namespace

TEST_CASE("import merges an overlapping remote archive into the local one", "[import]") {
  ImportFixture f(SmallPair());
  std::vector<std::string> a_urls = QueryStrings(f.a_db(), "SELECT url FROM images");
  std::vector<std::string> b_urls = QueryStrings(f.b_db(), "SELECT url FROM images");
  std::set<std::string> a_set(a_urls.begin(), a_urls.end());
  std::map<std::string, std::vector<std::string>> expected_tags;
  for (const auto& url : b_urls) {
    std::vector<std::string> ta = TagsOf(f.a_db(), url), tb = TagsOf(f.b_db(), url);
    std::set<std::string> u(ta.begin(), ta.end());
    u.insert(tb.begin(), tb.end());
    expected_tags[url] = std::vector<std::string>(u.begin(), u.end());
  }
  std::set<std::string> files_before = ListFiles(f.tmp.path());

  ProcessResult r = f.Run("import");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);

  // Every remote image present exactly once; relations are the union.
  for (const auto& url : b_urls) {
    INFO(url);
    CHECK(Strings(f.a_db(), "SELECT id FROM images WHERE url = ?", url).size() == 1);
    CHECK(TagsOf(f.a_db(), url) == expected_tags[url]);
  }
  CHECK(QueryInt(f.a_db(), "SELECT COUNT(*) FROM images") ==
        static_cast<int64_t>(a_urls.size() + b_urls.size() - SmallPair().overlap));

  // Files are where the crawler would put them, verify, and nothing is orphaned.
  InvariantReport inv = CheckArchive(f.a_db(), f.a_root());
  INFO(inv.Describe());
  CHECK(inv.ok());
  Database b;
  Database::Open(f.b_db().string(), Database::Mode::kReadOnly, 1000, &b);
  Statement q = b.Prepare("SELECT url, author, local_path FROM images");
  int new_images = 0;
  while (q.Step()) {
    std::string url = q.Text(0), author = q.Text(1), remote_path = q.Text(2);
    if (a_set.count(url)) continue;
    ++new_images;
    std::string local = Strings(f.a_db(), "SELECT local_path FROM images WHERE url = ?", url).at(0);
    std::string name = fs::path(remote_path).filename().string();
    fs::path lp(local);
    auto it = lp.begin();
    CHECK(*it++ == "indafoto_archive");
    CHECK(*it++ == AuthorFolderName(author));
    std::string sub = (*it++).string();
    CHECK(std::all_of(sub.begin(), sub.end(), ::isdigit));
    CHECK(*it++ == name);
    // Same filesystem: hardlinked, not copied.
    fs::path received_file = f.received / fs::path(remote_path).lexically_relative("indafoto_archive");
    CHECK(Inode(f.a_dir / local) == Inode(received_file));
  }
  CHECK(new_images == SmallPair().b_count - SmallPair().overlap);

  // Duplicates were merged, not copied: shared images keep their local path.
  CHECK(QueryInt(f.a_db(), "SELECT COUNT(*) FROM sync_records WHERE status IN ('merged','duplicate')") ==
        SmallPair().overlap);

  // sync_records accounts for every delivered file.
  std::set<std::string> delivered = ListFiles(f.received);
  CHECK(QueryInt(f.a_db(), "SELECT COUNT(DISTINCT remote_path) FROM sync_records WHERE remote_source = 'peerB'") ==
        static_cast<int64_t>(delivered.size()));

  // Nothing was written outside image_root but our database and state.
  for (const auto& p : ListFiles(f.tmp.path())) {
    if (files_before.count(p)) continue;
    bool allowed = p.rfind("A/indafoto_archive/", 0) == 0 || p.rfind("A/indafoto.db", 0) == 0 ||
                   p.rfind("A/indafoto-syncd-state.db", 0) == 0;
    INFO(p);
    CHECK(allowed);
  }

  // A second run changes nothing.
  std::string dump = DumpArchive(f.a_db());
  ProcessResult again = f.Run("import");
  INFO(again.output);
  REQUIRE(again.exit_code == 0);
  CHECK(DumpArchive(f.a_db()) == dump);
  CHECK(again.output.find("imported 0 merged 0 duplicate 0") != std::string::npos);
}

TEST_CASE("import fills NULL and empty columns of a shared image from the remote", "[import]") {
  ImportFixture f(SmallPair());
  // Blank a column locally for every shared image; the remote has it.
  ExecSql(f.a_db(), "UPDATE images SET title = NULL, camera_make = '' WHERE url IN (SELECT url FROM images)");
  REQUIRE(f.Run("import").exit_code == 0);
  Database b;
  Database::Open(f.b_db().string(), Database::Mode::kReadOnly, 1000, &b);
  Statement q = b.Prepare("SELECT url, title, camera_make FROM images");
  while (q.Step()) {
    std::string url = q.Text(0);
    CHECK(Strings(f.a_db(), "SELECT COALESCE(title, 'NULL') FROM images WHERE url = ?", url).at(0) == q.Text(1));
    CHECK(Strings(f.a_db(), "SELECT camera_make FROM images WHERE url = ?", url).at(0) == q.Text(2));
  }
}

TEST_CASE("metadata the remote adds later reaches images already imported", "[import]") {
  ImportFixture f(SmallPair());
  REQUIRE(f.Run("import").exit_code == 0);
  // An image new to A (imported) and one both had (merged): the remote's
  // crawler later adds a tag to both and fills the imported one's title,
  // which the local copy lacks. Nothing is delivered again: only the
  // catalog changes.
  std::string imported_url = QueryStrings(f.a_db(), "SELECT i.url FROM images i JOIN sync_records r ON r.image_id = "
                                                    "i.id WHERE r.status = 'imported' ORDER BY i.id LIMIT 1")
                                 .at(0);
  std::string merged_url = QueryStrings(f.a_db(), "SELECT i.url FROM images i JOIN sync_records r ON r.image_id = "
                                                  "i.id WHERE r.status IN ('merged', 'duplicate') ORDER BY i.id LIMIT 1")
                               .at(0);
  ExecSql(f.a_db(), "UPDATE images SET description = NULL WHERE url = '" + imported_url + "'");
  ExecSql(f.b_db(), "INSERT INTO tags (name, count) VALUES ('added later', 2)");
  for (const std::string& url : {imported_url, merged_url}) {
    ExecSql(f.b_db(), "INSERT INTO image_tags (image_id, tag_id) SELECT i.id, t.id FROM images i, tags t WHERE i.url = '" +
                          url + "' AND t.name = 'added later'");
  }
  ExecSql(f.b_db(), "UPDATE images SET description = 'written later' WHERE url = '" + imported_url + "'");
  std::string unrelated = DumpArchive(f.a_db());

  ProcessResult r = f.Run("import");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  for (const std::string& url : {imported_url, merged_url}) {
    INFO(url);
    std::vector<std::string> tags = TagsOf(f.a_db(), url);
    CHECK(std::find(tags.begin(), tags.end(), "added later") != tags.end());
    CHECK(Strings(f.a_db(),
                  "SELECT r.status FROM sync_records r JOIN images i ON i.id = r.image_id WHERE i.url = ? "
                  "ORDER BY r.id DESC LIMIT 1",
                  url) == std::vector<std::string>{"merged"});
  }
  CHECK(Strings(f.a_db(), "SELECT description FROM images WHERE url = ?", imported_url) ==
        std::vector<std::string>{"written later"});
  CHECK(QueryInt(f.a_db(), "SELECT count(*) FROM sync_records WHERE error_message LIKE 'catalog entry changed%'") == 2);
  // Nothing else moved, and a further run changes nothing.
  CHECK(QueryInt(f.a_db(), "SELECT count(*) FROM images") ==
        QueryInt(f.a_db(), "SELECT count(DISTINCT url) FROM images"));
  std::string after = DumpArchive(f.a_db());
  CHECK(after != unrelated);
  REQUIRE(f.Run("import").exit_code == 0);
  CHECK(DumpArchive(f.a_db()) == after);
  CHECK(CheckArchive(f.a_db(), f.a_root()).ok());
}

TEST_CASE("a corrupt delivery is recorded as failed with both hashes and not imported", "[import][faults]") {
  ImportFixture f(SmallPair());
  std::string rel = *ListFiles(f.received).rbegin();
  FileDigest before;
  REQUIRE(Sha256File(f.received / rel, &before).ok());
  { std::ofstream(f.received / rel, std::ios::binary | std::ios::app) << "garbage"; }
  FileDigest after;
  REQUIRE(Sha256File(f.received / rel, &after).ok());
  ProcessResult r = f.Run("import");
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> rec = Strings(
      f.a_db(), "SELECT status || ' ' || error_message FROM sync_records WHERE remote_path = ?", rel);
  REQUIRE(rec.size() == 1);
  CHECK_THAT(rec[0], Catch::StartsWith("failed"));
  CHECK_THAT(rec[0], Catch::Contains(before.sha256) && Catch::Contains(after.sha256));
  CHECK(r.output.find(rel) != std::string::npos);  // logged with its path
  CHECK(CheckArchive(f.a_db(), f.a_root()).ok());
  // No image row carries the corrupt content.
  CHECK(Strings(f.a_db(), "SELECT id FROM images WHERE sha256_hash = ?", after.sha256).empty());
}

TEST_CASE("a file without a catalog entry is pending and imported once the catalog has it", "[import][faults]") {
  PairOptions o = SmallPair();
  ImportFixture f(o);
  // B's crawler downloaded one more image whose row is not in our copy of
  // its database yet: deliver the file, keep the old catalog.
  REQUIRE(AppendImages(f.b_dir, {5000}, o.universe_seed).ok());
  std::string remote_path = QueryStrings(f.b_db(), "SELECT local_path FROM images ORDER BY id DESC LIMIT 1").at(0);
  std::string rel = fs::path(remote_path).lexically_relative("indafoto_archive").generic_string();
  fs::create_directories((f.received / rel).parent_path());
  fs::copy_file(f.b_dir / remote_path, f.received / rel);
  // Remove the row from the remote db copy the importer reads.
  ExecSql(f.b_db(), "DELETE FROM images WHERE id = (SELECT MAX(id) FROM images)");

  REQUIRE(f.Run("import").exit_code == 0);
  CHECK(Strings(f.a_db(), "SELECT status FROM sync_records WHERE remote_path = ?", rel) ==
        std::vector<std::string>{"pending"});
  // The catalog catches up: the next pass imports it.
  REQUIRE(AppendImages(f.b_dir, {5000}, o.universe_seed).ok());
  fs::remove(f.b_dir / QueryStrings(f.b_db(), "SELECT local_path FROM images ORDER BY id DESC LIMIT 1").at(0));
  ExecSql(f.b_db(), "UPDATE images SET local_path = '" + remote_path + "' WHERE id = (SELECT MAX(id) FROM images)");
  ProcessResult r = f.Run("import");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(Strings(f.a_db(), "SELECT status FROM sync_records WHERE remote_path = ?", rel) ==
        std::vector<std::string>{"imported"});
  CHECK(CheckArchive(f.a_db(), f.a_root()).ok());
}

TEST_CASE("traversal attempts are refused and nothing is written outside image_root", "[import][faults]") {
  ImportFixture f(SmallPair());
  // A remote row whose local_path escapes, and a delivered file at the
  // place it points to relative to the received folder.
  ExecSql(f.b_db(), "UPDATE images SET local_path = 'indafoto_archive/../../escape.jpg' WHERE id = 1");
  ExecSql(f.b_db(), "UPDATE images SET local_path = '/etc/passwd' WHERE id = 2");
  // An author named ".." must not become a folder "..".
  ExecSql(f.b_db(), "UPDATE images SET author = '..' WHERE id = (SELECT MAX(id) FROM images)");
  std::set<std::string> before = ListFiles(f.tmp.path());
  ProcessResult r = f.Run("import");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("unusable local_path") != std::string::npos);
  for (const auto& p : ListFiles(f.tmp.path())) {
    if (before.count(p)) continue;
    INFO(p);
    // (B/indafoto.db-wal and -shm come from this test's own edits of B.)
    CHECK((p.rfind("A/indafoto_archive/", 0) == 0 || p.rfind("A/indafoto.db", 0) == 0 ||
           p.rfind("A/indafoto-syncd-state.db", 0) == 0 || p.rfind("B/indafoto.db-", 0) == 0));
    CHECK(p.find("/../") == std::string::npos);
  }
  std::string url = QueryStrings(f.b_db(), "SELECT url FROM images ORDER BY id DESC LIMIT 1").at(0);
  std::vector<std::string> lp = Strings(f.a_db(), "SELECT local_path FROM images WHERE url = ?", url);
  REQUIRE(lp.size() == 1);
  CHECK(lp[0].rfind("indafoto_archive/__/", 0) == 0);
  CHECK(CheckArchive(f.a_db(), f.a_root()).ok());
}

TEST_CASE("symlinks in a received folder are not followed", "[import][faults]") {
  ImportFixture f(SmallPair());
  std::string rel = *ListFiles(f.received).begin();
  fs::path secret = f.tmp.path() / "secret.jpg";
  fs::copy_file(f.received / rel, secret);
  fs::remove(f.received / rel);
  fs::create_symlink(secret, f.received / rel);
  ProcessResult r = f.Run("import");
  REQUIRE(r.exit_code == 0);
  // Not followed, and not dropped silently either: recorded with the reason.
  CHECK(Strings(f.a_db(), "SELECT status FROM sync_records WHERE remote_path = ?", rel) ==
        std::vector<std::string>{"failed"});
  CHECK_THAT(Strings(f.a_db(), "SELECT error_message FROM sync_records WHERE remote_path = ?", rel).at(0),
             Catch::Contains("symlink not followed"));
  CHECK(Inode(secret) != 0);
  CHECK(CheckArchive(f.a_db(), f.a_root()).ok());
  for (const auto& p : ListFiles(f.a_root())) CHECK(Inode(f.a_root() / p) != Inode(secret));
}

TEST_CASE("images of a locally banned author are skipped with the reason", "[import]") {
  ImportFixture f(SmallPair());
  std::string author = QueryStrings(f.b_db(), "SELECT author FROM images ORDER BY id DESC LIMIT 1").at(0);
  Database a;
  Database::Open(f.a_db().string(), Database::Mode::kReadWrite, 1000, &a);
  Statement ins = a.Prepare("INSERT INTO banned_authors (author, reason, banned_by) VALUES (?, 'opted out', 'test')");
  ins.Bind(1, author);
  ins.Run();
  int64_t local_before = QueryInt(f.a_db(), "SELECT COUNT(*) FROM images");
  REQUIRE(f.Run("import").exit_code == 0);
  std::vector<std::string> skipped = QueryStrings(f.a_db(), "SELECT error_message FROM sync_records WHERE status = 'skipped'");
  REQUIRE_FALSE(skipped.empty());
  CHECK_THAT(skipped[0], Catch::Contains("opted out"));
  Statement c = a.Prepare("SELECT COUNT(*) FROM images WHERE author = ? AND id > ?");
  c.Bind(1, author).Bind(2, local_before);
  REQUIRE(c.Step());
  CHECK(c.Int(0) == 0);
}

TEST_CASE("same url with different verified content is a conflict; local is kept", "[import]") {
  PairOptions o = SmallPair();
  ArchiveSpec sa, sb;
  ImportFixture f(o, false);
  // Regenerate B with altered content for one shared id.
  fs::remove_all(f.b_dir);
  fs::remove_all(f.received);
  REQUIRE(MakePairSpecs(f.a_dir / "unused", f.b_dir, o, &sa, &sb).ok());
  int64_t shared_id = sb.ids.front();
  sb.altered_ids.insert(shared_id);
  REQUIRE(GenerateArchive(sb, &f.b).ok());
  CopyTree(f.b_dir / "indafoto_archive", f.received);
  f.WriteConfig("");
  std::string url = FactsFor(shared_id, o.universe_seed).url;
  std::string local_sha = Strings(f.a_db(), "SELECT sha256_hash FROM images WHERE url = ?", url).at(0);
  REQUIRE(f.Run("import").exit_code == 0);
  CHECK(Strings(f.a_db(), "SELECT sha256_hash FROM images WHERE url = ?", url) == std::vector<std::string>{local_sha});
  std::vector<std::string> conflicts = QueryStrings(f.a_db(), "SELECT error_message FROM sync_records WHERE status = 'conflict'");
  REQUIRE(conflicts.size() == 1);
  CHECK_THAT(conflicts[0], Catch::Contains(local_sha));
  CHECK(CheckArchive(f.a_db(), f.a_root()).ok());
}

TEST_CASE("a missing or corrupt local file is repaired by the delivered copy", "[import]") {
  ImportFixture f(SmallPair());
  // Two shared images: one local file deleted, one damaged.
  std::vector<std::string> shared = QueryStrings(
      f.a_db(), "SELECT local_path FROM images ORDER BY id DESC LIMIT 2");
  fs::remove(f.a_dir / shared[0]);
  { std::ofstream(f.a_dir / shared[1], std::ios::binary | std::ios::trunc) << "broken"; }
  REQUIRE_FALSE(CheckArchive(f.a_db(), f.a_root()).ok());
  ProcessResult r = f.Run("import");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(QueryInt(f.a_db(), "SELECT COUNT(*) FROM sync_records WHERE status = 'repaired'") == 2);
  InvariantReport inv = CheckArchive(f.a_db(), f.a_root());
  INFO(inv.Describe());
  CHECK(inv.ok());
  ProcessResult v = f.Run("verify");
  CHECK(v.exit_code == 0);
}

TEST_CASE("verify reports missing and corrupt files with exit 1", "[import][verify]") {
  ImportFixture f(SmallPair());
  std::vector<std::string> paths = QueryStrings(f.a_db(), "SELECT local_path FROM images ORDER BY id LIMIT 2");
  CHECK(f.Run("verify").exit_code == 0);
  fs::remove(f.a_dir / paths[0]);
  { std::ofstream(f.a_dir / paths[1], std::ios::binary | std::ios::app) << "x"; }
  ProcessResult v = f.Run("verify", {"--json"});
  CHECK(v.exit_code == 1);
  CHECK(v.output.find("\"missing\"") != std::string::npos);
  CHECK(v.output.find("\"mismatch\"") != std::string::npos);
}

TEST_CASE("plan shows what import would do and changes nothing", "[import][plan]") {
  ImportFixture f(SmallPair());
  std::string dump = DumpArchive(f.a_db());
  std::set<std::string> files = ListFiles(f.tmp.path());
  ProcessResult p = f.Run("plan", {"--source", "peerB", "--json"});
  INFO(p.output);
  REQUIRE(p.exit_code == 0);
  // Plan prints the status an import would record ("merged" standing for
  // merged or duplicate).
  CHECK(p.output.find("\"imported\":80") != std::string::npos);
  CHECK(p.output.find("\"merged\":40") != std::string::npos);
  CHECK(DumpArchive(f.a_db()) == dump);
  // SQLite's -wal/-shm companions may appear when a reader opens a WAL
  // database; every other file is untouched.
  std::set<std::string> after = ListFiles(f.tmp.path());
  std::erase_if(after, [](const std::string& p) { return p.ends_with("-wal") || p.ends_with("-shm"); });
  std::erase_if(files, [](const std::string& p) { return p.ends_with("-wal") || p.ends_with("-shm"); });
  CHECK(after == files);
  ProcessResult text = f.Run("plan", {"--source", "peerB"});
  CHECK(text.output.find("imported  80") != std::string::npos);
  // And the import records what the plan said.
  REQUIRE(f.Run("import").exit_code == 0);
  CHECK(QueryInt(f.a_db(), "SELECT count(*) FROM sync_records WHERE status = 'imported'") == 80);
  CHECK(QueryInt(f.a_db(), "SELECT count(*) FROM sync_records WHERE status IN ('merged', 'duplicate')") == 40);
}

TEST_CASE("before the manifest arrives, plan and import call every delivered file pending", "[import][plan]") {
  ImportFixture f(SmallPair(), /*write_config=*/false);
  // A source known only by its folder: no remote_db_path, no manifest yet.
  std::ofstream(f.config) << "{\"database_path\": \"A/indafoto.db\", \"remote_sources\": [{\"name\": \"peerB\", "
                             "\"folder_id\": \"indafoto-b\", \"local_path\": \"received/peerB\"}]}\n";
  int64_t delivered = static_cast<int64_t>(ListFiles(f.received).size());
  REQUIRE(delivered > 0);
  ProcessResult p = f.Run("plan", {"--source", "peerB", "--json"});
  INFO(p.output);
  REQUIRE(p.exit_code == 0);
  CHECK(p.output.find("no catalog yet") != std::string::npos);
  CHECK(p.output.find("\"pending\":" + std::to_string(delivered)) != std::string::npos);
  ProcessResult i = f.Run("import");
  INFO(i.output);
  REQUIRE(i.exit_code == 0);
  CHECK(QueryInt(f.a_db(), "SELECT count(*) FROM sync_records WHERE status = 'pending'") == delivered);
  CHECK(QueryInt(f.a_db(), "SELECT count(*) FROM sync_records WHERE status != 'pending'") == 0);
}

TEST_CASE("status reports per-source counts and exits 1 on failures", "[import][status]") {
  ImportFixture f(SmallPair());
  REQUIRE(f.Run("import").exit_code == 0);
  ProcessResult s = f.Run("status", {"--json"});
  INFO(s.output);
  CHECK(s.exit_code == 0);
  CHECK(s.output.find("\"imported\": 80") != std::string::npos);
  CHECK(s.output.find("\"in_catalog\": 120") != std::string::npos);
  CHECK(s.output.find("\"delivered\": 120") != std::string::npos);
  std::string rel = *ListFiles(f.received).begin();
  ExecSql(f.a_db(), "DELETE FROM sync_records WHERE remote_path = '" + rel + "'");
  { std::ofstream(f.received / rel, std::ios::binary | std::ios::app) << "x"; }
  REQUIRE(f.Run("import").exit_code == 0);
  CHECK(f.Run("status").exit_code == 1);
}

TEST_CASE("a corrupt remote database is rejected whole and the previous catalog stays", "[import][faults]") {
  ImportFixture f(SmallPair());
  REQUIRE(f.Run("import").exit_code == 0);
  std::string dump = DumpArchive(f.a_db());
  // Damage the remote copy: keep the header, garble the rest.
  {
    std::fstream db(f.b_db(), std::ios::in | std::ios::out | std::ios::binary);
    db.seekp(4096);
    std::string junk(8192, '\xAB');
    db.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  fs::remove(f.b_dir / "indafoto.db-wal");
  ProcessResult r = f.Run("import");
  INFO(r.output);
  CHECK(r.output.find("catalog not updated") != std::string::npos);
  CHECK(r.output.find("previous catalog (120 entries)") != std::string::npos);
  CHECK(DumpArchive(f.a_db()) == dump);
  // Not a crawler database at all.
  { std::ofstream(f.b_db(), std::ios::trunc) << "this is not sqlite"; }
  ProcessResult r2 = f.Run("import");
  CHECK(r2.output.find("catalog not updated") != std::string::npos);
  CHECK(DumpArchive(f.a_db()) == dump);
}

TEST_CASE("a busy database makes the import wait, not fail", "[import][faults]") {
  ImportFixture f(SmallPair());
  Database lock;
  REQUIRE(Database::Open(f.a_db().string(), Database::Mode::kReadWrite, 1000, &lock).ok());
  lock.Exec("PRAGMA journal_mode=WAL");
  lock.Exec("BEGIN IMMEDIATE");
  lock.Exec("INSERT INTO tags (name, count) VALUES ('held by the crawler', 1)");
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::seconds(3));
    lock.Exec("COMMIT");
  });
  ProcessResult r = f.Run("import");
  release.join();
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(QueryInt(f.a_db(), "SELECT COUNT(*) FROM sync_records WHERE status = 'imported'") == 80);
}

TEST_CASE("disk full or permission denied: rolled back, file left, retried later", "[import][faults]") {
  for (const char* fault : {"place:ENOSPC", "place:EACCES", "commit:ENOSPC"}) {
    DYNAMIC_SECTION(fault) {
      ImportFixture f(SmallPair());
      std::set<std::string> received_before = ListFiles(f.received);
      ProcessResult r = f.Run("import", {}, {std::string("INDAFOTO_SYNCD_FAIL_AT=") + fault});
      INFO(r.output);
      REQUIRE(r.exit_code == 0);
      CHECK(r.output.find("retried later") != std::string::npos);
      CHECK(QueryInt(f.a_db(), "SELECT COUNT(*) FROM sync_records WHERE status = 'imported'") == 0);
      CHECK(ListFiles(f.received) == received_before);
      InvariantReport inv = CheckArchive(f.a_db(), f.a_root());
      INFO(inv.Describe());
      CHECK(inv.ok());
      ProcessResult again = f.Run("import");
      REQUIRE(again.exit_code == 0);
      CHECK(QueryInt(f.a_db(), "SELECT COUNT(*) FROM sync_records WHERE status = 'imported'") == 80);
      CHECK(CheckArchive(f.a_db(), f.a_root()).ok());
    }
  }
}

TEST_CASE("kill -9 at any point of an import: the next start recovers", "[import][crash]") {
  // Reference: the same import without interruption.
  ImportFixture reference(SmallPair());
  REQUIRE(reference.Run("import").exit_code == 0);
  std::string expected = DumpArchive(reference.a_db());

  // New images are applied in batches (journal rows of a batch in one
  // commit, files placed, directories synced once, one commit per image,
  // then the committed images' journal rows cleared together): SmallPair's
  // 80 new images make a batch of 64 and one of 16, so these counts stop
  // the import inside the first batch, at its end, and inside the second.
  const std::vector<std::pair<const char*, std::vector<int>>> points = {
      {"after_journal", {1, 2}},  // once per batch
      {"after_place", {1, 17, 64, 66}},
      {"after_sync", {1, 2}},  // once per batch
      {"before_commit", {1, 2, 17, 60, 66}},
      {"after_commit", {1, 2, 17, 64, 66}},
      {"after_clear", {1, 2}},  // once per batch
  };
  for (const auto& [point, counts] : points) {
    for (int n : counts) {
      DYNAMIC_SECTION(point << " #" << n) {
        ImportFixture f(SmallPair());
        std::string crash = std::string("INDAFOTO_SYNCD_CRASH_AT=") + point + ":" + std::to_string(n);
        ProcessResult killed = f.Run("import", {}, {crash});
        CHECK(killed.signaled);
        CHECK(killed.signal == SIGKILL);
        // Straight after the crash, placed files may lack their row (those
        // of the batch in flight), and the journal names each of them.
        InvariantReport mid = CheckArchive(f.a_db(), f.a_root());
        CHECK(mid.rows_without_file.empty());
        CHECK(mid.files_without_row.size() <= mid.pending_placements.size());
        // Killed after an image's commit, its journal row is still there
        // (the batch clears them together): recovery must keep that file.
        if (std::string(point) == "after_commit") CHECK(mid.pending_placements.size() > mid.files_without_row.size());
        ProcessResult resumed = f.Run("import");
        INFO(resumed.output);
        REQUIRE(resumed.exit_code == 0);
        InvariantReport inv = CheckArchive(f.a_db(), f.a_root());
        INFO(inv.Describe());
        CHECK(inv.ok());
        CHECK(DumpArchive(f.a_db()) == expected);
      }
    }
  }
}

}  // namespace indafoto

namespace indafoto {

TEST_CASE("an old crawler's remote database (no sha256_hash column) still imports", "[import]") {
  PairOptions o;
  o.a_count = 60;
  o.b_count = 60;
  o.overlap = 20;
  o.b_old_schema = true;
  ImportFixture f(o);
  ProcessResult r = f.Run("import");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(QueryInt(f.a_db(), "SELECT COUNT(*) FROM sync_records WHERE status = 'imported'") == 40);
  CHECK(QueryInt(f.a_db(), "SELECT COUNT(*) FROM sync_records WHERE status IN ('merged', 'duplicate')") == 20);
  // Imported rows carry the hash computed from the delivered file.
  CHECK(QueryInt(f.a_db(), "SELECT COUNT(*) FROM images WHERE sha256_hash IS NULL OR sha256_hash = ''") == 0);
  InvariantReport inv = CheckArchive(f.a_db(), f.a_root());
  INFO(inv.Describe());
  CHECK(inv.ok());
}

}  // namespace indafoto
