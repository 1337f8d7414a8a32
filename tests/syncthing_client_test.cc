// SyncthingClient against real Syncthing instances on loopback.
#include <utility>  // before asio, see lib/syncthing/syncthing_client.h

#include <netinet/in.h>
#include <sys/socket.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "testing/syncthing_admin.h"
#include "lib/syncthing/syncthing_client.h"
#include "lib/syncthing/syncthing_home.h"
#include "lib/util/unique_fd.h"
#include "testing/syncthing_instance.h"
#include "testing/temp_dir.h"

namespace indafoto {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

#define REQUIRE_OK(expr) \
  do {                   \
    Status _s = (expr);  \
    INFO(_s.ToString()); \
    REQUIRE(_s.ok());    \
  } while (0)

Status Ping(const SyncthingEndpoint& ep, SyncthingClient::Timeout timeout = 10s) {
  return RunSyncthingCall(ep, [timeout](SyncthingClient& c) { return SyncthingPing(c, timeout); });
}

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}

// Long-polls until `done` says so or `timeout` passes; returns everything
// seen. Checks on the way that every event is newer than the `since` asked.
std::vector<SyncthingEvent> CollectEvents(
    SyncthingInstance& st, const std::vector<std::string>& types, int64_t* since,
    std::chrono::seconds timeout, const std::function<bool(const std::vector<SyncthingEvent>&)>& done) {
  std::vector<SyncthingEvent> all;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline && !done(all)) {
    std::vector<SyncthingEvent> ev;
    Status s = st.GetEvents(*since, 2, types, &ev);
    INFO(s.ToString());
    REQUIRE(s.ok());
    for (const SyncthingEvent& e : ev) {
      CHECK(e.id > *since);
      *since = e.id;
      all.push_back(e);
    }
  }
  return all;
}

}  // namespace

TEST_CASE("SyncthingClient: ping, API key errors, unreachable Syncthing", "[syncthing]") {
  TempDir dir;
  SyncthingInstance st;
  REQUIRE_OK(st.Create(dir.path() / "st"));
  SyncthingEndpoint ep = st.Endpoint();
  REQUIRE_OK(Ping(ep));

  std::string id;
  REQUIRE_OK(RunSyncthingCall(ep, [&id](SyncthingClient& c) { return SyncthingDeviceId(c, &id); }));
  CHECK(id == st.DeviceId());
  CHECK(id.size() == 63);

  SECTION("a wrong API key is Permission and names the fix, not the key") {
    SyncthingEndpoint wrong = ep;
    wrong.api_key = "wrong-key-4f9c2d7e1a";
    Status s = Ping(wrong);
    CHECK(s.code() == Status::Code::kPermission);
    CHECK(s.message().find("API key") != std::string::npos);
    CHECK(s.message().find("<apikey>") != std::string::npos);
    CHECK(s.message().find(wrong.api_key) == std::string::npos);
    CHECK(s.message().find(st.ApiKey()) == std::string::npos);
    CHECK(s.ToString().find(wrong.api_key) == std::string::npos);

    SyncthingEndpoint none = ep;
    none.api_key.clear();
    s = Ping(none);
    CHECK(s.code() == Status::Code::kPermission);
    CHECK(s.message().find("no API key") != std::string::npos);
  }

  SECTION("a closed port is Unavailable and says what to check") {
    SyncthingEndpoint closed = ep;
    closed.port = FreeLoopbackPort();
    Status s = Ping(closed);
    CHECK(s.code() == Status::Code::kUnavailable);
    CHECK(s.message().find("cannot connect to Syncthing at http://127.0.0.1:" +
                           std::to_string(closed.port)) != std::string::npos);
    CHECK(s.message().find("Syncthing running") != std::string::npos);
    CHECK(s.message().find(st.ApiKey()) == std::string::npos);
  }

  SECTION("a stopped Syncthing is Unavailable, a restarted one answers again") {
    REQUIRE_OK(st.Stop());
    CHECK(Ping(ep).code() == Status::Code::kUnavailable);
    REQUIRE_OK(st.Start());
    REQUIRE_OK(Ping(ep));
    st.Kill();
    CHECK(Ping(ep).code() == Status::Code::kUnavailable);
  }

  SECTION("a server that never answers is a timeout, Unavailable") {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd.get(), 4) == 0);  // the kernel accepts; nobody reads
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    SyncthingEndpoint silent = ep;
    silent.port = ntohs(addr.sin_port);
    Status s = Ping(silent, 300ms);
    CHECK(s.code() == Status::Code::kUnavailable);
    CHECK(s.message().find("did not answer") != std::string::npos);
  }

  SECTION("folders: create receive-only, read back, NotFound for unknown ids") {
    SyncthingFolder f;
    f.id = "indafoto-src";
    f.label = "Indafoto source";
    f.path = (dir.path() / "received").string();
    f.type = "receiveonly";
    f.device_ids = {st.DeviceId()};
    f.order = "newestFirst";
    REQUIRE_OK(RunSyncthingCall(ep, [&f](SyncthingClient& c) { return c.PutFolder(f); }));

    SyncthingFolder back;
    std::string raw;
    REQUIRE_OK(
        RunSyncthingCall(ep, [&](SyncthingClient& c) { return c.GetFolder("indafoto-src", &back, &raw); }));
    CHECK(back.type == "receiveonly");
    CHECK(back.path == f.path);
    CHECK(back.label == "Indafoto source");
    CHECK(back.device_ids == std::vector<std::string>{st.DeviceId()});
    CHECK(back.order == "newestFirst");
    CHECK(raw.find("\"markerName\"") != std::string::npos);  // defaults filled in by Syncthing

    std::vector<SyncthingFolder> all;
    REQUIRE_OK(RunSyncthingCall(ep, [&all](SyncthingClient& c) { return SyncthingConfigFolders(c, &all); }));
    REQUIRE(all.size() == 1);
    CHECK(all[0].id == "indafoto-src");

    REQUIRE_OK(RunSyncthingCall(
        ep, [](SyncthingClient& c) { return c.PatchFolder("indafoto-src", R"({"label":"x"})"); }));
    REQUIRE_OK(RunSyncthingCall(ep, [&](SyncthingClient& c) { return c.GetFolder("indafoto-src", &back); }));
    CHECK(back.label == "x");
    CHECK(back.type == "receiveonly");

    REQUIRE_OK(RunSyncthingCall(ep, [](SyncthingClient& c) { return SyncthingRescan(c, "indafoto-src"); }));
    SyncthingDbStatus db;
    REQUIRE_OK(
        RunSyncthingCall(ep, [&db](SyncthingClient& c) { return c.GetDbStatus("indafoto-src", &db); }));
    CHECK(db.need_files == 0);
    CHECK(db.global_files == 0);
    CHECK(!db.state.empty());

    CHECK(RunSyncthingCall(ep, [&](SyncthingClient& c) { return c.GetFolder("nope", &back); }).IsNotFound());
    CHECK(
        RunSyncthingCall(ep, [&db](SyncthingClient& c) { return c.GetDbStatus("nope", &db); }).IsNotFound());
    CHECK(RunSyncthingCall(ep, [](SyncthingClient& c) { return SyncthingRescan(c, "nope"); }).IsNotFound());
  }
}

TEST_CASE("SyncthingClient: the events long-poll honours since", "[syncthing]") {
  TempDir dir;
  SyncthingInstance st;
  REQUIRE_OK(st.Create(dir.path() / "st"));
  const std::vector<std::string> types = {"StateChanged", "LocalIndexUpdated", "FolderSummary"};

  // Syncthing 1.19 creates a filtered subscription at its first request and
  // delivers nothing from before it; subscribe before causing events.
  std::vector<SyncthingEvent> ev;
  REQUIRE_OK(st.GetEvents(0, 0, types, &ev));

  WriteAll(dir.path() / "f" / "one.jpg", "one");
  REQUIRE_OK(st.AddFolder("f", dir.path() / "f", "sendreceive", {}));
  int64_t since = 0;
  // A scan that found a new file (one.jpg, then two.jpg, three.jpg)
  // updates the folder's index.
  auto indexed = [](const std::vector<SyncthingEvent>& all) {
    for (const auto& e : all) {
      if (e.type_name == "LocalIndexUpdated" && e.folder == "f") return true;
    }
    return false;
  };
  std::vector<SyncthingEvent> first = CollectEvents(st, types, &since, 60s, indexed);
  REQUIRE(indexed(first));
  CHECK(first.front().id == 1);  // a fresh subscription counts from 1
  for (size_t i = 1; i < first.size(); ++i) CHECK(first[i].id > first[i - 1].id);
  bool state_changed = false;
  for (const auto& e : first) state_changed |= e.type_name == "StateChanged" && e.folder == "f";
  CHECK(state_changed);

  // Asking again from the middle returns exactly the later events.
  if (first.size() >= 2) {
    REQUIRE_OK(st.GetEvents(first[0].id, 1, types, &ev));
    REQUIRE(!ev.empty());
    CHECK(ev.front().id == first[1].id);
  }

  // New events come after `since`, none of the old ones again.
  WriteAll(dir.path() / "f" / "two.jpg", "two");
  REQUIRE_OK(st.Rescan("f"));
  int64_t before = since;
  std::vector<SyncthingEvent> second = CollectEvents(st, types, &since, 60s, indexed);
  REQUIRE(indexed(second));
  for (const auto& e : second) CHECK(e.id > before);

  // After a restart ids begin again at 1; a `since` from before the restart
  // that is above the new ids just yields nothing (no error).
  SyncthingSystemStatus sys1, sys2;
  REQUIRE_OK(RunSyncthingCall(st.Endpoint(), [&](SyncthingClient& c) { return c.GetSystemStatus(&sys1); }));
  REQUIRE_OK(st.Stop());
  REQUIRE_OK(st.Start());
  REQUIRE_OK(RunSyncthingCall(st.Endpoint(), [&](SyncthingClient& c) { return c.GetSystemStatus(&sys2); }));
  CHECK(sys2.my_id == sys1.my_id);
  REQUIRE_OK(st.GetEvents(since + 1000, 1, types, &ev));
  CHECK(ev.empty());
  REQUIRE_OK(st.GetEvents(0, 0, types, &ev));
  WriteAll(dir.path() / "f" / "three.jpg", "three");
  REQUIRE_OK(st.Rescan("f"));
  int64_t after_restart = 0;
  std::vector<SyncthingEvent> third = CollectEvents(st, types, &after_restart, 60s, indexed);
  REQUIRE(indexed(third));
  CHECK(third.front().id == 1);
}

TEST_CASE("SyncthingClient: two instances deliver files; B reports ItemFinished", "[syncthing]") {
  TempDir dir;
  SyncthingInstance a, b;
  SyncthingInstance::Options oa, ob;
  oa.name = "A";
  ob.name = "B";
  REQUIRE_OK(a.Create(dir.path() / "home-a", oa));
  REQUIRE_OK(b.Create(dir.path() / "home-b", ob));

  const std::vector<std::string> types = {"ItemFinished", "FolderSummary"};
  std::vector<SyncthingEvent> ev;
  REQUIRE_OK(b.GetEvents(0, 0, types, &ev));  // subscribe before anything can arrive

  std::map<std::string, std::string> files = {
      {"Kovács Péter/0/image_1_20250301_101010_000001.jpg", std::string(100000, 'a')},
      {"Kovács Péter/0/image_2_20250301_101011_000002.jpg", "second image"},
      {"x/image_3.jpg", std::string(3 << 20, 'c')},
  };
  for (const auto& [path, data] : files) WriteAll(dir.path() / "folder-a" / path, data);

  REQUIRE_OK(a.AddDevice(b.DeviceId(), b.SyncAddress()));
  REQUIRE_OK(b.AddDevice(a.DeviceId(), a.SyncAddress()));
  REQUIRE_OK(a.AddFolder("photos", dir.path() / "folder-a", "sendonly", {b.DeviceId()}));
  REQUIRE_OK(b.AddFolder("photos", dir.path() / "folder-b", "receiveonly", {a.DeviceId()}));

  std::set<std::string> received;
  std::set<std::string> other_items;
  int64_t since = 0;
  auto all_received = [&](const std::vector<SyncthingEvent>& seen) {
    for (const auto& e : seen) {
      if (e.folder != "photos" || !e.IsItemFinished()) continue;
      if (e.IsFileReceived()) {
        received.insert(e.item);
      } else {
        other_items.insert(e.item + " (" + e.item_type + ", " + e.action + ")");
      }
    }
    return received.size() == files.size();
  };
  CollectEvents(b, types, &since, 120s, all_received);
  std::set<std::string> expected;
  for (const auto& [path, data] : files) expected.insert(path);
  INFO(b.LogTail());
  CHECK(received == expected);
  // The directories arrive as ItemFinished too, and are not "files received".
  CHECK(other_items.count("Kovács Péter (dir, update)") == 1);

  REQUIRE_OK(b.WaitUntilInSync("photos", 60s, static_cast<int64_t>(files.size())));
  for (const auto& [path, data] : files) CHECK(ReadAll(dir.path() / "folder-b" / path) == data);
}

TEST_CASE("SyncthingClient: https with the GUI certificate pinned", "[syncthing]") {
  TempDir dir;
  SyncthingInstance st;
  SyncthingInstance::Options o;
  o.gui_tls = true;
  REQUIRE_OK(st.Create(dir.path() / "st", o));
  SyncthingEndpoint ep = st.Endpoint();
  REQUIRE(ep.https);
  REQUIRE(ep.ca_cert_pem.find("BEGIN CERTIFICATE") != std::string::npos);

  REQUIRE_OK(Ping(ep));
  std::string id;
  REQUIRE_OK(RunSyncthingCall(ep, [&id](SyncthingClient& c) { return SyncthingDeviceId(c, &id); }));
  CHECK(id == st.DeviceId());

  // What the daemon does without configuration: read config.xml, pin the cert.
  SyncthingHomeInfo info;
  REQUIRE_OK(ReadSyncthingHome(st.Home(), &info));
  CHECK(info.tls);
  CHECK(info.port == st.GuiPort());
  SyncthingEndpoint from_home;
  REQUIRE_OK(SyncthingEndpointFromHome(info, &from_home));
  CHECK(from_home.ca_cert_pem == ep.ca_cert_pem);
  REQUIRE_OK(Ping(from_home));

  SECTION("unpinned is accepted on loopback") {
    SyncthingEndpoint unpinned = ep;
    unpinned.ca_cert_pem.clear();
    REQUIRE_OK(Ping(unpinned));
    unpinned.host = "localhost";
    REQUIRE_OK(Ping(unpinned));
  }

  SECTION("another certificate pinned is refused before the key is sent") {
    SyncthingEndpoint other = ep;
    other.ca_cert_pem = ReadAll(st.Home() / "cert.pem");  // the device certificate: a different one
    REQUIRE(other.ca_cert_pem != ep.ca_cert_pem);
    Status s = Ping(other);
    INFO(s.ToString());
    CHECK(s.code() == Status::Code::kPermission);
    CHECK(s.message().find("pinned") != std::string::npos);
    CHECK(s.message().find(st.ApiKey()) == std::string::npos);

    other.ca_cert_pem = "not a certificate";
    CHECK(Ping(other).code() == Status::Code::kInvalid);
  }

  SECTION("unpinned https to a non-loopback host is refused without connecting") {
    SyncthingEndpoint remote = ep;
    remote.host = "192.0.2.1";  // TEST-NET-1: would never answer anyway
    remote.ca_cert_pem.clear();
    Status s = Ping(remote);
    CHECK(s.code() == Status::Code::kInvalid);
    CHECK(s.message().find("https-cert.pem") != std::string::npos);
  }

  SECTION("http to the https GUI is a clear error") {
    SyncthingEndpoint plain = ep;
    plain.https = false;
    Status s = Ping(plain);
    INFO(s.ToString());
    CHECK(s.code() == Status::Code::kInvalid);
    CHECK(s.message().find("https") != std::string::npos);
  }

  SECTION("https works on a GUI with TLS off too") {
    // Syncthing 1.19 answers TLS and plain http on the same port; tls="true"
    // only makes it redirect plain http to https.
    SyncthingInstance plain;
    REQUIRE_OK(plain.Create(dir.path() / "plain"));
    SyncthingEndpoint tls = plain.Endpoint();
    tls.https = true;
    REQUIRE_OK(Ping(tls));
    tls.ca_cert_pem = ReadAll(plain.Home() / "https-cert.pem");
    REQUIRE_OK(Ping(tls));
    tls.ca_cert_pem = ep.ca_cert_pem;  // the other instance's certificate
    CHECK(Ping(tls).code() == Status::Code::kPermission);
  }
}

}  // namespace indafoto
