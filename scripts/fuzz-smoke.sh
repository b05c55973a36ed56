#!/bin/sh
# Build every fuzz target for libFuzzer (build/fuzz-libfuzzer) and AFL++
# (build/fuzz-afl), both with AddressSanitizer + UndefinedBehaviorSanitizer,
# and run each target briefly with each engine, seeded from corpus/<target>/
# (regress/ excluded: ctest replays those) and using fuzz/<target>.dict.
#
#   FUZZ_SECONDS  libFuzzer time per target (default 60)
#   AFL_SECONDS   AFL++ time per target (default 30; 0 skips AFL++)
#   TARGETS       space-separated subset (default: all)
#   JOBS          build parallelism (default 2)
#   MMSIM_BUILD_ROOT  where the build directories go (default build/)
#
# protobuf-c's runtime is compiled into both builds from its source,
# fetched into protobuf-c/ of the build root by scripts/fetch-protobuf-c.sh;
# when that fails, a warning, and the system library.
#
# Prints execs/s per target per engine. Any crash fails the run; the
# inputs are kept under build/fuzz-crashes/<engine>-<target>/.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${JOBS:-2}
fuzz_seconds=${FUZZ_SECONDS:-60}
afl_seconds=${AFL_SECONDS:-30}
builds=${MMSIM_BUILD_ROOT:-$root/build}
lf=$builds/fuzz-libfuzzer
afl=$builds/fuzz-afl
crashes=$builds/fuzz-crashes

# protobuf-c's source, so both builds compile its runtime with their own
# instrumentation (MMSIM_PROTOBUF_C_SOURCE, fuzz/README.md). Without it
# (no network), the system library, as before.
pbc=$builds/protobuf-c
if ! sh "$root/scripts/fetch-protobuf-c.sh" "$pbc"; then
    echo "== WARNING: no protobuf-c source: the fuzz targets link the system" \
         "libprotobuf-c, and its decoder gives the fuzzers no coverage" >&2
    pbc=
fi

echo "== build $lf"
cmake -S "$root" -B "$lf" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DMMSIM_FUZZ_ENGINE=libfuzzer \
    -DMMSIM_ASAN=ON -DMMSIM_UBSAN=ON -DBUILD_TESTING=OFF \
    -DMMSIM_BUILD_BENCH=OFF -DMMSIM_PROTOBUF_C_SOURCE="$pbc" >/dev/null
ninja -C "$lf" -j"$jobs" fuzz-targets
if [ "$afl_seconds" -gt 0 ]; then
    echo "== build $afl"
    CC=afl-clang-fast cmake -S "$root" -B "$afl" -G Ninja \
        -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMMSIM_FUZZ_ENGINE=afl \
        -DMMSIM_ASAN=ON -DMMSIM_UBSAN=ON -DBUILD_TESTING=OFF \
        -DMMSIM_BUILD_BENCH=OFF -DMMSIM_PROTOBUF_C_SOURCE="$pbc" >/dev/null
    AFL_QUIET=1 ninja -C "$afl" -j"$jobs" fuzz-targets
fi

targets=${TARGETS:-$(cat "$lf/fuzz/targets.txt")}
work=$(mktemp -d "${TMPDIR:-/tmp}/mmsim-fuzz-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
status=0
summary=

# The seeds of a target, regress/ left out, copied flat into $2.
seeds() {
    mkdir -p "$2"
    find "$root/corpus/$1" -type f ! -path '*/regress/*' ! -name '.*' \
        -exec cp {} "$2/" \;
}

# max_len from fuzz/<target>.options.
max_len() {
    sed -n 's/^max_len *= *//p' "$root/fuzz/$1.options"
}

for t in $targets; do
    echo "== libFuzzer $t (${fuzz_seconds}s)"
    seeds "$t" "$work/lf-$t"
    mkdir -p "$work/lf-art-$t"
    rc=0
    ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 \
    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$lf/fuzz/$t" -max_total_time="$fuzz_seconds" \
        -dict="$root/fuzz/$t.dict" -max_len="$(max_len "$t")" \
        -print_final_stats=1 -artifact_prefix="$work/lf-art-$t/" \
        "$work/lf-$t" >"$work/lf-$t.log" 2>&1 || rc=$?
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/lf-$t.log")
    found=$(find "$work/lf-art-$t" -type f | wc -l)
    if [ "$rc" -ne 0 ] || [ "$found" -ne 0 ]; then
        echo "FAIL: libFuzzer $t exited $rc with $found artifacts"
        tail -n 40 "$work/lf-$t.log"
        mkdir -p "$crashes/libfuzzer-$t"
        cp "$work/lf-art-$t"/* "$crashes/libfuzzer-$t/" 2>/dev/null || true
        status=1
    fi
    summary="$summary$(printf '%-14s %-10s %10s execs/s  %s' "$t" libFuzzer \
        "${eps:-?}" "$([ "$rc" -eq 0 ] && [ "$found" -eq 0 ] && echo ok || echo CRASH)")
"

    [ "$afl_seconds" -gt 0 ] || continue
    echo "== AFL++ $t (${afl_seconds}s)"
    seeds "$t" "$work/afl-in-$t"
    rc=0
    AFL_NO_UI=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 \
    ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0 \
        afl-fuzz -V "$afl_seconds" -m none -t 10000+ -x "$root/fuzz/$t.dict" \
        -i "$work/afl-in-$t" -o "$work/afl-out-$t" -- "$afl/fuzz/$t" \
        >"$work/afl-$t.log" 2>&1 || rc=$?
    stats=$work/afl-out-$t/default/fuzzer_stats
    if [ ! -f "$stats" ]; then
        echo "FAIL: afl-fuzz $t did not run (exit $rc)"
        tail -n 40 "$work/afl-$t.log"
        status=1
        continue
    fi
    # afl-fuzz -V exits 0 even when it found crashes: read the stats.
    saved=$(sed -n 's/^saved_crashes *: *//p' "$stats")
    eps=$(sed -n 's/^execs_per_sec *: *//p' "$stats")
    if [ "$rc" -ne 0 ] || [ "${saved:-0}" -ne 0 ]; then
        echo "FAIL: AFL++ $t exited $rc, saved_crashes ${saved:-?}"
        mkdir -p "$crashes/afl-$t"
        cp "$work/afl-out-$t/default/crashes"/id* "$crashes/afl-$t/" \
            2>/dev/null || true
        status=1
    fi
    summary="$summary$(printf '%-14s %-10s %10s execs/s  %s' "$t" AFL++ \
        "${eps:-?}" "$([ "$rc" -eq 0 ] && [ "${saved:-0}" -eq 0 ] && echo ok || echo CRASH)")
"
done

echo "== fuzz smoke summary"
printf '%s' "$summary"
if [ "$status" -ne 0 ]; then
    echo "== crashes found; inputs in $crashes"
fi
exit $status
