// The exchange's part of the configuration: peers and exchange_root.
#include <catch2/catch.hpp>

#include "lib/config/config.h"

namespace indafoto {

namespace {
const char* kDevA = "MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAD";
const char* kDevB = "P56IOI7-MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-PQ6W5BM-TBBZ4TJ-XZWICQ2";
}  // namespace

TEST_CASE("Config peers become exchange sources under exchange_root", "[config][exchange]") {
  Config c;
  Status s = ParseConfig(std::string(R"({"database_path": "/a/indafoto.db",
      "remote_sources": [{"name": "old", "local_path": "/a/received/old"}],
      "peers": [{"name": "bob", "device_id": ")") + kDevA + R"("},
                {"name": "carol", "device_id": ")" + std::string(kDevB).substr(0, 20) + "-" +
                             "x" + R"("}]})",
                         "/etc/c.json", &c);
  CHECK_FALSE(s.ok());  // a malformed device id
  CHECK(s.message().find("peers[1].device_id") != std::string::npos);

  std::string lower = kDevB;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(ch));
  s = ParseConfig(std::string(R"({"database_path": "/a/indafoto.db",
      "remote_sources": [{"name": "old", "local_path": "/a/received/old"}],
      "peers": [{"name": "bob", "device_id": ")") + kDevA + R"("},
                {"name": "carol", "device_id": ")" + lower + R"("}]})",
                  "/etc/c.json", &c);
  REQUIRE(s.ok());
  REQUIRE(c.peers.size() == 2);
  CHECK(c.peers[1].device_id == kDevB);  // upper case
  CHECK(c.exchange_root == "/a/.indafoto-exchange");
  CHECK(c.peer_fallback_minutes == 30);
  REQUIRE(c.sources.size() == 3);
  CHECK_FALSE(c.sources[0].exchange);
  CHECK(c.sources[1].exchange);
  CHECK(c.sources[1].name == "bob");
  CHECK(c.sources[1].received_folder == "/a/.indafoto-exchange/from-bob");
  CHECK(c.sources[1].folder_id.empty());
  CHECK(ExchangeOutgoingPath(c, "bob") == "/a/.indafoto-exchange/to-bob");
}

TEST_CASE("Config peer errors name the key", "[config][exchange]") {
  Config c;
  auto parse = [&](const std::string& peers, const std::string& extra = "") {
    return ParseConfig(R"({"database_path": "/a/indafoto.db",
      "remote_sources": [{"name": "old", "local_path": "/a/received/old"}], "peers": )" + peers + extra + "}",
                       "/etc/c.json", &c);
  };
  std::string a = kDevA;
  auto mentions = [](const Status& s, const char* what) {
    INFO(s.message());
    return !s.ok() && s.message().find(what) != std::string::npos;
  };
  CHECK(mentions(parse(R"([{"name": "bob", "device_id": ")" + a + R"(", "address": "x"}])"), "'peers[0].address'"));
  CHECK(mentions(parse(R"([{"name": 3, "device_id": ")" + a + R"("}])"), "'peers[0].name' must be a string"));
  CHECK(mentions(parse(R"([{"device_id": ")" + a + R"("}])"), "'peers[0].name' is required"));
  CHECK(mentions(parse(R"([{"name": "bob"}])"), "'peers[0].device_id' is required"));
  CHECK(mentions(parse(R"([{"name": "../x", "device_id": ")" + a + R"("}])"), "'peers[0].name'"));
  CHECK(mentions(parse(R"([{"name": "old", "device_id": ")" + a + R"("}])"), "already used"));
  CHECK(mentions(parse(R"([{"name": "b", "device_id": ")" + a + R"("}, {"name": "c", "device_id": ")" + a +
                       R"("}])"),
                 "listed twice"));
  CHECK(mentions(parse(R"({"name": "b"})"), "'peers' must be a list"));
  CHECK(mentions(parse(R"([{"name": "b", "device_id": ")" + a + R"("}])", R"(, "peer_fallback_minutes": 0)"),
                 "'peer_fallback_minutes'"));
  CHECK(mentions(parse(R"([{"name": "b", "device_id": ")" + a + R"("}])", R"(, "exchange_root": "/a/indafoto_archive/x")"),
                 "exchange_root"));
  CHECK(mentions(ParseConfig(R"({"database_path": "/a/indafoto.db",
      "remote_sources": [{"name": "@self", "local_path": "/a/received/x"}]})", "/etc/c.json", &c), "reserved"));
  CHECK(parse(R"([{"name": "b", "device_id": ")" + a + R"("}])", R"(, "exchange_root": "/srv/ex")").ok());
  CHECK(c.exchange_root == "/srv/ex");
  CHECK(c.sources[1].received_folder == "/srv/ex/from-b");
}

}  // namespace indafoto
