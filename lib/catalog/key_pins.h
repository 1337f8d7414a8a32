// Pinned publisher keys, one per remote source (trust on first use).
//
// The first verified manifest of a source pins its public key; a manifest
// signed by any other key is rejected from then on. An intended key change
// (the publisher lost or replaced its key) is accepted by removing the pin:
// Unpin(source), wired to `indafoto-syncd trust --config FILE --source NAME`,
// or by hand in the state database:
//   DELETE FROM syncd_key_pins WHERE source = 'NAME';
// The next manifest then pins the new key.
//
// The table lives in the daemon's state database:
//   syncd_key_pins(source TEXT PRIMARY KEY, public_key TEXT, pinned_at TEXT)
//
// The caller owns the Database and keeps it open for the object's lifetime.
// CheckOrPin runs inside whatever transaction the connection has open; the
// manifest reader calls it from within CatalogStore::Load, so give both the
// same connection: then a pin made while loading a manifest that later
// fails verification is rolled back with the catalog, and a pin is only
// ever made by a manifest that verified completely.
#pragma once

#include <string>

#include "lib/util/sqlite.h"
#include "lib/util/status.h"

namespace indafoto {

class KeyPins {
 public:
  // Creates the table if needed.
  static Status Open(Database* db, KeyPins* out);
  // Uses the table as it is and never pins a new key: CheckOrPin accepts an
  // unpinned source without recording it (dry runs on read-only state).
  static void AttachReadOnly(Database* db, KeyPins* out);

  // First sight of `source`: pins `public_key_b64` and returns Ok. Same key
  // as pinned: Ok. Another key: Corrupt, with a message saying both keys,
  // when the pin was made and how to accept an intended change.
  Status CheckOrPin(const std::string& source, const std::string& public_key_b64);
  // Removes the pin of `source` so that the next manifest pins its key.
  // `removed` (may be null) tells whether there was a pin.
  Status Unpin(const std::string& source, bool* removed);
  // The pinned key and when it was pinned; NotFound when none.
  Status Get(const std::string& source, std::string* public_key_b64, std::string* pinned_at);

 private:
  Database* db_ = nullptr;
  bool read_only_ = false;
};

}  // namespace indafoto
