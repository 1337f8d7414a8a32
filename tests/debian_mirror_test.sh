#!/usr/bin/env bash
# scripts/debian-mirror.sh: the mirror is read from apt's sources (deb822 and
# one-line formats), $INDAFOTO_DEBIAN_MIRROR overrides it, and a machine
# without a source for the suite gets a clear error. Fake sources only.
set -uo pipefail
source "$(dirname "$0")/../scripts/debian-mirror.sh"
FAILURES=0
expect() {  # expect DESCRIPTION WANTED COMMAND...
  local what=$1 want=$2; shift 2
  local got; got=$("$@" 2>/dev/null)
  if [ "$got" = "$want" ]; then echo "ok   $what"; else echo "FAIL $what: got '$got', wanted '$want'"; FAILURES=$((FAILURES + 1)); fi
}
T=$(mktemp -d); trap 'rm -rf "$T"' EXIT
unset INDAFOTO_DEBIAN_MIRROR
export INDAFOTO_APT_SOURCES_DIR="$T/etc"
mkdir -p "$T/etc/sources.list.d"

printf 'deb [arch=amd64 signed-by=/k.gpg] http://one.example.invalid/debian/ bookworm main\ndeb http://sec.example.invalid/debian-security bookworm-security main\n' >"$T/etc/sources.list"
expect "one-line sources.list with options" http://one.example.invalid/debian debian_mirror
expect "suite matched exactly (bookworm-security)" http://sec.example.invalid/debian-security debian_mirror bookworm-security

cat >"$T/etc/sources.list.d/debian.sources" <<'S'
# comment
Types: deb-src
URIs: http://src.example.invalid/debian
Suites: bookworm

Types: deb
Enabled: no
URIs: http://off.example.invalid/debian
Suites: bookworm

Types: deb deb-src
# http://snapshot.example.invalid/archive
URIs: http://two.example.invalid/debian
 http://three.example.invalid/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
S
expect "deb822 wins over sources.list; deb-src and Enabled: no skipped" http://two.example.invalid/debian debian_mirror
expect "deb822: suite among several" http://two.example.invalid/debian debian_mirror bookworm-updates
INDAFOTO_DEBIAN_MIRROR=http://env.example.invalid/debian/ expect "INDAFOTO_DEBIAN_MIRROR overrides" http://env.example.invalid/debian debian_mirror
if debian_mirror trixie >/dev/null 2>"$T/err"; then
  echo "FAIL no source for trixie: should fail"; FAILURES=$((FAILURES + 1))
else
  grep -q INDAFOTO_DEBIAN_MIRROR "$T/err" && echo "ok   no source for the suite: error names INDAFOTO_DEBIAN_MIRROR" ||
    { echo "FAIL error message: $(cat "$T/err")"; FAILURES=$((FAILURES + 1)); }
fi
# This machine: whatever its sources say, a URI comes out.
unset INDAFOTO_APT_SOURCES_DIR
if m=$(debian_mirror); then echo "ok   this machine's apt sources name a bookworm mirror"; else echo "note: this machine has no bookworm source"; fi
[ "$FAILURES" = 0 ] || { echo "debian mirror test: $FAILURES failed"; exit 1; }
echo "debian mirror test: all passed"
