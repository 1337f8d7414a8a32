#include "lib/archive/remote_image.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace indafoto {

// The catalog store and the manifest keep entries as RemoteImageToJson text
// and read them with RemoteImageFromJson: the text must parse back to the
// same record (fuzz/fuzz_util.h CheckRoundTrip checks it for every entry the
// fuzz targets accept).
TEST_CASE("RemoteImage JSON keeps NULs inside names and keys and digests", "[remote_image][fuzz]") {
  RemoteImage img;
  img.rel_path = "a/b.jpg";
  img.sha256 = std::string("ab\0cd", 5);
  img.columns.emplace_back(std::string("title\0x", 7), Value::Text(std::string("t\0t", 3)));
  img.albums.push_back(AlbumRef{std::string("1\0" "2", 3), Value::Text("A"), Value(), Value::Integer(1)});
  img.collections.push_back(CollectionRef{std::string("9\0\0", 3), Value(), Value(), Value::Integer(0)});
  std::string json = RemoteImageToJson(img);
  RemoteImage back;
  REQUIRE(RemoteImageFromJson(json, &back).ok());
  CHECK(back.sha256 == img.sha256);
  REQUIRE(back.columns.size() == 1);
  CHECK(back.columns[0].first == img.columns[0].first);
  CHECK(back.columns[0].second == img.columns[0].second);
  REQUIRE(back.albums.size() == 1);
  CHECK(back.albums[0].album_id == img.albums[0].album_id);
  REQUIRE(back.collections.size() == 1);
  CHECK(back.collections[0].collection_id == img.collections[0].collection_id);
  CHECK(RemoteImageToJson(back) == json);
}

TEST_CASE("RemoteImage JSON writes an infinite real as null and stays valid", "[remote_image][fuzz]") {
  RemoteImage img;
  img.rel_path = "a/b.jpg";
  img.Set("focal_length", Value::Real(std::numeric_limits<double>::infinity()));
  img.Set("aperture", Value::Real(-std::numeric_limits<double>::infinity()));
  img.Set("shutter_speed", Value::Real(0.5));
  std::string json = RemoteImageToJson(img);
  RemoteImage back;
  INFO(json);
  REQUIRE(RemoteImageFromJson(json, &back).ok());
  CHECK(back.Get("focal_length").is_null());
  CHECK(back.Get("aperture").is_null());
  CHECK(back.Get("shutter_speed") == Value::Real(0.5));
}

// Found by fuzz/manifest_part_fuzz.cc (fuzz/corpus/manifest_part/
// crash-real-round-trip.jsonl): 184467440737095500000.0 came back as
// 184467440737095480000.0, so a REAL column drifted on every hop through
// a catalog record or a manifest.
TEST_CASE("RemoteImage JSON keeps every finite real exactly", "[remote_image][fuzz]") {
  std::vector<double> values = {0.1, 1.0 / 3, 184467440737095500000.0, 1.8446744073709552e19, 5e-324,
                                2.2250738585072014e-308, 1.7976931348623157e308, -0.0, 4.35};
  std::mt19937_64 random(8);
  while (values.size() < 20000) {
    uint64_t bits = random();
    double v;
    std::memcpy(&v, &bits, sizeof v);
    if (std::isfinite(v)) values.push_back(v);
  }
  int drifted = 0;
  for (double v : values) {
    RemoteImage img;
    img.rel_path = "a/b.jpg";
    img.Set("focal_length", Value::Real(v));
    RemoteImage back;
    REQUIRE(RemoteImageFromJson(RemoteImageToJson(img), &back).ok());
    const Value& got = back.Get("focal_length");
    if (got.type != Value::Type::kReal || std::memcmp(&got.real, &v, sizeof v) != 0) {
      if (drifted++ < 3) WARN("drifted: " << RemoteImageToJson(img) << " -> " << RemoteImageToJson(back));
    }
  }
  CHECK(drifted == 0);
}

// The first fix (kParseFullPrecisionFlag) turned up rapidjson 1.1.0's own
// bug (fuzz/manifest_part_fuzz.cc, UBSan in internal/diyfp.h): long
// integers came back as nonsense.
TEST_CASE("RemoteImage JSON reads numbers exactly", "[remote_image][fuzz]") {
  auto read = [](const std::string& number, Value* out) {
    RemoteImage img;
    bool ok = RemoteImageFromJson("{\"path\":\"a/b.jpg\",\"columns\":{\"x\":" + number + "}}", &img).ok();
    if (ok) *out = img.Get("x");
    return ok;
  };
  Value v;
  REQUIRE(read("184467440737095516159", &v));
  CHECK(v == Value::Real(184467440737095516159.0));
  REQUIRE(read("18446744073709551615", &v));  // above int64: a real, as before
  CHECK(v == Value::Real(18446744073709551615.0));
  REQUIRE(read("-9223372036854775808", &v));
  CHECK(v == Value::Integer(INT64_MIN));
  REQUIRE(read("42", &v));
  CHECK(v == Value::Integer(42));
  REQUIRE(read("-0", &v));
  CHECK(v == Value::Integer(0));
  REQUIRE(read("0.1", &v));
  CHECK(v == Value::Real(0.1));
  REQUIRE(read("1e-400", &v));  // underflows to zero, as before
  CHECK(v == Value::Real(0.0));
  REQUIRE(read("4.9406564584124654e-324", &v));
  CHECK(v == Value::Real(5e-324));
  RemoteImage img;
  CHECK_THAT(RemoteImageFromJson("{\"path\":\"a\",\"columns\":{\"x\":1e400}}", &img).message(), Catch::Contains("Number too big"));
  CHECK_THAT(RemoteImageFromJson("{\"path\":\"a\",\"columns\":{\"x\":01}}", &img).message(), Catch::Contains("bad JSON"));
  CHECK_THAT(RemoteImageFromJson("{\"path\":\"a\",", &img).message(), Catch::Contains("bad JSON"));
}

}  // namespace indafoto
