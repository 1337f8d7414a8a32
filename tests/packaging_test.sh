#!/usr/bin/env bash
# Packaging test: builds the Debian package with CPack in BUILD_DIR and
# checks it without installing it — contents, control fields, maintainer
# scripts, the packaged binary, the systemd units (systemd-analyze verify),
# the example configurations, and that the Dockerfile and compose file use
# the package's paths.
#
#   bash tests/packaging_test.sh BUILD_DIR [--install]
#
# --install also installs the package on this machine (as root, with apt),
# checks the user, directory and unit, runs remove, purge and a reinstall,
# and leaves the package installed. Registered with CTest without --install.
set -euo pipefail

usage() { echo "usage: $0 BUILD_DIR [--install]" >&2; exit 2; }
[ $# -ge 1 ] || usage
BUILD_DIR=$(cd "$1" && pwd)
INSTALL=0
[ "${2:-}" = "--install" ] && INSTALL=1
[ $# -le 2 ] || usage
SRC_DIR=$(cd "$(dirname "$0")/.." && pwd)

FAILURES=0
pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; FAILURES=$((FAILURES + 1)); }
check() {  # check "description" command...
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
need() { command -v "$1" >/dev/null || { echo "FAIL missing tool: $1 ($2)"; exit 1; }; }
need cpack "cmake"
need dpkg-deb "dpkg"
need systemd-analyze "systemd"

SCRATCH=$(mktemp -d /tmp/indafoto-packaging.XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT

# --- build the package ----------------------------------------------------
rm -f "$BUILD_DIR"/indafoto-syncd_*.deb
if ! (cd "$BUILD_DIR" && cpack -G DEB) >"$SCRATCH/cpack.log" 2>&1; then
  cat "$SCRATCH/cpack.log"
  echo "FAIL cpack -G DEB"
  exit 1
fi
DEB=$(ls "$BUILD_DIR"/indafoto-syncd_*.deb)
[ "$(echo "$DEB" | wc -l)" = 1 ] || { echo "FAIL expected one .deb, got: $DEB"; exit 1; }
pass "cpack built $(basename "$DEB")"

# --- contents ---------------------------------------------------------------
dpkg-deb -c "$DEB" >"$SCRATCH/contents"
EXPECTED=(
  ./usr/bin/indafoto-syncd
  ./lib/systemd/system/indafoto-syncd.service
  ./lib/systemd/system/indafoto-syncd@.service
  ./etc/indafoto-syncd/config.example.json
  ./usr/share/man/man1/indafoto-syncd.1.gz
  ./usr/share/doc/indafoto-syncd/operations.md
  ./usr/share/doc/indafoto-syncd/configuration.md
  ./usr/share/doc/indafoto-syncd/examples/Dockerfile
  ./usr/share/doc/indafoto-syncd/examples/compose.yaml
  ./usr/share/doc/indafoto-syncd/examples/config.compose.json
)
for p in "${EXPECTED[@]}"; do
  check "package contains $p" grep -qE " $(printf '%s' "$p" | sed 's/[.@]/\\&/g')\$" "$SCRATCH/contents"
done
check "binary is root-owned and 0755" grep -qE '^-rwxr-xr-x root/root .* \./usr/bin/indafoto-syncd$' "$SCRATCH/contents"
check "no file outside /usr, /lib, /etc" bash -c "! awk '{print \$6}' '$SCRATCH/contents' | grep -vE '^\./(usr|lib|etc)(/|$)|^\./$'"

# --- control fields -----------------------------------------------------------
field() { dpkg-deb -f "$DEB" "$1"; }
check "Package: indafoto-syncd" test "$(field Package)" = indafoto-syncd
DEPENDS=$(field Depends)
echo "     Depends: $DEPENDS"
# Debian 12 names spdlog's library package libspdlog1.10-fmt9.
for dep in adduser libc6 libsqlite3-0 libsodium23 libsystemd0 'libssl[0-9.]+' 'libspdlog[0-9.]+(-fmt[0-9]+)?' 'libfmt[0-9]+'; do
  check "Depends names $dep" grep -qE "(^|, )$dep( |,|$)" <<<"$DEPENDS"
done
check "Recommends: syncthing" grep -qw syncthing <<<"$(field Recommends)"

# --- maintainer scripts -------------------------------------------------------
mkdir -p "$SCRATCH/control"
dpkg-deb -e "$DEB" "$SCRATCH/control"
for s in postinst prerm postrm; do
  check "$s is executable" test -x "$SCRATCH/control/$s"
  check "$s parses (sh -n)" sh -n "$SCRATCH/control/$s"
  if command -v shellcheck >/dev/null; then
    check "$s passes shellcheck" shellcheck -s sh "$SCRATCH/control/$s"
  fi
done
check "conffiles lists the example configuration" grep -qx /etc/indafoto-syncd/config.example.json "$SCRATCH/control/conffiles"
check "postinst creates the system user" grep -q 'adduser --system --group' "$SCRATCH/control/postinst"
check "postinst starts only with a config.json" grep -q 'if \[ -f "\$CONFIG" \]' "$SCRATCH/control/postinst"
check "postrm never deletes /var/lib/indafoto-syncd" bash -c "! grep -E 'rm .*(/var/lib|STATE_DIR)' '$SCRATCH/control/postrm'"

# --- the packaged files, extracted into a scratch root --------------------------
ROOT="$SCRATCH/root"
dpkg-deb -x "$DEB" "$ROOT"
BIN="$ROOT/usr/bin/indafoto-syncd"
check "extracted binary: --help exits 0" bash -c "'$BIN' --help >/dev/null"
check "--help names every command" bash -c "out=\$('$BIN' --help); for c in run import publish status plan verify trust; do grep -qw \"\$c\" <<<\"\$out\" || exit 1; done"
for c in run import publish status plan verify trust; do
  check "extracted binary: $c --help exits 0" bash -c "'$BIN' $c --help >/dev/null"
done
check "unknown option exits 2" bash -c "'$BIN' --no-such-option 2>/dev/null; test \$? = 2"
if command -v groff >/dev/null; then
  check "man page renders without warnings" bash -c "zcat '$ROOT/usr/share/man/man1/indafoto-syncd.1.gz' | LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z 2>&1 | (! grep .)"
fi
# The man page must keep up with the binary: every command in --help has a
# .TP entry under COMMANDS.
man_covers_help() {
  local page cmds c missing=0
  page=$(zcat "$ROOT/usr/share/man/man1/indafoto-syncd.1.gz")
  cmds=$("$BIN" --help | sed -n '/^Commands:/,/^$/p' | awk 'NR > 1 && NF {print $1}')
  [ -n "$cmds" ] || return 1
  for c in $cmds; do
    grep -qx ".B $c" <<<"$page" || { echo "     man page lacks command: $c"; missing=1; }
  done
  return $missing
}
check "man page has every command of --help" man_covers_help
check "man page documents every command and exit code" bash -c "t=\$(zcat '$ROOT/usr/share/man/man1/indafoto-syncd.1.gz'); for w in run import publish status plan verify trust 'EXIT STATUS' SIGTERM SIGHUP; do grep -q \"\$w\" <<<\"\$t\" || exit 1; done"

# The example configurations must be accepted by the binary: exit 2 would
# be a configuration error; with no database yet, status exits 3.
config_accepted() {  # config_accepted FILE
  local cfg="$SCRATCH/$(basename "$1")"
  sed -e "s|/var/lib/indafoto-syncd|$SCRATCH/var|g" -e "s|/var/syncthing|$SCRATCH/syncthing|g" \
      -e "s|/srv/indafoto|$SCRATCH/srv|g" "$1" >"$cfg"
  local rc=0
  timeout 60 "$BIN" status --config "$cfg" >"$SCRATCH/status.out" 2>&1 || rc=$?
  if [ "$rc" = 2 ] || [ "$rc" = 124 ]; then cat "$SCRATCH/status.out"; return 1; fi
}
check "config.example.json is a valid configuration" config_accepted "$ROOT/etc/indafoto-syncd/config.example.json"
check "config.compose.json is a valid configuration" config_accepted "$ROOT/usr/share/doc/indafoto-syncd/examples/config.compose.json"
# So is every JSON example in the packaged docs.
docs_examples_accepted() {
  local doc n=0 f missing=0
  mkdir -p "$SCRATCH/doc-examples"
  for doc in configuration operations; do
    python3 - "$ROOT/usr/share/doc/indafoto-syncd/$doc.md" "$SCRATCH/doc-examples/$doc" <<'PY' || return 1
import re, sys
blocks = re.findall(r"```json\n(.*?)```", open(sys.argv[1]).read(), re.S)
for i, b in enumerate(blocks):
    open(f"{sys.argv[2]}-{i}.json", "w").write(b)
PY
  done
  for f in "$SCRATCH"/doc-examples/*.json; do
    n=$((n + 1))
    config_accepted "$f" || { echo "     rejected: example $(basename "$f")"; missing=1; }
  done
  [ "$n" -gt 0 ] && return $missing
}
check "every JSON example in the docs is a valid configuration" docs_examples_accepted

# --- systemd units ---------------------------------------------------------------
UNITS="$SCRATCH/units"
mkdir -p "$UNITS"
for u in indafoto-syncd.service indafoto-syncd@.service; do
  sed "s|/usr/bin/indafoto-syncd|$BIN|g" "$ROOT/lib/systemd/system/$u" >"$UNITS/$u"
done
cp "$UNITS/indafoto-syncd@.service" "$UNITS/indafoto-syncd@test.service"
# --man=no: the man page is not installed in the scratch root.
verify_units() {
  (cd "$UNITS" && systemd-analyze verify --man=no ./indafoto-syncd.service ./indafoto-syncd@test.service) \
    >"$SCRATCH/verify.log" 2>&1 || { cat "$SCRATCH/verify.log"; return 1; }
  # verify reports some problems only as messages.
  if grep -v "^$" "$SCRATCH/verify.log" | grep -q .; then cat "$SCRATCH/verify.log"; return 1; fi
}
check "systemd-analyze verify (service and template instance)" verify_units
for u in indafoto-syncd.service indafoto-syncd@test.service; do
  check "$u: Type=notify, WatchdogSec, ExecReload HUP" bash -c "grep -qx 'Type=notify' '$UNITS/$u' && grep -q '^WatchdogSec=' '$UNITS/$u' && grep -qx 'ExecReload=/bin/kill -HUP \$MAINPID' '$UNITS/$u'"
  check "$u: runs as indafoto-syncd, ProtectSystem=strict" bash -c "grep -qx 'User=indafoto-syncd' '$UNITS/$u' && grep -qx 'ProtectSystem=strict' '$UNITS/$u'"
  # The exposure score of `systemd-analyze security` (0 best .. 10 worst).
  if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
    check "$u: systemd-analyze security exposure <= 2.0" \
      bash -c "cd '$UNITS' && systemd-analyze security --offline=yes --threshold=20 --no-pager ./$u >/dev/null 2>&1"
  fi
done
check "template reads /etc/indafoto-syncd/%i.json" grep -q -- '--config /etc/indafoto-syncd/%i.json' "$UNITS/indafoto-syncd@.service"

# --- Dockerfile and compose file: same paths as the package --------------------------
DOCKERFILE="$SRC_DIR/packaging/Dockerfile"
COMPOSE="$SRC_DIR/packaging/compose.yaml"
check "Dockerfile installs the package built by cpack" grep -q 'apt-get install .*indafoto-syncd_\*\.deb' "$DOCKERFILE"
check "Dockerfile: ENTRYPOINT is /usr/bin/indafoto-syncd" grep -qx 'ENTRYPOINT \["/usr/bin/indafoto-syncd"\]' "$DOCKERFILE"
check "Dockerfile: HEALTHCHECK runs status on /etc/indafoto-syncd/config.json" \
  grep -q 'CMD \["indafoto-syncd", "status", "--config", "/etc/indafoto-syncd/config.json"\]' "$DOCKERFILE"
check "Dockerfile: VOLUME /var/lib/indafoto-syncd, non-root USER" \
  bash -c "grep -qx 'VOLUME /var/lib/indafoto-syncd' '$DOCKERFILE' && grep -qx 'USER indafoto-syncd' '$DOCKERFILE'"
# Every directory the CMake project reads must be copied into the builder.
dockerfile_copies_sources() {
  local d missing=0
  for d in $(grep -ohE '\$\{CMAKE_SOURCE_DIR\}/[A-Za-z0-9_.-]+' "$SRC_DIR/CMakeLists.txt" "$SRC_DIR/packaging/packaging.cmake" |
             sed 's|.*}/||' | sort -u); do
    grep -qE "^COPY $d( |$)" "$DOCKERFILE" || { echo "     not copied into the builder: $d"; missing=1; }
  done
  return $missing
}
check "Dockerfile copies every source directory CMake reads" dockerfile_copies_sources
# The builder installs every -dev package the build scripts install (but
# not FUZZ_PACKAGES, which only the fuzz targets need).
dockerfile_has_build_deps() {
  local p missing=0
  for p in $(grep -v '^FUZZ_PACKAGES=' "$SRC_DIR/scripts/install-deps.sh" |
             grep -oE '\b(lib[a-z0-9.+-]+-dev|rapidjson-dev|catch2|cmake|pkg-config|dpkg-dev)\b' | sort -u); do
    grep -qE "(^| )$p( |$)" "$DOCKERFILE" || { echo "     missing in the builder: $p"; missing=1; }
  done
  return $missing
}
check "Dockerfile builder installs the build dependencies" dockerfile_has_build_deps

if python3 -c 'import yaml' 2>/dev/null; then
  check "compose.yaml: paths match the package and the config" python3 - "$COMPOSE" "$SRC_DIR/packaging/config.compose.json" <<'PY'
import json, sys, yaml
compose = yaml.safe_load(open(sys.argv[1]))
config = json.load(open(sys.argv[2]))
svc = compose["services"]
ours, st = svc["indafoto-syncd"], svc["syncthing"]
# The official image by default; tests/docker_compose_test.sh swaps in a stand-in.
assert st["image"] in ("syncthing/syncthing", "syncthing/syncthing:latest") or \
    st["image"].startswith("${SYNCTHING_IMAGE:-syncthing/syncthing"), "syncthing service must use the official image"
assert "name" not in compose and "version" not in compose, "top-level name/version: Compose 1.29 rejects name, v2 warns about version"
assert ours["build"]["dockerfile"] == "packaging/Dockerfile"
def mounts(s):
    out = {}
    for v in s["volumes"]:
        parts = v.split(":")
        # ${VAR:-./x}:/target[:ro] -- the host part may itself contain ':-'
        target, mode = (parts[-2], parts[-1]) if parts[-1] in ("ro", "rw") else (parts[-1], "rw")
        host = v[: v.rindex(target) - 1]
        out[target] = (host, mode)
    return out
m_ours, m_st = mounts(ours), mounts(st)
assert m_ours["/etc/indafoto-syncd/config.json"][1] == "ro"
data = m_ours["/var/lib/indafoto-syncd"]
assert data[1] == "rw" and m_st["/var/lib/indafoto-syncd"][0] == data[0], "archive volume must be shared at the same path"
home_target = [t for t in m_ours if t.startswith("/var/syncthing")]
assert home_target and m_ours[home_target[0]][1] == "ro", "Syncthing's home must be mounted read-only"
assert m_st[home_target[0]][0] == m_ours[home_target[0]][0], "same Syncthing home volume"
assert config["syncthing"]["home"] == home_target[0] + "/config", "config.compose.json syncthing.home"
assert config["syncthing"]["host"] == "syncthing"
for key in ("database_path", "image_root"):
    assert config[key].startswith("/var/lib/indafoto-syncd/"), key
for s in config["remote_sources"]:
    assert s["local_path"].startswith("/var/lib/indafoto-syncd/"), "received folders on the shared volume"
args = ours["build"].get("args", {})
assert args.get("INDAFOTO_UID") == st["environment"]["PUID"] and args.get("INDAFOTO_GID") == st["environment"]["PGID"]
PY
else
  echo "skip compose.yaml checks: python3-yaml not installed"
fi

# --- install on this machine (only with --install) ---------------------------------------
if [ "$INSTALL" = 1 ]; then
  [ "$(id -u)" = 0 ] || { echo "FAIL --install needs root"; exit 1; }
  apt_q() { DEBIAN_FRONTEND=noninteractive apt-get "$@" -y -q -o Dpkg::Use-Pty=0 >>"$SCRATCH/apt.log" 2>&1 || { cat "$SCRATCH/apt.log"; return 1; }; }
  check "apt-get install the .deb" apt_q install --reinstall --no-install-recommends "$DEB"
  if [ ! -f /etc/indafoto-syncd/config.json ]; then
    check "postinst says it did not start (no config.json)" grep -q "enabled but not started" "$SCRATCH/apt.log"
  fi
  check "user indafoto-syncd exists (system user, no login)" \
    bash -c "getent passwd indafoto-syncd | awk -F: '\$3 < 1000 && \$7 ~ /nologin/ {ok=1} END {exit !ok}'"
  check "/var/lib/indafoto-syncd owned by indafoto-syncd" test "$(stat -c %U:%G /var/lib/indafoto-syncd)" = indafoto-syncd:indafoto-syncd
  check "unit file is known to systemctl" bash -c "systemctl list-unit-files --no-pager indafoto-syncd.service | grep -q '^indafoto-syncd.service'"
  check "unit is enabled" bash -c "test \"\$(systemctl is-enabled indafoto-syncd.service 2>/dev/null)\" = enabled"
  check "systemd-analyze verify on the installed units" bash -c "cp /lib/systemd/system/indafoto-syncd@.service '$SCRATCH/indafoto-syncd@site.service' && systemd-analyze verify /lib/systemd/system/indafoto-syncd.service '$SCRATCH/indafoto-syncd@site.service'"
  check "man indafoto-syncd finds the page" bash -c "! command -v man >/dev/null || man -w indafoto-syncd >/dev/null"
  check "/usr/bin/indafoto-syncd --help" bash -c "/usr/bin/indafoto-syncd --help >/dev/null"

  check "apt-get remove" apt_q remove indafoto-syncd
  check "after remove: binary gone, user and state kept" \
    bash -c "test ! -e /usr/bin/indafoto-syncd && getent passwd indafoto-syncd >/dev/null && test -d /var/lib/indafoto-syncd"
  # debhelper's way: the enablement link may stay (purge removes it), but
  # then the unit is masked, so nothing tries to start a missing unit.
  check "after remove: not enabled, or masked" \
    bash -c "! test -L /etc/systemd/system/multi-user.target.wants/indafoto-syncd.service || test \"\$(readlink /etc/systemd/system/indafoto-syncd.service)\" = /dev/null"
  check "apt-get purge" apt_q purge indafoto-syncd
  check "after purge: /var/lib/indafoto-syncd kept (operator data)" test -d /var/lib/indafoto-syncd
  check "after purge: no unit links or mask left" \
    bash -c "! ls /etc/systemd/system/indafoto-syncd.service /etc/systemd/system/*.wants/indafoto-syncd* 2>/dev/null | grep -q ."
  check "reinstall: enabled again" bash -c "apt_q() { DEBIAN_FRONTEND=noninteractive apt-get \"\$@\" -y -q >/dev/null 2>&1; }; apt_q install --no-install-recommends '$DEB' && test \"\$(systemctl is-enabled indafoto-syncd.service 2>/dev/null)\" = enabled"
fi

echo
if [ "$FAILURES" -gt 0 ]; then
  echo "packaging test: $FAILURES check(s) failed"
  exit 1
fi
echo "packaging test: all checks passed"
