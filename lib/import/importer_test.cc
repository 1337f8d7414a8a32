// Decide and Apply through the eight outcomes, on a real archive database,
// a real state database and real files, without the binary.
#include "lib/import/importer.h"

#include <catch2/catch.hpp>
#include <fstream>

#include "lib/archive/crawler_schema.h"
#include "lib/import/verify.h"
#include "testing/child_process.h"
#include "testing/temp_dir.h"

namespace indafoto {

namespace {

// A catalog given by the test.
class ListCatalog : public CatalogReader {
 public:
  explicit ListCatalog(std::vector<RemoteImage> images) : images_(std::move(images)) {}
  Status Fingerprint(std::string* out) override {
    *out = "list:" + std::to_string(images_.size());
    return Status::Ok();
  }
  Status ReadAll(const std::function<Status(const RemoteImage&)>& sink) override {
    for (const RemoteImage& img : images_) {
      if (Status s = sink(img); !s.ok()) return s;
    }
    return Status::Ok();
  }
  std::string Describe() const override { return "test catalog"; }

 private:
  std::vector<RemoteImage> images_;
};

struct Fixture {
  TempDir dir;
  std::filesystem::path root = dir.path() / "indafoto_archive";
  RemoteSource source;
  ArchiveDb archive;
  Database state;
  CatalogStore catalog;
  std::vector<RemoteImage> entries;

  Fixture() {
    source.name = "peer";
    source.received_folder = dir.path() / "received";
    std::filesystem::create_directories(source.received_folder);
    std::filesystem::create_directories(root);
    REQUIRE(ArchiveDb::Open(dir.path() / "indafoto.db", root, true, false, &archive).ok());
    REQUIRE(Database::Open((dir.path() / "state.db").string(), Database::Mode::kReadWriteCreate, 1000, &state).ok());
    REQUIRE(CatalogStore::Open(&state, &catalog).ok());
  }

  // Delivers `content` at `rel` and lists it in the catalog (with `listed_sha256`
  // when given, else the content's).
  void Deliver(const std::string& rel, const std::string& content, const std::string& url, const std::string& author,
               const std::string& listed_sha256 = "") {
    std::filesystem::path file = source.received_folder / rel;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream(file, std::ios::binary) << content;
    RemoteImage img;
    img.rel_path = rel;
    img.sha256 = listed_sha256.empty() ? Sha256Hex(content) : listed_sha256;
    img.size = static_cast<int64_t>(content.size());
    img.Set("url", Value::Text(url));
    img.Set("author", Value::Text(author));
    img.Set("title", Value::Text("title of " + url));
    img.tags = {"tag-" + author};
    entries.push_back(img);
  }
  void LoadCatalog() {
    ListCatalog reader(entries);
    bool changed = false;
    REQUIRE(catalog.Load(source.name, reader, &changed).ok());
  }
  // Rows left in the placement journal.
  size_t JournalRows() {
    std::vector<Placement> journal;
    REQUIRE(archive.Placements(&journal).ok());
    return journal.size();
  }
  // A local image with its file in the archive.
  int64_t AddLocal(const std::string& url, const std::string& content, bool record_sha256 = true,
                   bool with_file = true) {
    std::string stored = "indafoto_archive/local/0/" + Sha256Hex(url).substr(0, 8) + ".jpg";
    if (with_file) {
      std::filesystem::create_directories(root / "local" / "0");
      std::ofstream(dir.path() / stored, std::ios::binary) << content;
    }
    RemoteImage img;
    img.Set("url", Value::Text(url));
    Transaction t(archive.db());
    int64_t id = 0;
    REQUIRE(archive.InsertImage(img, stored, record_sha256 ? Sha256Hex(content) : "", &id).ok());
    t.Commit();
    return id;
  }
};

}  // namespace

TEST_CASE("Decide and Apply reach each of the eight outcomes", "[importer]") {
  Fixture f;
  {
    Transaction t(f.archive.db());
    f.archive.db().Exec("INSERT INTO banned_authors (author, reason) VALUES ('Banned', 'opt-out')");
    t.Commit();
  }
  f.Deliver("n/0/new.jpg", "new picture", "u-new", "N");
  f.Deliver("m/0/same.jpg", "shared picture", "u-shared", "M");
  f.Deliver("r/0/repair.jpg", "lost picture", "u-lost", "R");
  f.Deliver("c/0/conflict.jpg", "remote version", "u-conflict", "C");
  f.Deliver("b/0/banned.jpg", "banned picture", "u-banned", "Banned");
  f.Deliver("x/0/bad.jpg", "tampered", "u-bad", "X", /*listed_sha256=*/std::string(64, 'a'));
  f.LoadCatalog();
  // Not in the catalog: pending. A Syncthing temp file: ignored.
  std::ofstream(f.source.received_folder / "p.jpg") << "early";
  std::ofstream(f.source.received_folder / ".syncthing.n.jpg.tmp") << "partial";

  f.AddLocal("u-shared", "shared picture");
  int64_t lost = f.AddLocal("u-lost", "lost picture", true, /*with_file=*/false);
  f.AddLocal("u-conflict", "local version");

  Importer importer(&f.archive, &f.catalog);
  struct Case {
    std::string rel;
    Action action;
    std::optional<SyncStatus> recorded;
  };
  const std::vector<Case> cases = {
      {".syncthing.n.jpg.tmp", Action::kIgnore, std::nullopt},
      {"p.jpg", Action::kPending, SyncStatus::kPending},
      {"x/0/bad.jpg", Action::kFail, SyncStatus::kFailed},
      {"b/0/banned.jpg", Action::kSkip, SyncStatus::kSkipped},
      {"n/0/new.jpg", Action::kNew, SyncStatus::kImported},
      {"m/0/same.jpg", Action::kMerge, SyncStatus::kMerged},
      {"r/0/repair.jpg", Action::kRepair, SyncStatus::kRepaired},
      {"c/0/conflict.jpg", Action::kConflict, SyncStatus::kConflict},
  };
  for (const Case& c : cases) {
    INFO(c.rel);
    Decision d = importer.Decide(f.source, c.rel);
    CHECK(d.action == c.action);
    CHECK(d.error.ok());
    CHECK(StatusFor(d.action) == c.recorded);
    ImportOutcome o = importer.Apply(f.source, c.rel, d);
    REQUIRE(o.error.ok());
    CHECK(o.status == c.recorded);
    std::optional<SyncRecord> r;
    REQUIRE(f.archive.FindSyncRecord(f.source.name, c.rel, &r).ok());
    if (c.recorded) {
      REQUIRE(r.has_value());
      CHECK(r->status == c.recorded);
    } else {
      CHECK_FALSE(r.has_value());
    }
  }
  // The failure names both hashes; the conflict kept the local file.
  std::optional<SyncRecord> bad;
  REQUIRE(f.archive.FindSyncRecord(f.source.name, "x/0/bad.jpg", &bad).ok());
  CHECK(bad->error_message.find(std::string(64, 'a')) != std::string::npos);
  CHECK(bad->error_message.find(Sha256Hex("tampered")) != std::string::npos);
  // The new image is placed by the layout rules, with its relations.
  std::optional<LocalImage> added;
  REQUIRE(f.archive.FindByUrl("u-new", &added).ok());
  REQUIRE(added.has_value());
  CHECK(added->local_path == "indafoto_archive/N/0/new.jpg");
  CHECK(std::filesystem::exists(f.dir.path() / added->local_path));
  // The repair restored the lost file.
  std::optional<LocalImage> repaired;
  REQUIRE(f.archive.FindById(lost, &repaired).ok());
  std::ifstream in(f.dir.path() / repaired->local_path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(bytes == "lost picture");
  // Once final, a delivery is accounted for; pending and failed are not.
  bool accounted = false;
  REQUIRE(importer.IsAccounted(f.source, "m/0/same.jpg", &accounted).ok());
  CHECK(accounted);
  REQUIRE(importer.IsAccounted(f.source, "p.jpg", &accounted).ok());
  CHECK_FALSE(accounted);
  // Merging the same delivery again changes nothing.
  ImportOutcome again = importer.ImportFile(f.source, "m/0/same.jpg");
  CHECK(again.unchanged);
}

TEST_CASE("a busy archive database is an error to retry, never a recorded decision", "[importer][faults]") {
  Fixture f;
  f.Deliver("n/0/new.jpg", "new picture", "u-new", "N");
  f.LoadCatalog();
  Importer importer(&f.archive, &f.catalog);
  // Another connection (the crawler) holds the write lock.
  Database crawler;
  REQUIRE(Database::Open((f.dir.path() / "indafoto.db").string(), Database::Mode::kReadWrite, 100, &crawler).ok());
  crawler.Exec("BEGIN IMMEDIATE");
  f.archive.db().Exec("PRAGMA busy_timeout = 50");
  ImportOutcome o = importer.ImportFile(f.source, "n/0/new.jpg");
  CHECK(o.error.code() == Status::Code::kBusy);
  CHECK_FALSE(o.status.has_value());
  crawler.Exec("ROLLBACK");
  std::optional<SyncRecord> r;
  REQUIRE(f.archive.FindSyncRecord(f.source.name, "n/0/new.jpg", &r).ok());
  CHECK_FALSE(r.has_value());
  // Nothing placed either (the placement journal was never written).
  CHECK_FALSE(std::filesystem::exists(f.root / "N"));
  // And once the crawler is done, it imports.
  o = importer.ImportFile(f.source, "n/0/new.jpg");
  CHECK(o.status == SyncStatus::kImported);
}

TEST_CASE("journal rows a failed clear leaves are cleared with the next batch", "[importer][faults]") {
  Fixture f;
  f.Deliver("a/0/first.jpg", "first picture", "u-first", "A");
  f.Deliver("b/0/second.jpg", "second picture", "u-second", "B");
  f.LoadCatalog();
  Importer importer(&f.archive, &f.catalog);
  auto journal_rows = [&f] {
    std::vector<Placement> rows;
    REQUIRE(f.archive.Placements(&rows).ok());
    return rows.size();
  };
  // Another connection (the crawler's, say) makes every delete of a
  // journal row fail, as a database that stays locked past the timeout would.
  Database other;
  REQUIRE(Database::Open((f.dir.path() / "indafoto.db").string(), Database::Mode::kReadWrite, 1000, &other).ok());
  other.Exec(
      "CREATE TRIGGER refuse_clear BEFORE DELETE ON syncd_placements "
      "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
  ImportOutcome first = importer.ImportFile(f.source, "a/0/first.jpg");
  REQUIRE(first.status == SyncStatus::kImported);
  CHECK(journal_rows() == 1);  // committed, its journal row kept for later
  other.Exec("DROP TRIGGER refuse_clear");
  ImportOutcome second = importer.ImportFile(f.source, "b/0/second.jpg");
  REQUIRE(second.status == SyncStatus::kImported);
  CHECK(journal_rows() == 0);  // the first one's row went with the second batch
  CHECK(std::filesystem::exists(f.dir.path() / first.local_path));
  CHECK(std::filesystem::exists(f.dir.path() / second.local_path));
}

TEST_CASE("an image the crawler adds while a batch is in flight is merged or kept, never added twice",
          "[importer][faults]") {
  Fixture f;
  f.Deliver("a/0/alone.jpg", "only remote", "u-alone", "A");
  f.Deliver("b/0/same.jpg", "crawled meanwhile", "u-same", "B");
  f.Deliver("c/0/other.jpg", "remote version", "u-other", "C");
  f.LoadCatalog();
  Importer importer(&f.archive, &f.catalog);
  const std::vector<std::string> rels = {"a/0/alone.jpg", "b/0/same.jpg", "c/0/other.jpg"};
  std::vector<Decision> decisions;
  for (const std::string& rel : rels) {
    decisions.push_back(importer.Decide(f.source, rel));
    REQUIRE(decisions.back().action == Action::kNew);
  }
  // Decided as new; then the crawler commits the same image (same bytes,
  // same url) and another with the same url but other bytes, before the
  // batch takes the write lock. Only the check inside each image's
  // transaction can see them.
  int64_t same = f.AddLocal("u-same", "crawled meanwhile");
  int64_t other = f.AddLocal("u-other", "crawler's version");
  std::vector<ImportOutcome> out = importer.ApplyNewImages(f.source, rels, decisions);
  REQUIRE(out.size() == 3);
  CHECK(out[0].status == SyncStatus::kImported);
  CHECK(out[1].status == SyncStatus::kMerged);
  CHECK(out[1].image_id == same);
  CHECK(out[2].status == SyncStatus::kConflict);
  for (const ImportOutcome& o : out) CHECK(o.error.ok());
  // One row per url, the crawler's rows and files untouched.
  for (const char* url : {"u-alone", "u-same", "u-other"}) {
    Statement q = f.archive.db().Prepare("SELECT count(*) FROM images WHERE url = ?");
    q.Bind(1, std::string(url));
    REQUIRE(q.Step());
    CHECK(q.Int(0) == 1);
  }
  std::optional<LocalImage> kept;
  REQUIRE(f.archive.FindById(other, &kept).ok());
  CHECK(ReadFile(f.dir.path() / kept->local_path) == "crawler's version");
  // The two placements the batch made for them were taken back: the archive
  // holds the crawler's two files and the one new image, and no journal row.
  int files = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(f.root))
    files += e.is_regular_file() ? 1 : 0;
  CHECK(files == 3);
  CHECK_FALSE(std::filesystem::exists(f.root / "B" / "0" / "same.jpg"));
  CHECK_FALSE(std::filesystem::exists(f.root / "C" / "0" / "other.jpg"));
  CHECK(f.JournalRows() == 0);
}

TEST_CASE("recovery removes what an interrupted import placed and keeps a file another writer put there",
          "[importer][crash]") {
  Fixture f;
  // Journal rows as a killed import leaves them: one placed file of ours,
  // and one path where the crawler wrote its own file after our journal
  // row (our link() would have failed with EEXIST). No row references either.
  const std::filesystem::path ours = f.root / "A" / "0" / "ours.jpg";
  const std::filesystem::path theirs = f.root / "B" / "0" / "theirs.jpg";
  std::vector<int64_t> ids;
  REQUIRE(f.archive.AddPlacements({{ours, Sha256Hex("delivered")}, {theirs, Sha256Hex("what we meant to place")}}, &ids)
              .ok());
  for (const auto& [path, content] : {std::pair{ours, "delivered"}, std::pair{theirs, "the crawler's own"}}) {
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
  }
  Importer importer(&f.archive, &f.catalog);
  int removed = 0;
  REQUIRE(importer.Recover(&removed).ok());
  CHECK(removed == 1);
  CHECK_FALSE(std::filesystem::exists(ours));
  REQUIRE(std::filesystem::exists(theirs));
  CHECK(ReadFile(theirs) == "the crawler's own");
  CHECK(f.JournalRows() == 0);
}

TEST_CASE("a repair never overwrites another image's file that took the missing file's path",
          "[importer][hostile]") {
  Fixture f;
  // A local image whose file is gone (deleted by hand, a failed disk), and a
  // peer's catalog that lists a different picture under the same author and
  // file name: the new image is placed at the free path, which the local
  // row still names.
  const int64_t lost = f.AddLocal("u-lost", "the lost picture", /*record_sha256=*/true, /*with_file=*/false);
  std::optional<LocalImage> lost_row;
  REQUIRE(f.archive.FindById(lost, &lost_row).ok());
  const std::string name = std::filesystem::path(lost_row->local_path).filename().string();
  f.Deliver("local/0/" + name, "another picture", "u-other", "local");
  // Then the lost picture itself arrives (under another path).
  f.Deliver("elsewhere/0/lost.jpg", "the lost picture", "u-lost", "local");
  f.LoadCatalog();
  Importer importer(&f.archive, &f.catalog);

  ImportOutcome other = importer.ImportFile(f.source, "local/0/" + name);
  REQUIRE(other.status == SyncStatus::kImported);
  REQUIRE(other.local_path == lost_row->local_path);  // the collision this test is about

  SECTION("when its delivery is imported") {
    ImportOutcome repaired = importer.ImportFile(f.source, "elsewhere/0/lost.jpg");
    REQUIRE(repaired.error.ok());
    CHECK(repaired.status == SyncStatus::kRepaired);
  }
  SECTION("when verify --repair heals it") {
    VerifyCursor cursor;
    VerifySummary summary;
    std::vector<std::string> reports;
    REQUIRE(VerifyBatch(f.archive, &importer, {f.source}, 1, 100, &cursor, &summary,
                        [&](const LocalFileCheck& c, const std::string& healed_from, const Status& why_not) {
                          reports.push_back(c.problem + ": " + c.detail + " | " + healed_from + " | " +
                                            why_not.ToString());
                        })
                .ok());
    REQUIRE(reports.size() == 1);
    CHECK_THAT(reports[0], Catch::Contains("mismatch") &&
                               Catch::Contains("the file is image " + std::to_string(other.image_id) + "'s") &&
                               Catch::Contains("peer:elsewhere/0/lost.jpg"));
    CHECK(summary.healed == 1);
  }
  // Each row's file holds its own picture: the other image's file stayed,
  // and the lost one was placed beside it, its row pointing there.
  std::optional<LocalImage> other_row, lost_after;
  REQUIRE(f.archive.FindById(other.image_id, &other_row).ok());
  REQUIRE(f.archive.FindById(lost, &lost_after).ok());
  CHECK(ReadFile(f.dir.path() / other_row->local_path) == "another picture");
  CHECK(lost_after->local_path != other_row->local_path);
  CHECK(ReadFile(f.dir.path() / lost_after->local_path) == "the lost picture");
  CHECK(std::filesystem::path(lost_after->local_path).parent_path() ==
        std::filesystem::path(lost_row->local_path).parent_path());
  CHECK(f.JournalRows() == 0);
}

}  // namespace indafoto
