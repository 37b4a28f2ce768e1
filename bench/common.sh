# Shared by the bench scripts (sourced, not run): the checks before a benchmark starts and the wait for a
# tracer's probes. The caller sets -euo pipefail and defines $root; messages name the calling script.
bench_name=$(basename "$0")

bench_fail() { # status message...
  local status=$1; shift
  echo "$bench_name: $*" >&2
  exit "$status"
}

# Files the benchmark needs from a build (gmon, fixtures).
bench_require_files() {
  local f
  for f in "$@"; do
    [ -e "$f" ] || bench_fail 2 "$f missing: run ./gmon.sh test first"
  done
}

bench_require_commands() {
  local c
  for c in "$@"; do
    command -v "$c" >/dev/null || bench_fail 2 "$c missing: run ./gmon.sh deps"
  done
}

bench_require_root() {
  [ "$(id -u)" = 0 ] || bench_fail 2 "needs root (uprobes)"
}

# Waits up to 15 s for pattern in file (a tracer's stderr: "probes attached"); fails the benchmark otherwise.
wait_for() { # file pattern
  for _ in $(seq 1 300); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  bench_fail 1 "tracer did not start: $(cat "$1" 2>/dev/null)"
}

# The median of the numbers on stdin, one per line (the upper middle one of an even count).
bench_median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

# One run of Debian's wrk (2 threads, 32 connections) on URL for SECS seconds, its output kept in FILE: prints
# "requests/s p99(ms)".
bench_wrk_load() { # url secs file
  wrk -t2 -c32 -d"$2s" --latency "$1" >"$3" 2>&1
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$3")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' "$3")
  echo "$rps $p99"
}
