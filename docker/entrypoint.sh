#!/bin/sh
# Start-up of the gmon image: make kernel headers visible to BCC, then run gmon with the container's arguments.
# The host's headers win when they are mounted (-v /lib/modules:/lib/modules:ro -v /usr/src:/usr/src:ro) or
# when the kernel carries its own (/sys/kernel/kheaders.tar.xz). Otherwise the image's Debian headers are
# linked as /lib/modules/$(uname -r)/{build,source}, as ./gmon.sh deps does on a host: uprobes do not depend
# on the exact kernel version, so nearby headers serve.
mod=/lib/modules/$(uname -r)
if [ ! -e "$mod/build/include" ] && [ ! -e /sys/kernel/kheaders.tar.xz ]; then
    arch=$(ls -d /opt/gmon/kernel-headers/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1)
    if [ -z "$arch" ]; then
        echo "gmon-entrypoint: the image has no kernel headers in /opt/gmon/kernel-headers" >&2
    elif ! { mkdir -p "$mod" && ln -sfn "$arch" "$mod/build" && ln -sfn "${arch%-amd64}-common" "$mod/source"; } 2>/dev/null; then
        echo "gmon-entrypoint: $mod has no kernel headers and cannot be written (mounted read-only?):" \
            "live tracing will fail; mount the host's /usr/src too, or do not mount /lib/modules" >&2
    fi
fi
exec /usr/bin/gmon "$@"
