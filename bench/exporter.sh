#!/usr/bin/env bash
# What gmon exporter costs the program it reads (issue 21), on bench/collectors.sh's HTTP load: Debian's wrk
# drives the Go 1.19 httpserver fixture for SECS seconds per run, in configurations interleaved round by round
# so machine noise hits all alike:
#   baseline    no gmon
#   exporter    gmon exporter --pid, scraped every second (as a Prometheus server would)
#   exporter10  the same scraped 10 times a second
#   curl10      curl started 10 times a second against a closed port: what the scraping loop itself costs
# Prints the median requests per second and p99 latency of each and the throughput lost against baseline;
# then, over SCRAPES scrapes of the loaded server, the scrape's latency (curl's time_total) and what gmon read
# from the target per scrape (its own gmon_exporter_read_bytes and gmon_exporter_read_seconds).
# Usage: bench/exporter.sh [SECS] [ROUNDS] [SCRAPES] [BUILD_DIR]   (root; needs ./gmon.sh build, fixtures, wrk)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
secs=${1:-10}
rounds=${2:-3}
scrapes=${3:-200}
build=${4:-$root/build}
gmon=$build/gmon
src=$build/fixtures/httpserver-plain
source "$root/bench/common.sh"
bench_require_files "$gmon" "$src"
bench_require_commands wrk curl
bench_require_root

work=$(mktemp -d)
server=
exporter=
trap '[ -z "$exporter" ] || kill "$exporter" 2>/dev/null || true; [ -z "$server" ] || kill -TERM "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$((20000 + RANDOM % 20000))
"$src" -addr "127.0.0.1:$port" 2>/dev/null &
server=$!
sleep 0.5
url=http://127.0.0.1:$port/get/200

"$gmon" exporter --pid "$server" --metrics 0 >"$work/exporter.out" 2>"$work/exporter.err" &
exporter=$!
wait_for "$work/exporter.out" "serving"
metrics=$(sed -n 's/^serving \(http:[^ ]*\).*/\1/p' "$work/exporter.out")

# One wrk run: "requests/s p99(ms)".
load() { bench_wrk_load "$url" "$secs" "$work/wrk.out"; }

# A load run while a loop scrapes gmon every PERIOD seconds.
scraped() { # label period [url]
  local label=$1 period=$2 target=${3:-$metrics}
  (while :; do curl -sf -o /dev/null "$target" || true; sleep "$period"; done) &
  local scraper=$!
  load >>"$work/$label.stats"
  kill "$scraper" 2>/dev/null || true; wait "$scraper" 2>/dev/null || true
}

run_config() {
  case $1 in
    baseline) load >>"$work/baseline.stats" ;;
    exporter) scraped exporter 1 ;;
    exporter10) scraped exporter10 0.1 ;;
    curl10) scraped curl10 0.1 http://127.0.0.1:1/metrics ;;
  esac
}
configs=(baseline exporter exporter10 curl10)
for r in $(seq 1 "$rounds"); do
  echo "round $r/$rounds" >&2
  # each round starts with another configuration: none always runs first, on a machine just idle
  for i in $(seq 0 3); do run_config "${configs[$(((i + r) % 4))]}"; done
done

base=$(cut -d' ' -f1 "$work/baseline.stats" | bench_median_mean)
printf '%-11s %12s %10s %14s\n' config requests/s p99_ms "throughput lost"
for label in baseline exporter exporter10 curl10; do
  rps=$(cut -d' ' -f1 "$work/$label.stats" | bench_median_mean)
  p99=$(cut -d' ' -f2 "$work/$label.stats" | bench_median_mean)
  awk -v l="$label" -v r="$rps" -v p="$p99" -v b="$base" \
    'BEGIN { printf "%-11s %12.0f %10.2f %13.1f%%\n", l, r, p, 100 * (1 - r / b) }'
done
echo "wrk -t2 -c32 for ${secs}s per run on /get/200, $rounds rounds, medians; 2 CPUs shared by wrk, server, gmon and curl" >&2

# Scrapes of the loaded server: latency and what gmon read.
wrk -t2 -c32 -d"$((scrapes / 10 + 30))s" "$url" >/dev/null 2>&1 &
loader=$!
sleep 1
for _ in $(seq "$scrapes"); do
  curl -sf -o "$work/page" -w '%{time_total}\n' "$metrics" >>"$work/latency"
  awk '$1 == "gmon_exporter_read_bytes" {print $2 > "/dev/stderr"} $1 == "gmon_exporter_read_seconds" {print $2}' \
    "$work/page" >>"$work/read_seconds" 2>>"$work/read_bytes"
  sleep 0.02
done
kill "$loader" 2>/dev/null || true; wait "$loader" 2>/dev/null || true
printf '\n%-34s %10s %10s %10s\n' "per scrape, under load ($scrapes)" median p99 max
stats() { sort -g "$1" | awk -v l="$2" -v k="$3" '{v[NR]=$1} END {printf "%-34s %10.*f %10.*f %10.*f\n", l, k, v[int((NR+1)/2)], k, v[int(NR*0.99+0.5)], k, v[NR]}'; }
awk '{print $1 * 1000}' "$work/latency" >"$work/latency_ms"
awk '{print $1 * 1000}' "$work/read_seconds" >"$work/read_ms"
stats "$work/latency_ms" "scrape latency (ms, curl)" 2
stats "$work/read_ms" "gmon's reads of the target (ms)" 3
stats "$work/read_bytes" "bytes read from the target" 0
echo "page size: $(wc -c <"$work/page") bytes" >&2
