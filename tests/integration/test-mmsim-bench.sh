#!/bin/sh
# mmsim-bench against a real mmsimd on an ephemeral loopback port, with a
# token: every test (-n 2000 -c 4 -P 8) must exit 0 with zero errors and
# zero mismatches; the CSV and quiet outputs must have their shape; an
# invalid order must give errors and exit 1; a wrong token and a closed
# port must fail. Timings are never checked.
#
# Usage: test-mmsim-bench.sh MMSIMD MMSIM_BENCH
set -u
mmsimd=$1
bench=$2

test_name=mmsim-bench
. "$(dirname "$0")/lib.sh"

expect() {
    if ! grep -Eq -- "$3" "$tmp/$2"; then
        fail "$1: no match for /$3/ in $2"
        sed "s/^/  $2: /" "$tmp/$2" | head -20 >&2
    fi
}

printf 'bench-s3cret\n' >"$tmp/token"
chmod 600 "$tmp/token"
: >"$tmp/mmsimd.log"
"$mmsimd" --listen 127.0.0.1:0 --unix none --token-file "$tmp/token" \
    --workers 2 2>"$tmp/mmsimd.log" &
pid=$!
wait_ready "$tmp/mmsimd.log"
addr=$(sed -n 's/.*mmsimd ready: tcp \([^, ]*\).*/\1/p' "$tmp/mmsimd.log")
[ -n "$addr" ] || { echo "FAIL: no tcp address in the ready line" >&2; exit 1; }
echo "mmsimd ready: tcp $addr"

b() {
    "$bench" -a "$addr" --token-file "$tmp/token" "$@"
}

# Each test on its own, in the default (summary) output.
for t in alloc-free write4k read4k ping; do
    if run "$t" 0 b -n 2000 -c 4 -P 8 -t "$t" --seed 7; then
        expect "$t" out '2000 requests completed'
        expect "$t" out 'errors 0, mismatches 0'
        expect "$t" out 'seed 7'
        expect "$t" out 'throughput summary: [0-9.]+ requests per second'
        echo "ok: $t"
    fi
done

# All four at once, as CSV: redis-benchmark's columns, then ours; zero
# errors and mismatches in every row. Timed to each batch's first answer
# (redis-benchmark's way), p50 and p99 are at most each answer's own.
if run csv 0 b -n 2000 -c 4 -P 8 -t alloc-free,write4k,read4k,ping --csv \
    --threads 2; then
    expect csv out '^"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms","p99.9_latency_ms","requests","errors","mismatches","p50_first_reply_ms","p99_first_reply_ms"$'
    for label in ALLOC_FREE WRITE4K READ4K PING; do
        expect csv out "^\"$label\",(\"[0-9.]+\",){8}\"2000\",\"0\",\"0\",\"[0-9.]+\",\"[0-9.]+\"$"
    done
    if ! awk -F'","' 'NR > 1 { gsub(/"/, "")
            if ($13 + 0 > $5 + 0 || $14 + 0 > $7 + 0) { print; bad = 1 } }
            END { exit bad }' "$tmp/out"; then
        fail "csv: first-reply percentiles above the per-answer ones"
    fi
    expect csv err 'seed 1'
    echo "ok: csv"
fi

# Quiet, pipeline 1, several threads, a duration instead of a count.
if run quiet 0 b -c 3 -P 1 -d 0.3 -t alloc-free,read4k -q --threads 3; then
    expect quiet out '^ALLOC_FREE: [0-9.]+ requests per second, p50=[0-9.]+ msec p99=[0-9.]+ msec p99.9=[0-9.]+ msec max=[0-9.]+ msec$'
    expect quiet out '^READ4K: [0-9.]+ requests per second'
    expect quiet out ' 0 errors, 0 mismatches$'
    echo "ok: quiet"
fi

# Larger blocks pair up too; an order above max_order is an error status.
run order3 0 b -n 1000 -c 2 -P 4 -t alloc-free --order 3 -q && echo "ok: order 3"
if run order-bad 1 b -n 100 -c 1 -P 4 -t alloc-free --order 30 -q; then
    expect order-bad err 'OUT_OF_RANGE'
    echo "ok: bad order fails"
fi

# Refusals: a wrong token (the server says no: 1), nobody listening (3),
# bad usage (2).
printf 'wrong\n' >"$tmp/bad-token"
if run bad-token 1 "$bench" -a "$addr" --token-file "$tmp/bad-token" \
    -n 10 -c 1 -t ping -q; then
    expect bad-token err 'UNAUTHENTICATED'
    echo "ok: wrong token refused"
fi
run no-server 3 "$bench" -a 127.0.0.1:1 -n 10 -c 1 -t ping -q &&
    echo "ok: no server"
run usage 2 "$bench" -t nosuchtest && echo "ok: usage"

finish mmsim-bench
