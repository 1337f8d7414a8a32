// The published manifest: format constants and the types that the writer
// (lib/catalog/manifest_writer.h) and the reader (lib/catalog/manifest_reader.h) share.
// docs/manifest.md is the normative description; keep the two in step.
//
//   <shared folder>/.indafoto-sync/manifest.json         signed index
//   <shared folder>/.indafoto-sync/parts/<k>-<h16>.jsonl.deflate
//                                                        entries, one JSON
//                                                        object per line,
//                                                        DEFLATE-compressed
//                                                        (lib/catalog/part_file.h)
//
// The index names every part with its size, entry count and SHA-256, and
// the index is signed with the publisher's Ed25519 key, so one signature
// covers everything. Parts are content-addressed (h16 = first 16 hex digits
// of the part's SHA-256): a name never changes its content, so a reader can
// never mix two generations, and an unchanged part keeps its name and bytes
// (Syncthing re-sends nothing for it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace indafoto {

// Value of the outer "format" member; anything else is not our manifest.
inline constexpr std::string_view kManifestFormat = "indafoto-syncd-manifest";
// The payload version this code writes (2: compressed parts), and the
// oldest it still reads (1: plain parts, written before 2026-12).
inline constexpr int64_t kManifestVersion = 2;
inline constexpr int64_t kOldestManifestVersion = 1;

inline constexpr std::string_view kManifestDirName = ".indafoto-sync";
inline constexpr std::string_view kManifestFileName = "manifest.json";
inline constexpr std::string_view kPartsDirName = "parts";

// Temporary files start with Syncthing's own temp prefix, which its scanner
// always skips, so a half-written file is never announced to peers. The
// marker tells our temp files apart from Syncthing's (we only ever remove
// ours).
inline constexpr std::string_view kTempPrefix = ".syncthing.";
inline constexpr std::string_view kTempMarker = ".indafoto-tmp-";

// Images with local id in [k*N, (k+1)*N) go to part k. New crawler rows get
// higher ids (AUTOINCREMENT), so growth touches only the last part(s).
inline constexpr int64_t kDefaultImagesPerPart = 1000;

// Reader limits: memory stays bounded whatever a peer sends.
inline constexpr size_t kMaxIndexBytes = size_t{64} << 20;      // manifest.json
inline constexpr size_t kMaxEntryLineBytes = size_t{16} << 20;  // one entry

// One part as the index describes it.
struct ManifestPart {
  std::string name;    // file name inside parts/, e.g. "12-0123456789abcdef.jsonl.deflate"
  std::string sha256;  // lowercase hex SHA-256 of the whole file (as stored)
  int64_t size = 0;    // bytes of the file (as stored)
  int64_t count = 0;   // entries (lines)

  bool operator==(const ManifestPart& o) const {
    return name == o.name && sha256 == o.sha256 && size == o.size && count == o.count;
  }
};

// The signed payload.
struct ManifestPayload {
  int64_t version = kManifestVersion;
  uint64_t sequence = 0;     // grows by one with every published change
  std::string generated_at;  // "YYYY-MM-DDTHH:MM:SSZ", UTC
  int64_t image_count = 0;   // sum of the parts' counts
  std::vector<ManifestPart> parts;
  // Exchange members (docs/manifest.md 4.2), optional, written only when
  // not empty, so a manifest without peers is byte for byte as before:
  // the Syncthing device IDs the publisher exchanges with, and the authors
  // banned in its archive (a sender leaves them out of its outbox).
  std::vector<std::string> peers;
  std::vector<std::string> banned_authors;
};

// The outer document (manifest.json) before verification.
struct SignedManifest {
  std::string payload;     // exact payload JSON text; the signed bytes
  std::string public_key;  // base64 (RFC 4648, padded) of 32 bytes
  std::string signature;   // base64 (RFC 4648, padded) of 64 bytes
};

}  // namespace indafoto
