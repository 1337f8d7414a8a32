#include "lib/archive/crawler_schema.h"

namespace indafoto {

const char* const kCrawlerSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS images (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    uuid TEXT UNIQUE,
    url TEXT,
    local_path TEXT,
    title TEXT,
    author TEXT,
    author_url TEXT,
    license TEXT,
    camera_make TEXT,
    focal_length TEXT,
    aperture TEXT,
    shutter_speed TEXT,
    taken_date TEXT,
    page_url TEXT,
    description TEXT,
    camera_model TEXT,
    sha256_hash TEXT,
    upload_date TEXT,
    metadata_updated TIMESTAMP
);
CREATE INDEX IF NOT EXISTS idx_images_url ON images(url);
CREATE TABLE IF NOT EXISTS tags (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT UNIQUE,
    count INTEGER DEFAULT 1
);
CREATE TABLE IF NOT EXISTS image_tags (
    image_id INTEGER,
    tag_id INTEGER,
    FOREIGN KEY (image_id) REFERENCES images (id),
    FOREIGN KEY (tag_id) REFERENCES tags (id),
    PRIMARY KEY (image_id, tag_id)
);
CREATE TABLE IF NOT EXISTS albums (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    album_id TEXT UNIQUE,
    title TEXT,
    url TEXT,
    is_public BOOLEAN
);
CREATE TABLE IF NOT EXISTS image_albums (
    image_id INTEGER,
    album_id INTEGER,
    FOREIGN KEY (image_id) REFERENCES images (id),
    FOREIGN KEY (album_id) REFERENCES albums (id),
    PRIMARY KEY (image_id, album_id)
);
CREATE TABLE IF NOT EXISTS collections (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    collection_id TEXT UNIQUE,
    title TEXT,
    url TEXT,
    is_public BOOLEAN
);
CREATE TABLE IF NOT EXISTS image_collections (
    image_id INTEGER,
    collection_id INTEGER,
    FOREIGN KEY (image_id) REFERENCES images (id),
    FOREIGN KEY (collection_id) REFERENCES collections (id),
    PRIMARY KEY (image_id, collection_id)
);
CREATE TABLE IF NOT EXISTS banned_authors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    author TEXT UNIQUE,
    reason TEXT,
    banned_date TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    banned_by TEXT
);
CREATE TABLE IF NOT EXISTS failed_pages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    page_number INTEGER UNIQUE,
    url TEXT,
    error TEXT,
    attempts INTEGER DEFAULT 1,
    last_attempt TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE IF NOT EXISTS completed_pages (
    page_number INTEGER PRIMARY KEY,
    completion_time TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    image_count INTEGER
);
CREATE TABLE IF NOT EXISTS archive_submissions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT UNIQUE,
    submission_date TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    archive_url TEXT,
    status TEXT,
    type TEXT,
    retry_count INTEGER DEFAULT 0,
    last_attempt TIMESTAMP,
    error TEXT
);
CREATE TABLE IF NOT EXISTS author_stats (
    author TEXT PRIMARY KEY,
    total_images INTEGER DEFAULT 0,
    last_updated TIMESTAMP
);
CREATE TABLE IF NOT EXISTS marked_images (
    image_id INTEGER PRIMARY KEY,
    marked_date TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    FOREIGN KEY (image_id) REFERENCES images (id)
);
CREATE TABLE IF NOT EXISTS image_notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    image_id INTEGER,
    note TEXT,
    created_date TIMESTAMP DEFAULT CURRENT_TIMESTAMP,
    FOREIGN KEY (image_id) REFERENCES images (id)
);
CREATE TABLE IF NOT EXISTS favorite_authors (
    author TEXT PRIMARY KEY,
    added_date TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);
)sql";

}  // namespace indafoto
