#!/usr/bin/env bash
# Runs every libFuzzer target of tests/fuzz/ for SECONDS each, on seed corpora made from the test binaries,
# then once over the saved regression inputs (tests/fuzz/regressions/TARGET/: every crash found so far).
# Prints one line per target: executions, executions per second, corpus size, coverage, crashes. Exit 1 when
# a target crashed (its input is saved as WORK/crashes/TARGET-crash-*; copy it into regressions/ once fixed).
# Usage: tests/fuzz/run.sh FUZZ_BUILD FIXTURES CORPUS_DIR SECONDS WORK
#   FUZZ_BUILD  a build tree configured with CC=clang CXX=clang++ -DGMON_FUZZ=ON
#   FIXTURES    tests/fixtures/build.sh's output; CORPUS_DIR: the npm corpus (tests/corpus/fetch.sh)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$1 fixtures=$2 corpus=$3 seconds=$4 work=$5
targets=(go_binary pclntab dwarf proc_maps modinfo cli engine_reply goroutine_stack mem_buckets runtime_metrics
    bpf_object native_symbols text_writers)
# fuzz_goroutine_stack and fuzz_mem_buckets symbolize the crafted stacks with a real binary's functions.
export GMON_FUZZ_GO_BINARY=$fixtures/stacks-plain
log() { echo "fuzz: $*" >&2; }

seed_go_binary() {
    cp "$fixtures/lifecycle-stripped" "$fixtures/lifecycle-pie" "$1/"
}

# Each release family's table: go1.19 from the fixtures, the others from the corpus (cut to 256 KiB: the
# header, the function table and the start of every area; the mutations reach the rest).
seed_pclntab() {
    objcopy -O binary --only-section=.gopclntab "$fixtures/lifecycle-plain" "$1/go1.19"
    local bin
    for bin in "$corpus"/*; do
        [ -f "$bin" ] && [ "$(head -c 4 "$bin" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || continue # ELF
        objcopy -O binary --only-section=.gopclntab "$bin" "$1/tmp" 2>/dev/null || continue
        head -c 262144 "$1/tmp" >"$1/$(basename "$bin")"
    done
    rm -f "$1/tmp"
}

seed_dwarf() {
    cp "$fixtures/lifecycle-plain" "$1/"
}

seed_proc_maps() {
    local i=0 line
    while IFS= read -r line; do
        printf '%s\n' "$line" >"$1/line$((i++))"
    done </proc/self/maps
}

# The modinfo blob between its two 16-byte sentinels, as `go version -m` reads it.
seed_modinfo() {
    local bin
    for bin in "$fixtures/lifecycle-plain" "$fixtures/httpserver-cgo"; do
        python3 - "$bin" "$1/$(basename "$bin")" <<'PY'
import sys
data = open(sys.argv[1], 'rb').read()
start = data.find(bytes.fromhex('3077af0c9274080241e1c107e6d618e6'))
end = data.find(bytes.fromhex('f932433186182072008242104116d8f2'), start)
open(sys.argv[2], 'wb').write(data[start:end + 16])
PY
    done
}

seed_cli() {
    local i=0 args
    for args in '--pid 1 --json' '--pid 42 --bin /x --freeze' '--container web --pc caller' \
        '--pid 7 --refresh 3 --count 9' '--name main.x --pid 1' '--path /bin/x --duration 5 --level INFO' \
        '-pid 12 -go-version 1.21 -perf-buffer' '--pid=3 --format=json'; do
        printf '%s' "$args" | tr ' ' '\0' >"$1/args$((i++))"
    done
}

# A real inspect reply of Docker 20.10 (trimmed) and its "No such container" error, kept in seeds/.
seed_engine_reply() {
    cp "$here"/seeds/engine_reply/* "$1/"
}

# Stack images: the 64-byte goroutine header the harness reads (goid, status, flags, then sched.pc/sp,
# syscallpc/sp, gopc and labels), then 8 KiB of zeros, of 0xff and of a byte ramp; the mutations do the rest.
seed_goroutine_stack() {
    python3 - "$1" <<'PY'
import os, struct, sys
out = sys.argv[1]
for i, fill in enumerate([b"\0", b"\xff", bytes(range(256))]):
    header = struct.pack("<QBBB5xQQQQQQ", 1, 4, i & 1, 2, 0, 0x2000 * i, 64, 0x3000, 0, 8)
    open(os.path.join(out, "shape%d" % i), "wb").write(header + fill * (8192 // len(fill)))
PY
}

# Bucket lists: release and list byte (release 17 + b % 11; list b / 11 % 3: memory, blocking, mutex), cycle,
# then the image (head pointer first): an empty list, one bucket of each record layout with a stack of three
# PCs of the binary's text, and a list that loops back to itself.
seed_mem_buckets() {
    python3 - "$1" <<'PY'
import os, struct, sys
out, base = sys.argv[1], 0x10000
def bucket(addr, nxt, nstk, words, typ):
    hdr = struct.pack("<QQQQQQ", 0, nxt, typ, 0, 1024 if typ == 1 else 0, nstk)
    stk = struct.pack("<%dQ" % nstk, *([0x401000 + 0x40 * i for i in range(nstk)]))
    if typ != 1:  # blockRecord {count float64; cycles int64}
        return hdr + stk + struct.pack("<dq", 2.5, 123456789)
    return hdr + stk + struct.pack("<%dQ" % (4 * words), *range(1, 4 * words + 1))
for name, selector, words, loop in [("empty", 0, 4, False), ("go119", 2, 4, False), ("go127", 10, 2, False),
                                    ("loop", 2, 4, True), ("block119", 13, 0, False), ("mutex124", 29, 0, False),
                                    ("mutex127", 32, 0, True)]:
    typ = 1 + selector // 11 % 3
    image = struct.pack("<Q", 0 if name == "empty" else base + 8)
    if name != "empty":
        image += bucket(base + 8, base + 8 if loop else 0, 3, words, typ)
    knob = 7 if typ == 1 else (2400000000 << 8 | 3)  # cycle; or ticks per second and mutex fraction
    open(os.path.join(out, name), "wb").write(bytes([selector]) + struct.pack("<Q", knob) + image)
PY
}

# The runtime's figures: zeros, all ones, and a ramp, for a release of each histogram layout and bucket count.
seed_runtime_metrics() {
    python3 - "$1" <<'PY'
import os, sys
out = sys.argv[1]
for name, selector, fill in [("zero119", 2, b"\0"), ("ones121", 4, b"\xff"), ("ramp117", 0, bytes(range(256))),
                             ("ramp127", 21, bytes(range(1, 256)))]:
    open(os.path.join(out, name), "wb").write(bytes([selector]) + fill * (16384 // len(fill)))
PY
}

# ELF images behind an 8-byte mapping offset: this process's vDSO (read from its memory, as gmon reads a
# target's) and a small shared library.
seed_native_symbols() {
    python3 - "$1" <<'PY'
import os, struct, sys
out = sys.argv[1]
for line in open("/proc/self/maps"):
    if line.rstrip().endswith("[vdso]"):
        start, end = (int(x, 16) for x in line.split()[0].split("-"))
        with open("/proc/self/mem", "rb") as mem:
            mem.seek(start)
            open(os.path.join(out, "vdso"), "wb").write(struct.pack("<Q", 0) + mem.read(end - start))
lib = "/lib/x86_64-linux-gnu/libcap.so.2"
if os.path.exists(lib):
    open(os.path.join(out, "libcap"), "wb").write(struct.pack("<Q", 0x1000) + open(lib, "rb").read())
PY
}

# A compiled program of two maps, one function loading the second map and returning, as an object (selector
# 0) and inside a cache entry for the harness's key (selector 1).
seed_bpf_object() {
    python3 - "$1" <<'PY'
import os, struct, sys
out = sys.argv[1]
def fnv(b):
    h = 0xcbf29ce484222325
    for c in b:
        h = ((h ^ c) * 0x100000001b3) & 0xffffffffffffffff
    return h
maps = b"".join(n.ljust(32, b"\0") + struct.pack("<5I", t, 4, 8, 16, 0) for n, t in [(b"counters", 6), (b"live", 1)])
insns = struct.pack("<BBhi", 0x18, 0x11, 0, 1) + struct.pack("<BBhi", 0, 0, 0, 0) + \
        struct.pack("<BBhi", 0xb7, 0, 0, 0) + struct.pack("<BBhi", 0x95, 0, 0, 0)
obj = b"GMONBPF1" + struct.pack("<I", 0x60100) + b"GPL".ljust(32, b"\0") + struct.pack("<I", 2) + maps + \
      struct.pack("<I", 1) + b"on_goexit1".ljust(64, b"\0") + struct.pack("<I", 4) + insns
key = b"gmon-fuzz-key"
entry = b"GMONBPC1" + struct.pack("<Q", len(key)) + key + struct.pack("<Q", len(obj)) + obj
entry += struct.pack("<Q", fnv(entry))
open(os.path.join(out, "object"), "wb").write(b"\0" + obj)
open(os.path.join(out, "entry"), "wb").write(b"\1" + entry)
PY
}

# Names and paths as binaries hold them, with the bytes quoting and escaping are about.
seed_text_writers() {
    printf '%s' 'net/http.(*conn).serve' >"$1/function"
    printf '%s' '/srv/café/main.go' >"$1/path"
    printf 'a b=c"d\\e\tf\x7f\xff\xc0\xaf\xed\xa0\x80\xe2\x80\xa8\xc2\xa0\xf3\xb0\x80\x80' >"$1/bytes"
}

run_target() {
    local t=$1 out=$work/$1.log
    local seeds=$work/seeds/$t corpus_dir=$work/corpus/$t
    mkdir -p "$work/seeds" "$corpus_dir" "$work/crashes"
    if [ ! -d "$seeds" ]; then # made whole or not at all: an interrupted run leaves no half-made seed set
        rm -rf "$seeds.tmp"
        mkdir "$seeds.tmp"
        "seed_$t" "$seeds.tmp"
        mv "$seeds.tmp" "$seeds"
    fi
    local status=0
    "$build/tests/fuzz/fuzz_$t" "$corpus_dir" "$seeds" -max_total_time="$seconds" -print_final_stats=1 \
        -close_fd_mask=3 -artifact_prefix="$work/crashes/$t-" -rss_limit_mb=4096 -max_len=$((8 << 20)) \
        >"$out" 2>&1 || status=$?
    local execs rate cov units
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out" | tail -1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$out" | tail -1)
    cov=$(grep -o 'cov: [0-9]*' "$out" | tail -1 | cut -d' ' -f2)
    units=$(ls "$corpus_dir" | wc -l)
    if [ $status -ne 0 ]; then
        tail -40 "$out" >&2
        printf '%-10s CRASHED after %s executions (log: %s)\n' "$t" "${execs:-?}" "$out"
        return 1
    fi
    printf '%-10s %10s executions in %ss (%s/s), coverage %s edges, corpus %s inputs, 0 crashes\n' "$t" \
        "${execs:-?}" "$seconds" "${rate:-?}" "${cov:-?}" "$units"
}

run_regressions() {
    local t=$1 dir=$here/regressions/$1
    [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ] || return 0
    "$build/tests/fuzz/fuzz_$t" "$dir"/* -close_fd_mask=3 >"$work/$t-regressions.log" 2>&1 || {
        tail -40 "$work/$t-regressions.log" >&2
        echo "$t: a saved regression input crashes again"
        return 1
    }
    echo "$t: $(ls "$dir" | wc -l) regression inputs pass"
}

mkdir -p "$work"
failed=0
for t in "${targets[@]}"; do
    run_regressions "$t" || failed=1
    run_target "$t" || failed=1
done
exit $failed
