// The catalog: what a remote source says it holds.
//
// A CatalogReader streams one source's entries from wherever they are
// published (a copy of the remote's indafoto.db, or the signed manifest in
// the received folder). CatalogStore keeps the entries of every source in
// the daemon's state database, indexed by path, sha256 and url, so lookups
// never scan and a 1M-image catalog does not live in RAM.
//
// Loading is all-or-nothing: a reader that fails part way (corrupt,
// truncated, wrong signature, a path that escapes) leaves the previous
// catalog of that source untouched.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "lib/archive/remote_image.h"
#include "lib/util/sqlite.h"
#include "lib/util/status.h"

namespace indafoto {

// The source name under which the exchange keeps this archive's own
// catalog (lib/exchange/). Not another archive: whoever lists the holders
// of an image leaves it out. ('@' is refused in peer names.)
inline constexpr const char* kSelfCatalog = "@self";

// How many of a source's latest loads keep their removed keys
// (syncd_catalog_removed). A consumer that last looked at a generation at
// least this far back reads the whole catalog instead of its changes.
inline constexpr int64_t kCatalogChangesKept = 64;

class CatalogReader {
 public:
  virtual ~CatalogReader() = default;
  // Identifies the published version (e.g. manifest sequence + hash, or the
  // remote db's size and mtime). Equal fingerprints mean nothing to reload.
  virtual Status Fingerprint(std::string* out) = 0;
  // Calls `sink` once per entry. A non-ok Status from the sink or from the
  // reader stops the read and is returned.
  virtual Status ReadAll(const std::function<Status(const RemoteImage&)>& sink) = 0;
  // A catalog published in content-addressed parts (a manifest) can be
  // read part by part: ReadParts verifies the version as ReadAll does,
  // asks `held` once for every part id in order, before reading any, and
  // passes on the entries of the parts not held only, each with its part's
  // id. Same id, same bytes: the caller keeps what it read of a held part
  // before. Catalogs that are not parted read everything with ReadAll.
  virtual bool Parted() const { return false; }
  virtual Status ReadParts(const std::function<bool(const std::string& part)>& held,
                           const std::function<Status(const std::string& part, const RemoteImage&)>& sink) {
    (void)held;
    (void)sink;
    return Status::Invalid(Describe() + ": not published in parts");
  }
  // Human-readable description for logs ("manifest at ...", "remote db ...").
  virtual std::string Describe() const = 0;
  // The publisher's sequence number of the version last read (by
  // Fingerprint, then by ReadAll, which replaces it with the verified one);
  // nullopt for catalogs without one (a remote database).
  virtual std::optional<uint64_t> Sequence() const { return std::nullopt; }
  // The fingerprint of exactly what the last successful ReadAll read (the
  // files may have changed since Fingerprint); "" = Fingerprint's.
  virtual std::string ReadFingerprint() const { return ""; }
};

class CatalogStore {
 public:
  // Opens (creating) the catalog tables in the state database `db`, which
  // the caller owns and keeps open for the store's lifetime.
  static Status Open(Database* db, CatalogStore* out);
  // Uses the tables as they are, creating nothing (read-only state).
  static void Attach(Database* db, CatalogStore* out) { out->db_ = db; }

  // Replaces the catalog of `source` with what `reader` yields, in one
  // transaction. Each load that changes something gets the source's next
  // generation: entries it inserted or changed carry it
  // (changed_generation), keys it removed or replaced are kept in
  // syncd_catalog_removed under it. Skips the work when the reader's fingerprint equals the
  // loaded one (*changed = false). On any error the previous catalog stays.
  // Catalogs only move forward: a reader whose Sequence() is lower than the
  // highest accepted from `source`, or equal with another fingerprint (a
  // replayed or forked manifest), is refused (Status::Corrupt naming both
  // sequences) and the previous catalog stays. ForgetSequence starts over.
  Status Load(const std::string& source, CatalogReader& reader, bool* changed);
  // Forgets the accepted sequence of `source` (and its fingerprint, so the
  // next load reads again): `indafoto-syncd trust`.
  Status ForgetSequence(const std::string& source);

  Status FindByPath(const std::string& source, const std::string& rel_path, RemoteImage* out);
  // The state database's file, for another connection's read-only lookups
  // (OpenReader); "" when the store lives in memory.
  std::string DatabaseFile() const;
  // A store over a read-only connection of its own to `file`, which the
  // caller keeps in *db for the store's lifetime (one per thread).
  static Status OpenReader(const std::string& file, Database* db, CatalogStore* out);
  // Entries of `source`'s catalog (0 before its first load).
  Status Count(const std::string& source, int64_t* entries);
  // Paths of `source` whose entry changed in a load (same path, different
  // record) and that ForgetChange has not taken off yet; up to `limit`, in
  // path order.
  Status ChangedPaths(const std::string& source, int64_t limit, std::vector<std::string>* out);
  Status ForgetChange(const std::string& source, const std::string& rel_path);
  // Paths of `source` whose entry lists `sha256` (uses the sha256 index).
  Status PathsWithSha256(const std::string& source, const std::string& sha256, std::vector<std::string>* out);

 private:
  // Ok unless `reader`'s sequence would move `source`'s catalog backwards.
  static Status CheckForward(const std::string& source, const CatalogReader& reader, const std::string& fingerprint,
                             std::optional<uint64_t> accepted_sequence, const std::string& accepted_fingerprint);

  // A counter that grows with each load of `source` that changed it; the
  // entries a load touched carry it (load_generation). Inside Load's
  // transaction only.
  int64_t Generation(const std::string& source);

  Database* db_ = nullptr;
};

}  // namespace indafoto
