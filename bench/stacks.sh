#!/usr/bin/env bash
# Stack dump benchmark (issue 19): the stacks fixture parks N goroutines, each DEPTH frames deep, and serves
# net/http/pprof. In the same run, ROUNDS times each: `gmon stacks` (to /dev/null) and `gmon pprof goroutine`
# (wall time, peak RSS), the program's own /debug/pprof/goroutine?debug=2 and ?debug=0 (wall time), and after
# each, the longest pause the program saw meanwhile (its 1 ms ticker's longest gap, /maxgap), next to the
# ticker's gap over an idle second (the machine's own noise). Goals: gmon's dump at least as fast as the
# program's own, and no pause imposed on the program (the gap no larger than when idle).
# Usage: bench/stacks.sh [N] [DEPTH] [ROUNDS]   (root; after ./gmon.sh test; BUILD= another build tree)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
n=${1:-100000} depth=${2:-20} rounds=${3:-3}
build=${BUILD:-$root/build}
gmon=$build/gmon
fixture=$build/fixtures/stacks-plain
source "$root/bench/common.sh"
bench_require_files "$gmon" "$fixture" /usr/bin/time
bench_require_commands curl

work=$(mktemp -d)
"$fixture" -bench "$n" -depth "$depth" >"$work/out" 2>"$work/err" &
fixture_pid=$!
trap 'kill $fixture_pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 600); do grep -q ready "$work/out" && break; sleep 0.1; done
addr=$(awk '/ready/ {print $2}' "$work/out")
[ -n "$addr" ] || bench_fail 1 "the fixture did not start: $(cat "$work/err")"
gap() { curl -s "http://$addr/maxgap"; } # µs, and resets it

# Each configuration: "name" then a command; appends "ms rss_kb gap_us" per round to $work/NAME.
measure() { # name command...
  local name=$1; shift
  gap >/dev/null
  local start; start=$(date +%s%N)
  /usr/bin/time -f %M -o "$work/rss" "$@" >/dev/null 2>"$work/cmd.err" || bench_fail 1 "$name failed: $(cat "$work/cmd.err")"
  local ms=$(( ($(date +%s%N) - start) / 1000000 ))
  echo "$ms $(cat "$work/rss") $(gap)" >>"$work/$name"
}
for _ in $(seq 1 "$rounds"); do
  measure idle sleep 1
  measure gmon_stacks "$gmon" stacks --pid "$fixture_pid"
  measure gmon_pprof "$gmon" pprof goroutine --pid "$fixture_pid" -o /dev/null
  measure own_debug2 curl -s -o /dev/null "http://$addr/debug/pprof/goroutine?debug=2"
  measure own_debug0 curl -s -o /dev/null "http://$addr/debug/pprof/goroutine?debug=0"
done
printf '%d goroutines, %d frames each; medians of %d rounds\n' "$n" "$depth" "$rounds"
printf '%-34s %10s %12s %16s\n' configuration "time ms" "peak RSS MB" "target's max pause ms"
row() { # name label
  local ms rss g
  ms=$(cut -d' ' -f1 "$work/$1" | bench_median); rss=$(cut -d' ' -f2 "$work/$1" | bench_median); g=$(cut -d' ' -f3 "$work/$1" | bench_median)
  printf '%-34s %10s %12.1f %16.1f\n' "$2" "$ms" "$(echo "$rss / 1024" | bc -l)" "$(echo "$g / 1000" | bc -l)"
  eval "ms_$1=$ms"
}
row idle "idle second (the ticker's noise)"
row gmon_stacks "gmon stacks"
row gmon_pprof "gmon pprof goroutine"
row own_debug2 "program's own debug=2 (curl)"
row own_debug0 "program's own debug=0 (curl)"
printf 'ratio gmon stacks / own debug=2: %.2f;  gmon pprof goroutine / own debug=0: %.2f\n' \
  "$(echo "$ms_gmon_stacks / $ms_own_debug2" | bc -l)" "$(echo "$ms_gmon_pprof / $ms_own_debug0" | bc -l)"
