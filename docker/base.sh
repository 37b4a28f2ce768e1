#!/usr/bin/env bash
# The local Debian base image every gmon image starts from: no image registry is reachable here, so Debian 12
# (bookworm) is bootstrapped with debootstrap from the Debian mirror this machine's apt uses (GMON_DEBIAN_MIRROR
# overrides it; deb.debian.org when none is found) and imported with `docker import`. The image's apt uses the
# same mirror, and debootstrap and apt honour http_proxy. Cached: when the image already exists this prints its name and does nothing
# (--force rebuilds it). Needs root, debootstrap and a running Docker engine.
# Usage: docker/base.sh [--force]        Image: gmon-debian:bookworm
set -euo pipefail
image=gmon-debian:bookworm
log() { echo "docker/base.sh: $*" >&2; }

# The first non-security Debian mirror of apt's sources (deb822 debian.sources, or one-line sources.list).
host_mirror() {
    local uri
    uri=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | tr ' ' '\n' |
        grep -v -e security -e '^$' | head -n 1 || true)
    if [ -z "$uri" ]; then
        uri=$(grep -hE '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
            sed 's/\[[^]]*\]//' | awk '$3 == "bookworm" { print $2; exit }' || true)
    fi
    echo "${uri:-http://deb.debian.org/debian}"
}
mirror=${GMON_DEBIAN_MIRROR:-$(host_mirror)}

if [ "${1:-}" != "--force" ] && docker image inspect "$image" >/dev/null 2>&1; then
  log "$image is already built (--force rebuilds it)"
  echo "$image"
  exit 0
fi
command -v debootstrap >/dev/null || { log "debootstrap is missing (apt-get install debootstrap)"; exit 2; }
docker info >/dev/null 2>&1 || { log "no Docker engine answers (start dockerd first)"; exit 2; }

root=$(mktemp -d /var/tmp/gmon-debian.XXXXXX)
trap 'rm -rf "$root"' EXIT
log "debootstrap bookworm (minbase) from $mirror into $root: a few minutes"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.log" 2>&1 || {
  tail -20 "$root.log" >&2
  log "debootstrap failed (full log: $root.log)"
  exit 1
}
rm -f "$root.log"
# Keep the image small: no apt lists or caches; apt-get update runs again in each Dockerfile.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb
log "importing it as $image"
tar -C "$root" -c . | docker import --change 'CMD ["/bin/bash"]' - "$image" >/dev/null
echo "$image"
