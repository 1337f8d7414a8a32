#include "lib/syncthing/syncthing_home.h"

#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <string>

#include "testing/scoped_env.h"
#include "testing/temp_dir.h"

namespace indafoto {

namespace fs = std::filesystem;

namespace {

void WriteFile(const fs::path& p, const std::string& data) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << data;
}

std::string Config(const std::string& gui) {
  return "<configuration version=\"36\">\n"
         "    <device id=\"AAAAAAA\" name=\"x\"><address>dynamic</address></device>\n" +
         gui + "\n    <options><listenAddress>default</listenAddress></options>\n</configuration>\n";
}


}  // namespace

TEST_CASE("ReadSyncthingHome reads a config.xml made by syncthing generate", "[syncthing]") {
  TempDir dir;
  fs::path home = dir.path() / "st";
  const char* bin = std::getenv("INDAFOTO_SYNCTHING");
  std::string cmd =
      "STNODEFAULTFOLDER=1 '" + std::string(bin && *bin ? bin : "syncthing") + "' generate --skip-port-probing --no-default-folder --home='" +
      home.string() + "' >'" + (dir.path() / "gen.log").string() + "' 2>&1";
  if (std::system(cmd.c_str()) != 0) {
    WARN("syncthing generate did not run (Debian package syncthing missing?); skipping");
    return;
  }
  SyncthingHomeInfo info;
  REQUIRE(ReadSyncthingHome(home, &info).ok());
  CHECK(info.config_path == home / "config.xml");
  CHECK(info.https_cert_path == home / "https-cert.pem");
  CHECK(info.gui_enabled);
  CHECK_FALSE(info.tls);
  CHECK(info.gui_address == "127.0.0.1:8384");
  CHECK(info.host == "127.0.0.1");
  CHECK(info.port == 8384);
  CHECK(info.api_key.size() >= 16);

  SyncthingEndpoint ep;
  REQUIRE(SyncthingEndpointFromHome(info, &ep).ok());
  CHECK(ep.host == "127.0.0.1");
  CHECK(ep.port == 8384);
  CHECK_FALSE(ep.https);
  CHECK(ep.api_key == info.api_key);
}

TEST_CASE("ReadSyncthingConfig understands the GUI address forms", "[syncthing]") {
  TempDir dir;
  fs::path cfg = dir.path() / "config.xml";
  struct Case {
    const char* gui;
    const char* host;
    uint16_t port;
    bool tls;
  } cases[] = {
      {"<gui enabled=\"true\" tls=\"false\"><address>127.0.0.1:8384</address><apikey>k</apikey></gui>",
       "127.0.0.1", 8384, false},
      {"<gui enabled=\"true\" tls=\"true\"><address>0.0.0.0:8443</address><apikey>k</apikey></gui>",
       "127.0.0.1", 8443, true},
      {"<gui tls=\"TRUE\"><address> [::]:9000 </address></gui>", "::1", 9000, true},
      {"<gui><address>[::1]:8384</address></gui>", "::1", 8384, false},
      {"<gui><address>:8385</address></gui>", "127.0.0.1", 8385, false},
      {"<gui><address>https://nas.lan:8384</address></gui>", "nas.lan", 8384, true},
      {"<gui><address>http://localhost:8384/</address></gui>", "localhost", 8384, false},
  };
  for (const Case& c : cases) {
    INFO(c.gui);
    WriteFile(cfg, Config(c.gui));
    SyncthingHomeInfo info;
    REQUIRE(ReadSyncthingConfig(cfg, &info).ok());
    CHECK(info.host == c.host);
    CHECK(info.port == c.port);
    CHECK(info.tls == c.tls);
  }

  WriteFile(cfg, Config("<gui><address>127.0.0.1:8384</address><apikey>  abc  </apikey></gui>"));
  SyncthingHomeInfo info;
  REQUIRE(ReadSyncthingConfig(cfg, &info).ok());
  CHECK(info.api_key == "abc");

  const char* invalid[] = {
      "<gui><address>127.0.0.1</address></gui>",
      "<gui><address>127.0.0.1:99999</address></gui>",
      "<gui><address>127.0.0.1:http</address></gui>",
      "<gui><address>::1:8384</address></gui>",
      "<gui><address>/run/syncthing.sock</address></gui>",
      "<gui><address></address></gui>",
      "<nogui/>",
  };
  for (const char* gui : invalid) {
    INFO(gui);
    WriteFile(cfg, Config(gui));
    CHECK(ReadSyncthingConfig(cfg, &info).code() == Status::Code::kInvalid);
  }
  WriteFile(cfg, "<configuration><gui><address>127.0.0.1:8384</addr");
  CHECK(ReadSyncthingConfig(cfg, &info).code() == Status::Code::kCorrupt);
  WriteFile(cfg, "<html><body>not syncthing</body></html>");
  CHECK(ReadSyncthingConfig(cfg, &info).code() == Status::Code::kInvalid);
  CHECK(ReadSyncthingConfig(dir.path() / "missing.xml", &info).IsNotFound());
}

TEST_CASE("SyncthingEndpointFromHome pins https-cert.pem", "[syncthing]") {
  TempDir dir;
  fs::path cfg = dir.path() / "config.xml";
  WriteFile(cfg, Config("<gui tls=\"true\"><address>192.0.2.7:8384</address><apikey>k</apikey></gui>"));
  SyncthingHomeInfo info;
  REQUIRE(ReadSyncthingConfig(cfg, &info).ok());
  SyncthingEndpoint ep;
  // Not loopback and nothing to pin: refuse rather than trust anything.
  CHECK(SyncthingEndpointFromHome(info, &ep).IsNotFound());

  WriteFile(dir.path() / "https-cert.pem", "-----BEGIN CERTIFICATE-----\nxyz\n-----END CERTIFICATE-----\n");
  REQUIRE(SyncthingEndpointFromHome(info, &ep).ok());
  CHECK(ep.https);
  CHECK(ep.host == "192.0.2.7");
  CHECK(ep.ca_cert_pem.find("BEGIN CERTIFICATE") != std::string::npos);

  // Loopback without a certificate file: allowed, unpinned.
  fs::remove(dir.path() / "https-cert.pem");
  WriteFile(cfg, Config("<gui tls=\"true\"><address>127.0.0.1:8384</address></gui>"));
  REQUIRE(ReadSyncthingConfig(cfg, &info).ok());
  REQUIRE(SyncthingEndpointFromHome(info, &ep).ok());
  CHECK(ep.ca_cert_pem.empty());

  WriteFile(cfg, Config("<gui enabled=\"false\"><address>127.0.0.1:8384</address></gui>"));
  REQUIRE(ReadSyncthingConfig(cfg, &info).ok());
  CHECK(SyncthingEndpointFromHome(info, &ep).code() == Status::Code::kInvalid);
}

TEST_CASE("DefaultSyncthingHomes follows Syncthing's own search order", "[syncthing]") {
  TempDir dir;
  ScopedEnv home("HOME", dir.path().string());
  ScopedEnv state("XDG_STATE_HOME", (dir.path() / "state").string());
  ScopedEnv config("XDG_CONFIG_HOME", std::nullopt);
  ScopedEnv confdir("STCONFDIR", std::nullopt);
  ScopedEnv homedir("STHOMEDIR", std::nullopt);
  std::vector<fs::path> homes = DefaultSyncthingHomes();
  REQUIRE(homes.size() == 4);
  CHECK(homes[0] == dir.path() / ".config" / "syncthing");
  CHECK(homes[1] == dir.path() / "state" / "syncthing");
  CHECK(homes[2] == dir.path() / ".local" / "state" / "syncthing");
  CHECK(homes[3] == "/var/syncthing/config");  // the official Docker image

  SyncthingHomeInfo info;
  Status s = FindSyncthingHome(&info);
  if (!fs::exists("/var/syncthing/config/config.xml")) {
    CHECK(s.IsNotFound());
    CHECK(s.message().find(".config/syncthing") != std::string::npos);
    CHECK(s.message().find("/var/syncthing/config") != std::string::npos);
  }

  // A new home (Syncthing >= 1.27: Debian 13's 1.29, 2.x).
  WriteFile(dir.path() / ".local" / "state" / "syncthing" / "config.xml",
            Config("<gui><address>127.0.0.1:8387</address></gui>"));
  REQUIRE(FindSyncthingHome(&info).ok());
  CHECK(info.port == 8387);
  CHECK(info.config_path == dir.path() / ".local" / "state" / "syncthing" / "config.xml");

  // A legacy home (1.19, or any home made before 1.27) wins while it holds
  // a config.xml: Syncthing itself keeps using it after an upgrade.
  WriteFile(dir.path() / ".config" / "syncthing" / "config.xml",
            Config("<gui><address>127.0.0.1:8386</address><apikey>kk</apikey></gui>"));
  REQUIRE(FindSyncthingHome(&info).ok());
  CHECK(info.port == 8386);
  CHECK(info.config_path == dir.path() / ".config" / "syncthing" / "config.xml");

  ScopedEnv relative("XDG_STATE_HOME", "relative/path");
  CHECK(DefaultSyncthingHomes().size() == 3);
}

// Syncthing 2.x as the official image runs it: STHOMEDIR=/var/syncthing/config,
// a config.xml of configuration version 52, the GUI address overridden by
// STGUIADDRESS at run time (config.xml keeps its own).
TEST_CASE("Syncthing 2.x layout: $STHOMEDIR / $STCONFDIR and a version 52 config.xml", "[syncthing]") {
  TempDir dir;
  ScopedEnv home("HOME", (dir.path() / "user").string());
  ScopedEnv state("XDG_STATE_HOME", std::nullopt);
  ScopedEnv config("XDG_CONFIG_HOME", std::nullopt);
  ScopedEnv confdir("STCONFDIR", std::nullopt);
  fs::path st_home = dir.path() / "var" / "syncthing" / "config";
  ScopedEnv homedir("STHOMEDIR", st_home.string());
  WriteFile(st_home / "config.xml",
            "<configuration version=\"52\">\n"
            "    <device id=\"AAAAAAA\" name=\"indafoto-syncthing\" compression=\"metadata\">\n"
            "        <address>dynamic</address>\n    </device>\n"
            "    <gui enabled=\"true\" tls=\"false\" sendBasicAuthPrompt=\"false\">\n"
            "        <address>127.0.0.1:8384</address>\n"
            "        <metricsWithoutAuth>false</metricsWithoutAuth>\n"
            "        <apikey>abcdefghijklmnopqrstuvwxyz012345</apikey>\n"
            "        <theme>default</theme>\n    </gui>\n"
            "    <options><listenAddress>default</listenAddress></options>\n"
            "</configuration>\n");
  // Also a home in the user's state directory: STHOMEDIR wins, as in Syncthing.
  WriteFile(dir.path() / "user" / ".local" / "state" / "syncthing" / "config.xml",
            Config("<gui><address>127.0.0.1:9999</address></gui>"));
  SyncthingHomeInfo info;
  REQUIRE(FindSyncthingHome(&info).ok());
  CHECK(info.config_path == st_home / "config.xml");
  CHECK(info.port == 8384);
  CHECK(info.api_key == "abcdefghijklmnopqrstuvwxyz012345");

  // --config / $STCONFDIR (config and keys apart from the data) comes first.
  fs::path conf_dir = dir.path() / "conf";
  WriteFile(conf_dir / "config.xml", Config("<gui><address>127.0.0.1:8390</address></gui>"));
  ScopedEnv confdir2("STCONFDIR", conf_dir.string());
  REQUIRE(FindSyncthingHome(&info).ok());
  CHECK(info.port == 8390);
}

}  // namespace indafoto
