#!/bin/sh
# Build (release) and run mmsimd in the foreground on the built-in default
# machine: TCP 127.0.0.1:7411 and the Unix socket
# $XDG_RUNTIME_DIR/mmsimd.sock (else /tmp/mmsimd-UID.sock). Arguments go
# to mmsimd (./scripts/run.sh --help lists them; docs/mmsimd.md explains
# them). Ctrl-C (SIGINT) drains the connections and exits 0.
# mmsim-boot and mmsimctl are built alongside (build/release/daemon/tools,
# build/release/client).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build/release"
log="$build/run-build.log"
mkdir -p "$build"
# Quiet while it works; the whole output when it does not.
if ! { cmake -S "$root" -B "$build" -G Ninja \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo &&
       ninja -C "$build" mmsimd mmsim-boot mmsimctl; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "run.sh: the build failed (log: $log)" >&2
    exit 1
fi
exec "$build/daemon/mmsimd" "$@"
