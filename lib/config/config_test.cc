#include "lib/config/config.h"

#include <catch2/catch.hpp>
#include <cstdlib>

namespace indafoto {

TEST_CASE("Config accepts the original tool's flat form", "[config]") {
  Config c;
  Status s = ParseConfig(R"({
    "database_path": "indafoto.db",
    "image_root": "indafoto_archive",
    "syncthing_api_key": "k3y",
    "syncthing_host": "127.0.0.1",
    "syncthing_port": 8385,
    "remote_sources": [
      {"name": "peer1", "folder_id": "indafoto-peer1", "local_path": "received/peer1",
       "remote_db_path": "remote/peer1.db"}
    ]})", "/etc/x/config.json", &c);
  REQUIRE(s.ok());
  CHECK(c.database_path == "/etc/x/indafoto.db");
  CHECK(c.image_root == "/etc/x/indafoto_archive");
  CHECK(c.syncthing.api_key == "k3y");
  CHECK(c.syncthing.port == 8385);
  REQUIRE(c.sources.size() == 1);
  CHECK(c.sources[0].received_folder == "/etc/x/received/peer1");
  CHECK(c.sources[0].remote_db_path == "/etc/x/remote/peer1.db");
  CHECK(c.state_path == "/etc/x/indafoto-syncd-state.db");
}

TEST_CASE("Config accepts the nested syncthing form with api_key_env", "[config]") {
  Config c;
  REQUIRE(ParseConfig(R"({"database_path": "/a/indafoto.db",
      "syncthing": {"api_key_env": "INDAFOTO_TEST_KEY", "host": "localhost", "port": 8384}})",
                      "/etc/c.json", &c)
              .ok());
  ::setenv("INDAFOTO_TEST_KEY", "from-env", 1);
  CHECK(c.ResolvedApiKey() == "from-env");
  CHECK(c.image_root == "/a/indafoto_archive");
}

TEST_CASE("Config errors name the offending key", "[config]") {
  Config c;
  Status s = ParseConfig(R"({"database_path": "x.db", "syncthing_prot": 1})", "/c.json", &c);
  CHECK_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains("'syncthing_prot'"));
  s = ParseConfig(R"({"database_path": "x.db", "syncthing_port": "8384"})", "/c.json", &c);
  CHECK_THAT(s.message(), Catch::Contains("'syncthing_port' must be an integer"));
  s = ParseConfig(R"({"database_path": "x.db", "remote_sources": [{"name": "a", "local_path": "r", "bogus": 1}]})",
                  "/c.json", &c);
  CHECK_THAT(s.message(), Catch::Contains("'remote_sources[0].bogus'"));
  s = ParseConfig(R"({"database_path": "x.db", "syncthing": {"port": 0}})", "/c.json", &c);
  CHECK_THAT(s.message(), Catch::Contains("'syncthing.port'"));
  s = ParseConfig(R"({"image_root": "x"})", "/c.json", &c);
  CHECK_THAT(s.message(), Catch::Contains("'database_path' is required"));
  s = ParseConfig("{not json", "/c.json", &c);
  CHECK_THAT(s.message(), Catch::Contains("not valid JSON"));
  s = ParseConfig(R"({"database_path": "x.db", "remote_sources": [{"name": "a", "local_path": "indafoto_archive/in"}]})",
                  "/c.json", &c);
  CHECK_THAT(s.message(), Catch::Contains("lies inside (or is) 'image_root'"));
}

}  // namespace indafoto

namespace indafoto {

TEST_CASE("Config publish.max_delay_seconds: default, value, strict type and range", "[config]") {
  Config c;
  REQUIRE(ParseConfig(R"({"database_path": "x.db", "publish": {"enabled": true}})", "/c.json", &c).ok());
  CHECK(c.publish.debounce_seconds == 60);
  CHECK(c.publish.max_delay_seconds == 300);
  REQUIRE(ParseConfig(R"({"database_path": "x.db", "publish": {"max_delay_seconds": 120}})", "/c.json", &c).ok());
  CHECK(c.publish.max_delay_seconds == 120);
  Status s = ParseConfig(R"({"database_path": "x.db", "publish": {"max_delay_seconds": "120"}})", "/c.json", &c);
  CHECK_THAT(s.message(), Catch::Contains("'publish.max_delay_seconds' must be an integer"));
  s = ParseConfig(R"({"database_path": "x.db", "publish": {"max_delay_seconds": -1}})", "/c.json", &c);
  CHECK_THAT(s.message(), Catch::Contains("'publish.max_delay_seconds'"));
  s = ParseConfig(R"({"database_path": "x.db", "publish": {"max_delay_seconds": 86401}})", "/c.json", &c);
  CHECK_THAT(s.message(), Catch::Contains("'publish.max_delay_seconds'"));
  s = ParseConfig(R"({"database_path": "x.db", "publish": {"max_delay": 10}})", "/c.json", &c);
  CHECK_THAT(s.message(), Catch::Contains("'publish.max_delay'"));
}

TEST_CASE("Config refuses a key given twice, naming it", "[config]") {
  Config c;
  Status s = ParseConfig(R"({"database_path": "/a/x.db", "remote_sources": [{"name": "a", "name": "b",
      "folder_id": "f", "local_path": "/r"}]})", "/c.json", &c);
  CHECK(s.code() == Status::Code::kInvalid);
  CHECK_THAT(s.message(), Catch::Contains("'remote_sources[0].name' appears twice"));
  s = ParseConfig(R"({"database_path": "/a/x.db", "database_path": "/b/x.db"})", "/c.json", &c);
  CHECK_THAT(s.message(), Catch::Contains("'database_path' appears twice"));
}

TEST_CASE("Config refuses paths nested where that makes no sense", "[config]") {
  Config c;
  auto parse = [&](const std::string& extra, const std::string& received) {
    return ParseConfig(R"({"database_path": "/srv/a/indafoto.db")" + extra +
                           R"(, "remote_sources": [{"name": "b", "folder_id": "f", "local_path": ")" + received +
                           R"("}]})",
                       "/c.json", &c);
  };
  CHECK(parse("", "/srv/received/b").ok());
  CHECK_THAT(parse("", "/srv/a").message(), Catch::Contains("'image_root' /srv/a/indafoto_archive lies inside"));
  CHECK_THAT(parse("", "/srv/a/indafoto_archive/b").message(), Catch::Contains("lies inside (or is) 'image_root'"));
  CHECK_THAT(parse(R"(, "state_path": "/srv/received/b/state.db")", "/srv/received/b").message(),
             Catch::Contains("'state_path'"));
  CHECK_THAT(parse(R"(, "key_path": "/srv/a/indafoto_archive/k.key")", "/srv/received/b").message(),
             Catch::Contains("'key_path' /srv/a/indafoto_archive/k.key lies inside 'image_root'"));
}

// Regressions from fuzz/config_fuzz.cc (inputs kept in fuzz/corpus/config/).
TEST_CASE("Config refuses a key or value cut short by a NUL", "[config][fuzz]") {
  Config c;
  // Was accepted: the key read as "database_path" was "seen", so the
  // unknown key "database_path\0x" was silently ignored.
  Status s = ParseConfig(R"({"database_path": "x.db", "database_path\u0000x": "y.db"})", "/c.json", &c);
  CHECK_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains("unknown key 'database_path\\u0000x'"));
  // Was accepted as the path "/srv/a".
  s = ParseConfig(R"({"database_path": "/srv/a\u0000/etc/x.db"})", "/c.json", &c);
  CHECK_FALSE(s.ok());
  CHECK_THAT(s.message(), Catch::Contains("'database_path' must not contain a NUL"));
  s = ParseConfig(R"({"database_path": "x.db", "syncthing": {"home": "h\u0000"}})", "/c.json", &c);
  CHECK_THAT(s.message(), Catch::Contains("'syncthing.home' must not contain a NUL"));
}

TEST_CASE("Config: a deeply nested document is an error and no stack overflow", "[config][fuzz]") {
  Config c;
  for (const char* open : {"[", "{\"a\":"}) {
    std::string deep;
    for (int i = 0; i < 1000000; ++i) deep += open;
    Status s = ParseConfig(deep, "/c.json", &c);
    CHECK_FALSE(s.ok());
    CHECK_THAT(s.message(), Catch::Contains("not valid JSON"));
  }
}

}  // namespace indafoto
