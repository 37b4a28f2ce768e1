#!/usr/bin/env bash
# Snapshot benchmark (issue 5): the Go 1.19 fixture parks N goroutines on a channel; gmon summary --json reads
# them all from /proc/PID/mem-like process_vm_readv. For each N: the median wall time of summary end to end
# (process start to exit, output to /dev/null), gmon's peak RSS, and the bytes read from the target per
# goroutine (summary's own count). Goals (issue 22): at most 150 ms at 100,000, 1 s at 1,000,000.
# Usage: bench/snapshot.sh [ROUNDS] [N...] [BUILD_DIR via $BUILD]   (root; needs ./gmon.sh build and fixtures)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
rounds=${1:-5}
shift || true
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(10000 100000 1000000)
build=${BUILD:-$root/build}
gmon=$build/gmon
fixture=$build/fixtures/lifecycle-plain
source "$root/bench/common.sh"
bench_require_files "$gmon" "$fixture"
[ -x /usr/bin/time ] || { echo "snapshot.sh: /usr/bin/time missing (Debian package time)" >&2; exit 2; }

work=$(mktemp -d)
trap 'exec 3>&- 2>/dev/null || true; rm -rf "$work"' EXIT

printf '%10s %12s %12s %16s\n' goroutines "summary ms" "peak RSS MB" "bytes read / g"
for n in "${counts[@]}"; do
  mkfifo "$work/stdin-$n"
  "$fixture" park "$n" <"$work/stdin-$n" >"$work/ready-$n" &
  fixture_pid=$!
  exec 3>"$work/stdin-$n" # holding the pipe open keeps the fixture alive
  for _ in $(seq 1 600); do grep -q ready "$work/ready-$n" && break; sleep 0.1; done
  # Right after parking, the fixture's runtime is still busy (a GC cycle over the new stacks, the scavenger):
  # timed then, gmon shares the two CPUs with it. Wait until it has used no CPU for half a second.
  bench_wait_idle "$fixture_pid" 20
  : >"$work/ms-$n"
  : >"$work/rss-$n"
  for _ in $(seq 1 "$rounds"); do
    start=$(date +%s%N)
    /usr/bin/time -f %M -o "$work/time" "$gmon" summary --json --pid "$fixture_pid" >/dev/null
    echo $(( ($(date +%s%N) - start) / 1000000 )) >>"$work/ms-$n"
    cat "$work/time" >>"$work/rss-$n"
  done
  # One more run, untimed, for the counts: writing ~330 bytes of JSON per goroutine to a file would time the
  # file system, not gmon.
  "$gmon" summary --json --pid "$fixture_pid" >"$work/out.json"
  bytes=$(sed -n 's/.*"bytes_read":\([0-9]*\).*/\1/p' "$work/out.json")
  found=$(grep -o '"id":' "$work/out.json" | wc -l)
  exec 3>&-
  wait "$fixture_pid" || true
  awk -v n="$n" -v ms="$(bench_median <"$work/ms-$n")" -v rss="$(bench_median <"$work/rss-$n")" -v b="$bytes" -v f="$found" \
    'BEGIN { printf "%10d %12d %12.1f %16.0f   (%d goroutines listed)\n", n, ms, rss / 1024, b / f, f }'
done
echo "medians of $rounds runs" >&2
