// Holders: which known archives hold an image — this archive (its
// indafoto.db) and every catalog in the state database (a remote source or
// a peer: CatalogStore sources, whatever their origin) that lists it by
// sha256 or by url. `indafoto-syncd whereis` and `copies` are built on it.
//
// Why by sha256 *or* url: that is the importer's identity rule (SPEC 2.4),
// so an archive that lists an image under the same url holds "the same
// image" as far as an exchange is concerned.
//
// Scale: nothing of a catalog is held in RAM. Every lookup is a probe of
// the catalog's (source, sha256) or (source, url) covering index; `copies`
// streams the local images in id order and probes each catalog once or
// twice per image, either from this process or (faster, what the command
// uses) in one SQL statement over the ATTACHed state database
// (bench/README.md, section "Holders").
//
// Callers own both connections, keep them open for the object's life and
// use it from one thread. Only reads: works on read-only connections, takes
// no writer lock (like `status`).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "lib/util/sqlite.h"
#include "lib/util/status.h"

namespace indafoto {

// What a whereis argument names.
enum class HolderQueryKind { kId, kSha256, kUrl };
// Digits only: a local id; 64 hex digits: a sha256; anything else: a url.
HolderQueryKind ClassifyHolderQuery(const std::string& query);

struct LocalImageRef {
  int64_t id = 0;
  std::string sha256;  // lowercase; "" when the row records none (or no valid one)
  std::string url;     // "" when NULL
  std::string local_path;
};

struct CatalogHolding {
  std::string source;      // the catalog's source name (a peer's name for a peer)
  std::string rel_path;    // the path in that archive, relative to its shared folder
  std::string sha256;      // as the catalog lists it
  std::string matched_by;  // "sha256" or "url"
};

struct WhereIs {
  HolderQueryKind kind = HolderQueryKind::kUrl;
  std::vector<LocalImageRef> local;     // this archive's rows matching the query
  std::vector<CatalogHolding> holdings; // per source, path order; one entry per (source, path)
  // Number of archives holding it: this one (if `local` is not empty) plus
  // the distinct sources of `holdings`.
  int64_t archives = 0;
};

struct CopiesOptions {
  // List the local images held by fewer than this many archives (this
  // one included). 2 = "held here alone". 0 or 1 lists nothing.
  int64_t below = 2;
  // One SQL statement over the state database ATTACHed to the archive's
  // connection instead of stepwise probes from this process (faster at
  // scale: bench/README.md). The archive connection must allow ATTACH (not
  // in a transaction); the state database is attached read-only when the
  // archive connection is read-only, and detached before returning.
  bool attach = false;
  std::string state_path;  // required with `attach`
};

struct CopiesReport {
  int64_t local_images = 0;
  // holders (1 = here alone) -> number of local images.
  std::map<int64_t, int64_t> by_holders;
  // source -> number of local images its catalog lists.
  std::map<std::string, int64_t> by_source;
  int64_t listed = 0;  // images handed to the listing callback
};

class Holders {
 public:
  // `archive`: a connection to indafoto.db; `state`: the state database
  // (catalog tables may be absent: then no catalog holds anything).
  Holders(Database* archive, Database* state) : archive_(archive), state_(state) {}

  // The catalogs known to the state database that list at least one
  // image, by name.
  Status Sources(std::vector<std::string>* out);

  // whereis: the local rows the query names, and every catalog entry
  // listing the query's sha256/url or a matching local row's sha256/url.
  Status Find(const std::string& query, WhereIs* out);

  // copies: counts every local image (each row of `images`) by how many
  // known archives hold it, and calls `list` (in id order) for each image
  // held by fewer than options.below, with its holder count and the
  // sources that hold it. All reads of indafoto.db come from one read
  // transaction.
  using ListFn = std::function<void(const LocalImageRef& image, int64_t holders,
                                    const std::vector<std::string>& sources)>;
  Status Copies(const CopiesOptions& options, const ListFn& list, CopiesReport* report);

 private:
  Status CopiesAttached(const CopiesOptions& options, const std::vector<std::string>& sources, const ListFn& list,
                        CopiesReport* report);

  Database* archive_;
  Database* state_;
};

}  // namespace indafoto
