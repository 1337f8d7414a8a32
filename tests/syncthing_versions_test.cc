// The Syncthing version matrix: ctest runs the [syncthing] cases once with
// Debian 12's Syncthing (1.19, on PATH) and once with Debian 13's (1.29,
// fetched by tests/with_syncthing.sh and named by $INDAFOTO_SYNCTHING). These
// cases check that the version asked for is the one running, and that
// config discovery finds the home that this version makes by default.
#include <utility>  // before asio, see lib/syncthing/syncthing_client.h

#include <catch2/catch.hpp>
#include <cstdlib>
#include <optional>
#include <regex>
#include <string>

#include "testing/syncthing_admin.h"
#include "lib/syncthing/syncthing_client.h"
#include "lib/syncthing/syncthing_home.h"
#include "testing/process.h"
#include "testing/scoped_env.h"
#include "testing/syncthing_instance.h"
#include "testing/temp_dir.h"

namespace indafoto {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string SyncthingBin() {
  const char* b = std::getenv("INDAFOTO_SYNCTHING");
  return b && *b ? b : "syncthing";
}

// "syncthing v1.29.5 ..." → {1, 29}.
std::pair<int, int> SyncthingVersion(std::string* full) {
  ProcessResult r = RunProcess({SyncthingBin(), "--version"});
  *full = r.output;
  std::smatch m;
  static const std::regex re(R"(syncthing v(\d+)\.(\d+)\.)");
  if (r.exit_code != 0 || !std::regex_search(r.output, m, re)) return {0, 0};
  return {std::stoi(m[1]), std::stoi(m[2])};
}


// Where Syncthing of this version puts a new home by default (no XDG
// variables set): ~/.config/syncthing before 1.27, ~/.local/state/syncthing
// from 1.27 on (and in 2.x).
fs::path DefaultHomeOf(std::pair<int, int> v, const fs::path& user_home) {
  bool state_dir = v.first > 1 || (v.first == 1 && v.second >= 27);
  return state_dir ? user_home / ".local" / "state" / "syncthing" : user_home / ".config" / "syncthing";
}

}  // namespace

TEST_CASE("Syncthing matrix: the version under test is the one asked for", "[syncthing][versions]") {
  std::string full;
  auto v = SyncthingVersion(&full);
  INFO(SyncthingBin() << " --version: " << full);
  REQUIRE(v.first > 0);
  WARN("Syncthing under test: " << full.substr(0, full.find('\n')));
  if (const char* want = std::getenv("INDAFOTO_SYNCTHING_EXPECT"); want && *want) {
    CHECK(std::to_string(v.first) + "." + std::to_string(v.second) == want);
  }
}

TEST_CASE("config discovery finds the home this Syncthing version makes by default, and it answers",
          "[syncthing][versions][discovery]") {
  std::string full;
  auto v = SyncthingVersion(&full);
  REQUIRE(v.first > 0);
  TempDir dir;
  ScopedEnv state("XDG_STATE_HOME", std::nullopt);
  ScopedEnv config("XDG_CONFIG_HOME", std::nullopt);
  ScopedEnv confdir("STCONFDIR", std::nullopt);
  ScopedEnv homedir("STHOMEDIR", std::nullopt);

  // 1. `syncthing generate` without --home, as a user's first start: the
  // home lands where this version puts it, and discovery finds it there.
  fs::path user1 = dir.path() / "user1";
  fs::create_directories(user1);
  ProcessResult gen = RunProcess({SyncthingBin(), "generate", "--no-default-folder", "--skip-port-probing"},
                                 {"HOME=" + user1.string(), "XDG_CONFIG_HOME=", "XDG_STATE_HOME=",
                                  "STCONFDIR=", "STHOMEDIR=", "STNODEFAULTFOLDER=1"});
  INFO(gen.output);
  REQUIRE(gen.exit_code == 0);
  fs::path expected = DefaultHomeOf(v, user1);
  REQUIRE(fs::exists(expected / "config.xml"));
  {
    ScopedEnv home("HOME", user1.string());
    SyncthingHomeInfo info;
    Status s = FindSyncthingHome(&info);
    INFO(s.ToString());
    REQUIRE(s.ok());
    CHECK(info.config_path == expected / "config.xml");
    CHECK(info.api_key.size() >= 16);
  }

  // 2. A running Syncthing whose home sits in that default place: the
  // endpoint discovered from its config.xml (address, API key) answers.
  fs::path user2 = dir.path() / "user2";
  SyncthingInstance st;
  Status s = st.Create(DefaultHomeOf(v, user2));
  INFO(s.ToString());
  REQUIRE(s.ok());
  ScopedEnv home("HOME", user2.string());
  SyncthingHomeInfo info;
  REQUIRE(FindSyncthingHome(&info).ok());
  CHECK(info.port == st.GuiPort());
  SyncthingEndpoint ep;
  REQUIRE(SyncthingEndpointFromHome(info, &ep).ok());
  CHECK(ep.api_key == st.ApiKey());
  Status ping = RunSyncthingCall(ep, [](SyncthingClient& c) { return SyncthingPing(c, 10s); });
  INFO(ping.ToString());
  CHECK(ping.ok());
}

}  // namespace indafoto
