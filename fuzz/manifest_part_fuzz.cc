// Fuzz target: a manifest part (parts/<k>-<h16>.jsonl[.deflate]). The input
// goes through PartLineReader twice, as ManifestReader::ReadAll reads a
// verified part: as a version 1 part (plain lines) and as a version 2 part
// (a raw DEFLATE stream, inflated first). Every line goes through
// ParseManifestEntryLine, the same per-entry parser and checks ReadAll
// applies (a real part only gets there once its size and sha256 match the
// signed index, which a fuzzer cannot forge).
//
// Every accepted entry must also be safe to hand on: its path is a safe
// relative path outside .indafoto-sync/, its sha256 is lowercase hex, and
// it survives the catalog store's JSON round trip.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz/fuzz_util.h"
#include "lib/archive/layout.h"
#include "lib/catalog/manifest.h"
#include "lib/catalog/manifest_reader.h"
#include "lib/catalog/part_file.h"

using namespace indafoto;

namespace {

Status CheckLine(std::string_view line) {
  RemoteImage img;
  if (Status s = ParseManifestEntryLine(line, &img); !s.ok()) {
    if (s.message().empty()) fuzz::Fail("refused entry without a reason", line);
    return Status::Ok();  // the reader would stop here; go on to reach more lines
  }
  if (!IsSafeRelativePath(img.rel_path)) fuzz::Fail("unsafe path accepted", img.rel_path);
  if (img.rel_path.rfind(std::string(kManifestDirName) + "/", 0) == 0 || img.rel_path == kManifestDirName)
    fuzz::Fail("path into the manifest directory accepted", img.rel_path);
  if (img.sha256.size() != 64 || img.sha256.find_first_not_of("0123456789abcdef") != std::string::npos)
    fuzz::Fail("sha256 not 64 lowercase hex digits", img.sha256);
  if (img.size < 0) fuzz::Fail("negative size accepted", line);
  fuzz::CheckRoundTrip(img);
  return Status::Ok();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // As plain lines, with a newline added so that the last line (the whole
  // input, for the one-line crash inputs kept in the corpus) is parsed too.
  std::string text(reinterpret_cast<const char*>(data), size);
  text += '\n';
  for (int64_t version : {int64_t{1}, int64_t{2}}) {
    PartLineReader reader(version, kMaxEntryLineBytes);
    Status s = version == 1 ? reader.Feed(text.data(), text.size(), CheckLine)
                            : reader.Feed(reinterpret_cast<const char*>(data), size, CheckLine);
    if (s.ok()) s = reader.Finish();
    if (!s.ok() && s.message().empty()) fuzz::Fail("part refused without a reason", "");
  }
  return 0;
}
