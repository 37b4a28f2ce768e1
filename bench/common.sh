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

# The median of the numbers on stdin, one per line; of an even count, the mean of the two middle ones.
bench_median_mean() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# The throughput configuration LABEL lost against REFERENCE, in percent, from their bench_wrk_load lines in
# DIR/LABEL.stats (one per round): the median over rounds of 1 - its requests/s over the reference's of the
# same round (paired: a round's noise hits both).
bench_paired_loss() { # dir label reference
  paste -d' ' <(cut -d' ' -f1 "$1/$2.stats") <(cut -d' ' -f1 "$1/$3.stats") |
    awk '{ print 100 * (1 - $1 / $2) }' | bench_median_mean
}

# The table of those runs: per configuration the median requests/s and p99, and its loss against "baseline".
bench_loss_table() { # dir label...
  local dir=$1 label rps p99
  shift
  printf '%-10s %12s %10s %14s\n' config requests/s p99_ms "throughput lost"
  for label in "$@"; do
    rps=$(cut -d' ' -f1 "$dir/$label.stats" | bench_median_mean)
    p99=$(cut -d' ' -f2 "$dir/$label.stats" | bench_median_mean)
    awk -v l="$label" -v r="$rps" -v p="$p99" -v loss="$(bench_paired_loss "$dir" "$label" baseline)" \
      'BEGIN { printf "%-10s %12.0f %10.2f %13.1f%%\n", l, r, p, loss }'
  done
}

# One run of Debian's wrk (2 threads, 32 connections) on URL for SECS seconds, its output kept in FILE: prints
# "requests/s p99(ms)".
bench_wrk_load() { # url secs file
  wrk -t2 -c32 -d"$2s" --latency "$1" >"$3" 2>&1
  local rps p99
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$3")
  p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' "$3")
  echo "$rps $p99"
}

# Waits until process $1 has used no CPU for half a second (at most $2 seconds): a fixture that just set up
# its workload (a GC cycle, the scavenger) would otherwise compete with what is timed next.
bench_wait_idle() {
  local pid=$1 limit=${2:-20} before after
  for _ in $(seq 1 $((limit * 2))); do
    before=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null) || return 0
    sleep 0.5
    after=$(awk '{print $14 + $15}' "/proc/$pid/stat" 2>/dev/null) || return 0
    [ "$before" = "$after" ] && return 0
  done
}
