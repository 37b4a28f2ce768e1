#!/usr/bin/env bash
# Symbolizer benchmark (issue 2). Needs a build (./gmon.sh build) and the test fixtures/corpus (./gmon.sh test
# prepares both). Prints gmon's figures and, in the same run, `go tool addr2line` on the same Go 1.19 fixture
# and the same random PCs, with the ratio. Usage: bench/symbolize.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
bench=$build/bench_symbolize
fixture=$build/fixtures/lifecycle-plain
corpus=${GMON_CACHE:-$HOME/.cache/gmon}/corpus
go=${GO:-/usr/lib/go-1.19/bin/go}
source "$root/bench/common.sh"
bench_require_files "$bench" "$fixture"
largest=$(ls -S "$corpus"/esbuild-* 2>/dev/null | head -1 || true)
[ -n "$largest" ] || { echo "symbolize.sh: no corpus in $corpus: run tests/corpus/fetch.sh" >&2; exit 2; }

echo "== gmon on the largest test binary ($(basename "$largest"), $(($(stat -c %s "$largest") / 1024 / 1024)) MB)"
"$bench" "$largest" 10000000 2>/dev/null
echo
echo "== gmon on the Go 1.19 fixture"
ours=$("$bench" "$fixture" 10000000 2>/dev/null)
echo "$ours"
ours_rate=$(awk '$1 == "frame_lookups_per_sec" {print $2}' <<<"$ours")

n=200000
pcs=$(mktemp)
trap 'rm -f "$pcs"' EXIT
"$bench" "$fixture" --pcs $n > "$pcs"
echo
echo "== go tool addr2line on the same fixture, $n random PCs (function + file:line each)"
start=$(date +%s.%N)
"$go" tool addr2line "$fixture" < "$pcs" > /dev/null
end=$(date +%s.%N)
theirs_rate=$(awk -v n=$n -v s="$start" -v e="$end" 'BEGIN {printf "%.0f", n / (e - s)}')
echo "addr2line_lookups_per_sec $theirs_rate"
awk -v a="$ours_rate" -v b="$theirs_rate" 'BEGIN {printf "ratio_gmon_frames_vs_addr2line %.1fx\n", a / b}'
