#!/usr/bin/env bash
# compare-redis.sh - mmsimd against Debian's redis-server on loopback, with
# the same connection count and pipeline depth: mmsim-bench (AllocPages +
# FreePages pairs; 4 KiB WritePage) against redis-benchmark (INCR;
# SET -d 4096). Prints ops/s, p50 and p99 of each, the CPU time per
# request of each server and client, and the ratios against the targets
# of bench/README.md. It prints figures and never fails on
# them: the exit status is non-zero only when something did not run (a
# missing tool, a server that did not start, a benchmark that reported
# errors).
#
# Usage: bench/compare-redis.sh [--rounds N] [--requests N] [--requests-1 N]
#            [--threads N] [--workers N] [--build-dir DIR] [--no-build]
#
# It installs nothing: redis-server and redis-benchmark come from Debian's
# redis-server and redis-tools packages, which are not project
# dependencies (scripts/deps.sh leaves them out on purpose).
set -euo pipefail

src=$(cd "$(dirname "$0")/.." && pwd)
build=$src/build/bench
rounds=3
n_pipe=2000000 # requests per run at -c 50 -P 16
n_one=100000   # requests per run at -c 1 -P 1
workers=1      # mmsimd --workers: one loop, as redis-server has one
threads=       # mmsim-bench --threads; default: the CPUs the workers leave
do_build=1

usage() {
    sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
    cat <<EOF

Options:
  --rounds N       runs of each benchmark, alternating mmsim and redis;
                   the median of each figure is shown (default $rounds)
  --requests N     requests per run at -c 50 -P 16 (default $n_pipe)
  --requests-1 N   requests per run at -c 1 -P 1 (default $n_one)
  --threads N      mmsim-bench --threads (default: the CPUs left after
                   mmsimd's workers, at least 1; redis-benchmark runs one)
  --workers N      mmsimd --workers (default $workers)
  --build-dir DIR  Release build directory (default build/bench)
  --no-build       use the binaries already in the build directory
EOF
}

while [ $# -gt 0 ]; do
    case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --requests) n_pipe=$2; shift 2 ;;
    --requests-1) n_one=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --build-dir) build=$2; shift 2 ;;
    --no-build) do_build=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "compare-redis.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    esac
done

die() {
    echo "compare-redis.sh: $*" >&2
    exit 1
}

for tool in redis-server redis-benchmark redis-cli; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "compare-redis.sh: $tool not found; install it with" >&2
        echo "  apt-get install redis-server redis-tools" >&2
        exit 2
    fi
done

# -- build (Release, into its own directory)
if [ "$do_build" = 1 ]; then
    command -v cmake >/dev/null && command -v ninja >/dev/null ||
        die "cmake and ninja are needed to build (scripts/deps.sh)"
    echo "Building Release into $build ..."
    mkdir -p "$build"
    cmake -S "$src" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
        -DMMSIM_BUILD_TESTS=OFF >"$build/compare-redis.cmake.log" 2>&1 ||
        { cat "$build/compare-redis.cmake.log" >&2; die "cmake failed"; }
    ninja -C "$build" mmsimd mmsim-bench >"$build/compare-redis.ninja.log" 2>&1 ||
        { tail -30 "$build/compare-redis.ninja.log" >&2; die "build failed"; }
fi
mmsimd=$build/daemon/mmsimd
mbench=$build/client/bench/mmsim-bench
[ -x "$mmsimd" ] && [ -x "$mbench" ] || die "no binaries in $build"
if [ -z "$threads" ]; then
    threads=$(($(nproc) - workers))
    [ "$threads" -ge 1 ] || threads=1
fi

tmp=$(mktemp -d /tmp/compare-redis.XXXXXX)
mpid=
rpid=
cleanup() {
    for p in $mpid $rpid; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# -- mmsimd on an ephemeral loopback port, default machine (8 GiB, 2 nodes)
: >"$tmp/mmsimd.log"
"$mmsimd" --listen 127.0.0.1:0 --unix none --workers "$workers" \
    2>"$tmp/mmsimd.log" &
mpid=$!
for _ in $(seq 100); do
    grep -q 'mmsimd ready: ' "$tmp/mmsimd.log" && break
    kill -0 "$mpid" 2>/dev/null || break
    sleep 0.1
done
maddr=$(sed -n 's/.*mmsimd ready: tcp \([^, ]*\).*/\1/p' "$tmp/mmsimd.log")
[ -n "$maddr" ] || { cat "$tmp/mmsimd.log" >&2; die "mmsimd did not start"; }

# -- redis-server on a free loopback port (its --port 0 means "no TCP",
# so try random high ports), no persistence
rport=
for _ in $(seq 20); do
    port=$((30000 + RANDOM % 30000))
    redis-server --bind 127.0.0.1 --port "$port" --save '' \
        --appendonly no --dir "$tmp" --daemonize no \
        --logfile "$tmp/redis.log" &
    rpid=$!
    for _ in $(seq 50); do
        if redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then
            rport=$port
            break
        fi
        kill -0 "$rpid" 2>/dev/null || break
        sleep 0.1
    done
    [ -n "$rport" ] && break
    kill "$rpid" 2>/dev/null || true
    wait "$rpid" 2>/dev/null || true
    rpid=
done
[ -n "$rport" ] || die "redis-server did not start (see $tmp/redis.log)"

echo "mmsimd $("$mmsimd" --version | awk '{print $2}') at $maddr" \
    "(--workers $workers, default machine);" \
    "$(redis-server --version | awk '{print $1, $2, $3}') at" \
    "127.0.0.1:$rport (no persistence)"
# idle_pct: how idle the host's CPUs are over one second (from /proc/stat).
idle_pct() {
    local a b
    a=$(head -1 /proc/stat)
    sleep 1
    b=$(head -1 /proc/stat)
    printf '%s\n%s\n' "$a" "$b" | awk '
        { t = 0; for (i = 2; i <= 9; i++) t += $i; tot[NR] = t; idle[NR] = $5 }
        END { d = tot[2] - tot[1]; print d ? int(100 * (idle[2] - idle[1]) / d) : 100 }'
}

idle=$(idle_pct)
echo "host: $(nproc) CPUs, ${idle}% idle before the run;" \
    "mmsim-bench --threads $threads; redis-benchmark one thread;" \
    "$rounds rounds, medians"
if [ "$idle" -lt 90 ]; then
    echo "note: something else is using the CPUs; both servers and" \
        "clients share them with it, so the figures will be noisy"
fi
echo

# csv_fields FILE LABEL: "rps p50 p99" from a redis-benchmark-style CSV.
# Columns: test, rps, avg, min, p50, p95, p99, max; mmsim-bench adds
# p99.9, requests, errors, mismatches, and p50 and p99 timed as
# redis-benchmark times them (every reply of a pipelined batch to the
# batch's first), which are the ones compared. Its own p99 (each answer
# to its own arrival) is kept as a sixth figure, after the CPU times.
csv_fields() {
    awk -F'","' -v t="$2" '
        { gsub(/^"|"$/, "") }
        $1 == t && NF >= 14 { print $2, $13, $14; found = 1 }
        $1 == t && NF < 14 { print $2, $5, $7; found = 1 }
        END { if (!found) exit 1 }' "$1"
}

# own_p99 FILE LABEL: the p99 column of the CSV (mmsim-bench: its own
# definition; redis-benchmark: the same as csv_fields's).
own_p99() {
    awk -F'","' -v t="$2" '{ gsub(/^"|"$/, "") } $1 == t { print $7 }' "$1"
}

# CPU time per request is steadier than ops/s on a shared host: each run
# also records the server's user+system time (from /proc/PID/stat, in
# clock ticks) and the client's (bash's `time`), over its requests.
tck=$(getconf CLK_TCK)
cpu_ticks() {
    awk '{ print $14 + $15 }' "/proc/$1/stat"
}

# timed_client SERVER_PID N CMD...: run the client; print "server_us
# client_us", the CPU microseconds per request of each. Return: the
# client's exit status.
timed_client() {
    local spid=$1 n=$2 s0 s1 rc=0 TIMEFORMAT='%U %S'
    shift 2
    s0=$(cpu_ticks "$spid")
    { time "$@" >"$tmp/out.csv" 2>"$tmp/err"; } 2>"$tmp/time" || rc=$?
    s1=$(cpu_ticks "$spid")
    [ "$rc" = 0 ] || return "$rc"
    awk -v s0="$s0" -v s1="$s1" -v tck="$tck" -v n="$n" '
        { printf "%.3f %.3f\n", (s1 - s0) / tck * 1e6 / n, ($1 + $2) * 1e6 / n }
    ' "$tmp/time"
}

# run_mmsim C P N TEST LABEL OUT: one mmsim-bench run; appends a figure
# line "ops/s p50 p99 server_us client_us own_p99".
run_mmsim() {
    local cpu fields
    if ! cpu=$(timed_client "$mpid" "$3" "$mbench" -a "$maddr" -c "$1" \
        -P "$2" -n "$3" -t "$4" --threads "$threads" --csv); then
        cat "$tmp/err" "$tmp/out.csv" >&2
        die "mmsim-bench -t $4 -c $1 -P $2 failed"
    fi
    fields=$(csv_fields "$tmp/out.csv" "$5") ||
        die "no $5 line from mmsim-bench"
    echo "$fields $cpu $(own_p99 "$tmp/out.csv" "$5")" >>"$6"
    echo "    mmsim-bench -t $4: $(tail -1 "$6") (ops/s p50 p99, us/req" \
        "mmsimd mmsim-bench, own p99)" >&2
}

# run_redis C P N TEST LABEL OUT [ARGS...]
run_redis() {
    local c=$1 p=$2 n=$3 t=$4 label=$5 out=$6 cpu fields
    shift 6
    if ! cpu=$(timed_client "$rpid" "$n" redis-benchmark -p "$rport" \
        -c "$c" -P "$p" -n "$n" -t "$t" "$@" --csv); then
        cat "$tmp/err" >&2
        die "redis-benchmark -t $t failed"
    fi
    grep -q p99_latency_ms "$tmp/out.csv" ||
        die "this redis-benchmark prints no percentiles in --csv (need 6.2+)"
    fields=$(csv_fields "$tmp/out.csv" "$label") ||
        die "no $label line from redis-benchmark"
    echo "$fields $cpu $(own_p99 "$tmp/out.csv" "$label")" >>"$out"
    echo "    redis-benchmark -t $t: $(tail -1 "$out")" >&2
}

# median FILE COLUMN
median() {
    sort -g -k"$2" "$1" | awk -v k="$2" '{ v[NR] = $k }
        END { print v[int((NR + 1) / 2)] }'
}

configs="50:16 1:1"
for cfg in $configs; do
    c=${cfg%:*}
    p=${cfg#*:}
    if [ "$c" = 1 ]; then n=$n_one; else n=$n_pipe; fi
    echo "Running -c $c -P $p, -n $n, $rounds rounds ..." >&2
    for r in $(seq "$rounds"); do
        run_mmsim "$c" "$p" "$n" alloc-free ALLOC_FREE "$tmp/m-af-$c"
        run_redis "$c" "$p" "$n" incr INCR "$tmp/r-incr-$c"
        run_mmsim "$c" "$p" "$n" write4k WRITE4K "$tmp/m-w4k-$c"
        run_redis "$c" "$p" "$n" set SET "$tmp/r-set-$c" -d 4096
        echo "  round $r done, host $(idle_pct)% idle" >&2
    done
done
echo >&2

printf '%-4s %-4s %-24s %12s %8s %8s %10s %10s %9s\n' "-c" "-P" \
    "benchmark" "ops/s" "p50 ms" "p99 ms" "server us" "client us" \
    "own p99"
for cfg in $configs; do
    c=${cfg%:*}
    p=${cfg#*:}
    for pair in "m-af:mmsim alloc-free" "r-incr:redis INCR" \
        "m-w4k:mmsim write4k" "r-set:redis SET -d 4096"; do
        f=$tmp/${pair%%:*}-$c
        printf '%-4s %-4s %-24s %12.2f %8.3f %8.3f %10.3f %10.3f %9.3f\n' \
            "$c" "$p" "${pair#*:}" "$(median "$f" 1)" "$(median "$f" 2)" \
            "$(median "$f" 3)" "$(median "$f" 4)" "$(median "$f" 5)" \
            "$(median "$f" 6)"
    done
done
echo "p50, p99: every reply of a pipelined batch timed to the batch's first"
echo "reply, as redis-benchmark times (the same as each reply's own at -P 1);"
echo "own p99: mmsim-bench's own, each answer to its arrival. server us,"
echo "client us: CPU time, user plus system, per request."

echo
printf '%-4s %-4s %-28s %9s %8s %18s %6s %19s\n' "-c" "-P" "mmsim / redis" \
    "ops/s" "target" "p99 mmsim/redis" "met" "mean mmsim/redis"
misses=0
for cfg in $configs; do
    c=${cfg%:*}
    p=${cfg#*:}
    if [ "$c" = 1 ]; then af_target=1.0; else af_target=1.5; fi
    for pair in "af:incr:$af_target:alloc-free / INCR" \
        "w4k:set:1.0:write4k / SET -d 4096"; do
        IFS=: read -r m rd target label <<<"$pair"
        mr=$(median "$tmp/m-$m-$c" 1)
        rr=$(median "$tmp/r-$rd-$c" 1)
        mp99=$(median "$tmp/m-$m-$c" 3)
        rp99=$(median "$tmp/r-$rd-$c" 3)
        line=$(awk -v mr="$mr" -v rr="$rr" -v t="$target" -v mp="$mp99" \
            -v rp="$rp99" 'BEGIN {
                ratio = mr / rr
                ok = (ratio >= t && mp <= rp) ? "yes" : "NO"
                printf "%8.2fx %7.1fx %8.3f/%-9.3f %6s", ratio, t, mp, rp, ok
            }')
        mean=$(awk -v mr="$mr" -v rr="$rr" -v n=$((c * p)) 'BEGIN {
                printf "%9.3f/%-9.3f", n / mr * 1e3, n / rr * 1e3 }')
        printf '%-4s %-4s %-28s %s %s\n' "$c" "$p" "$label" "$line" "$mean"
        case $line in *NO) misses=$((misses + 1)) ;; esac
    done
done
echo "mean: each request's own mean latency in ms, send to answer, by"
echo "Little's law: c*P requests are in flight nearly all the time (a"
echo "batch goes out as the last answer to the one before arrives), so the"
echo "mean is about c*P / ops/s, for both servers alike (redis-benchmark"
echo "times only a batch's first reply)."
echo
echo "Targets: ops/s ratio at least the target, and p99 no worse than" \
    "redis's; $misses of 4 missed. Host $(idle_pct)% idle after the run."
