// The bytes of a manifest part file (docs/manifest.md, section 5): how the
// writer encodes a part's entry lines and how the reader gets them back.
//
//   version 1: the file is the lines themselves ("<k>-<h16>.jsonl");
//   version 2: the file is one raw DEFLATE stream (RFC 1951, no zlib or
//              gzip wrapper) of those lines ("<k>-<h16>.jsonl.deflate").
//
// Why compress: a catalog entry is about 1 KB of JSON and a peer receives
// every entry of every catalog once, plus each part a republish rewrites.
// With images of tens of KB the catalogs are a sixth of the bytes
// Syncthing writes into a received folder (issue 9); DEFLATE shrinks them
// about 6x. The codec is Boost.Beast's header-only port of zlib.
//
// The part's sha256 and size in the signed index are those of the file's
// bytes (compressed or not): a reader verifies the file before it inflates
// anything, so a hostile stream reaches the inflater only when it is the
// one the pinned key signed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "lib/util/status.h"

namespace indafoto {

// File name suffix of the parts of a manifest of `version` (1 or 2).
std::string_view PartSuffix(int64_t version);
// True when `name` is longer than, and ends in, the part suffix of `version`.
bool HasPartSuffix(std::string_view name, int64_t version);
// True when `name` ends in the part suffix of any version this code knows
// (a publisher removes superseded parts of an older version too).
bool HasAnyPartSuffix(std::string_view name);

// The file content of a part of `version` whose entries are `lines`
// (complete lines, each ending in '\n'). Deterministic: the same lines give
// the same bytes, so an unchanged part keeps its name and Syncthing sends
// nothing for it.
std::string EncodePart(int64_t version, std::string_view lines);

// Splits a part file's bytes, fed in chunks of any size, into its entry
// lines, inflating first for version 2. Memory: one line (at most
// `max_line` bytes) and fixed buffers, whatever the part's size.
class PartLineReader {
 public:
  // Called with each line, without its '\n'; a non-ok status stops Feed.
  using LineSink = std::function<Status(std::string_view line)>;

  PartLineReader(int64_t version, size_t max_line);
  ~PartLineReader();
  PartLineReader(const PartLineReader&) = delete;
  PartLineReader& operator=(const PartLineReader&) = delete;

  // Errors name the problem: "line 17 is longer than ... bytes",
  // "compressed data is corrupt (...)", "holds data after the end of its
  // compressed stream", or the sink's own status.
  Status Feed(const char* data, size_t n, const LineSink& sink);
  // After the last Feed: the compressed stream has ended and no line is
  // left without its '\n'.
  Status Finish();
  // Complete lines handed to the sink so far.
  int64_t lines() const { return lines_; }

 private:
  Status Split(const char* data, size_t n, const LineSink& sink);

  struct Inflater;
  std::unique_ptr<Inflater> inflater_;  // null for version 1
  size_t max_line_;
  std::string line_;
  int64_t lines_ = 0;
};

}  // namespace indafoto
