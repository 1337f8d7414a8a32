// indafoto-gen: makes crawler-style archives for tests, the demo and
// benchmarks (testing/archive_generator.h).
//
// Exit codes: 0 success, 1 generation failed, 2 bad command line.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "testing/archive_generator.h"

namespace indafoto {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

const char* const kUsage = R"(usage: indafoto-gen COMMAND [OPTIONS]

Makes crawler-style Indafoto archives (indafoto.db + indafoto_archive/) from a
deterministic universe: the same --seed gives the same url, uuid and file
content for an image id in every archive.

Commands:
  archive  --dir DIR --ids LIST [options]
      Creates a new archive in DIR (DIR must not hold an indafoto.db).
      --seed S             universe seed (default 1)
      --variant V          per-archive variation: 0 = canonical (default);
                           others drop one tag per image, blank some
                           description/camera_model/focal_length, own file
                           timestamps
      --blank-percent P    share of images with blanked columns (default 25)
      --old-schema         images table without description, camera_model,
                           sha256_hash, upload_date, metadata_updated
      --null-sha-every K   every K-th row has sha256_hash NULL
      --alter LIST         ids whose file content differs from the universe
      --file-size BYTES    size of each image file (default 4096, min 128)
      --no-files           rows only, no image files (scale benchmarks)
      --ban AUTHOR         add a banned_authors row (repeatable)
      --batch N            rows per transaction (default 5000)

  pair  --a DIR --b DIR --a-count N --b-count M --overlap K [options]
      Two archives of one universe: A holds ids FIRST..FIRST+N-1 (variant 1),
      B holds the last K of them and M-K new ones (variant 2).
      --first-id I, --seed S, --file-size BYTES, --no-files,
      --null-sha-every K, --b-old-schema, --ban-a AUTHOR, --ban-b AUTHOR

  append  --dir DIR --ids LIST [options]
      Adds images to an existing archive as the running crawler would: one
      file and one committed row at a time. Ids already present are skipped.
      --seed S, --variant V, --blank-percent P, --file-size BYTES,
      --delay-ms MS (pause between images)

  facts  --id N [--seed S] [--file-size BYTES] [--variant V]
      Prints an image's facts (url, uuid, author, file name, sha256, tags,
      ...) as JSON.

  authors
      Lists the universe's author names, one per line.

LIST is a comma-separated list of ids and inclusive ranges: 1-500,600,700-710.
Exit codes: 0 success, 1 generation failed, 2 bad command line.
)";

struct UsageError {
  std::string message;
};

// Command-line words after the command, consumed left to right.
class Args {
 public:
  Args(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) words_.emplace_back(argv[i]);
  }
  bool Done() const { return pos_ >= words_.size(); }
  std::string Next() { return words_[pos_++]; }
  std::string Value(const std::string& flag) {
    if (Done()) throw UsageError{flag + " needs a value"};
    return Next();
  }

 private:
  std::vector<std::string> words_;
  size_t pos_ = 0;
};

int64_t ParseInt(const std::string& flag, const std::string& text, int64_t min) {
  size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used, 10);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size())
    throw UsageError{flag + ": not an integer: '" + text + "'"};
  if (v < min) throw UsageError{flag + ": must be at least " + std::to_string(min)};
  return v;
}

uint64_t ParseSeed(const std::string& text) {
  size_t used = 0;
  unsigned long long v = 0;
  try {
    v = std::stoull(text, &used, 10);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || text[0] == '-')
    throw UsageError{"--seed: not a non-negative integer: '" + text + "'"};
  return v;
}

std::vector<int64_t> ParseIds(const std::string& flag, const std::string& text) {
  std::vector<int64_t> ids;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string part = text.substr(start, comma - start);
    if (part.empty()) throw UsageError{flag + ": empty element in '" + text + "'"};
    size_t dash = part.find('-', 1);
    if (dash == std::string::npos) {
      ids.push_back(ParseInt(flag, part, 1));
    } else {
      int64_t first = ParseInt(flag, part.substr(0, dash), 1);
      int64_t last = ParseInt(flag, part.substr(dash + 1), 1);
      if (last < first) throw UsageError{flag + ": range runs backwards: '" + part + "'"};
      for (int64_t id = first; id <= last; ++id) ids.push_back(id);
    }
    start = comma + 1;
  }
  return ids;
}

void PrintSummary(const char* what, const GeneratedArchive& g, double seconds) {
  std::printf("%s %s: %lld images added, %lld skipped, %lld files (%lld bytes) in %.2f s\n", what,
              g.dir.string().c_str(), static_cast<long long>(g.images_added),
              static_cast<long long>(g.images_skipped), static_cast<long long>(g.files_written),
              static_cast<long long>(g.bytes_written), seconds);
}

double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

int Fail(const Status& s) {
  std::fprintf(stderr, "indafoto-gen: %s\n", s.ToString().c_str());
  return kExitFailed;
}

int RunArchive(Args& args) {
  ArchiveSpec spec;
  spec.record_images = false;
  bool have_ids = false;
  while (!args.Done()) {
    std::string flag = args.Next();
    if (flag == "--dir") spec.dir = args.Value(flag);
    else if (flag == "--ids") {
      spec.ids = ParseIds(flag, args.Value(flag));
      have_ids = true;
    }
    else if (flag == "--seed") spec.universe_seed = ParseSeed(args.Value(flag));
    else if (flag == "--variant") spec.variant = static_cast<uint32_t>(ParseInt(flag, args.Value(flag), 0));
    else if (flag == "--blank-percent") spec.blank_percent = static_cast<int>(ParseInt(flag, args.Value(flag), 0));
    else if (flag == "--old-schema") spec.old_schema = true;
    else if (flag == "--null-sha-every") spec.null_sha_every = static_cast<int>(ParseInt(flag, args.Value(flag), 0));
    else if (flag == "--alter") {
      for (int64_t id : ParseIds(flag, args.Value(flag))) spec.altered_ids.insert(id);
    }
    else if (flag == "--file-size") spec.file_size = ParseInt(flag, args.Value(flag), kMinFileSize);
    else if (flag == "--no-files") spec.write_files = false;
    else if (flag == "--ban") spec.banned_authors.push_back(args.Value(flag));
    else if (flag == "--batch") spec.batch_size = static_cast<int>(ParseInt(flag, args.Value(flag), 1));
    else throw UsageError{"archive: unknown option '" + flag + "'"};
  }
  if (spec.dir.empty()) throw UsageError{"archive: --dir is required"};
  if (!have_ids) throw UsageError{"archive: --ids is required"};
  auto t0 = std::chrono::steady_clock::now();
  GeneratedArchive g;
  Status s = GenerateArchive(spec, &g);
  if (!s.ok()) return Fail(s);
  PrintSummary("archive", g, SecondsSince(t0));
  return kExitOk;
}

int RunPair(Args& args) {
  PairOptions o;
  std::string dir_a, dir_b;
  bool have_a = false, have_b = false, have_overlap = false;
  while (!args.Done()) {
    std::string flag = args.Next();
    if (flag == "--a") dir_a = args.Value(flag);
    else if (flag == "--b") dir_b = args.Value(flag);
    else if (flag == "--a-count") {
      o.a_count = ParseInt(flag, args.Value(flag), 0);
      have_a = true;
    }
    else if (flag == "--b-count") {
      o.b_count = ParseInt(flag, args.Value(flag), 0);
      have_b = true;
    }
    else if (flag == "--overlap") {
      o.overlap = ParseInt(flag, args.Value(flag), 0);
      have_overlap = true;
    }
    else if (flag == "--first-id") o.first_id = ParseInt(flag, args.Value(flag), 1);
    else if (flag == "--seed") o.universe_seed = ParseSeed(args.Value(flag));
    else if (flag == "--file-size") o.file_size = ParseInt(flag, args.Value(flag), kMinFileSize);
    else if (flag == "--no-files") o.write_files = false;
    else if (flag == "--null-sha-every") o.null_sha_every = static_cast<int>(ParseInt(flag, args.Value(flag), 0));
    else if (flag == "--b-old-schema") o.b_old_schema = true;
    else if (flag == "--ban-a") o.a_banned_authors.push_back(args.Value(flag));
    else if (flag == "--ban-b") o.b_banned_authors.push_back(args.Value(flag));
    else throw UsageError{"pair: unknown option '" + flag + "'"};
  }
  if (dir_a.empty() || dir_b.empty()) throw UsageError{"pair: --a and --b are required"};
  if (!have_a || !have_b || !have_overlap)
    throw UsageError{"pair: --a-count, --b-count and --overlap are required"};
  auto t0 = std::chrono::steady_clock::now();
  ArchiveSpec spec_a, spec_b;
  Status s = MakePairSpecs(dir_a, dir_b, o, &spec_a, &spec_b);
  if (!s.ok()) throw UsageError{"pair: " + s.message()};
  spec_a.record_images = spec_b.record_images = false;
  GeneratedArchive a, b;
  s = GenerateArchive(spec_a, &a);
  if (!s.ok()) return Fail(s);
  PrintSummary("archive", a, SecondsSince(t0));
  t0 = std::chrono::steady_clock::now();
  s = GenerateArchive(spec_b, &b);
  if (!s.ok()) return Fail(s);
  PrintSummary("archive", b, SecondsSince(t0));
  return kExitOk;
}

int RunAppend(Args& args) {
  AppendOptions o;
  std::string dir;
  std::vector<int64_t> ids;
  bool have_ids = false;
  while (!args.Done()) {
    std::string flag = args.Next();
    if (flag == "--dir") dir = args.Value(flag);
    else if (flag == "--ids") {
      ids = ParseIds(flag, args.Value(flag));
      have_ids = true;
    }
    else if (flag == "--seed") o.universe_seed = ParseSeed(args.Value(flag));
    else if (flag == "--variant") o.variant = static_cast<uint32_t>(ParseInt(flag, args.Value(flag), 0));
    else if (flag == "--blank-percent") o.blank_percent = static_cast<int>(ParseInt(flag, args.Value(flag), 0));
    else if (flag == "--file-size") o.file_size = ParseInt(flag, args.Value(flag), kMinFileSize);
    else if (flag == "--delay-ms") o.delay = std::chrono::milliseconds(ParseInt(flag, args.Value(flag), 0));
    else throw UsageError{"append: unknown option '" + flag + "'"};
  }
  if (dir.empty()) throw UsageError{"append: --dir is required"};
  if (!have_ids) throw UsageError{"append: --ids is required"};
  auto t0 = std::chrono::steady_clock::now();
  GeneratedArchive g;
  Status s = AppendImages(dir, ids, o, &g);
  if (!s.ok()) return Fail(s);
  PrintSummary("append", g, SecondsSince(t0));
  return kExitOk;
}

void WriteValue(rapidjson::Writer<rapidjson::StringBuffer>& w, const Value& v) {
  switch (v.type) {
    case Value::Type::kNull: w.Null(); break;
    case Value::Type::kInteger: w.Int64(v.integer); break;
    case Value::Type::kReal: w.Double(v.real); break;
    case Value::Type::kText: w.String(v.text.data(), static_cast<rapidjson::SizeType>(v.text.size())); break;
  }
}

int RunFacts(Args& args) {
  int64_t id = 0;
  uint64_t seed = 1;
  int64_t file_size = kDefaultFileSize;
  uint32_t variant = 0;
  while (!args.Done()) {
    std::string flag = args.Next();
    if (flag == "--id") id = ParseInt(flag, args.Value(flag), 1);
    else if (flag == "--seed") seed = ParseSeed(args.Value(flag));
    else if (flag == "--file-size") file_size = ParseInt(flag, args.Value(flag), kMinFileSize);
    else if (flag == "--variant") variant = static_cast<uint32_t>(ParseInt(flag, args.Value(flag), 0));
    else throw UsageError{"facts: unknown option '" + flag + "'"};
  }
  if (id == 0) throw UsageError{"facts: --id is required"};
  ImageFacts f = ArchiveView(FactsFor(id, seed, file_size), seed, variant, 25);
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  auto str = [&w](const std::string& s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); };
  w.StartObject();
  w.Key("indafoto_id"); w.Int64(f.indafoto_id);
  w.Key("author_folder"); str(f.author_folder);
  w.Key("file_name"); str(f.file_name);
  w.Key("file_size"); w.Int64(f.file_size);
  w.Key("sha256"); str(f.sha256);
  w.Key("columns");
  w.StartObject();
  for (size_t i = 0; i < kImageColumns.size(); ++i) {
    w.Key(kImageColumns[i].data(), static_cast<rapidjson::SizeType>(kImageColumns[i].size()));
    WriteValue(w, f.columns[i]);
  }
  w.EndObject();
  w.Key("tags");
  w.StartArray();
  for (const TagFacts& t : f.tags) {
    w.StartObject();
    w.Key("name"); str(t.name);
    w.Key("count"); w.Int64(t.count);
    w.EndObject();
  }
  w.EndArray();
  w.Key("albums");
  w.StartArray();
  for (const AlbumFacts& a : f.albums) {
    w.StartObject();
    w.Key("album_id"); str(a.album_id);
    w.Key("title"); str(a.title);
    w.Key("url"); str(a.url);
    w.Key("is_public"); w.Bool(a.is_public);
    w.EndObject();
  }
  w.EndArray();
  w.Key("collections");
  w.StartArray();
  for (const CollectionFacts& c : f.collections) {
    w.StartObject();
    w.Key("collection_id"); str(c.collection_id);
    w.Key("title"); str(c.title);
    w.Key("url"); str(c.url);
    w.Key("is_public"); w.Bool(c.is_public);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  std::printf("%s\n", buf.GetString());
  return kExitOk;
}

int Main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return kExitUsage;
  }
  std::string_view command = argv[1];
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(kUsage, stdout);
    return kExitOk;
  }
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::fputs(kUsage, stdout);
      return kExitOk;
    }
  }
  Args args(argc, argv, 2);
  try {
    if (command == "archive") return RunArchive(args);
    if (command == "pair") return RunPair(args);
    if (command == "append") return RunAppend(args);
    if (command == "facts") return RunFacts(args);
    if (command == "authors") {
      if (!args.Done()) throw UsageError{"authors: takes no options"};
      for (const std::string& a : UniverseAuthors()) std::printf("%s\n", a.c_str());
      return kExitOk;
    }
    throw UsageError{"unknown command '" + std::string(command) + "'"};
  } catch (const UsageError& e) {
    std::fprintf(stderr, "indafoto-gen: %s\n(see indafoto-gen --help)\n", e.message.c_str());
    return kExitUsage;
  }
}

}  // namespace
}  // namespace indafoto

int main(int argc, char** argv) { return indafoto::Main(argc, argv); }
