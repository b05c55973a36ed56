#!/bin/sh
# mmsimd --record end to end: a daemon on the rpc fuzz target's machine
# (WIRE_MACHINE_ARGS in fuzz/wire.h) and one worker records the sessions
# mmsimctl makes; each recording replays through the rpc target's plain
# reproducer, which checks every answer against its model, and the replay
# hands out the pfns the live session got. Then the errors: a directory
# that is missing or not a directory (refused at start, exit 2), a file
# that cannot be created (that session is not recorded, it still works),
# and a write that fails (a file size limit standing in for a full disk:
# the session goes on unrecorded, the file keeps its whole records).
#
# Usage: test-record.sh MMSIMD MMSIMCTL RPC_REPRODUCER SOURCE_DIR
set -u
mmsimd=$1
mmsimctl=$2
rpc=$3
src=$4

test_name=record
. "$(dirname "$0")/lib.sh"

# expect NAME FILE PATTERN: grep -E PATTERN in FILE.
expect() {
    if ! grep -Eq -- "$3" "$2"; then
        fail "$1: no match for /$3/ in $2"
        sed "s/^/  | /" "$2" | tail -20 >&2
    fi
}

machine=$(sed -n 's/^#define WIRE_MACHINE_ARGS "\(.*\)"$/\1/p' \
    "$src/fuzz/wire.h")
[ -n "$machine" ] || { echo "FAIL: no WIRE_MACHINE_ARGS in fuzz/wire.h" >&2; exit 1; }
# Under the file size limit below, a daemon with a swap file could not
# size it: no swap there, where the daemon has the option.
noswap=
if "$mmsimd" --help 2>/dev/null | grep -q -- '--swap SIZE'; then
    noswap="--swap 0"
fi
sock=$tmp/mmsimd.sock

# start LOG ARGS...: mmsimd on $sock in the background, waiting until ready.
start() {
    log=$1
    shift
    : >"$log" # before the daemon's redirection: the wait greps it
    # shellcheck disable=SC2086 # $machine is a list of options
    "$mmsimd" --listen none --unix "$sock" --workers 1 $machine "$@" \
        2>>"$log" &
    pid=$!
    wait_ready "$log"
}

# stop LOG: SIGTERM, exit status 0, no errors in the log.
stop() {
    kill -TERM "$pid"
    wait "$pid"
    status=$?
    pid=
    [ "$status" -eq 0 ] || fail "mmsimd exited with $status after SIGTERM"
    if grep -Eq 'ERROR|AddressSanitizer|runtime error' "$1"; then
        fail "mmsimd logged errors"
        grep -E 'ERROR|AddressSanitizer|runtime error' "$1" >&2
    fi
}

ctl() {
    MMSIM_TOKEN=s3cret "$mmsimctl" -s "$sock" "$@"
}

# -- refused at start: exit 2, a message naming the directory
"$mmsimd" --unix "$sock" --listen none --record "$tmp/missing" \
    >"$tmp/out" 2>"$tmp/err"
[ $? -eq 2 ] || fail "--record of a missing directory: not exit 2"
expect "missing directory" "$tmp/err" \
    "^mmsimd: --record $tmp/missing: No such file or directory$"
: >"$tmp/plain"
"$mmsimd" --unix "$sock" --listen none --record "$tmp/plain" \
    >"$tmp/out" 2>"$tmp/err"
[ $? -eq 2 ] || fail "--record of a file: not exit 2"
expect "not a directory" "$tmp/err" "^mmsimd: --record $tmp/plain: not a directory$"
if [ "$(id -u)" -ne 0 ]; then
    mkdir "$tmp/ro" && chmod 500 "$tmp/ro"
    "$mmsimd" --unix "$sock" --listen none --record "$tmp/ro" \
        >"$tmp/out" 2>"$tmp/err"
    [ $? -eq 2 ] || fail "--record of a read-only directory: not exit 2"
    expect "read-only directory" "$tmp/err" \
        "^mmsimd: --record $tmp/ro: cannot create files there: "
fi
"$mmsimd" --help >"$tmp/out" 2>&1
expect "--help mentions --record" "$tmp/out" "^  --record DIR "

# -- record a real session (a token too, which the replay ignores)
mkdir "$tmp/rec"
printf 's3cret\n' >"$tmp/token"
chmod 600 "$tmp/token"
start "$tmp/d1.log" --record "$tmp/rec" --token-file "$tmp/token"
expect "recording line" "$tmp/d1.log" "recording every session's input to $tmp/rec/session-$pid-ID.rpc \(the files hold the clients' tokens\)"
ctl ping >"$tmp/out" 2>&1 || fail "ping while recording"
cat >"$tmp/script" <<'EOF'
alloc --order 0
alloc --order 3 --node 1
write $PFN+2 --offset 100 --data recorded
read $PFN+2 --offset 100 --length 8
free $PFN --order 3
buddyinfo
check --full
EOF
ctl session <"$tmp/script" >"$tmp/session.out" 2>&1 || {
    fail "mmsimctl session while recording"
    cat "$tmp/session.out" >&2
}
pfn=$(sed -n 's/^pfn \(0x[0-9a-f]*\) order 3 .*/\1/p' "$tmp/session.out")
[ -n "$pfn" ] || fail "the session printed no pfn"
dpid=$pid
stop "$tmp/d1.log"

n=$(find "$tmp/rec" -name "session-$dpid-*.rpc" | wc -l)
[ "$n" -eq 2 ] || fail "$n recordings, expected 2"
for f in "$tmp/rec"/session-*.rpc; do
    mode=$(stat -c %a "$f")
    [ "$mode" = 600 ] || fail "$f has mode $mode, not 600"
done

# -- replay: one command per file, and the whole directory
rec2=$tmp/rec/session-$dpid-2.rpc
MMSIM_FUZZ_TRACE=1 "$rpc" "$rec2" >"$tmp/replay.out" 2>&1 ||
    fail "replay of $rec2 failed"
expect "replay" "$tmp/replay.out" "slot 0: Hello id 1 -> OK$"
expect "replay" "$tmp/replay.out" "slot 0: Alloc id 3 -> OK pfn $pfn order 3$"
expect "replay" "$tmp/replay.out" "slot 0: Write id 4 -> OK$"
expect "replay" "$tmp/replay.out" "slot 0: Free id 6 -> OK$"
expect "replay" "$tmp/replay.out" "slot 0: Check id 8 -> OK$"
expect "replay" "$tmp/replay.out" "teardown OK$"
"$rpc" "$tmp/rec" >"$tmp/replay.out" 2>&1 || {
    fail "replay of the directory failed"
    tail "$tmp/replay.out" >&2
}
expect "replay of the directory" "$tmp/replay.out" "reproducer: 2 inputs ran"

# -- a file that cannot be created: that session is not recorded
mkdir "$tmp/rec2"
start "$tmp/d2.log" --record "$tmp/rec2"
mkdir "$tmp/rec2/session-$pid-1.rpc"
"$mmsimctl" -s "$sock" ping >"$tmp/out" 2>&1 || fail "ping without recording"
"$mmsimctl" -s "$sock" ping >"$tmp/out" 2>&1 || fail "ping after"
stop "$tmp/d2.log"
expect "cannot create" "$tmp/d2.log" \
    "WARN --record: cannot create $tmp/rec2/session-[0-9]+-1\.rpc: File exists; session 1 \(unix\) is not recorded"
[ -n "$(find "$tmp/rec2" -name 'session-*-2.rpc' -size +0c)" ] ||
    fail "the next session was not recorded"

# -- a write that fails: a file size limit (SIGXFSZ is ignored)
mkdir "$tmp/rec3"
big=$(head -c 100000 /dev/zero | tr '\0' x)
: >"$tmp/d3.log"
(
    ulimit -f 64 || exit 1
    # shellcheck disable=SC2086
    exec "$mmsimd" --listen none --unix "$sock" --workers 1 $machine \
        $noswap --record "$tmp/rec3"
) 2>>"$tmp/d3.log" &
pid=$!
wait_ready "$tmp/d3.log"
# Session 1's ping does not fit in the file (32 KiB with dash's 512-byte
# blocks, 64 KiB with bash's): it is answered all the same.
"$mmsimctl" -s "$sock" ping "$big" >"$tmp/out" 2>&1 ||
    fail "the session failed when its recording did"
"$mmsimctl" -s "$sock" ping after >"$tmp/out" 2>&1 ||
    fail "ping after a failed recording"
expect "ping after" "$tmp/out" "^after$"
stop "$tmp/d3.log"
expect "write failed" "$tmp/d3.log" \
    "WARN --record: writing $tmp/rec3/session-[0-9]+-1\.rpc failed: File too large; the rest of session 1 is not recorded \(what was written before is kept\)"
f=$(find "$tmp/rec3" -name 'session-*-1.rpc')
MMSIM_FUZZ_TRACE=1 "$rpc" "$f" >"$tmp/replay.out" 2>&1 ||
    fail "replay of the cut recording failed"
expect "cut recording" "$tmp/replay.out" "slot 0: Hello id 1 -> OK$"
if grep -q "Ping id 2" "$tmp/replay.out"; then
    fail "the cut recording holds the ping that did not fit"
fi
"$rpc" "$tmp/rec3" >"$tmp/replay.out" 2>&1 ||
    fail "replay of the recordings around the failure failed"

finish recording
