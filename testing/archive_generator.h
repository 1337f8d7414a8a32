// Generator of crawler-style archives, for tests, the demo and benchmarks.
//
// An archive is a directory holding `indafoto.db` (the crawler's schema, WAL
// mode) and `indafoto_archive/<author folder>/<n>/image_<id>_<timestamp>.jpg`,
// laid out by the crawler's rules (lib/archive/layout.h).
//
// Everything is derived from a *universe*: a seed that fixes, for every
// indafoto image id, the image's canonical facts — url, uuid, author, file
// bytes, metadata, tags, albums, collections (FactsFor). Archives generated
// from the same universe overlap realistically: a shared id has the same
// file content, url and uuid on both sides. What differs per archive is
// chosen by its `variant` (ArchiveView): a different subset of the image's
// tags, some optional columns NULL or '' on one side, and its own download
// timestamp in the file name (two crawlers never fetched a file at the same
// microsecond). Variant 0 is the canonical view: everything as FactsFor says.
//
// The universe always contains awkward data, so that every archive of more
// than a few dozen images exercises it: author names with / : ? * " < > | \,
// Hungarian accents, emoji, an author named "..", leading and trailing
// spaces, two authors whose names sanitise to the same folder; tags with
// quotes, commas, SQL and LIKE metacharacters, non-ASCII and emoji; albums
// and collections shared between images. Ids 1..UniverseAuthors().size()
// each belong to a different author (index id-1), so even a tiny archive
// has every awkward author; beyond that one heavy author owns about 40% of
// the images, so large archives fill several per-1000 subfolders.
//
// Generation is deterministic: the same spec gives byte-identical files and
// identical database rows (including local row ids).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "lib/archive/crawler_schema.h"
#include "lib/util/status.h"
#include "lib/util/value.h"

namespace indafoto {

// Default size of a generated image file: a few KiB, enough to be a real
// file for hashing and copying, small enough for 100K-image archives.
inline constexpr int64_t kDefaultFileSize = 4096;
// Smallest allowed file size: every file embeds "seed:id" in a JPEG comment
// segment so that no two ids ever share content (a shared sha256 would make
// two images "the same image" for the importer).
inline constexpr int64_t kMinFileSize = 128;

struct TagFacts {
  std::string name;
  int64_t count = 0;  // images with this tag on indafoto (the crawler's `count`)
};

struct AlbumFacts {
  std::string album_id;  // natural key, a decimal string like the crawler's
  std::string title;
  std::string url;
  bool is_public = true;
};

struct CollectionFacts {
  std::string collection_id;  // natural key, a decimal string
  std::string title;
  std::string url;
  bool is_public = true;
};

// What one archive knows about one image: canonical (FactsFor) or one
// archive's view of it (ArchiveView).
struct ImageFacts {
  int64_t indafoto_id = 0;
  // Convenience copies of the identity columns (also in `columns`).
  std::string uuid;
  std::string url;
  std::string author;
  std::string author_folder;  // AuthorFolderName(author)
  std::string timestamp;      // YYYYMMDD_HHMMSS_micro, as in the file name
  std::string file_name;      // image_<indafoto_id>_<timestamp>.jpg
  int64_t file_size = 0;
  std::string sha256;         // lowercase hex of FileBytesFor(...)
  // Every `images` column that travels between archives, in kImageColumns
  // order. NULL and '' are distinct, as in the database.
  std::array<Value, kImageColumns.size()> columns;
  std::vector<TagFacts> tags;
  std::vector<AlbumFacts> albums;
  std::vector<CollectionFacts> collections;

  // The column named `name` (one of kImageColumns); a NULL Value otherwise.
  const Value& Column(std::string_view name) const;
  Value& MutableColumn(std::string_view name);
};

// The canonical facts of image `indafoto_id` (> 0) in universe
// `universe_seed`, for files of `file_size` bytes (clamped to kMinFileSize).
ImageFacts FactsFor(int64_t indafoto_id, uint64_t universe_seed,
                    int64_t file_size = kDefaultFileSize);

// The file content of an image: deterministic pseudo-random bytes that start
// with a JPEG SOI marker and a comment segment naming the seed and id, and
// end with EOI. Different for every (seed, id); `alteration` != 0 gives a
// different content for the same image (a re-encoded download), for
// content-conflict tests.
std::string FileBytesFor(int64_t indafoto_id, uint64_t universe_seed,
                         int64_t file_size = kDefaultFileSize, uint32_t alteration = 0);

// What an archive of variant `variant` stores for an image, given its
// canonical facts. Variant 0 returns `canonical` unchanged. Otherwise:
// - one of the tags is missing, the one at index (id + variant) % tags, so
//   two archives of different variants (mod the tag count) lack different
//   tags and the union differs from each side;
// - for about `blank_percent`% of images, description (and sometimes
//   camera_model, focal_length) are NULL or '';
// - the download timestamp, hence file_name, is the variant's own.
// Content, url and uuid never change.
ImageFacts ArchiveView(const ImageFacts& canonical, uint64_t universe_seed, uint32_t variant,
                       int blank_percent);

// The universe's fixed author names (index order; see the file comment) and
// tag vocabulary (about 200 names, the awkward ones first).
const std::vector<std::string>& UniverseAuthors();
const std::vector<std::string>& TagVocabulary();

// Ids first..last inclusive (empty when last < first).
std::vector<int64_t> IdRange(int64_t first, int64_t last);

struct ArchiveSpec {
  // Created if missing; must not hold an indafoto.db yet (see AppendImages).
  std::filesystem::path dir;
  // Indafoto ids the archive holds, inserted in this order; each > 0, no
  // duplicates.
  std::vector<int64_t> ids;
  uint64_t universe_seed = 1;
  // Per-archive variation (ArchiveView); 0 = canonical.
  uint32_t variant = 0;
  int blank_percent = 25;
  int64_t file_size = kDefaultFileSize;
  // false: rows only, no image files (scale benchmarks of the database).
  // Rows still carry the sha256 and local_path the file would have.
  bool write_files = true;
  // A database from an early crawler: `images` lacks kLateImageColumns.
  bool old_schema = false;
  // Every K-th row (by position in `ids`) has sha256_hash NULL, as rows of
  // crawler versions that did not hash; 0 = none.
  int null_sha_every = 0;
  // Ids whose file here differs from the universe's content (a different
  // download of the same url); their sha256_hash matches this file.
  std::set<int64_t> altered_ids;
  // Rows for `banned_authors` (reason, fixed banned_date, banned_by).
  std::vector<std::string> banned_authors;
  // Rows per transaction.
  int batch_size = 5000;
  // Fill GeneratedArchive::images (turn off for millions of rows).
  bool record_images = true;
};

struct GeneratedImage {
  int64_t indafoto_id = 0;
  int64_t row_id = 0;          // images.id in this archive
  std::string local_path;      // as stored, relative to the archive dir
  std::string sha256;          // of the file's bytes, even when not stored
  bool sha256_stored = true;   // false: the row's sha256_hash is NULL or absent
  int64_t size = 0;
};

struct GeneratedArchive {
  std::filesystem::path dir;
  std::filesystem::path database;    // dir/indafoto.db
  std::filesystem::path image_root;  // dir/indafoto_archive
  int64_t images_added = 0;
  int64_t images_skipped = 0;        // AppendImages: url already present
  int64_t files_written = 0;
  int64_t bytes_written = 0;
  std::vector<GeneratedImage> images;  // when record_images, in insert order
};

// Creates the archive described by `spec`. `out` may be null. On failure
// the directory may hold a partial archive.
Status GenerateArchive(const ArchiveSpec& spec, GeneratedArchive* out);

struct PairOptions {
  // A holds first_id .. first_id+a_count-1; B holds the last `overlap` ids
  // of A followed by b_count-overlap new ones.
  int64_t a_count = 100;
  int64_t b_count = 100;
  int64_t overlap = 20;
  int64_t first_id = 1;
  uint64_t universe_seed = 1;
  int64_t file_size = kDefaultFileSize;
  bool write_files = true;
  bool b_old_schema = false;
  int null_sha_every = 0;  // both sides
  std::vector<std::string> a_banned_authors;
  std::vector<std::string> b_banned_authors;
};

// The two specs GeneratePair uses (A: variant 1, B: variant 2), for callers
// that want to adjust one before generating. Invalid counts are an error.
Status MakePairSpecs(const std::filesystem::path& dir_a, const std::filesystem::path& dir_b,
                     const PairOptions& options, ArchiveSpec* a, ArchiveSpec* b);

// Two overlapping archives from one universe. `a` and `b` may be null.
Status GeneratePair(const std::filesystem::path& dir_a, const std::filesystem::path& dir_b,
                    const PairOptions& options, GeneratedArchive* a = nullptr,
                    GeneratedArchive* b = nullptr);

struct AppendOptions {
  uint64_t universe_seed = 1;
  uint32_t variant = 0;
  int blank_percent = 25;
  int64_t file_size = kDefaultFileSize;
  // Pause between images, to look like a crawler still at work.
  std::chrono::milliseconds delay{0};
};

// Adds images to an existing archive the way the running crawler does, one
// at a time: count the files now under the author's folder, write the file
// (temp name, then rename), then insert its row and relations in their own
// transaction. Ids whose url is already in the database are skipped. Works
// on old-schema databases (late columns left out). Always writes files.
Status AppendImages(const std::filesystem::path& archive_dir, const std::vector<int64_t>& ids,
                    uint64_t universe_seed);
Status AppendImages(const std::filesystem::path& archive_dir, const std::vector<int64_t>& ids,
                    const AppendOptions& options, GeneratedArchive* out);

}  // namespace indafoto
