// End-to-end tests of the exchange (docs/architecture.md, "The exchange"):
// real Syncthing instances on loopback (discovery, relays, NAT and usage
// reporting off) and real daemons (`indafoto-syncd run`), each configured
// only with its peers' names and device IDs. The daemons add the devices
// and create the folders themselves; the test then plays the part of
// Syncthing's discovery (off here) by giving each device its peer's
// loopback address.
//
// Figures (bytes received over the network per node vs bytes of images new
// to it) are printed; the bounds asserted are generous, never times.
#include <catch2/catch.hpp>
#include <rapidjson/document.h>
#include <sys/stat.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <set>

#include "lib/catalog/manifest_reader.h"
#include "lib/syncthing/syncthing_client.h"
#include "testing/syncthing_admin.h"
#include "testing/child_process.h"
#include "testing/syncthing_instance.h"
#include "testing/written_bytes.h"
#include "tests/import_fixture.h"

namespace indafoto {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr auto kConverge = 600s;  // a hang guard, not a performance bound

// INDAFOTO_EXCHANGE_FILE_SIZE=BYTES overrides the image size (bench/README.md).
int64_t FileSize(int64_t fallback) {
  const char* v = std::getenv("INDAFOTO_EXCHANGE_FILE_SIZE");
  return v && *v ? std::stoll(v) : fallback;
}

struct Node {
  std::string name;
  fs::path dir;     // indafoto.db, indafoto_archive/
  fs::path config;
  SyncthingInstance st;
  ChildProcess daemon;
  std::set<std::string> initial_sha;  // before the exchange
  fs::path db() const { return dir / "indafoto.db"; }
  fs::path root() const { return dir / "indafoto_archive"; }
  fs::path exchange() const { return dir / ".indafoto-exchange"; }
  fs::path log() const { return dir.parent_path() / ("daemon-" + name + ".log"); }
};

std::set<std::string> ShaSet(const fs::path& db) {
  std::vector<std::string> v = QueryStrings(db, "SELECT sha256_hash FROM images WHERE sha256_hash IS NOT NULL");
  return std::set<std::string>(v.begin(), v.end());
}

// Image files (not the manifest, not Syncthing's marker) under a folder.
std::vector<fs::path> ImageFiles(const fs::path& root) {
  std::vector<fs::path> out;
  if (!fs::exists(root)) return out;
  for (const auto& rel : ListFiles(root)) {
    if (rel.rfind(".indafoto-sync/", 0) == 0 || rel.rfind(".stfolder", 0) == 0 || rel.rfind(".stversions", 0) == 0)
      continue;
    out.push_back(root / rel);
  }
  return out;
}

Status PatchDeviceAddress(SyncthingInstance& st, const std::string& device, const std::string& address) {
  return RunSyncthingCall(st.Endpoint(), [&](SyncthingClient& c) -> boost::asio::awaitable<Status> {
    HttpResult r;
    Status s = co_await c.Request(boost::beast::http::verb::patch, "/rest/config/devices/" + device,
                                  "{\"addresses\":[\"" + address + "\"]}", 30s, &r);
    if (s.ok() && r.status / 100 != 2) s = Status::Invalid("PATCH device: HTTP " + std::to_string(r.status) + " " + r.body);
    co_return s;
  });
}

bool HasDevice(SyncthingInstance& st, const std::string& device) {
  return RunSyncthingCall(st.Endpoint(), [&](SyncthingClient& c) { return c.GetDevice(device); }).ok();
}

void ConnectionTotals(SyncthingInstance& st, int64_t* in, int64_t* out) {
  REQUIRE(RunSyncthingCall(st.Endpoint(), [&](SyncthingClient& c) { return SyncthingConnectionTotals(c, in, out); }).ok());
}

// Paths of Syncthing's folders on `st`; false when Syncthing did not answer
// (it may be busy saving its configuration: polled, so asked again).
bool FolderPaths(SyncthingInstance& st, std::vector<std::string>* out) {
  std::vector<SyncthingFolder> folders;
  Status s = RunSyncthingCall(st.Endpoint(), [&](SyncthingClient& c) { return SyncthingConfigFolders(c, &folders); });
  if (!s.ok()) {
    UNSCOPED_INFO("GET /rest/config/folders: " << s.ToString());
    return false;
  }
  out->clear();
  for (const auto& f : folders) out->push_back(f.path);
  return true;
}

// The compression Syncthing on `st` uses for what it sends `device`.
std::string DeviceCompression(SyncthingInstance& st, const std::string& device) {
  std::string compression;
  REQUIRE(RunSyncthingCall(st.Endpoint(), [&](SyncthingClient& c) -> boost::asio::awaitable<Status> {
            std::string body;
            Status s = co_await c.Call(boost::beast::http::verb::get, "/rest/config/devices/" + device, "", 30s, &body);
            rapidjson::Document d;
            d.Parse(body.c_str());
            if (s.ok() && d.IsObject() && d.HasMember("compression") && d["compression"].IsString())
              compression = d["compression"].GetString();
            co_return s;
          }).ok());
  return compression;
}

class Exchange {
 public:
  // One node per entry: the indafoto ids its archive holds.
  explicit Exchange(const std::vector<std::pair<std::string, std::vector<int64_t>>>& archives,
                    int64_t file_size = 32 * 1024) {
    for (size_t i = 0; i < archives.size(); ++i) {
      auto n = std::make_unique<Node>();
      n->name = archives[i].first;
      n->dir = tmp_.path() / n->name;
      ArchiveSpec spec;
      spec.dir = n->dir;
      spec.ids = archives[i].second;
      spec.universe_seed = 9;
      spec.variant = static_cast<uint32_t>(i + 1);
      spec.file_size = FileSize(file_size);
      REQUIRE(GenerateArchive(spec, nullptr).ok());
      n->initial_sha = ShaSet(n->db());
      SyncthingInstance::Options o;
      o.name = n->name;
      REQUIRE(n->st.Create(tmp_.path() / ("st-" + n->name), o).ok());
      nodes_.push_back(std::move(n));
    }
  }

  Node& node(const std::string& name) {
    for (auto& n : nodes_)
      if (n->name == name) return *n;
    FAIL("no node " << name);
    throw;
  }
  std::vector<std::unique_ptr<Node>>& nodes() { return nodes_; }

  // `links`: pairs of node names that exchange.
  // `links`: pairs of node names that exchange. Nodes in `later` start
  // without peers (see AddPeersLater).
  void Start(const std::vector<std::pair<std::string, std::string>>& links, const std::set<std::string>& later = {}) {
    for (auto& [a, b] : links) {
      peers_[a].push_back(&node(b));
      peers_[b].push_back(&node(a));
    }
    for (auto& n : nodes_) WriteConfig(*n, !later.count(n->name));
    // What Syncthing writes into each node's received folders, from now on.
    std::vector<std::string> prefixes;
    for (auto& n : nodes_) prefixes.push_back(ReceivedPrefix(*n));
    if (Status s = written_.Start(tmp_.path(), prefixes); !s.ok()) written_unavailable_ = s.ToString();
    for (auto& n : nodes_)
      REQUIRE(n->daemon.Start({BinaryPath("indafoto-syncd"), "run", "--config", n->config.string()}, n->log()));
    for (auto& n : nodes_)
      if (!later.count(n->name)) GiveAddresses(*n);
  }

  // Writes `name`'s peers into its configuration and reloads its daemon
  // (SIGHUP), as an operator adding a friend does.
  void AddPeersLater(const std::string& name) {
    Node& n = node(name);
    WriteConfig(n, true);
    n.daemon.Signal(SIGHUP);
    GiveAddresses(n);
  }

  void WriteConfig(Node& n, bool with_peers) {
    n.config = tmp_.path() / (n.name + ".json");
    std::ofstream c(n.config);
    c << R"({"database_path": ")" << n.db().string() << R"(", "log_level": "debug",
          "publish": {"enabled": false, "debounce_seconds": 1},
          "syncthing": {"host": "127.0.0.1", "port": )"
      << n.st.GuiPort() << R"(, "api_key": ")" << n.st.ApiKey() << R"("},
          "peers": [)";
    bool first = true;
    for (Node* p : with_peers ? peers_[n.name] : std::vector<Node*>{}) {
      c << (first ? "" : ", ") << R"({"name": ")" << p->name << R"(", "device_id": ")" << p->st.DeviceId()
        << R"("})";
      first = false;
    }
    c << "]}\n";
  }

  // Discovery's part: once a daemon has added its peer's device, tell
  // Syncthing where that device listens.
  void GiveAddresses(Node& n) {
    for (Node* p : peers_[n.name]) {
      INFO(ReadFile(n.log()));
      REQUIRE(WaitFor([&] { return HasDevice(n.st, p->st.DeviceId()); }, 120s));
      REQUIRE(PatchDeviceAddress(n.st, p->st.DeviceId(), p->st.SyncAddress()).ok());
    }
  }

  std::set<std::string> Union() const {
    std::set<std::string> u;
    for (auto& n : nodes_) u.insert(n->initial_sha.begin(), n->initial_sha.end());
    return u;
  }

  // Every node holds `want` (exactly), and no received folder still holds
  // an image file.
  bool Converged(const std::set<std::string>& want) {
    for (auto& n : nodes_) {
      if (ShaSet(n->db()) != want) return false;
      for (const auto& entry : fs::directory_iterator(n->exchange())) {
        std::string f = entry.path().filename().string();
        if (f.rfind("from-", 0) == 0 && !ImageFiles(entry.path()).empty()) return false;
      }
    }
    return true;
  }

  std::string Describe(const std::set<std::string>& want) {
    std::string s;
    for (auto& n : nodes_) {
      std::set<std::string> have = ShaSet(n->db());
      int64_t missing = 0, extra = 0;
      for (auto& x : want) missing += !have.count(x);
      for (auto& x : have) extra += !want.count(x);
      s += n->name + ": " + std::to_string(have.size()) + " images, " + std::to_string(missing) + " missing, " +
           std::to_string(extra) + " extra;";
      for (const auto& entry : fs::directory_iterator(n->exchange()))
        s += " " + entry.path().filename().string() + "=" + std::to_string(ImageFiles(entry.path()).size());
      ProcessResult st = RunProcess({BinaryPath("indafoto-syncd"), "status", "--config", n->config.string()});
      s += "\n" + st.output + "\n";
    }
    return s;
  }

  void WaitConverged(const std::set<std::string>& want) {
    bool ok = WaitFor([&] { return Converged(want); }, kConverge);
    if (!ok) {
      for (auto& n : nodes_) UNSCOPED_INFO(n->name << " log tail:\n" << ReadFile(n->log()).substr(
                                 std::max<size_t>(ReadFile(n->log()).size(), 6000) - 6000));
    }
    INFO(Describe(want));
    REQUIRE(ok);
  }

  // Bytes of image files `n` holds now and did not hold at the start.
  static int64_t NewBytes(Node& n) {
    int64_t total = 0;
    for (const auto& row : QueryStrings(n.db(), "SELECT sha256_hash || ' ' || local_path FROM images")) {
      std::string sha = row.substr(0, 64), path = row.substr(65);
      if (n.initial_sha.count(sha)) continue;
      struct stat st;
      if (::stat((n.dir / path).c_str(), &st) == 0) total += st.st_size;
    }
    return total;
  }

  // Every received folder of `n` (<exchange>/from-<peer>/...).
  static std::string ReceivedPrefix(Node& n) { return fs::absolute(n.exchange()).string() + "/from-"; }

  // Prints and returns, per node, network bytes received / bytes of new images.
  std::map<std::string, double> Report(const std::string& label) {
    std::map<std::string, double> ratios;
    for (auto& n : nodes_) {
      int64_t in = 0, out = 0;
      ConnectionTotals(n->st, &in, &out);
      int64_t fresh = NewBytes(*n);
      double ratio = fresh > 0 ? static_cast<double>(in) / static_cast<double>(fresh) : 0;
      // Deliveries of images the node already held when they arrived
      // (sent twice), and the size of the catalogs it holds now.
      int64_t twice = QueryInt(n->db(),
                               "SELECT COUNT(*) FROM sync_records WHERE status IN ('duplicate', 'merged')");
      int64_t catalogs = 0;
      for (const auto& entry : fs::directory_iterator(n->exchange())) {
        if (entry.path().filename().string().rfind("from-", 0) != 0) continue;
        for (const auto& rel : ListFiles(entry.path() / ".indafoto-sync")) {
          struct stat st;
          if (::stat((entry.path() / ".indafoto-sync" / rel).c_str(), &st) == 0) catalogs += st.st_size;
        }
      }
      std::printf("exchange %s: node %s received %lld bytes over the network for %lld bytes of new images: %.3fx "
                  "(sent %lld); %lld images delivered although already held; peers' catalogs now %lld bytes\n",
                  label.c_str(), n->name.c_str(), static_cast<long long>(in), static_cast<long long>(fresh), ratio,
                  static_cast<long long>(out), static_cast<long long>(twice), static_cast<long long>(catalogs));
      if (written_unavailable_.empty()) {
        int64_t written = written_.Bytes(ReceivedPrefix(*n));
        std::printf("exchange %s: node %s: Syncthing wrote %lld bytes into its received folders: %.3fx the new "
                    "images\n",
                    label.c_str(), n->name.c_str(), static_cast<long long>(written),
                    fresh > 0 ? static_cast<double>(written) / static_cast<double>(fresh) : 0.0);
        // Each new image written once, plus the catalogs (generous bound,
        // as for the network).
        if (fresh > 0) CHECK(written >= fresh);
        if (fresh > 0 && FileSize(32 * 1024) >= 32 * 1024) CHECK(written < fresh * 12 / 10);
      } else {
        std::printf("exchange %s: bytes written into received folders not measured: %s\n", label.c_str(),
                    written_unavailable_.c_str());
      }
      ratios[n->name] = ratio;
      // Each image crosses once: an image delivered to a node that already
      // held it is what a second sender costs (generous bound).
      int64_t new_images = static_cast<int64_t>(ShaSet(n->db()).size() - n->initial_sha.size());
      INFO(n->name);
      CHECK(twice * 10 <= new_images);
    }
    std::fflush(stdout);
    return ratios;
  }

  void CheckInvariants() {
    for (auto& n : nodes_) {
      InvariantReport r = CheckArchive(n->db(), n->root());
      INFO(n->name << ": " << r.Describe());
      CHECK(r.ok());
    }
  }

  void StopAll() {
    for (auto& n : nodes_) n->daemon.Signal(SIGTERM);
    for (auto& n : nodes_) CHECK(n->daemon.Wait(60s) == 0);
  }

 private:
  TempDir tmp_;
  WrittenBytes written_;
  std::string written_unavailable_;  // why written_ counts nothing, if so
  std::vector<std::unique_ptr<Node>> nodes_;
  std::map<std::string, std::vector<Node*>> peers_;
};

}  // namespace

TEST_CASE("exchange: a pair overlapping 70% converges to the union and deleted images heal",
          "[e2e][exchange][syncthing]") {
  // 1000 images each, 700 shared (the figures of issue 9).
  Exchange ex({{"A", IdRange(1, 1000)}, {"B", IdRange(301, 1300)}});
  ex.Start({{"A", "B"}});
  std::set<std::string> want = ex.Union();
  REQUIRE(want.size() == 1300);
  ex.WaitConverged(want);
  ex.CheckInvariants();
  std::map<std::string, double> ratios = ex.Report("pair 70% overlap");
  for (auto& [name, r] : ratios) {
    INFO(name);
    CHECK(r > 0.9);  // everything new really crossed the network...
    // ...about once (the shared-folder workflow: 3.3x). Measured 1.037 at
    // 32 KiB (bench/README.md); the margin is for extra republishes of the
    // catalog on a slow machine. Smaller images weigh less than their
    // catalog entries: no bound then.
    if (FileSize(32 * 1024) >= 32 * 1024) CHECK(r < 1.2);
  }
  // What B received is hardlinked into its archive: its received folder
  // ended empty while the archive keeps the files.
  Node& b = ex.node("B");
  CHECK(QueryInt(b.db(), "SELECT COUNT(*) FROM sync_records WHERE remote_source = 'A' AND status = 'imported'") == 300);
  // `status` per peer: A's catalog of B, what A sent B and received from it.
  {
    Node& a_node = ex.node("A");
    ProcessResult st = RunProcess({BinaryPath("indafoto-syncd"), "status", "--json", "--config", a_node.config.string()});
    INFO(st.output);
    rapidjson::Document d;
    d.Parse(st.output.c_str());
    REQUIRE(d.IsObject());
    REQUIRE(d.HasMember("peers"));
    REQUIRE(d["peers"].Size() == 1);
    const auto& p = d["peers"][0];
    CHECK(std::string(p["name"].GetString()) == "B");
    CHECK(p["in_catalog"].GetInt64() == 1300);
    CHECK(p["queued"].GetInt64() == 0);
    CHECK(p["sent"].GetInt64() == 300);
    CHECK(p["received"].GetInt64() == 300);
    CHECK(p["catalog_at"].IsString());
    ProcessResult text = RunProcess({BinaryPath("indafoto-syncd"), "status", "--config", a_node.config.string()});
    CHECK(text.output.find("peer B: catalog 1300 entries") != std::string::npos);
    // whereis/copies count B, and not A's own exchange catalog, as a holder.
    ProcessResult copies =
        RunProcess({BinaryPath("indafoto-syncd"), "copies", "--json", "--config", a_node.config.string()});
    INFO(copies.output);
    rapidjson::Document cj;
    cj.Parse(copies.output.c_str());
    REQUIRE(cj.IsObject());
    REQUIRE(cj["catalogs"].IsArray());
    REQUIRE(cj["catalogs"].Size() == 1);
    CHECK(std::string(cj["catalogs"][0].GetString()) == "B");
    CHECK(cj["local_images"].GetInt64() == 1300);
  }

  // Healing: B loses 20 images (files and rows), 10 it held from the
  // start (A holds them too) and 10 it had received from A, and its daemon
  // republishes (it notices the database change); A sends them back.
  const std::string lost_ids =
      "(SELECT id FROM (SELECT id FROM images WHERE id NOT IN (SELECT image_id FROM sync_records "
      "WHERE image_id IS NOT NULL) "
      "ORDER BY id LIMIT 10 OFFSET 100) "
      "UNION SELECT image_id FROM (SELECT image_id FROM sync_records WHERE remote_source = 'A' AND status = "
      "'imported' ORDER BY id LIMIT 10 OFFSET 50))";
  std::vector<std::string> lost = QueryStrings(b.db(), "SELECT local_path FROM images WHERE id IN " + lost_ids);
  REQUIRE(lost.size() == 20);
  int64_t lost_bytes = 0, in_before = 0, in_after = 0, out = 0;
  for (const auto& p : lost) {
    lost_bytes += static_cast<int64_t>(fs::file_size(b.dir / p));
    REQUIRE(fs::remove(b.dir / p));
  }
  ConnectionTotals(b.st, &in_before, &out);
  ExecSql(b.db(), "CREATE TEMP TABLE lost AS SELECT id FROM images WHERE id IN " + lost_ids + ";" +
                      "DELETE FROM image_tags WHERE image_id IN (SELECT id FROM lost);"
                      "DELETE FROM image_albums WHERE image_id IN (SELECT id FROM lost);"
                      "DELETE FROM image_collections WHERE image_id IN (SELECT id FROM lost);"
                      "DELETE FROM images WHERE id IN (SELECT id FROM lost);");
  REQUIRE(ShaSet(b.db()).size() == 1280);
  ex.WaitConverged(want);
  ex.CheckInvariants();
  ConnectionTotals(b.st, &in_after, &out);
  std::printf("exchange healing: B received %lld bytes over the network to heal %lld bytes of lost images\n",
              static_cast<long long>(in_after - in_before), static_cast<long long>(lost_bytes));
  CHECK(in_after - in_before >= lost_bytes);
  ex.StopAll();
}

TEST_CASE("exchange: a chain A-B-C brings A's images to C through B", "[e2e][exchange]") {
  Exchange ex({{"A", IdRange(1, 300)}, {"B", IdRange(201, 500)}, {"C", IdRange(401, 700)}}, 16 * 1024);
  ex.Start({{"A", "B"}, {"B", "C"}});
  std::set<std::string> want = ex.Union();
  REQUIRE(want.size() == 700);
  ex.WaitConverged(want);
  ex.CheckInvariants();
  ex.Report("chain A-B-C");
  ex.StopAll();
}

TEST_CASE("exchange: a mesh of three converges with each image crossing the network about once", "[e2e][exchange]") {
  // Pairwise overlaps: ids 1..400 at A, 201..600 at B, 1..100 + 401..700 at C.
  std::vector<int64_t> c_ids = IdRange(1, 100);
  for (int64_t id : IdRange(401, 700)) c_ids.push_back(id);
  Exchange ex({{"A", IdRange(1, 400)}, {"B", IdRange(201, 600)}, {"C", c_ids}}, 32 * 1024);
  ex.Start({{"A", "B"}, {"B", "C"}, {"A", "C"}});
  std::set<std::string> want = ex.Union();
  REQUIRE(want.size() == 700);
  ex.WaitConverged(want);
  ex.CheckInvariants();
  std::map<std::string, double> ratios = ex.Report("mesh of three");
  for (auto& [name, r] : ratios) {
    INFO(name);
    CHECK(r > 0.9);
    // The issue's goal for a mesh (measured 1.055-1.060 at 32 KiB).
    if (FileSize(32 * 1024) >= 32 * 1024) CHECK(r < 1.25);
  }
  ex.StopAll();
}

TEST_CASE("exchange: a peer added to a running daemon by SIGHUP is set up and exchanged with", "[e2e][exchange]") {
  Exchange ex({{"A", IdRange(1, 200)}, {"B", IdRange(101, 300)}}, 16 * 1024);
  // B knows A from the start; A's daemon runs without peers.
  ex.Start({{"A", "B"}}, {"A"});
  Node& a = ex.node("A");
  // A's archive stays as it was while A has not added B.
  REQUIRE(WaitFor([&] { return ReadFile(ex.node("B").log()).find("created sendonly Syncthing folder") != std::string::npos; },
                  120s));
  CHECK_FALSE(HasDevice(a.st, ex.node("B").st.DeviceId()));
  CHECK(ShaSet(a.db()) == a.initial_sha);
  // A's operator had already added B's device by hand, with Syncthing's
  // default compression: the daemon leaves that device as it is, and says
  // how to change it.
  const std::string b_device = ex.node("B").st.DeviceId();
  REQUIRE(RunSyncthingCall(a.st.Endpoint(), [&](SyncthingClient& c) {
            return c.PutDevice(b_device, "{\"deviceID\":\"" + b_device +
                                             "\",\"name\":\"B by hand\",\"addresses\":[\"dynamic\"],"
                                             "\"compression\":\"metadata\"}");
          }).ok());
  ex.AddPeersLater("A");
  ex.WaitConverged(ex.Union());
  ex.CheckInvariants();
  ex.Report("peer added by SIGHUP");
  CHECK(ReadFile(a.log()).find("SIGHUP: configuration reloaded") != std::string::npos);
  CHECK(DeviceCompression(a.st, b_device) == "metadata");
  CHECK(ReadFile(a.log()).find("exchange B: its device was already in Syncthing, with compression \"metadata\"; "
                               "left as it is") != std::string::npos);
  ex.StopAll();
}

TEST_CASE("exchange: a peer removed from the configuration is retired; nothing sent or received is lost",
          "[e2e][exchange]") {
  Exchange ex({{"A", IdRange(1, 200)}, {"B", IdRange(101, 300)}}, 16 * 1024);
  ex.Start({{"A", "B"}});
  Node& a = ex.node("A");
  Node& b = ex.node("B");
  // B's daemon sets up its folders and publishes its catalog, then stops:
  // B's Syncthing receives A's images, nobody imports them at B, and A's
  // outbox for B stays full.
  const fs::path b_catalog = b.exchange() / "to-A" / ".indafoto-sync" / "manifest.json";
  REQUIRE(WaitFor([&] {
    std::string log = ReadFile(b.log());
    return fs::exists(b_catalog) && log.find("created sendonly Syncthing folder") != std::string::npos &&
           log.find("created receiveonly Syncthing folder") != std::string::npos;
  }, 120s));
  b.daemon.Signal(SIGTERM);
  REQUIRE(b.daemon.Wait(60s) == 0);
  // Each side added the other's device with compression "always".
  CHECK(DeviceCompression(a.st, b.st.DeviceId()) == "always");
  CHECK(DeviceCompression(b.st, a.st.DeviceId()) == "always");
  const fs::path to_b = a.exchange() / "to-B", from_b = a.exchange() / "from-B", b_from_a = b.exchange() / "from-A";
  auto linked_at_a = [&] {
    return QueryInt(a.dir / "indafoto-syncd-state.db", "SELECT COUNT(*) FROM syncd_outbox WHERE peer = 'B' AND linked = 1");
  };
  // A's outbox for B is linked, and B's Syncthing has fetched all of it.
  {
    bool sent = WaitFor([&] {
      int64_t links = linked_at_a();
      return links > 0 && static_cast<int64_t>(ImageFiles(to_b).size()) == links &&
             static_cast<int64_t>(ImageFiles(b_from_a).size()) == links;
    }, kConverge);
    INFO(ReadFile(a.log()).substr(0, 20000));
    REQUIRE(sent);
  }
  const size_t sent_pending = ImageFiles(b_from_a).size();
  // A delivery from B that A cannot import: B's catalog does not list it.
  fs::create_directories(from_b / "stray");
  std::ofstream(from_b / "stray" / "unknown.jpg") << "not in B's catalog";
  const size_t a_images = ShaSet(a.db()).size();

  // The operator removes B from A's configuration and reloads.
  ex.WriteConfig(a, /*with_peers=*/false);
  a.daemon.Signal(SIGHUP);
  auto a_has_b_folders = [&] {
    std::vector<std::string> paths;
    if (!FolderPaths(a.st, &paths)) return true;  // not known: ask again
    for (const auto& p : paths)
      if (p.find("to-B") != std::string::npos || p.find("from-B") != std::string::npos) return true;
    return false;
  };
  {
    bool retired = WaitFor([&] { return !fs::exists(to_b) && !a_has_b_folders() && linked_at_a() == 0; }, 180s);
    INFO(ReadFile(a.log()));  // read after the wait: what the daemon did
    REQUIRE(retired);
  }
  CHECK(QueryInt(a.dir / "indafoto-syncd-state.db", "SELECT COUNT(*) FROM syncd_outbox WHERE peer = 'B'") == 0);
  CHECK(QueryInt(a.dir / "indafoto-syncd-state.db", "SELECT COUNT(*) FROM syncd_exchange_peers WHERE peer = 'B'") == 0);
  // A's archive lost nothing (the links were links) and kept what B sent.
  ex.CheckInvariants();
  CHECK(ShaSet(a.db()).size() >= a_images);  // (B's daemon may have sent a few before it stopped)
  // What A cannot import stays in from-B; what it imported left it.
  CHECK(fs::exists(from_b / "stray" / "unknown.jpg"));
  for (const auto& rel : QueryStrings(a.db(), "SELECT remote_path FROM sync_records WHERE remote_source = 'B' AND "
                                              "status IN ('imported', 'duplicate', 'merged')"))
    CHECK_FALSE(fs::exists(from_b / rel));
  // The removals in to-B did not reach B as deletions: B keeps what it
  // received and has not imported yet.
  CHECK(ImageFiles(b_from_a).size() == sent_pending);
  // `status` no longer lists B; the log says what was done and what is kept.
  ProcessResult st = RunProcess({BinaryPath("indafoto-syncd"), "status", "--json", "--config", a.config.string()});
  rapidjson::Document d;
  d.Parse(st.output.c_str());
  REQUIRE(d.IsObject());
  CHECK((!d.HasMember("peers") || d["peers"].Size() == 0));
  REQUIRE(d.HasMember("former_peers"));
  REQUIRE(d["former_peers"].Size() == 1);
  CHECK(std::string(d["former_peers"][0]["name"].GetString()) == "B");
  CHECK(d["former_peers"][0]["not_imported"].GetInt64() == 1);
  ProcessResult text = RunProcess({BinaryPath("indafoto-syncd"), "status", "--config", a.config.string()});
  CHECK(text.output.find("former peer B: 1 file(s) it sent not imported, kept in") != std::string::npos);
  std::string log = ReadFile(a.log());
  CHECK(log.find("exchange B: no longer a peer: removed Syncthing folder") != std::string::npos);
  CHECK(log.find("file(s) it sent were not imported") != std::string::npos);
  a.daemon.Signal(SIGTERM);
  CHECK(a.daemon.Wait(60s) == 0);
}

TEST_CASE("`publish` writes the exchange catalog into every peer's folder, as the daemon does", "[e2e][exchange]") {
  // No Syncthing needed: publishing is files only.
  PairOptions o;
  o.a_count = 20;
  o.b_count = 5;
  o.overlap = 0;
  o.file_size = 1024;
  ImportFixture f(o, /*write_config=*/false);
  const std::string alice = "MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAD";
  const std::string bob = "AAAAAAA-BBBBBBB-CCCCCCC-DDDDDDD-EEEEEEE-FFFFFFF-GGGGGGG-HHHHHHH";
  const std::string peers = R"(, "peers": [{"name": "alice", "device_id": ")" + alice +
                            R"("}, {"name": "bob", "device_id": ")" + bob + R"("}])";
  f.WriteConfig(peers);
  fs::path ex = f.a_dir / ".indafoto-exchange";
  auto payload_of = [](const fs::path& index, ManifestPayload* p) {
    std::string text = ReadFile(index);
    SignedManifest outer;
    return !text.empty() && ParseSignedManifest(text, &outer).ok() && ParseManifestPayload(outer.payload, p).ok();
  };
  auto inode = [](const fs::path& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 ? st.st_ino : 0;
  };

  ProcessResult r = f.Run("publish");
  INFO(r.output);
  REQUIRE(r.exit_code == 0);
  CHECK(r.output.find("exchange manifest") != std::string::npos);
  CHECK(r.output.find("mirrored into the folder of peer(s): alice, bob") != std::string::npos);
  const fs::path self_index = ex / "self" / ".indafoto-sync" / "manifest.json";
  ManifestPayload self;
  REQUIRE(payload_of(self_index, &self));
  CHECK(self.image_count == 20);
  CHECK(self.peers == std::vector<std::string>{bob, alice});  // the exchange members, by device ID
  for (const std::string peer : {"alice", "bob"}) {
    INFO(peer);
    const fs::path index = ex / ("to-" + peer) / ".indafoto-sync" / "manifest.json";
    ManifestPayload p;
    REQUIRE(payload_of(index, &p));
    CHECK(p.sequence == self.sequence);
    CHECK(inode(index) == inode(self_index));  // a hardlink, as the daemon mirrors it
    for (const auto& part : p.parts)
      CHECK(fs::exists(ex / ("to-" + peer) / ".indafoto-sync" / "parts" / part.name));
  }
  // With peers and no `publish` object the daemon writes no manifest into
  // image_root, and neither does the command.
  CHECK_FALSE(fs::exists(f.a_root() / ".indafoto-sync" / "manifest.json"));

  // `publish.enabled` as well: both places, as the daemon's publish job.
  f.WriteConfig(peers + R"(, "publish": {"enabled": true})");
  ProcessResult both = f.Run("publish");
  INFO(both.output);
  REQUIRE(both.exit_code == 0);
  ManifestPayload own;
  REQUIRE(payload_of(f.a_root() / ".indafoto-sync" / "manifest.json", &own));
  CHECK(own.image_count == 20);
  CHECK(own.peers.empty());  // the archive's own manifest names no exchange members
  CHECK(fs::exists(ex / "to-bob" / ".indafoto-sync" / "manifest.json"));
}

}  // namespace indafoto
