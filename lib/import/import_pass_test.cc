#include "lib/import/import_pass.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <fstream>
#include <map>

#include "lib/catalog/remote_db_catalog.h"
#include "testing/archive_generator.h"
#include "testing/temp_dir.h"

namespace indafoto {
namespace {

namespace fs = std::filesystem;

// One pass over a generated delivery with a file the catalog does not list
// and a file whose bytes differ from the catalog; returns each delivered
// path's recorded status. `state_on_disk` false puts the state database in
// memory, where the hashing threads cannot open it: the applying thread
// then examines every file itself.
std::map<std::string, std::string> PassStatuses(bool state_on_disk) {
  TempDir dir;
  PairOptions o;
  o.a_count = 20;
  o.b_count = 60;
  o.overlap = 10;
  o.file_size = 512;
  o.universe_seed = 7;
  REQUIRE(GeneratePair(dir.path() / "A", dir.path() / "B", o).ok());
  fs::path received = dir.path() / "B" / "indafoto_archive";

  std::vector<fs::path> images;
  for (const auto& e : fs::recursive_directory_iterator(received))
    if (e.is_regular_file() && e.path().extension() == ".jpg") images.push_back(e.path());
  std::sort(images.begin(), images.end());
  REQUIRE(images.size() == 60);
  std::ofstream(images.front(), std::ios::app) << "x";  // no longer the bytes the catalog lists
  fs::create_directories(received / "Nobody" / "0");
  std::ofstream(received / "Nobody" / "0" / "image_999999_20250101_000000_000000.jpg") << "not listed";

  RemoteSource source;
  source.name = "peerB";
  source.received_folder = received;
  source.remote_db_path = dir.path() / "B" / "indafoto.db";
  ArchiveDb archive;
  REQUIRE(ArchiveDb::Open(dir.path() / "A" / "indafoto.db", dir.path() / "A" / "indafoto_archive", true, false,
                          &archive)
              .ok());
  Database state;
  std::string state_file = state_on_disk ? (dir.path() / "state.db").string() : ":memory:";
  REQUIRE(Database::Open(state_file, Database::Mode::kReadWriteCreate, 1000, &state).ok());
  state.Exec("PRAGMA journal_mode=WAL");  // as Instance opens it
  CatalogStore catalog;
  REQUIRE(CatalogStore::Open(&state, &catalog).ok());
  CHECK(catalog.DatabaseFile().empty() == !state_on_disk);  // which of the two ways examines
  RemoteDbCatalogReader reader(source.remote_db_path);
  bool changed = false;
  REQUIRE(catalog.Load(source.name, reader, &changed).ok());

  Importer importer(&archive, &catalog);
  PassOptions options;
  options.hash_threads = 2;
  PassCounts counts;
  REQUIRE(RunImportPass(importer, source, options, &counts).ok());
  CHECK(counts.errors == 0);

  std::map<std::string, std::string> statuses;
  Statement q = archive.db().Prepare("SELECT remote_path, status FROM sync_records WHERE remote_source = ?");
  q.Bind(1, source.name);
  while (q.Step()) statuses[q.Text(0)] = q.Text(1);
  return statuses;
}

}  // namespace

TEST_CASE("an import pass decides alike whether the hashing threads or the applying thread examine",
          "[import_pass]") {
  std::map<std::string, std::string> pool = PassStatuses(true);
  std::map<std::string, std::string> applying = PassStatuses(false);
  CHECK(pool == applying);
  std::map<std::string, int> by_status;
  for (const auto& [path, status] : pool) ++by_status[status];
  CHECK(pool.size() == 61);
  CHECK(by_status["pending"] == 1);
  CHECK(by_status["failed"] == 1);
  CHECK(by_status["imported"] + by_status["merged"] + by_status["duplicate"] == 59);
  CHECK(by_status["imported"] >= 40);
}

}  // namespace indafoto
