#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang and runs each one:
# first every file of its corpus (fuzz/corpus/<target>/: seeds and every
# input that ever crashed it) once, whole, then a bounded fuzzing run from
# that corpus. Fails on the first crash, sanitizer report, leak, timeout or
# out-of-memory; the offending input is left in $FUZZ_BUILD_DIR/artifacts/.
#
#   scripts/fuzz.sh [RUNS | SECONDSs]   executions per target (default 10000),
#                                       or a time per target ("600s")
#
# Environment:
#   FUZZ_BUILD_DIR  build directory (default: build-fuzz)
#   FUZZ_TARGETS    targets to run (default: all), e.g. "config remote_db"
#   FUZZ_JOBS       parallel compile jobs (default: 2)
#   FUZZ_SEED       fixed random seed (the test command uses 1, so that a
#                   run of the same code tries the same inputs)
#   FUZZ_ARGS       extra libFuzzer flags, e.g. "-only_ascii=1"
#
# The short run is part of the test command (ctest test `fuzz_smoke`); for
# long runs and what to do with a crash see docs/fuzzing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
limit=${1:-10000}
build=${FUZZ_BUILD_DIR:-build-fuzz}
jobs=${FUZZ_JOBS:-2}
targets=${FUZZ_TARGETS:-manifest_index manifest_part syncthing_events config remote_db}

if [[ $limit =~ ^[0-9]+s$ ]]; then
  bound=(-max_total_time="${limit%s}")
elif [[ $limit =~ ^[0-9]+$ ]]; then
  bound=(-runs="$limit")
else
  echo "usage: $0 [RUNS | SECONDSs]" >&2
  exit 2
fi

command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (bash scripts/install-deps.sh)" >&2; exit 1; }
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S . -B "$build" -DINDAFOTO_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" --target fuzzers -j"$jobs"

# Largest input mutations may reach, per target (the seeds fit).
max_len() {
  case $1 in
    remote_db) echo 32768 ;;
    syncthing_events) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

mkdir -p "$build/artifacts"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
for t in $targets; do
  bin=$build/bin/${t}_fuzz
  corpus=$src/fuzz/corpus/$t
  if [ ! -x "$bin" ] || [ ! -d "$corpus" ]; then echo "fuzz: no target $t" >&2; exit 2; fi
  echo "== $t: corpus"
  # Each file whole (-max_len does not apply to inputs named one by one).
  find "$corpus" -type f -print0 | xargs -0 "$bin" -timeout=30 -artifact_prefix="$build/artifacts/$t-" \
    >"$build/artifacts/$t-corpus.log" 2>&1 || { tail -n 60 "$build/artifacts/$t-corpus.log"; exit 1; }
  echo "== $t: fuzzing (${bound[*]})"
  # New inputs go to a scratch directory; the checked-in corpus stays as is.
  scratch=$(mktemp -d "${TMPDIR:-/tmp}/indafoto-fuzz-$t.XXXXXX")
  extra=()
  [ -f "$src/fuzz/dict/$t.dict" ] && extra+=(-dict="$src/fuzz/dict/$t.dict")
  [ -n "${FUZZ_SEED:-}" ] && extra+=(-seed="$FUZZ_SEED")
  # shellcheck disable=SC2086
  if ! "$bin" "${bound[@]}" -max_len="$(max_len "$t")" -timeout=30 -rss_limit_mb=2048 "${extra[@]}" \
      -artifact_prefix="$build/artifacts/$t-" -print_final_stats=1 ${FUZZ_ARGS:-} \
      "$scratch" "$corpus" >"$build/artifacts/$t.log" 2>&1; then
    tail -n 60 "$build/artifacts/$t.log"
    rm -rf "$scratch"
    echo "fuzz: $t failed; the input is in $build/artifacts/ (see docs/fuzzing.md)" >&2
    exit 1
  fi
  rm -rf "$scratch"
  grep -a -E "^#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::average_exec_per_sec" "$build/artifacts/$t.log" || true
done
echo "fuzz: all targets passed"
