#!/usr/bin/env bash
# /metrics under load (issue 7): Debian's wrk scrapes gmon's /metrics as fast as it can (2 threads, 50
# connections) while gmon traces the lifecycle fixture's goroutine storm (STORM goroutines one after another,
# again and again). Measured in the same run, so the ratios hold on a noisy machine:
#   idle     wrk on /metrics, the target idle                  -> scrapes/s, p99, errors
#   storm    the storm alone, nobody scraping                  -> ns per goroutine
#   both     wrk and the storm at once                         -> scrapes/s, p99, errors, ns per goroutine
# Also: gmon's RSS before and after (flat = no growth per scrape), events lost, created >= exited >= 0 live.
# Usage: bench/metrics_load.sh [SECS] [STORM] [BUILD_DIR]     (root; ./gmon.sh test first; wrk)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-60}
storm_n=${2:-100000}
build=${3:-$root/build}
gmon=$build/gmon
src=$build/fixtures/lifecycle-plain
source "$root/bench/common.sh"
bench_require_files "$gmon" "$src"
bench_require_commands wrk
bench_require_root

work=$(mktemp -d)
gmon_pid=
trap '[ -z "$gmon_pid" ] || kill -INT "$gmon_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
bin=$work/storm-fixture # a private inode: nothing else on the machine fires these uprobes
cp "$src" "$bin"
port=$((20000 + RANDOM % 20000))
url=http://127.0.0.1:$port/metrics

"$gmon" --path "$bin" --level WARN --metrics "$port" >/dev/null 2>"$work/gmon.err" &
gmon_pid=$!
wait_for "$work/gmon.err" "probes attached"
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$gmon_pid/status"; }

# "scrapes/s p99(ms) errors" of one wrk run of SECS.
scrape_load() {
  wrk -t2 -c50 -d"${secs}s" --latency "$url" >"$work/wrk.out" 2>&1
  awk '
    /^Requests\/sec:/ {rps = $2}
    $1 == "99%" {v = $2; if (v ~ /us$/) {sub(/us/, "", v); v /= 1000} else if (v ~ /ms$/) {sub(/ms/, "", v)}
                 else if (v ~ /s$/) {sub(/s/, "", v); v *= 1000}; p99 = v}
    /Non-2xx/ {errors += $NF}
    /Socket errors/ {gsub(/,/, ""); errors += $4 + $6 + $8 + $10}
    END {printf "%s %s %d\n", rps, p99, errors}' "$work/wrk.out"
}

# Storms for SECS seconds; prints the mean ns per goroutine the fixture reported.
storm_for() {
  local end=$((SECONDS + secs)) total=0 runs=0 ns
  while [ $SECONDS -lt $end ]; do
    ns=$("$bin" storm "$storm_n" | sed -n 's/.*ns_per_goroutine=//p')
    total=$(awk -v a="$total" -v b="${ns:-0}" 'BEGIN {print a + b}')
    runs=$((runs + 1))
  done
  awk -v t="$total" -v n="$runs" 'BEGIN {printf "%.0f\n", t / n}'
}

# The sum of every series of metric $1 (name, or name{labels...}).
sample() {
  curl -sf "$url" | awk -v m="$1" '
    index($1, m) == 1 && (length($1) == length(m) || substr($1, length(m) + 1, 1) == "{") {s += $2}
    END {printf "%d\n", s}'
}

rss0=$(rss)
echo "idle: wrk on /metrics for ${secs}s" >&2
read -r idle_rps idle_p99 idle_err < <(scrape_load)
echo "storm alone for ${secs}s" >&2
storm_ns=$(storm_for)
rss1=$(rss)
echo "storm and wrk together for ${secs}s" >&2
storm_for >"$work/both.ns" &
storm_job=$!
read -r both_rps both_p99 both_err < <(scrape_load)
wait $storm_job
both_ns=$(cat "$work/both.ns")
rss2=$(rss)
sleep 1
created=$(sample gmon_goroutines_created_total)
exited=$(sample gmon_goroutines_exited_total)
lost=$(sample gmon_events_lost_total)
live=$(sample gmon_goroutines_live)

printf '\n/metrics under wrk (2 threads, 50 connections), %ss per phase, storm of %s goroutines per run\n' "$secs" "$storm_n"
printf '%-34s %12s %10s %8s\n' phase scrapes/s p99_ms errors
printf '%-34s %12s %10s %8s\n' "idle target" "$idle_rps" "$idle_p99" "$idle_err"
printf '%-34s %12s %10s %8s\n' "target in a goroutine storm" "$both_rps" "$both_p99" "$both_err"
awk -v a="$both_rps" -v b="$idle_rps" 'BEGIN {printf "scrape rate during the storm / idle: %.2f\n", a / b}'
printf 'storm: %s ns per goroutine alone, %s while scraped' "$storm_ns" "$both_ns"
awk -v a="$both_ns" -v b="$storm_ns" 'BEGIN {printf " (ratio %.2f)\n", a / b}'
printf 'gmon RSS: %s kB at start, %s after the idle scrapes and the storm, %s after both\n' "$rss0" "$rss1" "$rss2"
printf 'goroutines: created %s, exited %s, live %s; events lost %s\n' "$created" "$exited" "$live" "$lost"
[ "$created" -ge "$exited" ] && [ "$live" -ge 0 ] || { echo "metrics_load.sh: inconsistent counters" >&2; exit 1; }
