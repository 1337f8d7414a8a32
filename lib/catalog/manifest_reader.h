// Reads and verifies the signed manifest a remote source publishes inside
// its Syncthing folder (docs/manifest.md), as a CatalogReader.
//
// What ReadAll verifies, in this order, stopping at the first problem:
//   1. manifest.json is a regular file (symlinks are never followed, not
//      even for .indafoto-sync/ or parts/), at most kMaxIndexBytes, JSON,
//      with "format" == kManifestFormat;
//   2. the Ed25519 signature over the exact payload bytes;
//   3. the payload: a version this code knows (a newer one is refused with
//      a message naming the supported version), well-formed parts list
//      whose counts add up to image_count;
//   4. the signing key against the pin of this source (KeyPins::CheckOrPin:
//      the first verified manifest pins it);
//   5. each part in index order, in two streaming passes over one open file:
//      first its size and SHA-256 against the index, and only when both
//      match, a second pass that inflates it (version 2, part_file.h),
//      parses line by line, checks each entry
//      (JSON, safe relative path, 64-hex sha256, size) and hands it to the
//      sink, hashing again so a file changed between the passes is caught.
// A tampered, truncated or missing part therefore fails before any of its
// entries reach the sink. Entries of earlier, verified parts have already
// been passed on when a later part fails: the caller must discard them,
// which CatalogStore::Load does by rolling back its transaction (the
// previous catalog stays).
//
// Memory: the index (small: ~120 bytes per 1000 images) plus one entry line
// and fixed buffers; a part or the whole catalog is never held in memory.
//
// Errors: Status::Corrupt (or NotFound for a missing manifest/part, IoError
// for read failures) whose message starts with Describe() and names the
// part and line: "manifest of source S in DIR: part 3-0123456789abcdef.jsonl
// line 17: path '../x' is not a safe relative path" (the part's name ends in
// .jsonl.deflate in a version 2 manifest).
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "lib/catalog/catalog.h"
#include "lib/catalog/key_pins.h"
#include "lib/catalog/manifest.h"
#include "lib/util/status.h"

namespace indafoto {

// True when `received_folder` holds .indafoto-sync/manifest.json (a regular
// file, not a symlink): the source publishes a manifest.
bool HasManifest(const std::filesystem::path& received_folder);

// Parses manifest.json's outer object. Corrupt (with the reason) when it is
// not JSON, not an object, not our format, or lacks a string member.
Status ParseSignedManifest(std::string_view text, SignedManifest* out);
// Parses and checks the payload. A version outside kOldestManifestVersion
// to kManifestVersion is refused; a newer one with a message saying which
// versions this reader supports.
Status ParseManifestPayload(std::string_view text, ManifestPayload* out);
// Parses and checks one entry line of a part (without its newline): JSON,
// safe relative path outside .indafoto-sync/, 64-hex sha256, size; then
// normalises it (lowercase sha256, unknown columns dropped). False with
// `error` set when the entry is refused. ReadAll calls it for every line of
// a verified part; it is exposed for tests and fuzz/manifest_part_fuzz.cc,
// which cannot get past the part's signed sha256 otherwise.
Status ParseManifestEntryLine(std::string_view line, RemoteImage* out);

class ManifestReader : public CatalogReader {
 public:
  // `pins` (owned by the caller, may be null only for tools that merely
  // display a manifest) checks and pins the signing key of `source`.
  ManifestReader(std::filesystem::path received_folder, std::string source, KeyPins* pins);

  // "manifest:<sequence>:<sha256 of manifest.json>". Reads only the index;
  // fails (Corrupt) when it is not a parseable manifest.
  Status Fingerprint(std::string* out) override;
  Status ReadAll(const std::function<Status(const RemoteImage&)>& sink) override;
  // Parts are identified by their sha256 (from the signed index). A held
  // part is neither read nor required to be present.
  bool Parted() const override { return true; }
  Status ReadParts(const std::function<bool(const std::string& part_sha256)>& held,
                   const std::function<Status(const std::string& part_sha256, const RemoteImage&)>& sink) override;
  std::string Describe() const override;
  // The index's sequence (verified once ReadAll succeeded).
  std::optional<uint64_t> Sequence() const override { return sequence_; }
  std::string ReadFingerprint() const override { return read_fingerprint_; }

  // The payload and key of the last fully verified ReadAll.
  const ManifestPayload& payload() const { return payload_; }
  const std::string& public_key() const { return public_key_; }

 private:
  Status Error(Status::Code code, const std::string& what) const;

  std::filesystem::path folder_;
  std::string source_;
  KeyPins* pins_;
  ManifestPayload payload_;
  std::string public_key_;
  std::optional<uint64_t> sequence_;
  std::string read_fingerprint_;
};

}  // namespace indafoto
