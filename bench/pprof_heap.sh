#!/usr/bin/env bash
# Heap profile benchmark (issue 20): the profiles fixture, with MemProfileRate = 1, allocates from N different
# stacks (N buckets in its memory profile, ~20 frames each) and serves net/http/pprof. In the same run, ROUNDS
# times each: `gmon pprof heap` (wall time, peak RSS) and the program's own /debug/pprof/heap (wall time),
# for N = 10,000 and 100,000. gmon reads with process_vm_readv only: the target is never stopped.
# Usage: bench/pprof_heap.sh [ROUNDS]   (root; after ./gmon.sh test; BUILD= another build tree)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-3}
build=${BUILD:-$root/build}
gmon=$build/gmon
fixture=$build/fixtures/profiles-stripped
source "$root/bench/common.sh"
bench_require_files "$gmon" "$fixture" /usr/bin/time
bench_require_commands curl

work=$(mktemp -d)
fixture_pid=
trap 'kill $fixture_pid 2>/dev/null; rm -rf "$work"' EXIT

measure() { # name command...: appends "ms rss_kb" to $work/NAME
  local name=$1; shift
  local start; start=$(date +%s%N)
  /usr/bin/time -f %M -o "$work/rss" "$@" >/dev/null 2>"$work/cmd.err" || bench_fail 1 "$name failed: $(cat "$work/cmd.err")"
  echo "$(( ($(date +%s%N) - start) / 1000000 )) $(cat "$work/rss")" >>"$work/$name"
}

printf '%-10s %-30s %10s %12s\n' buckets configuration "time ms" "peak RSS MB"
for n in 10000 100000; do
  rm -f "$work"/gmon_* "$work"/own_*
  "$fixture" -memrate 1 -small 0 -large 0 -buckets "$n" >"$work/out" 2>"$work/err" &
  fixture_pid=$!
  for _ in $(seq 1 600); do grep -q ready "$work/out" && break; sleep 0.1; done
  addr=$(awk '/ready/ {print $2}' "$work/out")
  [ -n "$addr" ] || bench_fail 1 "the fixture did not start: $(cat "$work/err")"
  for _ in $(seq 1 "$rounds"); do
    measure gmon_heap "$gmon" pprof heap --pid "$fixture_pid" -o /dev/null
    measure own_heap curl -s -o /dev/null "http://$addr/debug/pprof/heap"
  done
  "$gmon" pprof heap --pid "$fixture_pid" -o /dev/null 2>"$work/summary"
  got=$(sed -n 's/.*: \([0-9]*\) buckets of process.*/\1/p' "$work/summary")
  for name in gmon_heap own_heap; do
    ms=$(cut -d' ' -f1 "$work/$name" | bench_median); rss=$(cut -d' ' -f2 "$work/$name" | bench_median)
    eval "ms_$name=$ms"
    label=$([ $name = gmon_heap ] && echo "gmon pprof heap ($got buckets)" || echo "program's own /debug/pprof/heap")
    printf '%-10s %-30s %10s %12.1f\n' "$n" "$label" "$ms" "$(echo "$rss / 1024" | bc -l)"
  done
  printf '%-10s ratio gmon / own: %.2f\n' "$n" "$(echo "$ms_gmon_heap / $ms_own_heap" | bc -l)"
  kill $fixture_pid; wait $fixture_pid 2>/dev/null || true
done
echo "(own: curl's RSS, not the program's; gmon never stops the target: process_vm_readv only)"
