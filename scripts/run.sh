#!/bin/sh
# Build (release) and boot the built-in default machine, printing its
# kernel log, /proc/buddyinfo and /proc/zoneinfo. Arguments go to
# mmsim-boot (see build/release/daemon/tools/mmsim-boot --help).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cmake -S "$root" -B "$root/build/release" -G Ninja \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$root/build/release" mmsim-boot >/dev/null
exec "$root/build/release/daemon/tools/mmsim-boot" "$@"
