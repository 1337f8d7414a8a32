#!/usr/bin/env bash
# The main job, live: installs what is needed, builds the two programs the
# demo runs (indafoto-syncd and indafoto-demo, not the tests or benchmarks),
# then runs two Syncthing instances on loopback with two generated archives;
# B's daemon imports what Syncthing delivers and a summary is printed at the end.
# Usage: scripts/demo.sh [DIR] [IMAGES_IN_A]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --demo
bash scripts/build.sh indafoto-syncd indafoto-demo
exec build/bin/indafoto-demo "${1:-/tmp/indafoto-demo}" "${2:-2000}"
