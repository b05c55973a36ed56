# lib.sh - what the shell tests that run a real mmsimd share; sourced
# after `set -u` as
#     test_name=NAME
#     . "$(dirname "$0")/lib.sh"
# (POSIX `.` passes no arguments: in dash, $1 here is the script's own).
#
# It makes $tmp (a fresh directory, removed at exit, with the daemon in
# $pid killed if still running) and $failures, and defines:
#   fail MESSAGE...       count a failure and say it on stderr
#   run NAME WANT CMD...  run CMD, stdout to $tmp/out, stderr to $tmp/err,
#                         and check its exit status (Return: 1 if wrong)
#   wait_ready LOG        wait up to 10 s for mmsimd $pid's ready line in
#                         LOG; exit 1 with the log if it dies or is late
#   finish WHAT           exit 1 if anything failed, else say "all WHAT
#                         checks passed"

tmp=$(mktemp -d "/tmp/test-$test_name.XXXXXX") || exit 1
[ -d "$tmp" ] || exit 1
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

wait_ready() {
    tries=0
    until grep -q 'mmsimd ready: ' "$1"; do
        tries=$((tries + 1))
        if [ "$tries" -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
            echo "FAIL: mmsimd did not get ready" >&2
            cat "$1" >&2
            exit 1
        fi
        sleep 0.1
    done
}

finish() {
    if [ "$failures" -ne 0 ]; then
        echo "$failures check(s) failed" >&2
        exit 1
    fi
    echo "all $1 checks passed"
}
