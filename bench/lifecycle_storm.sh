#!/usr/bin/env bash
# Goroutine-storm benchmark (issue 3): the Go 1.19 fixture creates N goroutines one after another (each exits at
# once) and reports ns per goroutine. Configurations, interleaved round by round so machine noise hits all alike:
#   baseline  no tracing
#   floor     gmon --empty-probes: the same two uprobes with BPF programs that return at once (the trap cost)
#   gmon      gmon --level WARN (metrics only, no log lines)
#   gmon-log  gmon --level INFO (the default) with its logfmt lines written to /dev/null
#   ringbuf-log  the same through the kernel's BPF ring buffer (--ring-buffer) instead of gmon's per-CPU rings
#   gmon-json gmon --level INFO --format json, to /dev/null
#   log-file  gmon --level INFO, logfmt lines to a file (rewritten each round)
#   json-file gmon --level INFO --format json, to a file
#   poll      gmon --level WARN --exits poll: the creation probe only, exits read from memory every 10 ms
#   poll-log  gmon --level INFO --exits poll, logfmt lines to /dev/null
#   bpftrace  Debian's bpftrace: uretprobe on newproc1 with ustack, uprobe on goexit1
# Overhead = traced - baseline (ns per goroutine); ratio = overhead / floor overhead (medians over the rounds).
# Also reports: events lost, gmon's CPU time per event while the storm runs, time from start to probes attached
# (the BPF program comes from the cache after the first run), gmon's peak RSS.
# Usage: bench/lifecycle_storm.sh [N] [ROUNDS] [BUILD_DIR]   (root; needs ./gmon.sh build and fixtures)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-200000}
rounds=${2:-3}
build=${3:-$root/build}
gmon=$build/gmon
src=$build/fixtures/lifecycle-plain
source "$root/bench/common.sh"
bench_require_files "$gmon" "$src"
bench_require_commands bpftrace
bench_require_root

work=$(mktemp -d)
trap 'pkill -INT -P $$ 2>/dev/null || true; rm -rf "$work"' EXIT
bin=$work/storm-fixture # a private inode: nothing else on the machine fires these uprobes
cp "$src" "$bin"

storm() { "$bin" storm "$n" | sed -n 's/.*ns_per_goroutine=\([0-9]*\).*/\1/p'; }

# Starts a tracer in the background, waits for its probes, runs the storm; prints "ns" and leaves the tracer's
# pid in $tracer.
gmon_cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

run_gmon() { # label output extra-args...
  local label=$1 output=$2; shift 2
  rm -f "$work/$label.out" "$work/$label.err" # wait_for must not see the previous round's lines
  "$gmon" --path "$bin" --metrics 0 "$@" >"$output" 2>"$work/$label.err" &
  local pid=$!
  wait_for "$work/$label.err" "probes attached"
  local ticks0; ticks0=$(gmon_cpu_ticks $pid)
  local ns; ns=$(storm)
  sleep 0.2 # the last batch of events (read every 10 ms)
  local ticks; ticks=$(($(gmon_cpu_ticks $pid) - ticks0))
  local hwm; hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
  kill -INT $pid; wait $pid || true
  local lost; lost=$(sed -n 's/^losses: \([0-9]*\) events lost.*/\1/p' "$work/$label.err")
  local startup; startup=$(sed -n 's/.* in \([0-9]*\) ms (.*/\1/p' "$work/$label.err")
  local exited; exited=$(sed -n 's/.* goroutines created, \([0-9]*\) exited.*/\1/p' "$work/$label.err")
  echo "$ns $ticks $hwm $lost $startup ${exited:-0}" >>"$work/$label.stats"
  echo "$ns"
}

run_bpftrace() {
  rm -f "$work/bpftrace.out"
  bpftrace -e "uretprobe:$bin:runtime.newproc1 { @[ustack] = count(); } uprobe:$bin:runtime.goexit1 { @exits = count(); }" \
    >"$work/bpftrace.out" 2>&1 &
  local pid=$!
  wait_for "$work/bpftrace.out" "Attaching 2 probes"
  sleep 0.5
  local ns; ns=$(storm)
  kill -INT $pid; wait $pid || true
  echo "$ns"
}

declare -A samples
for r in $(seq 1 "$rounds"); do
  samples[baseline]+="$(storm) "
  samples[floor]+="$(run_gmon floor /dev/null --empty-probes --level WARN) "
  samples[gmon]+="$(run_gmon gmon /dev/null --level WARN) "
  samples[gmon-log]+="$(run_gmon gmon-log /dev/null --level INFO) "
  samples[ringbuf-log]+="$(run_gmon ringbuf-log /dev/null --level INFO --ring-buffer) "
  samples[gmon-json]+="$(run_gmon gmon-json /dev/null --level INFO --format json) "
  samples[log-file]+="$(run_gmon log-file "$work/lines.log" --level INFO) "
  samples[json-file]+="$(run_gmon json-file "$work/lines.json" --level INFO --format json) "
  rm -f "$work/lines.log" "$work/lines.json"
  samples[poll]+="$(run_gmon poll /dev/null --level WARN --exits poll) "
  samples[poll-log]+="$(run_gmon poll-log /dev/null --level INFO --exits poll) "
  samples[bpftrace]+="$(run_bpftrace) "
  echo "round $r/$rounds: ${samples[*]}" >&2
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
base=$(median <<<"${samples[baseline]}")
floor=$(median <<<"${samples[floor]}")
floor_over=$((floor - base))
echo "goroutine storm: $n goroutines, $rounds rounds, medians in ns per goroutine"
printf '%-11s %10s %12s %8s\n' config ns/goroutine overhead ratio
printf '%-11s %10s %12s %8s\n' baseline "$base" - -
for c in floor gmon gmon-log ringbuf-log gmon-json log-file json-file poll poll-log bpftrace; do
  v=$(median <<<"${samples[$c]}")
  awk -v c="$c" -v v="$v" -v b="$base" -v f="$floor_over" \
    'BEGIN {printf "%-11s %10d %12d %8.2f\n", c, v, v - b, (v - b) / f}'
done
hz=$(getconf CLK_TCK)
for c in gmon gmon-log ringbuf-log gmon-json log-file json-file poll poll-log; do
  awk -v c="$c" -v n="$n" -v hz="$hz" '
    {lost += $4; cpu += $2; rss = ($3 > rss ? $3 : rss); st[NR] = $5; exited += $6}
    END {
      events = 2 * n * NR
      printf "%s: events lost %d; gmon CPU %.2f us per event (during the storm); peak RSS %.1f MB; start to probes attached", c, lost, cpu / hz * 1e6 / events, rss / 1024
      for (i = 1; i <= NR; i++) printf " %d", st[i]
      printf " ms; exits seen %.1f%% of the storm'"'"'s\n", exited * 100 / (n * NR)
    }' "$work/$c.stats"
done
