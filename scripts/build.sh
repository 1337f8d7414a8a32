#!/usr/bin/env bash
# Configures and builds into ./build (binaries in build/bin/).
#   scripts/build.sh              # everything: binaries, tests, benchmarks
#   scripts/build.sh TARGET...    # only these targets (the demo builds two)
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
if (($#)); then
  targets=()
  for t in "$@"; do targets+=(--target "$t"); done
  cmake --build build -j"$(nproc)" "${targets[@]}"
else
  cmake --build build -j"$(nproc)"
fi
