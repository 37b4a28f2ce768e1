#!/usr/bin/env bash
# Collector overhead (issue 4), on an HTTP load and on the goroutine storm.
# HTTP: Debian's wrk drives the Go 1.19 httpserver fixture (each
# request to /get/200 also starts a goroutine) for SECS seconds per run. Configurations, interleaved round by
# round so machine noise hits all alike:
#   baseline   no tracing
#   gc         gmon gc            (what --collect gc adds: probes on gcStart and the stop-the-world functions)
#   lifecycle  gmon --level WARN  (the goroutine monitor: newproc1 and goexit1)
#   poll       gmon --level WARN --exits poll  (the creation probe only: exits read from memory every 10 ms)
#   sched      gmon sched         (one process: the runtime's latency histogram, read every 250 ms; no probe)
#   blocked    gmon sched --blocked  (casgstatus: every goroutine status change)
#   malloc     gmon gm --probes   (every allocation)
#   counters   gmon gm            (one process: the runtime's per-class counters, read every 250 ms; no probe)
#   sites      gmon gm --by site  (one process that profiles its memory: the sampling point, runtime.profilealloc)
#   monitor    gmon --level WARN, its /metrics scraped every second
#   collect    the same with --collect gc,sched,malloc: what the three collectors add is collect - monitor
# Prints the median requests per second and p99 latency of each, and the throughput lost against baseline:
# the median over rounds of each round's loss against that round's baseline.
# Storm: the lifecycle fixture creates STORM goroutines one after another (bench/lifecycle_storm.sh's workload)
# untraced and under gmon gc and gmon sched --blocked; prints ns per goroutine and the slowdown.
# Usage: bench/collectors.sh [SECS] [ROUNDS] [STORM] [BUILD_DIR]   (root; needs ./gmon.sh build, fixtures, wrk)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-10}
rounds=${2:-3}
storm_n=${3:-100000}
build=${4:-$root/build}
gmon=$build/gmon
src=$build/fixtures/httpserver-plain
storm_src=$build/fixtures/lifecycle-plain
source "$root/bench/common.sh"
bench_require_files "$gmon" "$src" "$storm_src"
bench_require_commands wrk
bench_require_root

work=$(mktemp -d)
server=
# Background children of a script ignore SIGINT (and Go keeps it ignored): the server gets SIGTERM.
trap 'pkill -INT -f "$gmon" -P $$ 2>/dev/null || true; [ -z "$server" ] || kill -TERM "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
bin=$work/http-fixture # private inodes: nothing else on the machine fires these uprobes
cp "$src" "$bin"
storm_bin=$work/storm-fixture
cp "$storm_src" "$storm_bin"
port=$((20000 + RANDOM % 20000))
"$bin" -addr "127.0.0.1:$port" 2>/dev/null &
server=$!
sleep 0.5
url=http://127.0.0.1:$port/get/200

# One wrk run: "requests/s p99(ms)".
load() { bench_wrk_load "$url" "$secs" "$work/wrk.out"; }

# Runs gmon with its arguments, waits for its probes, appends the workload's output to a file, stops gmon.
traced() { # output-file workload gmon-args...
  local out=$1 workload=$2; shift 2
  rm -f "$out.err"
  "$gmon" "$@" >/dev/null 2>"$out.err" &
  local pid=$!
  wait_for "$out.err" "probes attached\|no probe"
  $workload >>"$out"
  kill -INT $pid; wait $pid || true
}
# A scrape of the monitor's /metrics every second, as Prometheus would, while the load runs.
scraped_load() {
  (while :; do curl -s -o /dev/null "http://127.0.0.1:$metrics_port/metrics" || true; sleep 1; done) &
  local scraper=$!
  load
  kill $scraper; wait $scraper 2>/dev/null || true
}
metrics_port=$((40000 + RANDOM % 10000))
run_monitor() { local label=$1; shift; traced "$work/$label.stats" scraped_load --level WARN --metrics "$metrics_port" "$@" --pid "$server"; }
run_traced() { local label=$1; shift; traced "$work/$label.stats" load "$@" --pid "$server"; }

for r in $(seq 1 "$rounds"); do
  echo "round $r/$rounds" >&2
  load >>"$work/baseline.stats"
  run_traced gc gc
  run_traced lifecycle lifecycle --level WARN --metrics 0
  run_traced poll lifecycle --level WARN --metrics 0 --exits poll
  run_traced sched sched --interval 0
  run_traced blocked sched --blocked --interval 0
  run_traced malloc gm --probes --interval 0
  run_traced counters gm --interval 0
  run_traced sites gm --by site --interval 0
  run_monitor monitor
  run_monitor collect --collect gc,sched,malloc
done

bench_loss_table "$work" baseline gc lifecycle poll sched blocked malloc counters sites monitor collect
printf -- '--collect gc,sched,malloc over the monitor alone: %.1f%% of its throughput\n' \
  "$(bench_paired_loss "$work" collect monitor)"
echo "wrk -t2 -c32 for ${secs}s per run on /get/200, $rounds rounds, medians; 2 CPUs shared by wrk, server and gmon" >&2

storm() { "$storm_bin" storm "$storm_n" | sed -n 's/.*ns_per_goroutine=\([0-9]*\).*/\1/p'; }
storm_traced() { local label=$1; shift; traced "$work/storm-$label.ns" storm "$@" --path "$storm_bin"; }
for r in $(seq 1 "$rounds"); do
  echo "storm round $r/$rounds" >&2
  storm >>"$work/storm-baseline.ns"
  storm_traced gc gc
  storm_traced blocked sched --blocked --interval 0
done
sbase=$(bench_median_mean <"$work/storm-baseline.ns")
printf '\n%-10s %14s %10s\n' storm ns/goroutine slowdown
for label in baseline gc blocked; do
  v=$(bench_median_mean <"$work/storm-$label.ns")
  awk -v l="$label" -v v="$v" -v b="$sbase" 'BEGIN { printf "%-10s %14.0f %10.2f\n", l, v, v / b }'
done
echo "storm: $storm_n goroutines per run, $rounds rounds, medians" >&2
