#!/bin/sh
# mmsim-boot end to end: help, the default machine, each shipped machine
# file, the bootmem backend, and bad input with its exit status.
# Usage: test-mmsim-boot.sh <mmsim-boot> <source dir>
set -u
boot=$1
src=$2
fails=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

check() { # check <name> <expected status> <pattern> -- <args...>
    name=$1 want=$2 pattern=$3
    shift 4
    "$boot" "$@" >"$out" 2>&1
    got=$?
    if [ "$got" -ne "$want" ] || ! grep -q -- "$pattern" "$out"; then
        echo "FAIL: $name: status $got (want $want), output:"
        sed 's/^/    /' "$out" | head -20
        fails=$((fails + 1))
    else
        echo "ok: $name"
    fi
}

check help 0 'Machine options:' -- --help
check default 0 '^Node 1, zone   Normal' --
check default-log 0 '^Early memory node ranges$' -- --show bootlog
check default-check 0 '^check: ok$' -- --show check
for f in "$src"/deploy/machines/*.yaml; do
    check "config $(basename "$f")" 0 '^check: ok$' -- --config "$f" \
        --show buddyinfo,check
done
check bootmem 0 '^check: ok$' -- --early bootmem --show bootlog,check
check bootmem-no-memblock 2 'no memblock' -- --early bootmem --show memory
check qemu-like 0 '^Node 1, zone    DMA32' -- -m 2G --numa node \
    --numa node --numa dist,src=0,dst=1,val=21 --show buddyinfo
check memblock-view 0 'RSV_KERN' -- --show reserved
check bad-option 2 "Try 'mmsim-boot --help'" -- --no-such-option
check bad-numa 2 'numa' -- --numa node,mem=4X
check bad-view 2 'unknown view' -- --show nonsense
check all-reserved 1 'boot failed' -- -m 1M --reserve 0,1M
check extra-arg 2 'unexpected argument' -- stray

[ "$fails" -eq 0 ] || { echo "$fails failed"; exit 1; }
