// RemoteImage: one image as a remote source describes it — the unit that
// both catalog readers (remote indafoto.db, manifest) produce and the
// importer consumes. Relations carry natural keys only (tag name, album_id,
// collection_id), because integer ids differ between archives.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "lib/util/status.h"
#include "lib/util/value.h"

namespace indafoto {

struct AlbumRef {
  std::string album_id;  // natural key
  Value title, url, is_public;
};

struct CollectionRef {
  std::string collection_id;  // natural key
  Value title, url, is_public;
};

struct RemoteImage {
  // Path of the file inside the received folder, '/'-separated, relative,
  // checked with IsSafeRelativePath before it enters a catalog.
  std::string rel_path;
  // Lowercase hex SHA-256 of the file; empty when the source does not know
  // it (an old crawler database without sha256_hash).
  std::string sha256;
  int64_t size = -1;  // -1 when unknown
  // The image columns the source has, by name (names from kImageColumns;
  // a column the source lacks is absent, not NULL).
  std::vector<std::pair<std::string, Value>> columns;
  std::vector<std::string> tags;
  std::vector<AlbumRef> albums;
  std::vector<CollectionRef> collections;

  // The value of a column, or NULL when absent.
  const Value& Get(std::string_view column) const;
  void Set(std::string_view column, Value v);
};

// JSON encoding of a RemoteImage (one object), used by the catalog store
// and by the manifest's parts. Stable key order; see docs/manifest.md.
std::string RemoteImageToJson(const RemoteImage& image);
// Parses what RemoteImageToJson wrote (and what another tool following
// docs/manifest.md writes). Corrupt, naming what is wrong, on bad input.
Status RemoteImageFromJson(std::string_view json, RemoteImage* out);

}  // namespace indafoto
