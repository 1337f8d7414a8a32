#!/usr/bin/env bash
# The test command: installs what is needed, builds, runs every test
# (unit tests, end-to-end tests with real Syncthing on loopback, packaging).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
cd build
ctest --output-on-failure --timeout 3000
