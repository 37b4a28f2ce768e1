#!/usr/bin/env bash
# CPU profiling overhead (issue 24): the HTTP load of bench/collectors.sh (Debian's wrk on the Go 1.19
# httpserver fixture, which serves net/http/pprof) for SECS seconds per run, in three configurations
# interleaved round by round so that machine noise hits all alike:
#   baseline   no profiler
#   gmon       gmon pprof cpu --pid SERVER at 99 Hz (perf events on every CPU, aggregation in BPF)
#   own        the server's own profiler: /debug/pprof/profile?seconds=SECS+1 fetched while the load runs
# Prints the median requests per second and p99 latency of each, and the throughput lost against the
# baseline (the median over rounds of each round's loss against that round's baseline). Goal: gmon's cost
# not measurable (< 1 %) and below the program's own profiler's.
# Usage: bench/pprof_cpu.sh [SECS] [ROUNDS] [BUILD_DIR]   (root; needs ./gmon.sh build, fixtures, wrk)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-10}
rounds=${2:-5}
build=${3:-$root/build}
gmon=$build/gmon
src=$build/fixtures/httpserver-plain
source "$root/bench/common.sh"
bench_require_files "$gmon" "$src"
bench_require_commands wrk curl
bench_require_root

work=$(mktemp -d)
server=
trap '[ -z "$server" ] || kill -TERM "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
"$src" -addr "127.0.0.1:$port" 2>/dev/null &
server=$!
sleep 0.5
url=http://127.0.0.1:$port/get/200

load() { bench_wrk_load "$url" "$secs" "$work/wrk.out"; }

# gmon profiling the server for the whole load (it stops itself a little after).
with_gmon() {
  rm -f "$work/gmon.err"
  "$gmon" pprof cpu --pid "$server" --duration $((secs + 5)) -o "$work/gmon.pb.gz" 2>"$work/gmon.err" &
  local pid=$!
  wait_for "$work/gmon.err" "probes attached"
  load >>"$work/gmon.stats"
  kill -INT $pid; wait $pid || true
}

# The server's own CPU profiler over the whole load.
with_own() {
  curl -s -o "$work/own.pb.gz" "http://127.0.0.1:$port/debug/pprof/profile?seconds=$((secs + 1))" &
  local fetch=$!
  sleep 0.2 # the profiler starts with the request
  load >>"$work/own.stats"
  wait $fetch || true
}

for r in $(seq 1 "$rounds"); do
  echo "round $r/$rounds" >&2
  load >>"$work/baseline.stats"
  with_gmon
  with_own
done

bench_loss_table "$work" baseline gmon own
printf 'gmon against the program'"'"'s own profiler: %.1f%% of its throughput\n' \
  "$(bench_paired_loss "$work" gmon own)"
grep -h '^gmon pprof cpu:' "$work/gmon.err" >&2 || true
echo "wrk -t2 -c32 for ${secs}s per run on /get/200, $rounds rounds, medians; 2 CPUs shared by wrk, server and gmon" >&2
