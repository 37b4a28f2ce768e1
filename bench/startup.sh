#!/usr/bin/env bash
# Start-up and footprint of live tracing (issue 22), in one run, interleaved round by round:
#   cold      gmon --path BIN with an empty BPF program cache: libbcc compiles in the child process
#   warm      the same command again: the program comes from the cache (probes/bpf_cache.c)
#   bpftrace  Debian's bpftrace attaching the equivalent two probes (uretprobe on newproc1 with ustack, uprobe
#             on goexit1)
# Time to attach: from just before the command starts to its "probes attached" line (gmon) or "Attaching 2
# probes" (bpftrace) appearing on its output, polled every 5 ms by this script, medians and ranges.
# Footprint: gmon's RSS (VmRSS, and VmHWM: its peak) once attached, then after a storm of N goroutines traced
# with the default output (--level INFO, logfmt lines to /dev/null).
# Usage: bench/startup.sh [ROUNDS] [N] [BUILD_DIR]   (root; needs ./gmon.sh build and fixtures)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-5}
n=${2:-200000}
build=${3:-$root/build}
gmon=$build/gmon
src=$build/fixtures/lifecycle-plain
source "$root/bench/common.sh"
bench_require_files "$gmon" "$src"
bench_require_commands bpftrace
bench_require_root

work=$(mktemp -d)
trap 'pkill -INT -P $$ 2>/dev/null || true; rm -rf "$work"' EXIT
bin=$work/startup-fixture # a private inode: nothing else on the machine fires these uprobes
cp "$src" "$bin"
export GMON_CACHE_DIR=$work/cache

# Milliseconds from start_ns until pattern shows in file (fails after 30 s).
ms_until() { # file pattern start_ns
  for _ in $(seq 1 6000); do
    if grep -q "$2" "$1" 2>/dev/null; then
      echo $((($(date +%s%N) - $3) / 1000000))
      return 0
    fi
    sleep 0.005
  done
  bench_fail 1 "no \"$2\" in $1: $(cat "$1")"
}

kib() { awk -v k="$2" '$1 == k":" {print $2}' "/proc/$1/status"; }

run_gmon() { # label: prints "attach_ms rss_attached hwm_attached rss_after hwm_after"
  local label=$1 err=$work/$1.err
  rm -f "$err"
  local start; start=$(date +%s%N)
  "$gmon" --path "$bin" --metrics 0 >/dev/null 2>"$err" &
  local pid=$!
  local ms; ms=$(ms_until "$err" "probes attached" "$start")
  grep -q "$([ "$label" = cold ] && echo 'compiled and cached' || echo 'from the cache')" "$err" ||
    bench_fail 1 "$label run: unexpected start-up line: $(head -1 "$err")"
  local rss0 hwm0; rss0=$(kib $pid VmRSS); hwm0=$(kib $pid VmHWM)
  "$bin" storm "$n" >/dev/null
  local rss1 hwm1; rss1=$(kib $pid VmRSS); hwm1=$(kib $pid VmHWM)
  kill -INT $pid; wait $pid || true
  echo "$ms $rss0 $hwm0 $rss1 $hwm1"
}

run_bpftrace() {
  local out=$work/bpftrace.out
  rm -f "$out"
  local start; start=$(date +%s%N)
  bpftrace -e "uretprobe:$bin:runtime.newproc1 { @[ustack] = count(); } uprobe:$bin:runtime.goexit1 { @exits = count(); }" \
    >"$out" 2>&1 &
  local pid=$!
  local ms; ms=$(ms_until "$out" "Attaching 2 probes" "$start")
  sleep 0.3
  local rss; rss=$(kib $pid VmRSS)
  local hwm; hwm=$(kib $pid VmHWM)
  kill -INT $pid; wait $pid || true
  echo "$ms $rss $hwm"
}

for r in $(seq 1 "$rounds"); do
  rm -rf "$GMON_CACHE_DIR"
  run_gmon cold >>"$work/cold.stats"
  run_gmon warm >>"$work/warm.stats"
  run_bpftrace >>"$work/bpftrace.stats"
  echo "round $r/$rounds: cold $(tail -1 "$work/cold.stats" | cut -d' ' -f1) ms, warm $(tail -1 "$work/warm.stats" | cut -d' ' -f1) ms, bpftrace $(tail -1 "$work/bpftrace.stats" | cut -d' ' -f1) ms" >&2
done

# "median (min-max)" of column c of a stats file, divided by div.
summary() { # file column divisor
  awk -v c="$2" '{print $c}' "$1" | sort -n |
    awk -v d="$3" '{v[NR]=$1/d} END {f = d > 1 ? "%.1f (%.1f-%.1f)" : "%.0f (%.0f-%.0f)"; printf f, v[int((NR+1)/2)], v[1], v[NR]}'
}
echo "start to probes attached, $rounds rounds, median (min-max) in ms"
for c in cold warm bpftrace; do
  printf '%-9s %s\n' "$c" "$(summary "$work/$c.stats" 1 1)"
done
echo "gmon RSS in MB, median (min-max): attached | after tracing $n goroutines (--level INFO to /dev/null)"
for c in cold warm; do
  printf '%-9s RSS %s, peak %s | RSS %s, peak %s\n' "$c" "$(summary "$work/$c.stats" 2 1024)" \
    "$(summary "$work/$c.stats" 3 1024)" "$(summary "$work/$c.stats" 4 1024)" "$(summary "$work/$c.stats" 5 1024)"
done
printf '%-9s RSS %s, peak %s (attached)\n' bpftrace "$(summary "$work/bpftrace.stats" 2 1024)" \
  "$(summary "$work/bpftrace.stats" 3 1024)"
