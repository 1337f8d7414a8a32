#!/usr/bin/env bash
# Builds and runs the benchmarks (bench/hash_bench.cc, bench/import_bench.cc)
# and prints a summary. Figures and how to read them: bench/README.md.
#
#   bench/run_benchmarks.sh                      # defaults (SPEC 6 sizes; ~15 min, ~3 GB of /tmp)
#   bench/run_benchmarks.sh --quick              # small sizes, a minute or two
#   bench/run_benchmarks.sh --only hash --repeat 5
#   bench/run_benchmarks.sh --sizes 10K,100K,1M --new 5000 --work-dir /var/tmp/ib
#
# Exit status: 0 when both benchmarks ran and import throughput is flat
# (SPEC 6: within 20% from the smallest to the largest archive), 1 when it
# is not, 2 on a usage or build error.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(dirname "$here")
build_dir="$src/build-bench"
build=1
only=all
repeat=3
# hash_bench
large_count=64 large_mib=16 small_count=2000 small_kib=200 threads=2
# import_bench
sizes=10K,1M new=2000 overlap=200 file_size=4096 hash_threads=2
work_dir="" binary=auto populate=1 trace=1

usage() {
  cat <<EOF
usage: bench/run_benchmarks.sh [options]
  --build-dir DIR       build directory (default $src/build-bench)
  --no-build            use the binaries already in the build directory
  --only hash|import    run one benchmark
  --repeat N            rounds of each measurement (default $repeat)
  --quick               small sizes: hash 8 x 16 MiB + 300 x 200 KiB; import 2K,20K with 300 new
 hash_bench:
  --large-count N       large files (default $large_count)
  --large-mib N         MiB per large file (default $large_mib)
  --small-count N       small files (default $small_count)
  --small-kib N         KiB per small file (default $small_kib)
  --threads N           threads of the multi-threaded run (default $threads)
 import_bench:
  --sizes LIST          local archive sizes (default $sizes)
  --new N               new images delivered (default $new)
  --overlap N           delivered images already local (default $overlap)
  --file-size BYTES     size of each delivered file (default $file_size)
  --hash-threads N      importer hash threads (default $hash_threads)
  --work-dir DIR        keep the generated archives there and reuse them
  --binary PATH|none    also time PATH import --config (default: the build's
                        bin/indafoto-syncd when it exists)
  --no-populate-tree    local rows without placeholder files
  --no-trace            skip the SQL profile and EXPLAIN QUERY PLAN
EOF
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --build-dir) build_dir=$(realpath -m "$2"); shift 2 ;;
    --no-build) build=0; shift ;;
    --only) only=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --quick) large_count=8; small_count=300; sizes=2K,20K; new=300; overlap=50; shift ;;
    --large-count) large_count=$2; shift 2 ;;
    --large-mib) large_mib=$2; shift 2 ;;
    --small-count) small_count=$2; shift 2 ;;
    --small-kib) small_kib=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --sizes) sizes=$2; shift 2 ;;
    --new) new=$2; shift 2 ;;
    --overlap) overlap=$2; shift 2 ;;
    --file-size) file_size=$2; shift 2 ;;
    --hash-threads) hash_threads=$2; shift 2 ;;
    --work-dir) work_dir=$(realpath -m "$2"); shift 2 ;;
    --binary) binary=$2; shift 2 ;;
    --no-populate-tree) populate=0; shift ;;
    --no-trace) trace=0; shift ;;
    *) echo "run_benchmarks.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$only" in all|hash|import) ;; *) echo "--only takes hash or import" >&2; exit 2 ;; esac

if [[ $build == 1 ]]; then
  echo "== building in $build_dir"
  cmake -S "$src" -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$build_dir" -j2 --target hash_bench import_bench >/dev/null || {
    echo "run_benchmarks.sh: build failed; see: cmake --build $build_dir --target hash_bench import_bench" >&2
    exit 2
  }
  if [[ $binary == auto ]]; then
    # The daemon is optional here: time it when it builds.
    cmake --build "$build_dir" -j2 --target indafoto-syncd >/dev/null 2>&1 ||
      echo "   (indafoto-syncd did not build; the import is timed through the library only)"
  fi
fi
bin="$build_dir/bin"
if [[ $binary == auto ]]; then
  binary=none
  [[ -x $bin/indafoto-syncd ]] && binary=$bin/indafoto-syncd
fi

logs="$build_dir/bench-logs/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$logs"

echo "== machine"
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
sha_ni=no; grep -qw sha_ni /proc/cpuinfo && sha_ni=yes
echo "   nproc $(nproc); CPU: $cpu; SHA extensions (sha_ni): $sha_ni; $(openssl version)"
echo "   load average: $(cut -d' ' -f1-3 /proc/loadavg)"

rc=0
if [[ $only == all || $only == hash ]]; then
  cmd=("$bin/hash_bench" --large-count "$large_count" --large-mib "$large_mib" --small-count "$small_count"
       --small-kib "$small_kib" --repeat "$repeat" --threads "$threads")
  echo "== ${cmd[*]}"
  "${cmd[@]}" | tee "$logs/hash_bench.log"
fi
if [[ $only == all || $only == import ]]; then
  cmd=("$bin/import_bench" --sizes "$sizes" --new "$new" --overlap "$overlap" --repeat "$repeat"
       --file-size "$file_size" --hash-threads "$hash_threads")
  [[ -n $work_dir ]] && cmd+=(--work-dir "$work_dir")
  [[ $binary != none ]] && cmd+=(--binary "$binary")
  [[ $populate == 0 ]] && cmd+=(--no-populate-tree)
  [[ $trace == 0 ]] && cmd+=(--no-trace)
  echo "== ${cmd[*]}"
  "${cmd[@]}" | tee "$logs/import_bench.log"
fi

echo
echo "== summary (full output in $logs)"
if [[ -f $logs/hash_bench.log ]]; then
  awk '/^RESULT hash/ {
         for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
         if (v["set"] == "memory")
           printf "   hash   %-6s %-14s %6s GB/s best, %6s median (in memory, no I/O)\n", v["set"], v["method"], v["best_gbps"], v["median_gbps"]
         else
           printf "   hash   %-6s %-14s %6s GB/s best, %6s median, %5s x openssl dgst\n", v["set"], v["method"], v["best_gbps"], v["median_gbps"], v["ratio_vs_openssl"]
         delete v
       }' "$logs/hash_bench.log"
fi
if [[ -f $logs/import_bench.log ]]; then
  awk '/^RESULT import mode=/ {
         for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
         printf "   import %-15s N=%-8s %6s files/s median (best %s), %s x the smallest N\n", v["mode"], v["n"], v["median_fps"], v["best_fps"], v["ratio_vs_smallest"]
         delete v
       }
       /^RESULT import (flat|plan_scans|author_scan)/ { sub(/^RESULT import /, "   import "); print }' "$logs/import_bench.log"
  grep -q "^RESULT import flat=FAIL" "$logs/import_bench.log" && rc=1
fi
exit $rc
