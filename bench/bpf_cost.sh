#!/usr/bin/env bash
# What gmon's lifecycle BPF programs cost per run, by the depth of the creation stack: the kernel's own
# accounting (kernel.bpf_stats_enabled: run_time_ns / run_cnt of each program) while the Go 1.19 fixture runs
# a storm of N goroutines from DEPTH extra frames (`lifecycle storm-deep N DEPTH`), under `gmon --level WARN`
# (metrics only: the programs' work, no log line; GMON_ARGS replaces those options, e.g.
# GMON_ARGS="--level INFO" for the cost of sending the events, with --ring-buffer for the kernel's ring buffer
# instead of gmon's per-CPU rings). Rounds alternate the depths, so machine noise hits all
# alike; medians per depth. The ratio is each depth's creation program against depth 0's. The numbers include
# the cost of the stats themselves (two clock reads per run), the same for every depth.
# Usage: bench/bpf_cost.sh [N] [ROUNDS] [DEPTHS] [BUILD_DIR]   (root; needs ./gmon.sh build, fixtures, bpftool)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-100000}
rounds=${2:-5}
depths=${3:-"0 30 60"}
build=${4:-$root/build}
gmon=$build/gmon
src=$build/fixtures/lifecycle-plain
source "$root/bench/common.sh"
bench_require_files "$gmon" "$src"
bench_require_commands bpftool
bench_require_root

work=$(mktemp -d)
stats_before=$(sysctl -n kernel.bpf_stats_enabled)
trap 'pkill -INT -P $$ 2>/dev/null || true; sysctl -q kernel.bpf_stats_enabled="$stats_before"; rm -rf "$work"' EXIT
bin=$work/storm-fixture # a private inode: nothing else on the machine fires these uprobes
cp "$src" "$bin"
sysctl -q kernel.bpf_stats_enabled=1

# ns per run of the newest program of that name (the tracer this round started; Debian's bpftool does not
# show which process holds a program), or "-" when it has not run.
ns_per_run() { # program
  bpftool prog show -j | python3 -c '
import json, sys
progs = [p for p in json.load(sys.stdin) if p.get("name") == sys.argv[1]]
p = max(progs, key=lambda p: p["id"]) if progs else {}
print(p["run_time_ns"] // p["run_cnt"] if p.get("run_cnt") else "-")' "$1"
}

run_depth() { # depth
  rm -f "$work/err"
  # shellcheck disable=SC2086 # GMON_ARGS is a list of options
  "$gmon" --path "$bin" --metrics 0 ${GMON_ARGS:---level WARN} >/dev/null 2>"$work/err" &
  local pid=$!
  wait_for "$work/err" "probes attached"
  "$bin" storm-deep "$n" "$1" >/dev/null
  local create exit
  create=$(ns_per_run on_runqput_call)
  [ "$create" != - ] || create=$(ns_per_run on_newproc1_ret)
  exit=$(ns_per_run on_goexit1)
  [ "$create" != - ] && [ "$exit" != - ] || bench_fail 1 "the programs did not run (creation $create, exit $exit)"
  kill -INT $pid
  wait $pid || true
  grep -q " 0 stack walks failed" "$work/err" || bench_fail 1 "stack walks failed: $(cat "$work/err")"
  echo "$create $exit" >>"$work/depth-$1"
}

for r in $(seq 1 "$rounds"); do
  for d in $depths; do run_depth "$d"; done
  echo "round $r/$rounds done" >&2
done

echo "lifecycle BPF programs (gmon ${GMON_ARGS:---level WARN}), ns per run (bpf_stats), $n goroutines per storm, medians of $rounds rounds"
printf '%-6s %10s %10s %18s\n' depth creation exit "creation / depth 0"
first=
for d in $depths; do
  c=$(cut -d' ' -f1 "$work/depth-$d" | bench_median)
  e=$(cut -d' ' -f2 "$work/depth-$d" | bench_median)
  first=${first:-$c}
  awk -v d="$d" -v c="$c" -v e="$e" -v f="$first" 'BEGIN { printf "%-6s %10d %10d %18.2f\n", d, c, e, c / f }'
done
