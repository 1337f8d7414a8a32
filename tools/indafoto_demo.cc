// indafoto-demo: the product, live, on one machine. Two archives that
// overlap, two Syncthing instances on loopback (discovery, relays, NAT and
// usage reporting off), A publishing its archive, B's daemon importing what
// Syncthing delivers while it arrives; then a summary.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <string>

#include "testing/archive_checks.h"
#include "testing/archive_generator.h"
#include "testing/child_process.h"
#include "testing/process.h"
#include "testing/syncthing_instance.h"

using namespace indafoto;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

int Fail(const std::string& what) {
  std::fprintf(stderr, "demo failed: %s\n", what.c_str());
  return 1;
}

std::string Bin(const char* argv0, const char* name) {
  return (fs::absolute(argv0).parent_path() / name).string();
}

}  // namespace

int main(int argc, char** argv) {
  fs::path dir = argc > 1 ? fs::path(argv[1]) : fs::temp_directory_path() / "indafoto-demo";
  int64_t a_count = argc > 2 ? std::atoll(argv[2]) : 2000;
  std::string syncd = Bin(argv[0], "indafoto-syncd");
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::printf("demo in %s\n", dir.c_str());

  PairOptions o;
  o.a_count = a_count;
  o.b_count = a_count / 4;
  o.overlap = a_count / 10;
  o.universe_seed = 2026;
  o.file_size = 64 * 1024;
  if (Status s = GeneratePair(dir / "A", dir / "B", o); !s.ok()) return Fail(s.ToString());
  std::printf("archive A: %lld images (publisher), archive B: %lld images, %lld shared\n",
              static_cast<long long>(o.a_count), static_cast<long long>(o.b_count), static_cast<long long>(o.overlap));

  SyncthingInstance st_a, st_b;
  SyncthingInstance::Options sa, sb;
  sa.name = "A";
  sb.name = "B";
  if (Status s = st_a.Create(dir / "syncthing-a", sa); !s.ok()) return Fail(s.ToString());
  if (Status s = st_b.Create(dir / "syncthing-b", sb); !s.ok()) return Fail(s.ToString());
  if (Status s = st_a.Start(); !s.ok()) return Fail(s.ToString());
  if (Status s = st_b.Start(); !s.ok()) return Fail(s.ToString());
  st_a.AddDevice(st_b.DeviceId(), st_b.SyncAddress());
  st_b.AddDevice(st_a.DeviceId(), st_a.SyncAddress());
  std::printf("syncthing A %s on 127.0.0.1:%u, syncthing B %s on 127.0.0.1:%u\n", st_a.DeviceId().substr(0, 7).c_str(),
              st_a.GuiPort(), st_b.DeviceId().substr(0, 7).c_str(), st_b.GuiPort());

  // A: publish its manifest, share its image folder send-only.
  std::ofstream(dir / "a.json") << R"({"database_path": "A/indafoto.db", "state_path": "A-state/state.db",
      "key_path": "A-state/publisher.key"})";
  ProcessResult pub = RunProcess({syncd, "publish", "--config", (dir / "a.json").string()});
  std::printf("%s", pub.output.c_str());
  if (pub.exit_code != 0) return Fail("publish");
  st_a.AddFolder("indafoto-a", dir / "A" / "indafoto_archive", "sendonly", {st_b.DeviceId()});

  // B: the daemon, configured with Syncthing's address and key, and the
  // receive-only folder created by the daemon itself (create_folders).
  std::ofstream(dir / "b.json") << R"({"database_path": "B/indafoto.db", "log_level": "info",
      "remote_sources": [{"name": "peerA", "folder_id": "indafoto-a", "local_path": "received/peerA",
                          "device_id": ")" << st_a.DeviceId() << R"("}],
      "syncthing": {"host": "127.0.0.1", "port": )" << st_b.GuiPort() << R"(, "api_key": ")" << st_b.ApiKey()
                                << R"(", "create_folders": true}})";
  ChildProcess daemon;
  fs::path log = dir / "daemon-b.log";
  daemon.Start({syncd, "run", "--config", (dir / "b.json").string()}, log);
  std::printf("B's daemon started (log: %s); Syncthing transfers, the daemon imports...\n", log.c_str());

  auto started = std::chrono::steady_clock::now();
  if (!WaitFor([&] { return ReadFile(log).find("created receive-only Syncthing folder") != std::string::npos; }, 60s))
    return Fail("the daemon did not create the folder; see " + log.string());
  if (Status s = st_b.WaitUntilInSync("indafoto-a", 20min); !s.ok()) return Fail(s.ToString());
  auto in_sync = std::chrono::steady_clock::now();
  int64_t files = static_cast<int64_t>(ListFiles(dir / "A" / "indafoto_archive").size());
  auto decided = [&] {
    return QueryInt(dir / "B" / "indafoto.db",
                    "SELECT COUNT(DISTINCT remote_path) FROM sync_records WHERE status IN "
                    "('imported','merged','duplicate','repaired','conflict','skipped','failed')");
  };
  // The manifest's own files are not images.
  int64_t manifest_files = static_cast<int64_t>(ListFiles(dir / "A" / "indafoto_archive" / ".indafoto-sync").size());
  WaitFor([&] { return decided() >= files - manifest_files; }, 5min);
  auto done = std::chrono::steady_clock::now();
  auto ms = [](auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); };
  std::printf("Syncthing in sync after %lld ms; last import %lld ms after that\n",
              static_cast<long long>(ms(in_sync - started)), static_cast<long long>(ms(done - in_sync)));
  daemon.Signal(SIGTERM);
  int rc = daemon.Wait(60s);
  std::printf("daemon exited with %d on SIGTERM\n\n", rc);

  ProcessResult status = RunProcess({syncd, "status", "--config", (dir / "b.json").string()});
  std::printf("$ indafoto-syncd status\n%s\n", status.output.c_str());
  ProcessResult verify = RunProcess({syncd, "verify", "--config", (dir / "b.json").string()});
  std::printf("$ indafoto-syncd verify\n%s\n", verify.output.c_str());
  InvariantReport inv = CheckArchive(dir / "B" / "indafoto.db", dir / "B" / "indafoto_archive");
  std::printf("archive B now holds %lld images (%lld + %lld new from A); invariants %s\n",
              static_cast<long long>(inv.images), static_cast<long long>(o.b_count),
              static_cast<long long>(o.a_count - o.overlap), inv.ok() ? "hold" : "VIOLATED");
  if (!inv.ok()) std::printf("%s", inv.Describe().c_str());
  st_a.Stop();
  st_b.Stop();
  return inv.ok() && rc == 0 && verify.exit_code == 0 ? 0 : 1;
}
