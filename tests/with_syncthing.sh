#!/usr/bin/env bash
# Runs a test command with Debian 13's Syncthing (1.29) instead of the one on
# PATH (Debian 12's 1.19): the Syncthing version matrix of the end-to-end
# tests. The package is fetched with apt-get from the machine's own Debian
# mirror into a private apt directory and unpacked, never installed
# (scripts/debian13-package.sh; cached under ~/.cache/indafoto-syncd).
#
#   tests/with_syncthing.sh debian13 COMMAND [ARG...]
#
# Sets INDAFOTO_SYNCTHING (the binary the test harness runs) and prints the
# version. Registered with ctest in CMakeLists.txt (e2e_syncthing_1.29).
set -euo pipefail
[ $# -ge 2 ] && [ "$1" = debian13 ] || { echo "usage: $0 debian13 COMMAND [ARG...]" >&2; exit 2; }
shift
HERE=$(cd "$(dirname "$0")/.." && pwd)
ROOT=$(bash "$HERE/scripts/debian13-package.sh" syncthing) || { echo "FAIL cannot fetch Debian 13's syncthing"; exit 1; }
export INDAFOTO_SYNCTHING="$ROOT/usr/bin/syncthing"
echo "Syncthing under test: $("$INDAFOTO_SYNCTHING" --version)"
exec "$@"
