#!/usr/bin/env bash
# Docker and Compose for real: packaging/Dockerfile and packaging/compose.yaml
# run as docs/operations.md tells an operator to run them.
#
#   - Docker and Compose from Debian: docker.io and docker-compose (1.29) are
#     installed with apt-get when missing; Compose v2 is Debian 13's
#     docker-compose package (2.26), fetched like the Syncthing matrix
#     (scripts/debian13-package.sh) and used as a CLI plugin (`docker compose`),
#     the way Docker's own packages ship it.
#   - dockerd is started here when none answers, and stopped at the end.
#   - Base images debian:bookworm and debian:bookworm-slim are made with
#     debootstrap from the machine's Debian mirror when missing (no registry).
#   - The project's image is built from packaging/Dockerfile by
#     `docker-compose build`; Syncthing's from Debian's package
#     (tests/docker/syncthing-debian.Dockerfile) stands in for the official
#     syncthing/syncthing image, with the same home path and user.
#
# Checks: both Compose versions accept the file; Alice (a Syncthing on the
# host, loopback) publishes a generated archive; the stack's daemon imports
# it with its relations, merging the overlap with Bob's own archive; the
# HEALTHCHECK turns healthy; `docker-compose stop` in the middle of the
# import ends the daemon with exit 0 and leaves nothing half-imported; a
# restart continues to the full archive; then Compose v2 runs the same stack
# (`docker compose up -d`, an image Alice adds later arrives, `docker compose
# stop` exits 0).
#
# Usage: tests/docker_compose_test.sh BUILD_DIR     (needs root; network access
# to the Debian mirror on the first run). Exit 77 (a skip for ctest) only when
# Docker cannot run here at all: not root, or dockerd cannot start.
set -uo pipefail

BUILD_DIR=$(cd "${1:?usage: docker_compose_test.sh BUILD_DIR}" && pwd)
SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=../scripts/debian-mirror.sh
source "$SRC_DIR/scripts/debian-mirror.sh"

PROJECT=indafoto-test
# Host ports: Alice's Syncthing (loopback) and the stack's published ports;
# none of them Syncthing's defaults, so a Syncthing of the machine is left alone.
ALICE_GUI=28585 ALICE_SYNC=28201
export SYNCTHING_GUI_PORT=28584 SYNCTHING_SYNC_PORT=28200 SYNCTHING_DISCOVERY_PORT=28227
export SYNCTHING_IMAGE=indafoto-test/syncthing-debian:bookworm
export INDAFOTO_IMAGE=indafoto-syncd:test
A_COUNT=600 B_COUNT=60 OVERLAP=30 FILE_SIZE=65536
EXPECTED=$((A_COUNT + B_COUNT - OVERLAP))

FAILURES=0
T0=$SECONDS
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; FAILURES=$((FAILURES + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
die() { echo "FAIL $1"; exit 1; }
skip() { echo "skip: $1"; exit 77; }
step() { echo "---- [$((SECONDS - T0)) s] $*"; }

[ "$(id -u)" = 0 ] || skip "needs root (installs Docker from Debian, starts dockerd)"
for tool in syncthing:syncthing curl:curl sqlite3:sqlite3 python3:python3 debootstrap:debootstrap; do
  command -v "${tool%%:*}" >/dev/null || die "missing tool: ${tool%%:*} (Debian package ${tool#*:})"
done
GEN="$BUILD_DIR/bin/indafoto-gen"
HOST_BIN="$BUILD_DIR/bin/indafoto-syncd"
[ -x "$GEN" ] && [ -x "$HOST_BIN" ] || die "build $BUILD_DIR first (indafoto-gen, indafoto-syncd)"

SCRATCH=$(mktemp -d /var/tmp/indafoto-docker.XXXXXX)
chmod 755 "$SCRATCH"   # the stack's directories inside are used as uid 1000
DOCKERD_PID="" ALICE_PID=""
compose_down_all() { :; }
cleanup() {
  compose_down_all
  [ -n "$ALICE_PID" ] && kill "$ALICE_PID" 2>/dev/null && wait "$ALICE_PID" 2>/dev/null
  if [ -n "$DOCKERD_PID" ]; then
    kill "$DOCKERD_PID" 2>/dev/null
    for _ in $(seq 1 60); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$DOCKERD_PID" 2>/dev/null
    wait "$DOCKERD_PID" 2>/dev/null
    echo "stopped the dockerd this test started"
  fi
  rm -rf "$SCRATCH"
}
trap cleanup EXIT

wait_until() {  # wait_until SECONDS DESCRIPTION CMD...
  local limit=$1 what=$2; shift 2
  local end=$((SECONDS + limit))
  while ((SECONDS < end)); do "$@" 2>/dev/null && return 0; sleep 1; done
  echo "     gave up after ${limit}s waiting for: $what"
  return 1
}

# --- Docker and Compose from Debian -----------------------------------------------------
step "Docker and Compose"
missing=()
for p in docker.io docker-compose; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing from Debian: ${missing[*]}"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } \
    >"$SCRATCH/apt.log" 2>&1 || { tail -20 "$SCRATCH/apt.log"; die "apt-get install ${missing[*]}"; }
fi
# Debian's own CLI, whatever else is first on PATH.
DOCKER=/usr/bin/docker
V1=(/usr/bin/docker-compose -p "$PROJECT" -f "$SRC_DIR/packaging/compose.yaml")
V2_ROOT=$(bash "$SRC_DIR/scripts/debian13-package.sh" docker-compose) || die "fetch Debian 13's docker-compose (Compose v2)"
mkdir -p "$SCRATCH/docker-config/cli-plugins"
ln -s "$V2_ROOT/usr/libexec/docker/cli-plugins/docker-compose" "$SCRATCH/docker-config/cli-plugins/docker-compose"
V2=(env DOCKER_CONFIG="$SCRATCH/docker-config" "$DOCKER" compose -p "$PROJECT" -f "$SRC_DIR/packaging/compose.yaml")
echo "     $($DOCKER --version); $(/usr/bin/docker-compose version --short 2>/dev/null | sed 's/^/docker-compose /'); $("${V2[@]}" version 2>/dev/null)"

# --- dockerd ------------------------------------------------------------------------------
if ! $DOCKER info >/dev/null 2>&1; then
  # Started niced: image builds run in its containers and share the machine.
  nice -n 10 dockerd >"$SCRATCH/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  up=0
  for _ in $(seq 1 120); do
    if ! kill -0 "$DOCKERD_PID" 2>/dev/null; then
      DOCKERD_PID=""
      tail -15 "$SCRATCH/dockerd.log"
      skip "Docker cannot run here: dockerd exited at start ($(grep -m1 -iE 'level=(fatal|error)' "$SCRATCH/dockerd.log" | cut -c1-200))"
    fi
    $DOCKER info >/dev/null 2>&1 && { up=1; break; }
    sleep 0.5
  done
  [ "$up" = 1 ] || { tail -20 "$SCRATCH/dockerd.log"; die "dockerd started but does not answer"; }
  pass "dockerd started by this test ($($DOCKER info -f '{{.ServerVersion}}, {{.Driver}}, cgroup {{.CgroupVersion}}'))"
else
  pass "dockerd already running ($($DOCKER info -f '{{.ServerVersion}}, {{.Driver}}')); left running"
fi

# --- base images, made locally ------------------------------------------------------------
step "base images"
if ! $DOCKER image inspect debian:bookworm >/dev/null 2>&1; then
  MIRROR=$(debian_mirror bookworm) || die "no Debian mirror"
  echo "     debootstrap --variant=minbase bookworm (a minute or two)"
  debootstrap --variant=minbase bookworm "$SCRATCH/rootfs" "$MIRROR" >"$SCRATCH/debootstrap.log" 2>&1 ||
    { tail -20 "$SCRATCH/debootstrap.log"; die "debootstrap bookworm"; }
  # The image's apt cleans up after itself as Debian's official images do.
  rm -rf "$SCRATCH/rootfs/var/cache/apt/archives"/*.deb "$SCRATCH/rootfs/var/lib/apt/lists"/*_Packages
  tar -C "$SCRATCH/rootfs" -c . | $DOCKER import --change 'CMD ["bash"]' - debian:bookworm >/dev/null ||
    die "docker import debian:bookworm"
  rm -rf "$SCRATCH/rootfs"
fi
$DOCKER image inspect debian:bookworm-slim >/dev/null 2>&1 || $DOCKER tag debian:bookworm debian:bookworm-slim
check "base images debian:bookworm and debian:bookworm-slim" \
  bash -c "$DOCKER image inspect debian:bookworm debian:bookworm-slim >/dev/null"

# --- the images -------------------------------------------------------------------------------
step "images: Syncthing from Debian's package, indafoto-syncd from packaging/Dockerfile"
$DOCKER build -q -t "$SYNCTHING_IMAGE" -f "$SRC_DIR/tests/docker/syncthing-debian.Dockerfile" "$SRC_DIR/tests/docker" \
  >"$SCRATCH/build-syncthing.log" 2>&1 || { tail -30 "$SCRATCH/build-syncthing.log"; die "docker build (Syncthing stand-in)"; }
pass "Syncthing image from Debian's package: $($DOCKER run --rm --entrypoint syncthing "$SYNCTHING_IMAGE" --version | cut -d' ' -f1-2)"

check "docker-compose 1.29 accepts packaging/compose.yaml" "${V1[@]}" config -q
check "Compose v2 accepts packaging/compose.yaml" "${V2[@]}" config -q

build_start=$SECONDS
"${V1[@]}" build indafoto-syncd >"$SCRATCH/build.log" 2>&1 || { tail -40 "$SCRATCH/build.log"; die "docker-compose build indafoto-syncd"; }
pass "docker-compose build indafoto-syncd ($((SECONDS - build_start)) s)"

# --- Alice (host): an archive, published, shared send-only --------------------------------------
step "Alice publishes from the host"
ALICE="$SCRATCH/alice"
BOB_SEED="$SCRATCH/bob-seed"
"$GEN" pair --a "$ALICE" --b "$BOB_SEED" --a-count "$A_COUNT" --b-count "$B_COUNT" --overlap "$OVERLAP" \
  --file-size "$FILE_SIZE" >/dev/null || die "indafoto-gen pair"
ALICE_CONFIG="$SCRATCH/alice.json"
echo "{\"database_path\": \"$ALICE/indafoto.db\", \"publish\": {\"enabled\": true, \"folder_id\": \"indafoto-alice\"}}" >"$ALICE_CONFIG"
"$HOST_BIN" publish --config "$ALICE_CONFIG" >"$SCRATCH/publish.log" 2>&1 || { cat "$SCRATCH/publish.log"; die "alice: publish"; }

# Syncthing options for a test: no discovery, relays, NAT, usage reporting,
# upgrades or default folder; only the listen address differs.
configure_syncthing_home() {  # CONFIG_XML GUI_ADDRESS LISTEN_ADDRESS API_KEY [PEER_ID PEER_NAME]
  python3 - "$@" <<'PY'
import sys, xml.etree.ElementTree as ET
path, gui, listen, key = sys.argv[1:5]
tree = ET.parse(path)
root = tree.getroot()
if len(sys.argv) > 6:  # a remote device known from the start (address: dynamic)
    dev = ET.SubElement(root, "device", id=sys.argv[5], name=sys.argv[6], compression="metadata", introducer="false")
    ET.SubElement(dev, "address").text = "dynamic"
root.find("gui").find("address").text = gui
root.find("gui").find("apikey").text = key
opts = root.find("options")
for e in opts.findall("listenAddress"):
    opts.remove(e)
ET.SubElement(opts, "listenAddress").text = listen
for k, v in {"globalAnnounceEnabled": "false", "localAnnounceEnabled": "false",
             "relaysEnabled": "false", "natEnabled": "false", "urAccepted": "-1",
             "autoUpgradeIntervalH": "0", "crashReportingEnabled": "false",
             "startBrowser": "false", "reconnectionIntervalS": "5"}.items():
    (opts.find(k) if opts.find(k) is not None else ET.SubElement(opts, k)).text = v
for f in root.findall("folder"):
    root.remove(f)
tree.write(path)
PY
}
rest() {  # rest PORT KEY METHOD PATH [JSON]
  curl -fsS -m 10 -H "X-API-Key: $2" -X "$3" ${5:+-H 'Content-Type: application/json' --data "$5"} "http://127.0.0.1:$1$4"
}
my_id() { rest "$1" "$2" GET /rest/system/status | python3 -c 'import json, sys; print(json.load(sys.stdin)["myID"])'; }

ALICE_HOME="$SCRATCH/alice-syncthing"
ALICE_KEY=alice-key-$RANDOM$RANDOM
STNODEFAULTFOLDER=1 syncthing generate --home="$ALICE_HOME" --no-default-folder --skip-port-probing >/dev/null 2>&1 ||
  die "alice: syncthing generate"
configure_syncthing_home "$ALICE_HOME/config.xml" "127.0.0.1:$ALICE_GUI" "tcp://127.0.0.1:$ALICE_SYNC" "$ALICE_KEY"
STNODEFAULTFOLDER=1 STNOUPGRADE=1 syncthing serve --home="$ALICE_HOME" --no-browser --no-restart \
  >"$SCRATCH/alice-syncthing.log" 2>&1 &
ALICE_PID=$!
wait_until 60 "alice's syncthing" rest "$ALICE_GUI" "$ALICE_KEY" GET /rest/system/ping >/dev/null || die "alice: syncthing did not start"
ALICE_ID=$(my_id "$ALICE_GUI" "$ALICE_KEY")
# Slow enough (about 30 s for Alice's images) that the stack can be stopped
# in the middle of the import; loopback counts as LAN, hence limitBandwidthInLan.
rest "$ALICE_GUI" "$ALICE_KEY" PATCH /rest/config/options '{"maxSendKbps": 1200, "limitBandwidthInLan": true}' >/dev/null ||
  die "alice: throttle"

# --- the stack's directories, as docs/operations.md sets them up ----------------------------------
step "the stack: data, Syncthing home, config.json"
STACK="$SCRATCH/stack"
export INDAFOTO_DATA_DIR="$STACK/data" SYNCTHING_HOME_DIR="$STACK/syncthing" INDAFOTO_CONFIG="$STACK/config.json"
install -d -o 1000 -g 1000 "$INDAFOTO_DATA_DIR" "$SYNCTHING_HOME_DIR"
cp -a "$BOB_SEED/." "$INDAFOTO_DATA_DIR/"
BOB_KEY=bob-key-$RANDOM$RANDOM
# Bob's Syncthing home made before its first start, so that it never
# announces itself or looks for relays (the official image would make one
# with the defaults at its first start). Alice's device is in it from the
# start, as docs/operations.md asks: the daemon creates the receive-only
# folder shared with the source's device_id at once, and Syncthing drops a
# device it does not know yet from a new folder.
STNODEFAULTFOLDER=1 syncthing generate --home="$SYNCTHING_HOME_DIR/config" --no-default-folder --skip-port-probing \
  >/dev/null 2>&1 || die "bob: syncthing generate"
configure_syncthing_home "$SYNCTHING_HOME_DIR/config/config.xml" "0.0.0.0:8384" "tcp://0.0.0.0:22000" "$BOB_KEY" \
  "$ALICE_ID" alice
chown -R 1000:1000 "$INDAFOTO_DATA_DIR" "$SYNCTHING_HOME_DIR"
# The example configuration as shipped, with Alice's device id and folder
# creation switched on.
python3 - "$SRC_DIR/packaging/config.compose.json" "$INDAFOTO_CONFIG" "$ALICE_ID" <<'PY' || die "config.json"
import json, sys
c = json.load(open(sys.argv[1]))
c["syncthing"]["create_folders"] = True
c["remote_sources"][0]["device_id"] = sys.argv[3]
c["log_level"] = "debug"
json.dump(c, open(sys.argv[2], "w"), indent=2)
PY
chmod 644 "$INDAFOTO_CONFIG"
compose_down_all() {
  "${V1[@]}" down --remove-orphans >/dev/null 2>&1
  "${V2[@]}" down --remove-orphans >/dev/null 2>&1
}
compose_down_all

# Queries on Bob's database from the host, as the containers' user (a root
# sqlite3 would leave root-owned -wal/-shm files behind).
as1000() { setpriv --reuid=1000 --regid=1000 --clear-groups "$@"; }
# Debian's python3 (a python3 first on root's PATH may live where uid 1000 cannot go).
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=$(command -v python3)
bob_sql() { as1000 sqlite3 -readonly "$INDAFOTO_DATA_DIR/indafoto.db" "$1" 2>/dev/null; }
bob_images() { bob_sql "SELECT count(*) FROM images"; }
BOB_BEFORE=$(bob_images)

# --- up (Compose 1.29) ---------------------------------------------------------------------------------
step "docker-compose up -d"
"${V1[@]}" up -d >"$SCRATCH/up.log" 2>&1 || { cat "$SCRATCH/up.log"; die "docker-compose up -d"; }
pass "docker-compose up -d"
DAEMON=$("${V1[@]}" ps -q indafoto-syncd)
[ -n "$DAEMON" ] || die "no indafoto-syncd container"
wait_until 60 "the stack's syncthing" rest "$SYNCTHING_GUI_PORT" "$BOB_KEY" GET /rest/system/ping >/dev/null ||
  { "${V1[@]}" logs syncthing | tail -20; die "the stack's Syncthing does not answer on 127.0.0.1:$SYNCTHING_GUI_PORT"; }
BOB_ID=$(my_id "$SYNCTHING_GUI_PORT" "$BOB_KEY")
pass "the stack's Syncthing answers (home /var/syncthing/config, uid $($DOCKER exec "$("${V1[@]}" ps -q syncthing)" stat -c %u /var/syncthing/config/config.xml))"

# Alice and Bob meet: Alice dials the stack's published sync port.
rest "$ALICE_GUI" "$ALICE_KEY" POST /rest/config/devices "{\"deviceID\":\"$BOB_ID\",\"name\":\"bob\",\"addresses\":[\"tcp://127.0.0.1:$SYNCTHING_SYNC_PORT\"]}" >/dev/null || die "alice: add bob"
rest "$ALICE_GUI" "$ALICE_KEY" POST /rest/config/folders \
  "{\"id\":\"indafoto-alice\",\"label\":\"indafoto-alice\",\"path\":\"$ALICE/indafoto_archive\",\"type\":\"sendonly\",\"devices\":[{\"deviceID\":\"$BOB_ID\"}],\"rescanIntervalS\":5,\"fsWatcherEnabled\":false}" >/dev/null || die "alice: add folder"

folder_shared_with_alice() {
  rest "$SYNCTHING_GUI_PORT" "$BOB_KEY" GET /rest/config/folders/indafoto-alice | python3 -c '
import json, sys
f = json.load(sys.stdin)
sys.exit(0 if f["type"] == "receiveonly" and sys.argv[1] in [d["deviceID"] for d in f["devices"]] else 1)' "$ALICE_ID"
}
check "the daemon created the receive-only folder, shared with Alice, in the stack's Syncthing" \
  wait_until 90 "folder indafoto-alice" folder_shared_with_alice

# --- stop in the middle of the import --------------------------------------------------------------------
step "import under way; docker-compose stop in the middle"
INCOMING=$((EXPECTED - BOB_BEFORE))
mid_import() { local n; n=$(bob_images); [ -n "$n" ] && [ "$n" -ge $((BOB_BEFORE + INCOMING / 10)) ]; }
check "the import is under way (10% of Alice's images)" wait_until 300 "10% imported" mid_import
"${V1[@]}" stop >"$SCRATCH/stop.log" 2>&1 || { cat "$SCRATCH/stop.log"; fail "docker-compose stop"; }
AT_STOP=$(bob_images)
echo "     stopped with $AT_STOP of $EXPECTED images"
check "stopped in the middle of the import ($AT_STOP of $EXPECTED)" test "$AT_STOP" -lt "$EXPECTED"
check "docker-compose stop: the daemon exited with 0" \
  test "$($DOCKER inspect -f '{{.State.ExitCode}}' "$DAEMON")" = 0
$DOCKER logs "$DAEMON" >"$SCRATCH/daemon-1.log" 2>&1
check "the daemon logged SIGTERM" grep -q "SIGTERM" "$SCRATCH/daemon-1.log"

# Nothing half-imported: every row's file is there and verifies, every placed
# file has its row, no sha256 twice.
archive_consistent() {
  as1000 "$PYTHON" - "$INDAFOTO_DATA_DIR" <<'PY'
import os, sqlite3, sys
root = sys.argv[1]
db = sqlite3.connect(f"file:{root}/indafoto.db?mode=ro", uri=True)
paths = {p for (p,) in db.execute("SELECT local_path FROM images WHERE local_path IS NOT NULL")}
files = set()
for d, dirs, names in os.walk(os.path.join(root, "indafoto_archive")):
    dirs[:] = [x for x in dirs if x != ".indafoto-sync"]
    for n in names:
        files.add(os.path.relpath(os.path.join(d, n), root))
dups = db.execute("SELECT count(*) FROM (SELECT sha256_hash FROM images WHERE sha256_hash IS NOT NULL GROUP BY sha256_hash HAVING count(*) > 1)").fetchone()[0]
ok = True
for what, items in (("rows without a file", paths - files), ("files without a row", files - paths)):
    if items:
        ok = False
        print(f"     {len(items)} {what}, e.g. {sorted(items)[:3]}")
if dups:
    ok = False
    print(f"     {dups} sha256 values in images twice")
sys.exit(0 if ok else 1)
PY
}
check "after the stop: no row without its file, no file without its row, no duplicate" archive_consistent
"${V1[@]}" run --rm --no-deps -T indafoto-syncd verify --config /etc/indafoto-syncd/config.json >"$SCRATCH/verify-1.log" 2>&1
check "after the stop: indafoto-syncd verify (one-off container) exits 0" test $? = 0

# --- restart: it continues ----------------------------------------------------------------------------------
step "docker-compose start: the import continues"
"${V1[@]}" start >"$SCRATCH/start.log" 2>&1 || { cat "$SCRATCH/start.log"; die "docker-compose start"; }
all_imported() { [ "$(bob_images)" = "$EXPECTED" ]; }
check "restarted: Bob has the union of both archives ($EXPECTED images)" wait_until 300 "$EXPECTED images" all_imported
echo "     images $(bob_images); sync_records: $(bob_sql "SELECT group_concat(status || ' ' || n, ', ') FROM (SELECT status, count(*) n FROM sync_records GROUP BY status)")"

# Relations: every image of Alice's is in Bob's archive (by sha256, else
# url) with at least her tags, albums and collections (re-keyed by name,
# album_id, collection_id), and its file.
relations_ok() {
  # A copy of Alice's database (idle now) that uid 1000 may open.
  rm -rf "$SCRATCH/alice-db" && mkdir "$SCRATCH/alice-db" && cp "$ALICE"/indafoto.db* "$SCRATCH/alice-db/" &&
    chown -R 1000:1000 "$SCRATCH/alice-db" || return 1
  as1000 "$PYTHON" - "$SCRATCH/alice-db/indafoto.db" "$INDAFOTO_DATA_DIR/indafoto.db" <<'PY'
import sqlite3, sys
a = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
b = sqlite3.connect(f"file:{sys.argv[2]}?mode=ro", uri=True)
def rel(db, image_id):
    return (
        {r for (r,) in db.execute("SELECT t.name FROM image_tags it JOIN tags t ON t.id = it.tag_id WHERE it.image_id = ?", (image_id,))},
        {r for (r,) in db.execute("SELECT a.album_id FROM image_albums ia JOIN albums a ON a.id = ia.album_id WHERE ia.image_id = ?", (image_id,))},
        {r for (r,) in db.execute("SELECT c.collection_id FROM image_collections ic JOIN collections c ON c.id = ic.collection_id WHERE ic.image_id = ?", (image_id,))},
    )
missing = lacking = 0
n_rel = 0
for image_id, sha, url in a.execute("SELECT id, sha256_hash, url FROM images"):
    row = b.execute("SELECT id FROM images WHERE sha256_hash = ?", (sha,)).fetchone() or \
          b.execute("SELECT id FROM images WHERE url = ?", (url,)).fetchone()
    if not row:
        missing += 1
        continue
    ra, rb = rel(a, image_id), rel(b, row[0])
    n_rel += sum(len(x) for x in ra)
    if any(not x <= y for x, y in zip(ra, rb)):
        lacking += 1
print(f"     Alice's images missing in Bob's archive: {missing}; lacking relations: {lacking}; relations checked: {n_rel}")
sys.exit(0 if missing == 0 and lacking == 0 and n_rel > 0 else 1)
PY
}
check "every image of Alice's arrived with its tags, albums and collections" relations_ok
check "after the restart: no row without its file, no file without its row, no duplicate" archive_consistent
imported_links() { as1000 bash -c "cd '$INDAFOTO_DATA_DIR' && sqlite3 -readonly indafoto.db \"SELECT i.local_path FROM images i JOIN sync_records r ON r.image_id = i.id WHERE r.status = 'imported'\" | head -50 | tr '\n' '\0' | xargs -0 stat -c %h | sort -u"; }
check "imported files are hardlinks of the received ones (same volume)" test "$(imported_links)" = 2

health() { $DOCKER inspect -f '{{.State.Health.Status}}' "$DAEMON"; }
check "HEALTHCHECK (indafoto-syncd status) turns healthy" wait_until 200 "healthy" bash -c "test \"\$($DOCKER inspect -f '{{.State.Health.Status}}' $DAEMON)\" = healthy"
echo "     health: $(health); last check: $($DOCKER inspect -f '{{with (index .State.Health.Log 0)}}exit {{.ExitCode}}{{end}}' "$DAEMON" 2>/dev/null)"
$DOCKER exec "$DAEMON" indafoto-syncd status --config /etc/indafoto-syncd/config.json >"$SCRATCH/status.log" 2>&1
check "docker exec ... indafoto-syncd status exits 0" test $? = 0

"${V1[@]}" stop >/dev/null 2>&1
$DOCKER logs "$DAEMON" >"$SCRATCH/daemon-2.log" 2>&1
check "docker-compose stop (idle): exit 0" test "$($DOCKER inspect -f '{{.State.ExitCode}}' "$DAEMON")" = 0
"${V1[@]}" down >"$SCRATCH/down.log" 2>&1
check "docker-compose down" test $? = 0

# --- the same stack with Compose v2 -------------------------------------------------------------------------------
step "Compose v2: docker compose up -d"
"${V2[@]}" up -d >"$SCRATCH/up-v2.log" 2>&1 || { cat "$SCRATCH/up-v2.log"; die "docker compose up -d"; }
pass "docker compose up -d (Compose v2)"
DAEMON2=$("${V2[@]}" ps -q indafoto-syncd)
[ -n "$DAEMON2" ] || die "no indafoto-syncd container (v2)"
rest "$ALICE_GUI" "$ALICE_KEY" PATCH /rest/config/options '{"maxSendKbps": 0, "limitBandwidthInLan": false}' >/dev/null
"$GEN" append --dir "$ALICE" --ids 100000 --variant 1 >/dev/null || die "alice: append"
"$HOST_BIN" publish --config "$ALICE_CONFIG" >>"$SCRATCH/publish.log" 2>&1 || die "alice: publish again"
rest "$ALICE_GUI" "$ALICE_KEY" POST "/rest/db/scan?folder=indafoto-alice" >/dev/null
late_image() { [ "$(bob_sql "SELECT count(*) FROM images i JOIN image_tags t ON t.image_id = i.id WHERE i.local_path LIKE '%/image_100000\_%' ESCAPE '\\'")" -gt 0 ]; }
check "Compose v2 stack: an image Alice adds later arrives with its tags" wait_until 180 "image 100000" late_image
"${V2[@]}" stop >"$SCRATCH/stop-v2.log" 2>&1
$DOCKER logs "$DAEMON2" >"$SCRATCH/daemon-v2.log" 2>&1
check "docker compose stop: the daemon exited with 0" test "$($DOCKER inspect -f '{{.State.ExitCode}}' "$DAEMON2")" = 0
check "Compose v2 stack: consistent after the stop" archive_consistent
"${V2[@]}" down >"$SCRATCH/down-v2.log" 2>&1
check "docker compose down" test $? = 0

step "done"
echo
if [ "$FAILURES" -gt 0 ]; then
  for f in daemon-1 daemon-2 daemon-v2; do
    [ -f "$SCRATCH/$f.log" ] && { echo "--- $f.log (docker logs) ---"; tail -40 "$SCRATCH/$f.log"; }
  done
  echo "docker compose test: $FAILURES check(s) failed ($((SECONDS - T0)) s)"
  exit 1
fi
echo "docker compose test: all checks passed ($((SECONDS - T0)) s)"
