#!/usr/bin/env bash
# gmon's entry point for people and for CI. Idempotent: run any command as often as you like.
#
#   ./gmon.sh deps         install what gmon needs from Debian (and link kernel headers for BCC)
#   ./gmon.sh build        build gmon, its tests and benchmarks into build/
#   ./gmon.sh test         deps + build + every test (the Dockerized ones too when a Docker engine can be
#                          started), the same suite under ASan+UBSan (build-asan/), then the fuzz targets
#   ./gmon.sh docker-test  deps + build + Docker engine + images + the Dockerized end-to-end tests only
#   ./gmon.sh docker-build the images: local Debian base, gmon, the test fixture (cached; see docker/)
#   ./gmon.sh fuzz [SECS]  the libFuzzer targets of tests/fuzz/ (clang, ASan+UBSan, build-fuzz/), SECS each
#                          (default 30; ./gmon.sh test runs them too); bench/fuzz.sh runs them longer
#   ./gmon.sh demo         deps + build + every view of gmon on the bundled demo Go service, each titled
#                          (--no-build: skip deps and build; GMON and FIXTURES name other binaries)
#   ./gmon.sh format       clang-format the C/C++ sources in place (--check: fail on a difference instead)
#   ./gmon.sh install [PREFIX]  deps + build + install gmon, its man pages, bash completion and docs under
#                          PREFIX (default /usr/local)
#   ./gmon.sh package      deps + build + build/gmon_VERSION_amd64.deb (run-time dependencies only), checked
#                          with lintian; install it with apt-get install ./build/gmon_*.deb
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD=$ROOT/build
BUILD_ASAN=$ROOT/build-asan
BUILD_FUZZ=$ROOT/build-fuzz
FUZZ_SECONDS_IN_TEST=30
JOBS=$(nproc)

# Everything comes from Debian's archive. golang-1.19-go only builds test fixtures; gmon itself is C.
# golang-github-prometheus-client-golang-dev: client_golang 1.14 in /usr/share/gocode, built in GOPATH mode into
# the fixture whose own /metrics the exporter's figures are compared with.
# prometheus: promtool and the server the tests scrape with; bpftrace: the benchmark's comparison; bpftool: the
# test that nothing stays attached; wrk: the HTTP load of bench/collectors.sh; tmux: the terminal gmon top is tested in.
# go-md2man: the man pages, made from docs/ at build time; man-db and bsdextrautils: the tests that read them;
# lintian: Debian's checks of the package.
PACKAGES=(
    build-essential cmake pkg-config clang clang-format libclang-rt-14-dev
    libbpfcc-dev libelf-dev libdw-dev libmicrohttpd-dev libzydis-dev libcurl4-openssl-dev libjson-c-dev
    libcap-dev libgtest-dev googletest golang-1.19-go golang-github-prometheus-client-golang-dev
    linux-headers-amd64
    libprotobuf-c-dev protobuf-c-compiler zlib1g-dev
    binutils python3 util-linux ca-certificates curl strace
    prometheus bpftrace bpftool wrk tmux panicparse
    go-md2man man-db bsdextrautils lintian
)

# The Docker engine (and its client) and debootstrap, which builds the local base image: no registry is
# reachable, so every image starts from Debian's packages.
DOCKER_PACKAGES=(docker.io debootstrap)
DOCKERD_LOG=/var/log/gmon-dockerd.log

log() { printf 'gmon.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

need_root() {
    [ "$(id -u)" = 0 ] || die "$1 needs root (apt-get, /lib/modules): run it with sudo"
}

missing_packages() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || printf '%s\n' "$p"
    done
}

apt_install() {
    local missing
    missing=$(missing_packages "$@")
    if [ -z "$missing" ]; then
        return 0
    fi
    need_root "installing packages"
    log "installing from Debian: $(echo $missing)"
    local try
    for try in 1 2 3; do
        # needrestart (pulled in by some packages) would print warnings and may ask about services: suspend it.
        if apt-get update -qq && DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 \
            apt-get install -y -qq --no-install-recommends $missing >/dev/null; then
            return 0
        fi
        log "apt-get failed (attempt $try of 3), retrying"
        sleep 5
    done
    die "could not install: $(echo $missing)"
}

# BCC compiles BPF programs against the running kernel's headers. Debian has none for this kernel, so link the
# newest linux-headers-*-amd64 the way Debian's own kernel packages do (build: arch tree, source: common tree).
# Uprobes do not depend on the exact kernel version, so nearby headers serve.
link_kernel_headers() {
    local mod=/lib/modules/$(uname -r)
    if [ -e "$mod/build/include/generated/autoconf.h" ] || [ -e "$mod/build/include/config/auto.conf" ]; then
        log "kernel headers for $(uname -r): present in $mod/build"
        return 0
    fi
    local arch common
    arch=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -1)
    [ -n "$arch" ] || die "no Debian kernel headers in /usr/src (is linux-headers-amd64 installed?)"
    common=${arch%-amd64}-common
    [ -d "$common" ] || common=$arch
    mkdir -p "$mod"
    ln -sfn "$arch" "$mod/build"
    ln -sfn "$common" "$mod/source"
    log "kernel $(uname -r) has no headers: linked Debian's $(basename "$arch") as $mod/build and $mod/source"
}

cmd_deps() {
    apt_install "${PACKAGES[@]}"
    command -v npm >/dev/null || apt_install nodejs npm
    link_kernel_headers
    log "dependencies ready"
}

configure_and_build() {
    local dir=$1
    shift
    cmake -S "$ROOT" -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
    if ! cmake --build "$dir" -j "$JOBS" >"$dir/build.log" 2>&1; then
        cat "$dir/build.log" >&2
        die "build failed in $dir (log: $dir/build.log)"
    fi
}

cmd_build() {
    log "building into $BUILD"
    configure_and_build "$BUILD"
    log "built $BUILD/gmon"
}

# Every test but the Dockerized ones (label "docker"), which run_docker_suite runs once, on the release build.
run_suite() {
    local dir=$1 label=$2
    log "running the test suite ($label)"
    (cd "$dir" && ctest --output-on-failure -j "$JOBS" -LE docker)
}

docker_answers() {
    docker info >/dev/null 2>&1
}

# Installs and starts a Docker engine unless one answers: systemd's docker.service where systemd runs, dockerd
# in the background otherwise (CI runners, containers). Returns 1, having said why, when none comes up.
docker_engine_up() {
    (apt_install "${DOCKER_PACKAGES[@]}") || return 1
    docker_answers && return 0
    if [ "$(id -u)" != 0 ]; then
        log "no Docker engine answers, and starting one needs root"
        return 1
    fi
    if [ -d /run/systemd/system ]; then
        systemctl start docker >/dev/null 2>&1 || true
    fi
    local dockerd=
    if ! docker_answers; then
        # A dockerd that died (a killed session, a reboot without /run on tmpfs) leaves its pid file, and a new
        # dockerd refuses to start while it is there.
        local stale
        stale=$(cat /var/run/docker.pid 2>/dev/null || true)
        if [ -n "$stale" ] && ! grep -qs dockerd "/proc/$stale/comm"; then
            log "removing the pid file of a dockerd that is gone (PID $stale)"
            rm -f /var/run/docker.pid
        fi
        log "starting dockerd in the background (log: $DOCKERD_LOG)"
        setsid nohup dockerd </dev/null >>"$DOCKERD_LOG" 2>&1 &
        dockerd=$!
    fi
    local waited
    for waited in $(seq 1 60); do
        docker_answers && { log "Docker engine ready ($(docker version -f '{{.Server.Version}}'))"; return 0; }
        if [ -n "$dockerd" ] && ! kill -0 "$dockerd" 2>/dev/null; then
            break # it exited: no point in waiting
        fi
        sleep 1
    done
    tail -n 5 "$DOCKERD_LOG" >&2 2>/dev/null || true
    log "no Docker engine answered (waited ${waited} s; dockerd's log: $DOCKERD_LOG)"
    return 1
}

ensure_fixtures() {
    if [ ! -x "$BUILD/fixtures/httpserver-plain" ]; then
        log "building the Go test fixtures with Debian's Go 1.19"
        "$ROOT/tests/fixtures/build.sh" "$BUILD/fixtures" >/dev/null
    fi
}

cmd_docker_build() {
    cmd_deps
    cmd_build
    docker_engine_up || die "the images need a Docker engine, and none could be started here"
    ensure_fixtures
    "$ROOT/docker/build_images.sh" "$BUILD/fixtures"
}

# The Dockerized end-to-end tests: ctest's setup.docker_images builds (or finds cached) the images first.
run_docker_suite() {
    log "running the Dockerized tests (release build)"
    (cd "$BUILD" && ctest --output-on-failure -j "$JOBS" -L docker)
}

cmd_docker_test() {
    cmd_deps
    cmd_build
    docker_engine_up || die "the Dockerized tests need a Docker engine, and none could be started here"
    local started=$SECONDS
    run_docker_suite || die "Dockerized tests FAILED (see above)"
    log "Dockerized tests passed in $((SECONDS - started)) s"
}

cmd_test() {
    cmd_deps
    cmd_build
    local status=0 docker_ran=yes
    run_suite "$BUILD" "release build" || status=1
    if docker_engine_up; then
        run_docker_suite || status=1
    else
        docker_ran=no
        log "######## THE DOCKERIZED TESTS DID NOT RUN: no Docker engine could be started (see above) ########"
    fi
    log "building with AddressSanitizer + UndefinedBehaviorSanitizer into $BUILD_ASAN"
    configure_and_build "$BUILD_ASAN" -DGMON_SANITIZE=ON
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        run_suite "$BUILD_ASAN" "ASan+UBSan build" || status=1
    fuzz_targets "$FUZZ_SECONDS_IN_TEST" || status=1
    if [ $status -ne 0 ]; then
        die "tests FAILED (see above)"
    fi
    if [ $docker_ran = no ]; then
        log "all tests that could run passed (release, ASan+UBSan, fuzzing); the Dockerized ones DID NOT RUN"
    else
        log "all tests passed (release and ASan+UBSan builds, the Dockerized tests, fuzzing)"
    fi
}

# The fuzz targets, $1 seconds each, after the regression inputs: see tests/fuzz/run.sh.
fuzz_targets() {
    local seconds=$1
    ensure_fixtures
    "$ROOT/tests/corpus/fetch.sh" >/dev/null
    log "building the fuzz targets with clang (libFuzzer, ASan+UBSan) into $BUILD_FUZZ"
    mkdir -p "$BUILD_FUZZ"
    CC=clang CXX=clang++ configure_and_build "$BUILD_FUZZ" -DGMON_FUZZ=ON
    log "fuzzing each target for $seconds s (corpora kept in $BUILD_FUZZ/work)"
    "$ROOT/tests/fuzz/run.sh" "$BUILD_FUZZ" "$BUILD/fixtures" "${GMON_CACHE:-$HOME/.cache/gmon}/corpus" \
        "$seconds" "$BUILD_FUZZ/work"
}

cmd_fuzz() {
    local seconds=${1:-30}
    [[ $seconds =~ ^[1-9][0-9]*$ ]] || die "fuzz: SECS must be a positive number of seconds, not '$seconds'"
    cmd_deps
    cmd_build
    fuzz_targets "$seconds"
}

# The demo: the bundled HTTP service (tests/fixtures/httpserver) traced and read by every view, each section
# titled. GMON and FIXTURES default to this build's; the demo test (tests/test_demo.cc) points them at the
# binaries under test.
demo_title() {
    printf '\n==== %s ====\n' "$*"
}

# Runs gmon with ARGS in the background, its stderr in $demo_dir/NAME.err, and waits for "probes attached".
demo_trace() {
    local name=$1
    shift
    "$GMON" "$@" >"$demo_dir/$name.out" 2>"$demo_dir/$name.err" &
    demo_pid=$!
    local waited
    for waited in $(seq 1 300); do
        grep -qE 'probes attached|no probe' "$demo_dir/$name.err" && return 0
        kill -0 $demo_pid 2>/dev/null || break
        sleep 0.1
    done
    cat "$demo_dir/$name.err" >&2
    die "demo: gmon $1 did not attach"
}

# Runs gmon with ARGS to the end, then shows the first LINES lines of its output (NAME names the file): a
# pipe into head would kill gmon with SIGPIPE, which set -o pipefail turns into the demo's failure.
demo_view() {
    local name=$1 lines=$2
    shift 2
    "$GMON" "$@" >"$demo_dir/$name.out"
    head -n "$lines" "$demo_dir/$name.out"
}

# Stops the background gmon and waits for it.
demo_stop() {
    kill -INT $demo_pid 2>/dev/null || true
    wait $demo_pid || true
}

# The first N lines of FILE from the first one matching START: `sed | head` would end sed with SIGPIPE once
# head has its lines and sed's output is longer than a pipe write, which set -o pipefail turns into the demo's
# failure (a profile's -top listing under a slow build was).
demo_excerpt() { # start-regex n file
    awk -v start="$1" -v n="$2" '$0 ~ start {on = 1} on && shown < n {print; shown++}' "$3"
}

# Two seconds of HTTP load on the service (wrk is one of the packages cmd_deps installs).
demo_load() {
    wrk -t2 -c20 -d2s "http://127.0.0.1:$demo_port/get/200" >/dev/null || die "demo: wrk failed"
}

# Requests to the service: N of /get/200 (each starts a 50 ms goroutine).
demo_requests() {
    local i
    for i in $(seq 1 "$1"); do curl -s "127.0.0.1:$demo_port/get/200" >/dev/null; done
}

demo_show() {
    GMON=${GMON:-$BUILD/gmon}
    FIXTURES=${FIXTURES:-$BUILD/fixtures}
    demo_dir=$(mktemp -d)
    demo_port=${GMON_DEMO_PORT:-18080}
    local metrics=${GMON_DEMO_METRICS:-15500}
    "$FIXTURES/httpserver-plain" -addr 127.0.0.1:$demo_port -contention 2>/dev/null &
    local service=$!
    trap "kill $service 2>/dev/null || true; rm -rf $demo_dir" EXIT # expanded now: the locals are gone then
    local waited
    for waited in $(seq 1 50); do
        curl -s "127.0.0.1:$demo_port/get/200" >/dev/null 2>&1 && break
        sleep 0.1
    done
    kill -0 $service 2>/dev/null || die "the demo service did not start (is port $demo_port in use?)"
    echo "demo service: $FIXTURES/httpserver-plain, PID $service, on 127.0.0.1:$demo_port"

    demo_title "gmon info --pid $service   (what gmon reads from the binary; abridged)"
    demo_view info 12 info --pid "$service"

    demo_title "gmon --pid $service --metrics $metrics   (every goroutine created and exited; 5 requests and a leak)"
    demo_trace lifecycle --pid "$service" --metrics "$metrics"
    demo_requests 5
    curl -s "127.0.0.1:$demo_port/leak" >/dev/null
    sleep 1
    head -8 "$demo_dir/lifecycle.out"
    echo "... ($(wc -l <"$demo_dir/lifecycle.out") log lines in all)"
    demo_title "curl 127.0.0.1:$metrics/metrics   (the goroutine series; abridged)"
    curl -s "127.0.0.1:$metrics/metrics" >"$demo_dir/metrics.txt"
    grep -E '^gmon_goroutines_(created_total|live)' "$demo_dir/metrics.txt" | head -6
    demo_stop
    demo_title "the monitor's summary on Ctrl-C"
    sed -n '/^gmon: traced/,$p' "$demo_dir/lifecycle.err"

    demo_title "gmon summary --pid $service   (every goroutine, read from memory: no probe, no stop)"
    demo_view summary 30 summary --no-color --pid "$service"
    demo_title "gmon top --pid $service --count 1   (grouped by function)"
    "$GMON" top --pid "$service" --count 1 >"$demo_dir/top.out"
    demo_excerpt COUNT 12 "$demo_dir/top.out"

    demo_title "gmon gc --pid $service   (GC cycles and stops of the world, during 2 s of load)"
    demo_trace gc gc --pid "$service"
    demo_load
    demo_stop
    head -8 "$demo_dir/gc.out"
    grep -E '^gc cycles' "$demo_dir/gc.err" || true

    demo_title "gmon gm --pid $service --by site --top 3   (allocations, during 2 s of load)"
    demo_trace gm gm --pid "$service" --by site --top 3 --interval 0
    demo_load
    demo_stop
    grep -E 'allocations,|^top |^  [0-9.]+[KMG]?i?B ' "$demo_dir/gm.out" | head -6
    grep -E '^allocator probe hits' "$demo_dir/gm.err" || true

    demo_title "gmon sched --pid $service   (the runtime's own scheduling-latency histogram, read: 2 s of load)"
    demo_trace sched-runtime sched --pid "$service" --interval 0
    demo_load
    demo_stop
    demo_excerpt '^scheduling latency' 12 "$demo_dir/sched-runtime.out"
    demo_title "gmon sched --blocked --pid $service   (probes: time blocked by wait reason, 2 s of load)"
    demo_trace sched sched --blocked --pid "$service" --interval 0
    demo_load
    demo_stop
    sed -n '/^scheduling latency/p; /^blocked goroutines/,$p' "$demo_dir/sched.out" | head -8

    local go=${GO:-$(command -v go || echo /usr/lib/go-1.19/bin/go)} kind
    demo_title "gmon pprof cpu --pid $service -o cpu.pb.gz; go tool pprof -top cpu.pb.gz   (2 s of load; abridged)"
    demo_trace cpu pprof cpu --pid "$service" -o "$demo_dir/cpu.pb.gz"
    demo_load
    demo_stop
    grep -E '^gmon pprof cpu: ' "$demo_dir/cpu.err" || true
    "$go" tool pprof -top "$demo_dir/cpu.pb.gz" 2>/dev/null >"$demo_dir/cpu.top"
    demo_excerpt 'flat%' 6 "$demo_dir/cpu.top"

    demo_title "gmon heap --pid $service   (the heap, read from memory; abridged)"
    demo_view heap 12 heap --pid "$service"

    demo_title "gmon stacks --pid $service --group   (every goroutine's stack as Go prints it; abridged)"
    demo_view stacks 14 stacks --group --pid "$service"

    demo_title "gmon exporter --pid $service   (client_golang's series, read from memory; abridged)"
    "$GMON" exporter --pid "$service" --metrics 0 >"$demo_dir/exporter.out" 2>"$demo_dir/exporter.err" &
    local exporter=$! url=""
    for _ in $(seq 50); do
        url=$(sed -n 's/^serving \(http:[^ ]*\).*/\1/p' "$demo_dir/exporter.out")
        [ -n "$url" ] && break
        sleep 0.1
    done
    if [ -n "$url" ]; then
        curl -sf "$url" | grep -E '^(go_goroutines|go_threads|go_gc_duration_seconds_count|go_memstats_(heap_alloc|next_gc)_bytes|process_resident_memory_bytes) '
    else
        cat "$demo_dir/exporter.err"
    fi
    kill "$exporter" 2>/dev/null || true
    wait "$exporter" 2>/dev/null || true

    for kind in heap block; do
        demo_title "gmon pprof $kind --pid $service -o $kind.pb.gz; go tool pprof -top $kind.pb.gz   (abridged)"
        "$GMON" pprof $kind --pid "$service" -o "$demo_dir/$kind.pb.gz" 2>&1 # its summary line too
        "$go" tool pprof -top "$demo_dir/$kind.pb.gz" 2>/dev/null >"$demo_dir/$kind.top"
        demo_excerpt 'flat%' 6 "$demo_dir/$kind.top"
    done
    echo
    echo "More: gmon COMMAND --help, and docs/README.md"
}

cmd_demo() {
    if [ "${1:-}" != --no-build ]; then
        cmd_deps
        cmd_build
        ensure_fixtures
    fi
    demo_show
}

cmd_install() {
    local prefix=${1:-/usr/local}
    cmd_deps
    cmd_build
    cmake --install "$BUILD" --prefix "$prefix" >/dev/null || die "installing into $prefix failed"
    log "installed $prefix/bin/gmon, its man pages (man gmon), bash completion and docs ($prefix/share/doc/gmon)"
}

cmd_package() {
    cmd_deps
    cmd_build
    local deb
    deb=$("$ROOT/tool/install/make_deb.sh" "$BUILD" "$BUILD") || die "building the package failed"
    lintian --fail-on error "$deb" >&2 || die "lintian finds errors in $deb"
    log "built $deb: apt-get install $deb"
}

format_files() {
    (cd "$ROOT" && find tool symbolize probes tests bench \( -name '*.[ch]' -o -name '*.cc' \) -type f | sort)
}

cmd_format() {
    cd "$ROOT"
    if [ "${1:-}" = "--check" ]; then
        format_files | xargs -r clang-format --dry-run -Werror
        log "formatting is clean"
    else
        format_files | xargs -r clang-format -i
        log "formatted $(format_files | wc -l) files"
    fi
}

main() {
    [ "$(uname -m)" = x86_64 ] || die "gmon supports x86_64 only (this is $(uname -m))"
    local cmd=${1:-}
    shift || true
    case "$cmd" in
        deps) cmd_deps ;;
        build) cmd_build ;;
        test) cmd_test ;;
        docker-test) cmd_docker_test ;;
        docker-build) cmd_docker_build ;;
        fuzz) cmd_fuzz "$@" ;;
        demo) cmd_demo "$@" ;;
        format) cmd_format "$@" ;;
        install) cmd_install "$@" ;;
        package) cmd_package ;;
        -h | --help | help | "") sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//' ;;
        *) die "unknown command '$cmd' (try ./gmon.sh --help)" ;;
    esac
}

main "$@"
