#!/usr/bin/env bash
# Fetches a package of Debian 13 ("trixie") for the tests, without installing
# it: apt-get in a private directory (its own sources list, state and cache;
# the machine's apt configuration and package database are not touched)
# downloads it from the machine's own Debian mirror (scripts/debian-mirror.sh),
# and `dpkg-deb -x` unpacks it into a cache. Prints the unpacked root.
#
#   ROOT=$(bash scripts/debian13-package.sh syncthing)   # $ROOT/usr/bin/syncthing
#
# Used for Syncthing 1.29 (the Syncthing version matrix) and Compose v2
# (docker-compose 2.x, the Docker test). Both are Go programs whose only
# dependency is libc6 (>= 2.34), which Debian 12 has.
#
# Signatures are checked: the Release file of trixie is verified against
# /usr/share/keyrings/debian-archive-keyring.gpg (Debian 12's keyring carries
# the trixie archive key since 2023.3+deb12u2, and the archive also signs
# trixie with the bookworm key), or $INDAFOTO_DEBIAN13_KEYRING.
#
# Cache: $INDAFOTO_CACHE_DIR (default ${XDG_CACHE_HOME:-~/.cache}/indafoto-syncd),
# one directory per package and version; an unpacked package is reused
# without asking the mirror again, unless INDAFOTO_DEBIAN13_REFRESH=1.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 PACKAGE" >&2; exit 2; }
PACKAGE=$1
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=debian-mirror.sh
source "$HERE/debian-mirror.sh"

CACHE_BASE=${XDG_CACHE_HOME:-${HOME:+$HOME/.cache}}   # /var/cache without a HOME
CACHE=${INDAFOTO_CACHE_DIR:-${CACHE_BASE:-/var/cache}/indafoto-syncd}/debian13
KEYRING=${INDAFOTO_DEBIAN13_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}
mkdir -p "$CACHE"
# The last unpacked version, when there is one and no refresh is asked for.
if [ "${INDAFOTO_DEBIAN13_REFRESH:-0}" != 1 ] && [ -f "$CACHE/$PACKAGE.current" ]; then
  dir=$(cat "$CACHE/$PACKAGE.current")
  if [ -d "$dir/root" ]; then echo "$dir/root"; exit 0; fi
fi

MIRROR=$(debian_mirror bookworm)
[ -r "$KEYRING" ] || { echo "$KEYRING missing: apt-get install debian-archive-keyring" >&2; exit 1; }
APT="$CACHE/apt"
mkdir -p "$APT/etc/sources.list.d" "$APT/etc/preferences.d" "$APT/state/lists/partial" "$APT/cache/archives/partial"
echo "deb [signed-by=$KEYRING] $MIRROR trixie main" >"$APT/etc/sources.list"
apt_private() {
  apt-get -q \
    -o Dir::Etc::SourceList="$APT/etc/sources.list" -o Dir::Etc::SourceParts="$APT/etc/sources.list.d" \
    -o Dir::Etc::Preferences="$APT/etc/preferences" -o Dir::Etc::PreferencesParts="$APT/etc/preferences.d" \
    -o Dir::State="$APT/state" -o Dir::Cache="$APT/cache" -o Debug::NoLocking=1 "$@"
}
if ! apt_private update >"$APT/update.log" 2>&1 || grep -qE '^(W|E): .*(NO_PUBKEY|not signed|EXPKEYSIG|BADSIG)' "$APT/update.log"; then
  cat "$APT/update.log" >&2
  echo "cannot read Debian 13's package index from the mirror (above); set INDAFOTO_DEBIAN_MIRROR, or" \
    "update debian-archive-keyring if the signature is not verified" >&2
  exit 1
fi
VERSION=$(apt-cache -o Dir::Etc::SourceList="$APT/etc/sources.list" -o Dir::Etc::SourceParts="$APT/etc/sources.list.d" \
  -o Dir::State="$APT/state" -o Dir::Cache="$APT/cache" show --no-all-versions "$PACKAGE" 2>/dev/null |
  awk '/^Version:/{print $2; exit}')
[ -n "$VERSION" ] || { echo "Debian 13 has no package $PACKAGE" >&2; exit 1; }
DIR="$CACHE/$PACKAGE-${VERSION//[^A-Za-z0-9.+-]/_}"
if [ ! -d "$DIR/root" ]; then
  rm -rf "$DIR.tmp"
  mkdir -p "$DIR.tmp/deb"
  # apt drops root to _apt for downloads: let it write there.
  [ "$(id -u)" = 0 ] && id _apt >/dev/null 2>&1 && chown _apt "$DIR.tmp/deb"
  (cd "$DIR.tmp/deb" && apt_private download "$PACKAGE=$VERSION") >"$DIR.tmp/download.log" 2>&1 ||
    { cat "$DIR.tmp/download.log" >&2; echo "apt-get download $PACKAGE from Debian 13 failed" >&2; exit 1; }
  dpkg-deb -x "$DIR.tmp"/deb/*.deb "$DIR.tmp/root"
  rm -rf "$DIR.tmp/deb"
  mv "$DIR.tmp" "$DIR"
fi
echo "$DIR" >"$CACHE/$PACKAGE.current"
echo "$DIR/root"
