#!/usr/bin/env bash
# The operator's path of docs/operations.md, under a real systemd:
#
#   a Debian 12 root (debootstrap) booted with systemd-nspawn, systemd as its
#   PID 1, Syncthing from Debian running as syncthing@bob; the package built
#   by CPack from this build tree installed with apt-get; Bob's configuration
#   and drop-in written as sections 3 and 4 say; `systemctl start
#   indafoto-syncd`. Alice publishes from the host with her own Syncthing
#   (the container shares the host's network; everything is on loopback,
#   with discovery, relays, NAT and usage reporting off).
#
# Checks: the service reaches READY and imports Alice's archive (hardlinks,
# verify), journald gets priorities and fields (`-p warning` shows exactly
# the one corrupt file), the STATUS= line, the health exit code of `status`,
# the watchdog, SIGHUP reload, restart after SIGKILL, an image Alice adds
# later, and a clean stop (exit 0).
#
# Usage: tests/systemd_service_test.sh BUILD_DIR
# Needs root, systemd-nspawn (systemd-container), debootstrap and network
# access for the first run to the Debian mirror that the machine's apt
# sources name ($INDAFOTO_DEBIAN_MIRROR overrides it; scripts/debian-mirror.sh).
# The Debian root is cached in $INDAFOTO_ROOTFS_CACHE (default /var/cache/indafoto-syncd-tests).
# Exit 77 (a skip for ctest) only when not root.
set -uo pipefail

BUILD_DIR=$(cd "${1:?usage: systemd_service_test.sh BUILD_DIR}" && pwd)
CACHE=${INDAFOTO_ROOTFS_CACHE:-/var/cache/indafoto-syncd-tests}
# The machine's own Debian mirror (its apt sources), or $INDAFOTO_DEBIAN_MIRROR.
# shellcheck source=../scripts/debian-mirror.sh
source "$(dirname "$0")/../scripts/debian-mirror.sh"
# Ports on loopback: Alice (host) and Bob (container) must not collide with
# each other nor with a Syncthing the machine may already run on 8384/22000.
ALICE_GUI=28385 ALICE_SYNC=28001 BOB_GUI=28384 BOB_SYNC=28000

FAILURES=0
pass() { echo "ok   $1"; }
fail() { echo "FAIL $1"; FAILURES=$((FAILURES + 1)); }
check() { local what=$1; shift; if "$@"; then pass "$what"; else fail "$what"; fi; }
die() { echo "FAIL $1"; exit 1; }

[ "$(id -u)" = 0 ] || { echo "skip: needs root (boots a container with systemd-nspawn)"; exit 77; }
for tool in systemd-nspawn:systemd-container debootstrap:debootstrap syncthing:syncthing curl:curl sqlite3:sqlite3 cpack:cmake python3:python3; do
  command -v "${tool%%:*}" >/dev/null || die "missing tool: ${tool%%:*} (Debian package ${tool#*:})"
done

SCRATCH=$(mktemp -d /var/tmp/indafoto-systemd.XXXXXX)
ROOT="$SCRATCH/root"
NSPAWN_PID="" ALICE_PID="" CPID=""
cleanup() {
  if [ -n "$CPID" ] && kill -0 "$CPID" 2>/dev/null; then
    nsenter -t "$CPID" -a systemctl poweroff 2>/dev/null
    for _ in $(seq 1 60); do kill -0 "$NSPAWN_PID" 2>/dev/null || break; sleep 0.5; done
  fi
  [ -n "$NSPAWN_PID" ] && kill -9 "$NSPAWN_PID" 2>/dev/null
  [ -n "$ALICE_PID" ] && kill "$ALICE_PID" 2>/dev/null && wait "$ALICE_PID" 2>/dev/null
  rm -rf "$SCRATCH"
}
trap cleanup EXIT

# --- the package, the generator, the host binary -----------------------------------
(cd "$BUILD_DIR" && cpack -G DEB -B "$SCRATCH/pkg") >"$SCRATCH/cpack.log" 2>&1 || { cat "$SCRATCH/cpack.log"; die "cpack -G DEB"; }
DEB=$(ls "$SCRATCH"/pkg/indafoto-syncd_*.deb) || die "cpack made no .deb"
GEN="$BUILD_DIR/bin/indafoto-gen"
HOST_BIN="$BUILD_DIR/bin/indafoto-syncd"
[ -x "$GEN" ] && [ -x "$HOST_BIN" ] || die "build $BUILD_DIR first (indafoto-gen, indafoto-syncd)"

# --- a Debian 12 root, cached -----------------------------------------------------
# The package's dependencies (from its Depends:) are included so that
# installing the .deb needs no download; apt-get still resolves them as a
# user's install would.
# debootstrap takes no virtual packages (libspdlog1.10-fmt9 is provided by
# libspdlog1.10): name the package that provides one.
# A package is real when apt has a candidate version of it; an apt-cache
# that answers nothing (lists being updated) must not pass a virtual name on.
# (grep reads all of it: with pipefail, -q would fail apt-cache by SIGPIPE.)
real_package() {
  if apt-cache policy "$1" 2>/dev/null | grep 'Candidate: [^(]' >/dev/null; then echo "$1"; return; fi
  apt-cache showpkg "$1" 2>/dev/null | sed -n '/^Reverse Provides:/{n;p;q}' | awk '{print $1}'
}
PACKAGES=systemd,systemd-sysv,dbus,syncthing,sqlite3,procps
for dep in $(dpkg-deb -f "$DEB" Depends | sed -e 's/([^)]*)//g' -e 's/,/ /g'); do
  real=$(real_package "$dep")
  [ -n "$real" ] || die "no Debian package provides $dep (apt-cache policy/showpkg $dep)"
  PACKAGES+=",$real"
done
STAMP="bookworm minbase $PACKAGES"
if [ ! -d "$CACHE/bookworm" ] || [ "$(cat "$CACHE/bookworm.stamp" 2>/dev/null)" != "$STAMP" ]; then
  MIRROR=$(debian_mirror bookworm) || die "no Debian mirror for debootstrap"
  echo "debootstrap bookworm into $CACHE (first run: a few minutes)"
  # The stamp goes with the root: a rebuild that fails must not leave a
  # stamp that vouches for a root no longer there.
  rm -rf "$CACHE/bookworm" "$CACHE/bookworm.tmp" "$CACHE/bookworm.stamp"
  mkdir -p "$CACHE"
  ok=0
  for attempt in 1 2 3; do
    if debootstrap --variant=minbase --include="$PACKAGES" bookworm "$CACHE/bookworm.tmp" "$MIRROR" >"$SCRATCH/debootstrap.log" 2>&1; then
      ok=1; break
    fi
    echo "debootstrap attempt $attempt failed: $(tail -1 "$SCRATCH/debootstrap.log")"
    rm -rf "$CACHE/bookworm.tmp"; sleep 5
  done
  [ "$ok" = 1 ] || { tail -20 "$SCRATCH/debootstrap.log"; die "debootstrap bookworm from $MIRROR"; }
  mv "$CACHE/bookworm.tmp" "$CACHE/bookworm"
  echo "$STAMP" >"$CACHE/bookworm.stamp"
fi
cp -a "$CACHE/bookworm" "$ROOT" || die "copy the cached root"
echo indafoto-test >"$ROOT/etc/hostname"

# --- boot it ------------------------------------------------------------------------
# --register=no --keep-unit: the host need not run systemd (no machined, no
# bus). The container shares the host's network, so both Syncthings meet on
# loopback.
systemd-nspawn -D "$ROOT" --register=no --keep-unit --boot --console=passive </dev/null \
  >"$SCRATCH/nspawn.log" 2>&1 &
NSPAWN_PID=$!
for _ in $(seq 1 120); do
  # The container's PID 1 is systemd-nspawn's child.
  CPID=$(pgrep -P "$NSPAWN_PID" -x systemd)
  [ -n "$CPID" ] && break
  kill -0 "$NSPAWN_PID" 2>/dev/null || { cat "$SCRATCH/nspawn.log"; die "systemd-nspawn exited"; }
  sleep 0.5
done
[ -n "$CPID" ] || { cat "$SCRATCH/nspawn.log"; die "no systemd PID 1 in the container"; }
C() { nsenter -t "$CPID" -a "$@"; }      # a command inside the container, as root
state=""
for _ in $(seq 1 120); do
  state=$(C systemctl is-system-running 2>/dev/null); case "$state" in running|degraded) break ;; esac
  sleep 0.5
done
case "$state" in running|degraded) pass "container booted, systemd is PID 1 ($state)" ;; *) cat "$SCRATCH/nspawn.log"; die "container did not boot: $state" ;; esac

# Polls `cmd` (a shell snippet run on the host) until it succeeds.
wait_until() {  # wait_until SECONDS DESCRIPTION CMD...
  local limit=$1 what=$2; shift 2
  local end=$((SECONDS + limit))
  while ((SECONDS < end)); do "$@" 2>/dev/null && return 0; sleep 1; done
  echo "     gave up after ${limit}s waiting for: $what"
  return 1
}

# Syncthing options for a test: loopback only, no discovery, relays, NAT,
# usage reporting or upgrades.
configure_syncthing_home() {  # configure_syncthing_home CONFIG_XML GUI_PORT SYNC_PORT
  python3 - "$@" <<'PY'
import sys, xml.etree.ElementTree as ET
path, gui_port, sync_port = sys.argv[1], sys.argv[2], sys.argv[3]
tree = ET.parse(path)
root = tree.getroot()
root.find("gui").find("address").text = f"127.0.0.1:{gui_port}"
opts = root.find("options")
for e in opts.findall("listenAddress"):
    opts.remove(e)
ET.SubElement(opts, "listenAddress").text = f"tcp://127.0.0.1:{sync_port}"
for k, v in {"globalAnnounceEnabled": "false", "localAnnounceEnabled": "false",
             "relaysEnabled": "false", "natEnabled": "false", "urAccepted": "-1",
             "autoUpgradeIntervalH": "0", "crashReportingEnabled": "false",
             "startBrowser": "false"}.items():
    (opts.find(k) if opts.find(k) is not None else ET.SubElement(opts, k)).text = v
for f in root.findall("folder"):      # no default folder
    root.remove(f)
tree.write(path)
PY
}
api_key_of() { python3 -c 'import sys, xml.etree.ElementTree as ET; print(ET.parse(sys.argv[1]).getroot().find("gui").find("apikey").text)' "$1"; }
rest() {  # rest PORT KEY METHOD PATH [JSON]
  curl -fsS -m 10 -H "X-API-Key: $2" -X "$3" ${5:+-H 'Content-Type: application/json' --data "$5"} "http://127.0.0.1:$1$4"
}
my_id() { rest "$1" "$2" GET /rest/system/status | python3 -c 'import json, sys; print(json.load(sys.stdin)["myID"])'; }

# --- Alice (host): a crawler archive, published, shared send-only ------------------
ALICE="$SCRATCH/alice"
BOB_SEED="$SCRATCH/bob-seed"
# A: ids 1-60; B: ids 41-60 (overlap, other tags, some NULL columns) and 61-80.
"$GEN" pair --a "$ALICE" --b "$BOB_SEED" --a-count 60 --b-count 40 --overlap 20 >/dev/null || die "indafoto-gen pair"
ALICE_CONFIG="$SCRATCH/alice.json"
cat >"$ALICE_CONFIG" <<EOF
{"database_path": "$ALICE/indafoto.db", "publish": {"enabled": true, "folder_id": "indafoto-alice"}}
EOF
"$HOST_BIN" publish --config "$ALICE_CONFIG" >"$SCRATCH/publish.log" 2>&1 || { cat "$SCRATCH/publish.log"; die "alice: publish"; }
# One of Alice's files goes bad after publishing (id 1 is Alice's alone):
# Bob must record it failed, with a warning, and import the rest.
CORRUPT_PATH=$(sqlite3 "$ALICE/indafoto.db" "SELECT local_path FROM images WHERE local_path LIKE '%/image_1\_%' ESCAPE '\\'")
[ -n "$CORRUPT_PATH" ] || die "alice: no image 1"
printf 'bit rot' | dd of="$ALICE/$CORRUPT_PATH" bs=1 seek=100 conv=notrunc status=none
CORRUPT_REL=${CORRUPT_PATH#indafoto_archive/}

ALICE_HOME="$SCRATCH/alice-syncthing"
STNODEFAULTFOLDER=1 syncthing -generate="$ALICE_HOME" >/dev/null 2>&1 || die "alice: syncthing -generate"
configure_syncthing_home "$ALICE_HOME/config.xml" "$ALICE_GUI" "$ALICE_SYNC"
ALICE_KEY=$(api_key_of "$ALICE_HOME/config.xml")
STNODEFAULTFOLDER=1 STNOUPGRADE=1 syncthing -home="$ALICE_HOME" -no-browser -no-restart \
  >"$SCRATCH/alice-syncthing.log" 2>&1 &
ALICE_PID=$!
wait_until 60 "alice's syncthing" rest "$ALICE_GUI" "$ALICE_KEY" GET /rest/system/ping >/dev/null || die "alice: syncthing did not start"
ALICE_ID=$(my_id "$ALICE_GUI" "$ALICE_KEY")

# --- Bob (container): operations.md, sections 1 to 4 ---------------------------------
# (Not /tmp: systemd mounts a tmpfs over the container's /tmp.)
cp "$DEB" "$ROOT/root/"
C apt-get install -y -q --no-install-recommends "/root/$(basename "$DEB")" >"$SCRATCH/apt.log" 2>&1 ||
  { cat "$SCRATCH/apt.log"; die "apt-get install ./$(basename "$DEB")"; }
pass "apt-get install ./$(basename "$DEB")"
check "postinst: enabled, not started without config.json" grep -q "enabled but not started" "$SCRATCH/apt.log"
check "postinst created the system user" C getent passwd indafoto-syncd >/dev/null
check "unit enabled" test "$(C systemctl is-enabled indafoto-syncd.service)" = enabled
check "unit inactive (ConditionPathExists, no config yet)" test "$(C systemctl is-active indafoto-syncd.service)" = inactive

C useradd --create-home --shell /bin/bash bob || die "useradd bob"
mkdir -p "$ROOT/srv/indafoto"
cp -a "$BOB_SEED/." "$ROOT/srv/indafoto/"
C chown -R bob:bob /srv/indafoto
BOB_IMAGES_BEFORE=$(sqlite3 "$ROOT/srv/indafoto/indafoto.db" "SELECT count(*) FROM images")

C runuser -u bob -- env STNODEFAULTFOLDER=1 syncthing -generate=/home/bob/.config/syncthing >/dev/null 2>&1 || die "bob: syncthing -generate"
configure_syncthing_home "$ROOT/home/bob/.config/syncthing/config.xml" "$BOB_GUI" "$BOB_SYNC"
BOB_KEY=$(api_key_of "$ROOT/home/bob/.config/syncthing/config.xml")
C systemctl enable --now syncthing@bob >/dev/null 2>&1 || die "systemctl enable --now syncthing@bob"
wait_until 60 "bob's syncthing" rest "$BOB_GUI" "$BOB_KEY" GET /rest/system/ping >/dev/null || die "bob: syncthing@bob did not start"
BOB_ID=$(my_id "$BOB_GUI" "$BOB_KEY")

# The devices introduced to each other (the GUI's "Add Remote Device").
rest "$ALICE_GUI" "$ALICE_KEY" POST /rest/config/devices "{\"deviceID\":\"$BOB_ID\",\"name\":\"bob\",\"addresses\":[\"tcp://127.0.0.1:$BOB_SYNC\"]}" >/dev/null || die "alice: add bob"
rest "$BOB_GUI" "$BOB_KEY" POST /rest/config/devices "{\"deviceID\":\"$ALICE_ID\",\"name\":\"alice\",\"addresses\":[\"tcp://127.0.0.1:$ALICE_SYNC\"]}" >/dev/null || die "bob: add alice"
# Alice: section 4, step 3.
rest "$ALICE_GUI" "$ALICE_KEY" POST /rest/config/folders \
  "{\"id\":\"indafoto-alice\",\"label\":\"indafoto-alice\",\"path\":\"$ALICE/indafoto_archive\",\"type\":\"sendonly\",\"devices\":[{\"deviceID\":\"$BOB_ID\"}],\"rescanIntervalS\":5,\"fsWatcherEnabled\":false}" >/dev/null || die "alice: add folder"

# Bob: the configuration of section 4 (the daemon creates the receive-only
# folder), the drop-in of section 3 (option A: run as the Syncthing user),
# and a short watchdog so that the test sees it work.
mkdir -p "$ROOT/etc/indafoto-syncd"
cat >"$ROOT/etc/indafoto-syncd/config.json" <<EOF
{
  "database_path": "/srv/indafoto/indafoto.db",
  "log_level": "debug",
  "syncthing": {"create_folders": true},
  "remote_sources": [
    {"name": "alice", "folder_id": "indafoto-alice",
     "local_path": "/srv/indafoto/received/alice", "device_id": "$ALICE_ID"}
  ]
}
EOF
mkdir -p "$ROOT/etc/systemd/system/indafoto-syncd.service.d"
cat >"$ROOT/etc/systemd/system/indafoto-syncd.service.d/override.conf" <<EOF
[Unit]
After=syncthing@bob.service

[Service]
User=bob
Group=bob
ReadWritePaths=/srv/indafoto
WatchdogSec=6s
EOF
C systemctl daemon-reload
C systemctl start indafoto-syncd || { C journalctl --no-pager -u indafoto-syncd | tail -30; die "systemctl start indafoto-syncd"; }
check "systemctl start indafoto-syncd: active (READY=1 received)" test "$(C systemctl is-active indafoto-syncd)" = active

# --- the import -----------------------------------------------------------------------
# Union of both archives, less the corrupt file.
EXPECTED=$((80 - 1))
images() { sqlite3 -readonly "$ROOT/srv/indafoto/indafoto.db" "SELECT count(*) FROM images" 2>/dev/null; }
records() { sqlite3 -readonly "$ROOT/srv/indafoto/indafoto.db" "SELECT count(*) FROM sync_records WHERE remote_source = 'alice' AND status = '$1'" 2>/dev/null; }
all_imported() { [ "$(images)" = "$EXPECTED" ] && [ "$(records failed)" = 1 ]; }
check "bob's archive: $BOB_IMAGES_BEFORE + Alice's images = $EXPECTED, one failed" wait_until 240 "$EXPECTED images" all_imported
echo "     images $(images), imported $(records imported), merged $(records merged), duplicate $(records duplicate), failed $(records failed), pending $(records pending)"
check "39 imported (the 40th is the corrupt file), the overlap of 20 merged or duplicate" \
  test "$(records imported)" = 39 -a "$(($(records merged) + $(records duplicate)))" = 20
C runuser -u bob -- indafoto-syncd verify --config /etc/indafoto-syncd/config.json >"$SCRATCH/verify.out" 2>&1
check "verify as bob exits 0" test $? = 0
C runuser -u bob -- indafoto-syncd plan --config /etc/indafoto-syncd/config.json --source alice >"$SCRATCH/plan.out" 2>&1
check "plan as bob: exit 0, nothing left to do but the failed file" \
  bash -c "test $? = 0 && grep -qE 'already accounted for: 59' '$SCRATCH/plan.out'"
# Hardlinks (same filesystem, one ReadWritePaths= mount, the Syncthing user).
LINKS=$(C bash -c "cd /srv/indafoto && sqlite3 indafoto.db \"SELECT i.local_path FROM images i JOIN sync_records r ON r.image_id = i.id WHERE r.status = 'imported'\" | tr '\n' '\0' | xargs -0 stat -c %h | sort -u")
check "imported files are hardlinks of the received ones (link counts: $(echo $LINKS))" test "$LINKS" = 2
check "the receive-only folder was created by the daemon" \
  bash -c "rest() { curl -fsS -m 10 -H 'X-API-Key: $BOB_KEY' http://127.0.0.1:$BOB_GUI\$1; }; rest /rest/config/folders/indafoto-alice | grep -q '\"type\": *\"receiveonly\"'"

# --- health ------------------------------------------------------------------------------
C runuser -u bob -- indafoto-syncd status --config /etc/indafoto-syncd/config.json >"$SCRATCH/status.out" 2>&1
check "status exits 1 while a failed import remains" test $? = 1
check "status shows the daemon's heartbeat" grep -qi "running" "$SCRATCH/status.out"
# STATUS= follows state changes at once and the counts every 30 s.
status_text() { C systemctl show -p StatusText --value indafoto-syncd; }
status_line_ok() { status_text | grep -qE '^running: [0-9]+ decisions this session, 1 failed'; }
check "systemd STATUS= line: running, decisions, 1 failed" wait_until 60 "STATUS= with the failure" status_line_ok
echo "     systemd Status: $(status_text)"

# --- the journal ------------------------------------------------------------------------------
J() { C journalctl --no-pager -u indafoto-syncd "$@"; }
J -p warning -o cat >"$SCRATCH/warnings"
echo "     journalctl -u indafoto-syncd -p warning:"; sed 's/^/       /' "$SCRATCH/warnings"
check "-p warning shows the corrupt file with both hashes" grep -qF "$CORRUPT_REL" "$SCRATCH/warnings"
check "-p warning shows nothing else (exactly the problems)" test "$(grep -c . "$SCRATCH/warnings")" = 1
check "STATUS=failed field selects the corrupt file" bash -c "J() { nsenter -t $CPID -a journalctl --no-pager -u indafoto-syncd \"\$@\"; }; test \"\$(J STATUS=failed SOURCE=alice -o cat | grep -c .)\" = 1"
check "STATUS=imported: one debug line per imported file (39)" test "$(J STATUS=imported -o cat | grep -c .)" = 39
check "decision lines have PRIORITY=7, the failure PRIORITY=4" \
  bash -c "J() { nsenter -t $CPID -a journalctl --no-pager -u indafoto-syncd \"\$@\"; }; J STATUS=imported -o export | grep -qx PRIORITY=7 && J STATUS=failed -o export | grep -qx PRIORITY=4"
check "SYSLOG_IDENTIFIER=indafoto-syncd, no timestamp of ours in MESSAGE" \
  bash -c "J() { nsenter -t $CPID -a journalctl --no-pager -u indafoto-syncd \"\$@\"; }; J SYSLOG_IDENTIFIER=indafoto-syncd -o cat | grep -q . && ! J -o cat | grep -qE '^20[0-9]{2}-[0-9]{2}-[0-9]{2} '"
check "progress at info (per source)" bash -c "J() { nsenter -t $CPID -a journalctl --no-pager -u indafoto-syncd \"\$@\"; }; J -p info -o cat | grep -qi alice"
check "the API key never appears in the journal" bash -c "! nsenter -t $CPID -a journalctl --no-pager -u indafoto-syncd -o export | grep -qF '$BOB_KEY'"

# --- the watchdog (WatchdogSec=6s in the drop-in: pings every 3 s) ------------------------------
WD1=$(C systemctl show -p WatchdogTimestampMonotonic --value indafoto-syncd)
sleep 8
WD2=$(C systemctl show -p WatchdogTimestampMonotonic --value indafoto-syncd)
check "WATCHDOG=1 keeps coming (timestamp $WD1 -> $WD2), no restart" \
  test "$WD2" -gt "$WD1" -a "$(C systemctl show -p NRestarts --value indafoto-syncd)" = 0

# --- a new image on Alice's side (the crawler still running) -------------------------------------
"$GEN" append --dir "$ALICE" --ids 1000 --variant 1 >/dev/null || die "alice: append"
"$HOST_BIN" publish --config "$ALICE_CONFIG" >>"$SCRATCH/publish.log" 2>&1 || die "alice: publish again"
EXPECTED=$((EXPECTED + 1))
check "an image Alice adds later arrives with its tags, no manual step" \
  wait_until 120 "image 1000" bash -c "test \"\$(sqlite3 -readonly '$ROOT/srv/indafoto/indafoto.db' \"SELECT count(*) FROM images i JOIN image_tags t ON t.image_id = i.id WHERE i.local_path LIKE '%/image_1000\_%' ESCAPE '\\\\'\")\" -gt 0"

# --- reload, SIGKILL, stop -----------------------------------------------------------------------
MAIN_PID=$(C systemctl show -p MainPID --value indafoto-syncd)
C systemctl reload indafoto-syncd
sleep 2
check "systemctl reload: same process, configuration reloaded" \
  bash -c "test \"\$(nsenter -t $CPID -a systemctl show -p MainPID --value indafoto-syncd)\" = $MAIN_PID && nsenter -t $CPID -a journalctl --no-pager -u indafoto-syncd -o cat | grep -qi 'SIGHUP'"

C systemctl kill -s SIGKILL indafoto-syncd
restarted() { [ "$(C systemctl show -p NRestarts --value indafoto-syncd)" = 1 ] && [ "$(C systemctl is-active indafoto-syncd)" = active ]; }
check "after SIGKILL systemd restarts it (RestartSec=15s)" wait_until 90 "restart" restarted
check "after the restart: still $EXPECTED images, nothing imported twice" \
  bash -c "test \"\$(sqlite3 -readonly '$ROOT/srv/indafoto/indafoto.db' 'SELECT count(*) FROM images')\" = $EXPECTED && test \"\$(sqlite3 -readonly '$ROOT/srv/indafoto/indafoto.db' 'SELECT count(*) FROM (SELECT sha256_hash FROM images GROUP BY sha256_hash HAVING count(*) > 1)')\" = 0"

C systemctl stop indafoto-syncd
check "systemctl stop: exit 0, result success" \
  test "$(C systemctl show -p ExecMainStatus --value indafoto-syncd)" = 0 -a "$(C systemctl show -p Result --value indafoto-syncd)" = success

echo
if [ "$FAILURES" -gt 0 ]; then
  echo "--- journal of indafoto-syncd ---"; J -o short-monotonic | tail -60
  echo "systemd service test: $FAILURES check(s) failed"
  exit 1
fi
echo "systemd service test: all checks passed"
