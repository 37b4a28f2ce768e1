#!/usr/bin/env bash
# Builds the images of docker/, each cached by the engine so that a second run takes seconds:
#   gmon-debian:bookworm     the local Debian base (docker/base.sh: debootstrap + docker import)
#   gmon:latest              gmon itself (docker/Dockerfile), from this repository's sources
#   gmon-test-httpserver     the Go 1.19 HTTP fixture on the base (docker/fixture.Dockerfile), when FIXTURES
#                            (a directory of tests/fixtures/build.sh's output) is given
# Usage: docker/build_images.sh [FIXTURES]      Needs a running Docker engine.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
fixtures=${1:-}
if [ -n "$fixtures" ]; then
    fixtures=$(cd "$fixtures" && pwd) # tar -C below changes directory first
fi
log() { echo "docker/build_images.sh: $*" >&2; }

# The legacy builder: Debian's engine has no BuildKit (buildx) plugin, and the legacy builder's layer cache is
# all these images need. Its deprecation notice is dropped; a failure prints the whole log.
# build NAME DOCKERFILE TAR-ARGS...: the context is the tar of TAR-ARGS (the sources only, never a build tree).
build() {
    local name=$1 dockerfile=$2
    shift 2
    local logf
    logf=$(mktemp)
    local started=$SECONDS proxy=()
    [ -z "${http_proxy:-}" ] || proxy=(--build-arg "http_proxy=$http_proxy")
    if ! tar -c "$@" |
        DOCKER_BUILDKIT=0 docker build "${proxy[@]}" -f "$dockerfile" -t "$name" - >"$logf" 2>&1; then
        cat "$logf" >&2
        rm -f "$logf"
        log "building $name failed"
        return 1
    fi
    local cached
    cached=$(grep -c 'Using cache' "$logf" || true)
    rm -f "$logf"
    log "$name ready in $((SECONDS - started))s ($cached steps from the cache)"
}

"$root/docker/base.sh" >/dev/null
build gmon:latest docker/Dockerfile -C "$root" CMakeLists.txt README.md docs symbolize probes tool \
    bench/bench_symbolize.c docker/Dockerfile docker/entrypoint.sh
if [ -n "$fixtures" ]; then
    for f in httpserver-plain httpserver-stripped; do
        [ -x "$fixtures/$f" ] || { log "no $fixtures/$f: build the fixtures first (tests/fixtures/build.sh)"; exit 1; }
    done
    build gmon-test-httpserver:latest docker/fixture.Dockerfile -C "$root" docker/fixture.Dockerfile \
        -C "$fixtures" httpserver-plain httpserver-stripped
fi
