#!/bin/bash
# `indafoto-syncd plan` against a source whose catalog has N entries
# (bench/README.md, "Outbox computation"): builds, with sqlite3, a local
# archive of N images and a remote crawler database of N images of which
# 70% are the local ones (same sha256 and url), with three tags and one
# album each, then times `plan` for that source (catalog from
# remote_db_path; the received folder is empty, so plan's cost is the
# catalog's: reading it into its temporary store).
#
#   bench/plan_bench.sh [N] [DIR]      (defaults 1000000, /tmp/planbench)
set -euo pipefail
N=${1:-1000000}
DIR=${2:-/tmp/planbench}
BIN=${BIN:-$(dirname "$0")/../build/bin/indafoto-syncd}
SRC=$(dirname "$0")/../lib/archive/crawler_schema.cc
rm -rf "$DIR"
mkdir -p "$DIR/local/indafoto_archive" "$DIR/remote" "$DIR/received"
# The crawler's schema, as lib/archive/crawler_schema.cc has it.
sed -n '/R"sql(/,/)sql"/p' "$SRC" | sed '1d;$d' > "$DIR/schema.sql"

# fill DB FIRST_ID: N images from FIRST_ID on.
fill() {
  sqlite3 "$1" >/dev/null <<SQL
.read $DIR/schema.sql
PRAGMA journal_mode = OFF; -- prints "off"
PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE seq(i) AS (SELECT $2 UNION ALL SELECT i + 1 FROM seq WHERE i < $2 + $N - 1)
INSERT INTO images (id, uuid, url, local_path, title, author, author_url, license, camera_make, focal_length,
                    aperture, shutter_speed, taken_date, page_url, description, camera_model, sha256_hash,
                    upload_date, metadata_updated)
SELECT i, printf('%08x-0000-4000-8000-%012x', i, i * 7919),
       'https://indafoto.hu/user' || (i % 5000) || '/image/' || i || '-' || printf('%08x', i * 2654435761 % 4294967296),
       'indafoto_archive/User ' || (i % 5000) || '/' || (i / 5000 % 10) || '/image_' || i || '_20250121_004239.jpg',
       'Árvíztűrő tükörfúrógép ' || (i % 977), 'User ' || (i % 5000), 'https://indafoto.hu/user' || (i % 5000),
       'CC BY-NC 2.5 HU', 'NIKON CORPORATION', '18 mm', 'f/11', '1/1000 s', '2014-10-16 04:09',
       'https://indafoto.hu/user' || (i % 5000) || '/image/' || i || '/user', '', NULL,
       printf('%016x%016x%016x%016x', i * 2654435761, i * 40503, i * 2246822519, i * 3266489917),
       '2014-11-13 13:49', '2025-01-15 00:15:03'
FROM seq;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 1000)
INSERT INTO tags (id, name) SELECT i, 'tag ' || i FROM seq;
INSERT OR IGNORE INTO image_tags (image_id, tag_id) SELECT id, 1 + id % 1000 FROM images;
INSERT OR IGNORE INTO image_tags (image_id, tag_id) SELECT id, 1 + (id * 7) % 1000 FROM images;
INSERT OR IGNORE INTO image_tags (image_id, tag_id) SELECT id, 1 + (id * 13) % 1000 FROM images;
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < 5000)
INSERT INTO albums (id, album_id, title, url) SELECT i, 'a' || i, 'Album ' || i, 'https://indafoto.hu/album/' || i FROM seq;
INSERT INTO image_albums (image_id, album_id) SELECT id, 1 + id % 5000 FROM images;
COMMIT;
SQL
}
fill "$DIR/local/indafoto.db" 1
fill "$DIR/remote/indafoto.db" $((N * 3 / 10 + 1))
ls -l "$DIR/local/indafoto.db" "$DIR/remote/indafoto.db"
cat > "$DIR/config.json" <<JSON
{"database_path": "$DIR/local/indafoto.db",
 "remote_sources": [{"name": "peer", "folder_id": "plan-bench", "local_path": "$DIR/received",
                     "remote_db_path": "$DIR/remote/indafoto.db"}]}
JSON
/usr/bin/time -v "$BIN" plan --config "$DIR/config.json" --source peer 2>&1 |
  grep -E "plan for|entries|Elapsed|Maximum resident|^  "
