// End-to-end: the daemon republishes its manifest while the database keeps
// changing (publish.max_delay_seconds), instead of waiting for a quiet
// period that never comes while the crawler runs. Real binary; no Syncthing
// needed (the daemon backs off and publishes all the same).
#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <thread>

#include "lib/catalog/manifest_reader.h"
#include "testing/child_process.h"
#include "tests/import_fixture.h"

namespace indafoto {

namespace {

using namespace std::chrono_literals;

// The sequence of the manifest in place; 0 when there is none (yet).
uint64_t Sequence(const std::filesystem::path& image_root) {
  std::string text = ReadFile(image_root / ".indafoto-sync" / "manifest.json");
  SignedManifest outer;
  ManifestPayload payload;
  if (text.empty() || !ParseSignedManifest(text, &outer).ok() || !ParseManifestPayload(outer.payload, &payload).ok())
    return 0;
  return payload.sequence;
}

}  // namespace

TEST_CASE("the daemon republishes within max_delay_seconds while the crawler keeps writing", "[daemon][publish]") {
  PairOptions o;
  o.a_count = 30;
  o.b_count = 5;
  o.overlap = 0;
  o.file_size = 1024;
  ImportFixture f(o, /*write_config=*/false);
  // A debounce that never ends while the writer below runs; the bound is
  // what must publish.
  f.WriteConfig(R"(, "syncthing": {"api_key_env": "NO_SUCH_VARIABLE", "host": "127.0.0.1", "port": 9},
    "publish": {"enabled": true, "debounce_seconds": 3600, "max_delay_seconds": 2}, "log_level": "debug")");
  ChildProcess daemon;
  REQUIRE(daemon.Start({BinaryPath("indafoto-syncd"), "run", "--config", f.config.string()},
                       f.tmp.path() / "daemon.log"));
  REQUIRE(WaitFor([&] { return Sequence(f.a_root()) >= 1; }, 120s));  // the start-up publish

  // The crawler: a change every 200 ms, for as long as the test waits.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> writes{0};
  std::thread crawler([&] {
    Database db;
    if (!Database::Open(f.a_db().string(), Database::Mode::kReadWrite, 10000, &db).ok()) return;
    while (!stop) {
      try {
        Statement u = db.Prepare("UPDATE images SET title = COALESCE(title, '') || '.' WHERE id = ?");
        u.Bind(1, static_cast<int64_t>(1 + writes % 30));
        u.Run();
        ++writes;
      } catch (const SqliteError&) {
        // busy: the daemon is importing or publishing; try again
      }
      std::this_thread::sleep_for(200ms);
    }
  });
  const uint64_t start = Sequence(f.a_root());
  // Two more manifests while the writes go on (the daemon checks every 5 s).
  bool republished = WaitFor([&] { return Sequence(f.a_root()) >= start + 2; }, 180s);
  int64_t writes_meanwhile = writes;
  stop = true;
  crawler.join();
  INFO(ReadFile(f.tmp.path() / "daemon.log").substr(0, 20000));
  CHECK(writes_meanwhile > 10);  // the database really kept changing
  CHECK(republished);
  daemon.Signal(SIGTERM);
  CHECK(daemon.Wait(60s) == 0);
}

}  // namespace indafoto
