#!/bin/sh
# The clients end to end against a real mmsimd on an ephemeral TCP port
# and a temporary Unix socket, with a token: mmsimctl (kernel text,
# --json, exit statuses, a session script) and the Python example under
# /usr/bin/python3 (skipped, saying SKIP, without python3-protobuf).
#
# Usage: test-clients.sh MMSIMD MMSIMCTL SOURCE_DIR PYTHON_GEN_DIR
set -u
mmsimd=$1
mmsimctl=$2
src=$3
pygen=$4

tmp=$(mktemp -d /tmp/test-clients.XXXXXX)
pid=
failures=0

cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
    echo "FAIL: $*" >&2
    failures=$((failures + 1))
}

# run NAME WANT_STATUS CMD...: run CMD, stdout to $tmp/out, stderr to
# $tmp/err, and check its exit status.
run() {
    name=$1
    want=$2
    shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" -ne "$want" ]; then
        fail "$name: exit status $got, expected $want"
        sed 's/^/  out: /' "$tmp/out" | head -20 >&2
        sed 's/^/  err: /' "$tmp/err" | head -20 >&2
        return 1
    fi
    return 0
}

# expect NAME FILE PATTERN: grep -E PATTERN in $tmp/FILE.
expect() {
    if ! grep -Eq -- "$3" "$tmp/$2"; then
        fail "$1: no match for /$3/ in $2"
        sed "s/^/  $2: /" "$tmp/$2" | head -20 >&2
    fi
}

# -- start the daemon
printf 's3cret\n' >"$tmp/token"
chmod 600 "$tmp/token"
sock=$tmp/mmsimd.sock
"$mmsimd" --listen 127.0.0.1:0 --unix "$sock" --token-file "$tmp/token" \
    --workers 2 2>"$tmp/mmsimd.log" &
pid=$!
tries=0
until grep -q 'mmsimd ready: ' "$tmp/mmsimd.log"; do
    tries=$((tries + 1))
    if [ "$tries" -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
        echo "FAIL: mmsimd did not get ready" >&2
        cat "$tmp/mmsimd.log" >&2
        exit 1
    fi
    sleep 0.1
done
tcp=$(sed -n 's/.*mmsimd ready: tcp \([^,]*\),.*/\1/p' "$tmp/mmsimd.log")
[ -n "$tcp" ] || { echo "FAIL: no tcp address in the ready line" >&2; exit 1; }
echo "mmsimd ready: tcp $tcp, unix $sock"

ctl() {
    "$mmsimctl" -s "$sock" --token-file "$tmp/token" "$@"
}

# -- usage, help, version
run help 0 "$mmsimctl" --help && {
    for w in ping buddyinfo zoneinfo vmstat memblock bootlog check machine \
        alloc free read write session --json --timeout --token-file; do
        expect "help mentions $w" out "$w"
    done
    expect "help says pages die with the connection" out \
        "^Pages belong to the connection's session"
}
run version 0 "$mmsimctl" --version && expect version out '^mmsimctl [0-9]'
run "no command" 2 "$mmsimctl"
run "unknown command" 2 ctl frobnicate && expect "unknown command" err \
    "unknown command 'frobnicate'"
run "bad order" 2 ctl alloc --order x
run "bad gfp" 2 ctl alloc --gfp GFP_BOGUS
run "write needs data" 2 ctl write 0x1000
run "command help" 0 ctl alloc --help && expect "alloc --help" out "--count"

# -- connecting and authentication
run "no token" 1 "$mmsimctl" -s "$sock" ping &&
    expect "no token" err '^mmsimctl: UNAUTHENTICATED: '
run "no token json" 1 "$mmsimctl" -s "$sock" --json ping &&
    expect "no token json" out '"ok":false'
run "refused port" 3 "$mmsimctl" -a 127.0.0.1:1 --timeout 2 ping
run "no socket" 3 "$mmsimctl" -s "$tmp/nonexistent.sock" ping
run "ping unix" 0 ctl ping && expect "ping unix" out '^PONG$'
run "ping tcp" 0 "$mmsimctl" -a "$tcp" --token-file "$tmp/token" ping hello &&
    expect "ping tcp" out '^hello$'
run "ping env" 0 env MMSIM_ADDRESS="$tcp" MMSIM_TOKEN=s3cret "$mmsimctl" \
    --json ping && expect "ping env" out '"ok":true.*"rtt_us":[0-9]+'

# -- views, text and JSON
run buddyinfo 0 ctl buddyinfo && {
    expect buddyinfo out '^Node 0, zone +DMA( +[0-9]+){11} *$'
    expect buddyinfo out '^Node 1, zone +Normal'
}
run "buddyinfo json" 0 ctl --json buddyinfo &&
    expect "buddyinfo json" out \
        '^\{"zones":\[\{"node":0,"zone":"DMA","nr_free":\[[0-9,]+\]\}'
run zoneinfo 0 ctl zoneinfo && {
    expect zoneinfo out '^Node 0, zone +DMA32$'
    expect zoneinfo out '^  pages free +[0-9]+$'
}
run "zoneinfo json" 0 ctl zoneinfo --json &&
    expect "zoneinfo json" out '"zone":"Normal","start_pfn":[0-9]+,.*"min":'
run vmstat 0 ctl vmstat && expect vmstat out '^nr_free_pages [0-9]+$'
run "vmstat json" 0 ctl --json vmstat &&
    expect "vmstat json" out '^\{"nr_free_pages":[0-9]+,'
run memblock 0 ctl memblock && expect memblock out '^ +0: 0x[0-9a-f]+\.\.0x'
run "memblock reserved" 0 ctl memblock reserved &&
    expect "memblock reserved" out '^ +0: 0x'
run "memblock bad" 2 ctl memblock sideways
run bootlog 0 ctl bootlog && expect bootlog out 'BIOS-e820'
run "bootlog json" 0 ctl --json bootlog &&
    expect "bootlog json" out '^\{"lines":\["'
run check 0 ctl check && expect check out '^OK$'
run "check full json" 0 ctl --json check --full &&
    expect "check full json" out '^\{"ok":true,"full":true\}$'
run machine 0 ctl machine && {
    expect machine out '^nodes: +2$'
    expect machine out '^node 1:$'
}
run "machine json" 0 ctl --json machine &&
    expect "machine json" out '^\{"nodes":2,"cpus":[0-9]+,.*"node_list":\['

# -- one-shot allocations: the pages die with the connection
run alloc 0 ctl alloc --order 3 --node 1 && {
    expect alloc out '^pfn 0x[0-9a-f]+ order 3 node 1 zone [A-Za-z0-9]+$'
    expect alloc err 'freed when mmsimctl exits'
}
pfn=$(sed -n 's/^pfn \(0x[0-9a-f]*\) .*/\1/p' "$tmp/out")
run "alloc json" 0 ctl --json alloc --count 4 --gfp 'GFP_KERNEL|__GFP_ZERO' &&
    expect "alloc json" out \
        '^\{"ok":true,"session":[0-9]+,"pages":\[(\{"pfn":[0-9]+,"order":0,"node":[0-9]+,"zone":"[A-Za-z0-9]+"\},?){4}\]\}$'
run "alloc gfp number" 0 ctl alloc --gfp 0xc0
run "alloc no node" 1 ctl alloc --node 9 &&
    expect "alloc no node" err '^mmsimctl: NO_SUCH_NODE: '
run "alloc big order" 1 ctl alloc --order 40 &&
    expect "alloc big order" err '^mmsimctl: [A-Z_]+: '
if [ -n "$pfn" ]; then
    run "free elsewhere" 1 ctl free "$pfn" --order 3 &&
        expect "free elsewhere" err '^mmsimctl: NOT_OWNER: '
    run "read elsewhere" 1 ctl --json read "$pfn" &&
        expect "read elsewhere" out '"status":"NOT_OWNER"'
else
    fail "alloc printed no pfn"
fi

# -- a session: pages live across commands
cat >"$tmp/script" <<'EOF'
# allocate, write, read back, free
alloc --order 2 --node 0
write $PFN --data hello
read $PFN --length 5
write $PFN+3 --offset 4092 --hex 'de ad be ef'
read $PFN+3 --offset 4092 --length 4 --json
write $PFN --offset 100 --data "two words"
read $PFN --offset 100 --length 9 --json
free $PFN --order 2
check --full
EOF
run session 0 ctl session <"$tmp/script" && {
    expect session out '^pfn 0x[0-9a-f]+ order 2 node 0 zone '
    expect session out '^OK, wrote 5 bytes$'
    expect session out '^00000000  68 65 6c 6c 6f +\|hello\|$'
    expect session out '"hex":"deadbeef"'
    expect session out '"hex":"74776f20776f726473"'
    expect session out '^OK$'
}
# Failures are reported with their line; the session goes on (not with -e)
# and exits with the last failure's status.
printf '%s\n' 'alloc --order 1' 'free $PFN --order 0' 'free $PFN --order 1' \
    'free $PFN --order 1' 'ping' >"$tmp/script2"
run "session errors" 1 ctl session <"$tmp/script2" && {
    expect "session errors" err '^mmsimctl: line 2: WRONG_ORDER: '
    expect "session errors" err '^mmsimctl: line 4: NOT_OWNER: '
    expect "session errors" out '^PONG$'
}
if run "session -e" 1 ctl session -e <"$tmp/script2"; then
    if grep -q PONG "$tmp/out"; then fail "session -e went on"; fi
fi
run "session json" 1 ctl --json session <"$tmp/script2" &&
    expect "session json" out '^\{"ok":false,"status":"NOT_OWNER",'
printf '%s\n' 'alloc --count 2' 'write $PFN1 --hex 00ff' \
    'read $PFN1 --length 2 --raw' >"$tmp/script3"
if run "session raw" 0 ctl session <"$tmp/script3"; then
    last=$(tail -c 2 "$tmp/out" | od -An -tx1 | tr -d ' \n')
    [ "$last" = "00ff" ] || fail "session raw: last bytes are $last, not 00ff"
fi
run "session bad variable" 2 ctl session <<'EOF'
read $PFN
EOF

# -- Python
if /usr/bin/python3 -c 'import google.protobuf' 2>/dev/null; then
    for addr in "$sock" "$tcp"; do
        run "python example $addr" 0 env PYTHONPATH="$pygen" \
            PYTHONDONTWRITEBYTECODE=1 MMSIM_TOKEN=s3cret /usr/bin/python3 \
            "$src/client/python/examples/example.py" "$addr" && {
            expect "python example" out '^example: OK$'
            expect "python example" out "read back 'page 0 says hello'"
            expect "python example" out '^Node 0, zone'
        }
    done
    run "python no token" 1 env PYTHONPATH="$pygen" \
        PYTHONDONTWRITEBYTECODE=1 MMSIM_TOKEN= /usr/bin/python3 \
        "$src/client/python/examples/example.py" "$sock" &&
        expect "python no token" err 'UNAUTHENTICATED'
else
    echo "SKIP: Python client: python3-protobuf is not installed for" \
        "/usr/bin/python3 (scripts/deps.sh installs it)"
fi

# -- every session's pages went back: the machine is whole
run "final check" 0 ctl check --full

# -- the daemon drains and exits cleanly on SIGTERM
kill -TERM "$pid"
wait "$pid"
status=$?
pid=
[ "$status" -eq 0 ] || fail "mmsimd exited with $status after SIGTERM"
if grep -Eq 'ERROR|AddressSanitizer|runtime error' "$tmp/mmsimd.log"; then
    fail "mmsimd logged errors"
    grep -E 'ERROR|AddressSanitizer|runtime error' "$tmp/mmsimd.log" >&2
fi

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed" >&2
    exit 1
fi
echo "all client checks passed"
