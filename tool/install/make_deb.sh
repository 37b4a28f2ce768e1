#!/usr/bin/env bash
# Builds gmon's Debian package from a build directory: what `cmake --install` lays out under /usr (the binary
# stripped, man pages compressed), Debian's copyright and changelog files, and a control file whose Depends
# are the run-time libraries only: those the binary links, as dpkg-shlibdeps finds them, and the three it loads
# with dlopen, which dpkg-shlibdeps cannot see: libbpfcc to trace (probes/bcc_library.c), libcurl4 to ask
# the container engine about --container (tool/target/curl_library.c) and libmicrohttpd12 to serve /metrics
# (tool/metrics/microhttpd_library.c). The kernel headers BCC compiles with are a
# Recommends: gmon says what to install when they are missing. No -dev package, no compiler, no Go.
# Used by ./gmon.sh package and docker/Dockerfile.
# Usage: tool/install/make_deb.sh BUILD_DIR OUT_DIR      Prints the path of the .deb.
set -euo pipefail
build=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
log() { echo "make_deb.sh: $*" >&2; }

version=$("$build/gmon" --version | awk '{print $2}')
# Debian's variables name who builds the package; the project has no public address yet.
maintainer="${DEBFULLNAME:-gmon developers} <${DEBEMAIL:-gmon-developers@example.org}>"
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { log "unexpected gmon --version: $version"; exit 1; }
arch=$(dpkg --print-architecture)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=$work/gmon_${version}_$arch

DESTDIR=$stage cmake --install "$build" --prefix /usr --strip >/dev/null
doc=$stage/usr/share/doc/gmon
gzip -9n "$stage"/usr/share/man/man1/*.1
cp "$root/tool/install/copyright" "$doc/copyright"
# A native package (the version has no Debian revision): its changelog is changelog.gz.
printf 'gmon (%s) unstable; urgency=medium\n\n  * Built from the gmon repository.\n\n -- %s  %s\n' \
    "$version" "$maintainer" "$(date -R -d @"${SOURCE_DATE_EPOCH:-0}")" | gzip -9n >"$doc/changelog.gz"
find "$stage" -type d -exec chmod 0755 {} +
find "$stage" -type f -exec chmod 0644 {} +
chmod 0755 "$stage/usr/bin/gmon"

# dpkg-shlibdeps reads debian/control of a source package: a minimal one in the scratch directory.
mkdir -p "$work/debian"
printf 'Source: gmon\n\nPackage: gmon\nArchitecture: any\n' >"$work/debian/control"
shlibs=$(cd "$work" && dpkg-shlibdeps -O "$stage/usr/bin/gmon" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
[ -n "$shlibs" ] || { log "dpkg-shlibdeps found no dependency of $stage/usr/bin/gmon"; exit 1; }
# The upstream version (no Debian revision) of an installed package, as the least version to depend on.
upstream_version() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null | sed 's/-[^-]*$//'; }
bcc=$(upstream_version libbpfcc)
curl=$(upstream_version libcurl4)
mhd=$(upstream_version libmicrohttpd12)
installed_size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)

mkdir -p "$stage/DEBIAN"
cat >"$stage/DEBIAN/control" <<EOF
Package: gmon
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: $shlibs, libbpfcc (>= ${bcc:-0.26}), libcurl4 (>= ${curl:-7.88}), libmicrohttpd12 (>= ${mhd:-0.9.75})
Recommends: linux-headers-$arch
Section: utils
Priority: optional
Description: Go runtime monitor: goroutines, GC and allocator, from outside
 gmon watches Go programs (Go 1.17 to 1.27, stripped or not, in a container or
 not) without changing or restarting them: which code spawns goroutines, which
 ones never exit, where every goroutine is stuck, what the GC and the allocator
 do. Live tracing uses eBPF uprobes compiled at run time by BCC; snapshots read
 the process's memory. Output comes in the formats the Go world uses: Go's own
 tracebacks, pprof profiles, Prometheus metrics, slog-style log lines.
 .
 Tracing needs the kernel's headers (linux-headers-$arch) for BCC.
EOF
deb=$out/gmon_${version}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
log "built $deb"
echo "$deb"
