// End-to-end tests of `indafoto-syncd whereis` and `copies` on generated
// archives and the real binary: A imports B (whose catalog comes from its
// database), then asks which archives hold what.
#include <rapidjson/document.h>

#include <catch2/catch.hpp>
#include <set>

#include "lib/util/writer_lock.h"
#include "tests/import_fixture.h"

namespace indafoto {

namespace {

PairOptions Pair() {
  PairOptions o;
  o.a_count = 60;
  o.b_count = 50;
  o.overlap = 20;
  o.file_size = 2048;
  o.universe_seed = 11;
  return o;
}

// The JSON document in a command's output (logs may surround it).
rapidjson::Document JsonIn(const std::string& output, const std::string& starts_with) {
  rapidjson::Document d;
  size_t at = output.find(starts_with);
  REQUIRE(at != std::string::npos);
  d.Parse<rapidjson::kParseStopWhenDoneFlag>(output.c_str() + at);
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

}  // namespace

TEST_CASE("whereis and copies: which archives hold what, after an import", "[holders]") {
  ImportFixture f(Pair());
  std::vector<std::string> b_urls = QueryStrings(f.b_db(), "SELECT url FROM images");
  std::set<std::string> in_b(b_urls.begin(), b_urls.end());
  std::vector<std::string> a_urls_before = QueryStrings(f.a_db(), "SELECT url FROM images");

  // Before any catalog is known: every local image is held here alone.
  ProcessResult r = f.Run("copies", {"--json"});
  INFO(r.output);
  CHECK(r.exit_code == 1);
  {
    rapidjson::Document d = JsonIn(r.output, "{\"below\"");
    CHECK(d["local_images"].GetInt64() == 60);
    CHECK(d["listed"].GetInt64() == 60);
    CHECK(d["catalogs"].Size() == 0);
  }

  REQUIRE(f.Run("import").exit_code == 0);

  // Now A holds 60 + 30 images; those B lists are held by 2 archives.
  r = f.Run("copies", {"--json"});
  INFO(r.output);
  CHECK(r.exit_code == 1);  // A's own 40 are held here alone
  rapidjson::Document d = JsonIn(r.output, "{\"below\"");
  CHECK(d["local_images"].GetInt64() == 90);
  CHECK(d["by_holders"]["1"].GetInt64() == 40);
  CHECK(d["by_holders"]["2"].GetInt64() == 50);
  CHECK(d["by_catalog"]["peerB"].GetInt64() == 50);
  REQUIRE(d["images"].Size() == 40);
  for (const auto& img : d["images"].GetArray()) {
    std::string url = img["url"].GetString();
    INFO(url);
    CHECK_FALSE(in_b.count(url));  // listed as alone: B does not have it
    CHECK(img["holders"].GetInt64() == 1);
    CHECK(img["held_by"].Size() == 0);
  }

  // --below 3 lists everything; --below 1 nothing (exit 0).
  r = f.Run("copies", {"--below", "3", "--json"});
  CHECK(JsonIn(r.output, "{\"below\"")["images"].Size() == 90);
  r = f.Run("copies", {"--below=1"});
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("held by 1 archive(s) (here alone): 40") != std::string::npos);
  CHECK(r.output.find("held by 2 archive(s): 50") != std::string::npos);

  // whereis: an image both hold, by id, sha256 and url.
  std::string shared_url = *in_b.begin();
  std::string id = Strings(f.a_db(), "SELECT id FROM images WHERE url = ?", shared_url).at(0);
  std::string sha = Strings(f.a_db(), "SELECT sha256_hash FROM images WHERE url = ?", shared_url).at(0);
  std::string b_path = Strings(f.b_db(), "SELECT local_path FROM images WHERE url = ?", shared_url).at(0);
  b_path = b_path.substr(std::string("indafoto_archive/").size());
  for (const std::string& query : {id, sha, shared_url}) {
    INFO(query);
    r = f.Run("whereis", {query, "--json"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    rapidjson::Document w = JsonIn(r.output, "{\n");
    CHECK(w["archives"].GetInt64() == 2);
    REQUIRE(w["here"].Size() == 1);
    CHECK(std::to_string(w["here"][0]["id"].GetInt64()) == id);
    CHECK(w["here"][0]["file_present"].GetBool());
    REQUIRE(w["elsewhere"].Size() == 1);
    CHECK(std::string(w["elsewhere"][0]["archive"].GetString()) == "peerB");
    CHECK(std::string(w["elsewhere"][0]["path"].GetString()) == b_path);
  }
  r = f.Run("whereis", {shared_url});
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("peerB: " + b_path) != std::string::npos);

  // An image of A's own: here only.
  std::string own_url;
  for (const auto& u : a_urls_before)
    if (!in_b.count(u)) own_url = u;
  REQUIRE_FALSE(own_url.empty());
  r = f.Run("whereis", {own_url});
  INFO(r.output);
  CHECK(r.exit_code == 0);
  CHECK(r.output.find("held by 1 known archive") != std::string::npos);

  // Nobody holds it.
  r = f.Run("whereis", {"999999"});
  CHECK(r.exit_code == 1);
  r = f.Run("whereis", {std::string(64, 'e')});
  CHECK(r.exit_code == 1);
}

TEST_CASE("whereis and copies only read: they run while a writer holds the lock", "[holders]") {
  ImportFixture f(Pair());
  REQUIRE(f.Run("import").exit_code == 0);
  WriterLock lock;
  REQUIRE(WriterLock::Acquire(WriterLockPath(f.a_db()), "run", false, &lock).ok());
  ProcessResult r = f.Run("copies");
  INFO(r.output);
  CHECK(r.exit_code == 1);  // not 4: no lock taken
  r = f.Run("whereis", {"1"});
  INFO(r.output);
  CHECK(r.exit_code == 0);
}

TEST_CASE("whereis and copies: help, usage errors and exit codes", "[holders]") {
  ImportFixture f(Pair());
  for (const char* cmd : {"whereis", "copies"}) {
    ProcessResult r = RunProcess({BinaryPath("indafoto-syncd"), cmd, "--help"});
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK(r.output.find(std::string("indafoto-syncd ") + cmd) != std::string::npos);
    CHECK(r.output.find("Exit codes") != std::string::npos);
  }
  CHECK(f.Run("whereis").exit_code == 2);  // no image named
  CHECK(f.Run("copies", {"--below", "x"}).exit_code == 2);
  CHECK(f.Run("copies", {"--below"}).exit_code == 2);
  CHECK(f.Run("whereis", {"1", "2"}).exit_code == 2);
  ProcessResult r = RunProcess({BinaryPath("indafoto-syncd"), "--help"});
  CHECK(r.output.find("whereis") != std::string::npos);
  CHECK(r.output.find("copies") != std::string::npos);
}

}  // namespace indafoto
