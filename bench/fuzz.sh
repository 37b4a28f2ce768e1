#!/usr/bin/env bash
# The long fuzzing run: every libFuzzer target of tests/fuzz/ for SECS seconds (default 600), continuing from
# the corpora that earlier runs left in build-fuzz/work. Prints executions, rate, coverage and corpus size per
# target; a crash stops with its input saved (see tests/fuzz/run.sh). ./gmon.sh test runs the same for 30 s.
# Usage: bench/fuzz.sh [SECS]
set -euo pipefail
exec "$(cd "$(dirname "$0")/.." && pwd)/gmon.sh" fuzz "${1:-600}"
