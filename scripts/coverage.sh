#!/bin/sh
# Source-based coverage from the fuzz corpora: build the plain reproducers
# with clang -fprofile-instr-generate -fcoverage-mapping (build/coverage),
# replay corpus/<target>/ through each, and print line coverage per
# directory (daemon/mm, daemon/config, daemon/rpc, proto). Fails when
# daemon/mm is below MIN_MM_COVERAGE or daemon/rpc below MIN_RPC_COVERAGE
# (both default 85) percent of lines.
#
#   HTML=1           also write an HTML report to build/coverage/html/
#   JOBS             build parallelism (default 2)
#   MMSIM_BUILD_ROOT where the build directories go (default build/)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${JOBS:-2}
min_mm=${MIN_MM_COVERAGE:-85}
min_rpc=${MIN_RPC_COVERAGE:-85}
build=${MMSIM_BUILD_ROOT:-$root/build}/coverage
flags="-fprofile-instr-generate -fcoverage-mapping"

# The llvm-profdata/llvm-cov matching the compiler.
ver=$(clang --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n1)
profdata=llvm-profdata
cov=llvm-cov
if command -v "llvm-profdata-$ver" >/dev/null 2>&1; then
    profdata=llvm-profdata-$ver
    cov=llvm-cov-$ver
fi

echo "== build $build"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_C_COMPILER=clang -DCMAKE_C_FLAGS="$flags" \
    -DCMAKE_EXE_LINKER_FLAGS="$flags" -DMMSIM_FUZZ_ENGINE=none \
    -DBUILD_TESTING=OFF -DMMSIM_BUILD_BENCH=OFF >/dev/null
ninja -C "$build" -j"$jobs" fuzz-targets

raw=$build/profraw
rm -rf "$raw"
mkdir -p "$raw"
objects=
for t in $(cat "$build/fuzz/targets.txt"); do
    echo "== replay corpus/$t"
    # The seeds in one process; each regress input on its own, since one
    # that still crashes must not cost the profile of the others.
    # shellcheck disable=SC2046 # file names from find, no spaces
    LLVM_PROFILE_FILE="$raw/$t-%p.profraw" "$build/fuzz/$t" \
        $(find "$root/corpus/$t" -maxdepth 1 -type f ! -name '.*' | sort) \
        2>"$build/replay-$t.log" || {
        echo "replay of corpus/$t failed:"
        tail -n 20 "$build/replay-$t.log"
        exit 1
    }
    for f in $(find "$root/corpus/$t" -path '*/regress/*' -type f | sort); do
        LLVM_PROFILE_FILE="$raw/$t-%p.profraw" "$build/fuzz/$t" "$f" \
            >/dev/null 2>&1 || echo "   (regress input still fails: $f)"
    done
    if [ -z "$objects" ]; then
        objects=$build/fuzz/$t
    else
        objects="$objects -object $build/fuzz/$t"
    fi
done
"$profdata" merge -sparse "$raw"/*.profraw -o "$build/corpus.profdata"

# Line coverage of the C files of one directory (not its subdirectories;
# proto's generated code lives in the build tree): the TOTAL row.
line_cov() {
    # shellcheck disable=SC2046,SC2086 # lists of arguments
    "$cov" report -instr-profile="$build/corpus.profdata" $objects \
        $(find "$root/$1" -maxdepth 1 -name '*.[ch]' | sort) 2>/dev/null |
        awk '$1 == "TOTAL" { print $8, $9, $10 }'
}

echo "== line coverage from the corpora"
status=0
for dir in daemon/mm daemon/config daemon/rpc proto; do
    # shellcheck disable=SC2046
    set -- $(line_cov "$dir")
    printf '%-16s %6s lines %6s missed  %s\n' "$dir" "$1" "$2" "$3"
    case $dir in
    daemon/mm) min=$min_mm ;;
    daemon/rpc) min=$min_rpc ;;
    *) continue ;;
    esac
    pct=${3%\%}
    if awk "BEGIN { exit !($pct < $min) }"; then
        echo "FAIL: $dir line coverage $3 is below $min%"
        status=1
    fi
done
if [ "${HTML:-0}" = 1 ]; then
    # shellcheck disable=SC2086
    "$cov" show -format=html -output-dir="$build/html" \
        -instr-profile="$build/corpus.profdata" $objects \
        "$root/daemon/mm" "$root/daemon/config" "$root/daemon/rpc" \
        "$root/proto/frame.c" "$root/proto/wire.c"
    echo "== HTML report: $build/html/index.html"
fi
exit $status
