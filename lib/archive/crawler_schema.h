// The crawler's schema (indafoto.py), as facts about the archive we work on.
//
// We create it only for a fresh instance that has no database yet; an
// existing database is never altered beyond the additions in archive_db.cc
// (sha256 index, sync_records, our own syncd_* tables).
#pragma once

#include <array>
#include <string_view>

namespace indafoto {

// The full crawler schema, including the columns later crawler versions add
// with ALTER TABLE (they sit at the end of `images`).
extern const char* const kCrawlerSchemaSql;

// `images` columns that describe an image and travel between archives, in
// the crawler's order. Excludes `id` (local) and `local_path` (derived from
// the layout rules on each side). Older databases may lack the late ones.
inline constexpr std::array<std::string_view, 17> kImageColumns = {
    "uuid",        "url",          "title",          "author",       "author_url",
    "license",     "camera_make",  "focal_length",   "aperture",     "shutter_speed",
    "taken_date",  "page_url",     "description",    "camera_model", "sha256_hash",
    "upload_date", "metadata_updated"};

// Columns added by later crawler versions; an old database may lack any.
inline constexpr std::array<std::string_view, 5> kLateImageColumns = {
    "description", "camera_model", "sha256_hash", "upload_date", "metadata_updated"};

}  // namespace indafoto
