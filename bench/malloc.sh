#!/usr/bin/env bash
# Allocation-probe benchmark (issue 4): the Go 1.19 fixture makes K heap allocations of each of 16, 64 and 256
# bytes and reports ns per allocation. Configurations, interleaved round by round so machine noise hits all
# alike:
#   baseline   no tracing
#   gm         gmon gm, every allocation counted
#   sample100  gmon gm --sample 100 (1 in 100 counted, at random)
#   bysite     gmon gm --by site (every allocation's stack walked and aggregated)
# Prints the median ns per allocation, the slowdown (traced / baseline) and the probe hit rate (allocations the
# probes saw per second of the traced run).
# Usage: bench/malloc.sh [K] [ROUNDS] [BUILD_DIR]   (root; needs ./gmon.sh build and fixtures)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
k=${1:-50000}
rounds=${2:-3}
build=${3:-$root/build}
gmon=$build/gmon
src=$build/fixtures/lifecycle-plain
source "$root/bench/common.sh"
bench_require_files "$gmon" "$src"
bench_require_root

work=$(mktemp -d)
trap 'pkill -INT -P $$ 2>/dev/null || true; rm -rf "$work"' EXIT
bin=$work/alloc-fixture # a private inode: nothing else on the machine fires these uprobes
cp "$src" "$bin"

allocate() { "$bin" alloc "$k" 16 64 256 | sed -n 's/.*ns_per_alloc=\([0-9]*\).*/\1/p'; }

run_gm() { # label extra-args...
  local label=$1; shift
  rm -f "$work/$label.err"
  "$gmon" gm --path "$bin" --interval 0 "$@" >/dev/null 2>"$work/$label.err" &
  local pid=$!
  wait_for "$work/$label.err" "probes attached"
  local ns; ns=$(allocate)
  kill -INT $pid; wait $pid || true
  local hits; hits=$(sed -n 's/^allocator probe hits: \([0-9]*\),.*/\1/p' "$work/$label.err")
  echo "$ns $hits" >>"$work/$label.stats"
}

for r in $(seq 1 "$rounds"); do
  echo "round $r/$rounds" >&2
  allocate >>"$work/baseline.ns"
  run_gm gm
  run_gm sample100 --sample 100
  run_gm bysite --by site
done

median() { sort -n | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : int((v[NR/2]+v[NR/2+1])/2)}'; }
base=$(median <"$work/baseline.ns")
printf '%-10s %14s %10s %18s\n' config ns/alloc slowdown "probe hits/s"
printf '%-10s %14s %10s %18s\n' baseline "$base" 1.00 -
for label in gm sample100 bysite; do
  ns=$(cut -d' ' -f1 "$work/$label.stats" | median)
  hits=$(cut -d' ' -f2 "$work/$label.stats" | median)
  awk -v l="$label" -v ns="$ns" -v b="$base" -v h="$hits" -v n=$((k * 3)) \
    'BEGIN { printf "%-10s %14d %10.1f %18.0f\n", l, ns, ns / b, h / (n * ns / 1e9) }'
done
echo "K=$k allocations of each of 3 sizes per run, $rounds rounds, medians" >&2
