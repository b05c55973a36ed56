#!/bin/sh
# Run deploy/oss-fuzz/build.sh the way OSS-Fuzz and ClusterFuzzLite would,
# with their variables set by hand (there is no Docker engine here): once
# for libFuzzer and once for AFL++, each into its own temporary $WORK and
# $OUT. Then check that every target of fuzz/CMakeLists.txt is in $OUT
# with its .dict, .options and a flat <target>_seed_corpus.zip holding all
# of corpus/<target>/, that libyaml and protobuf-c are linked statically,
# and that each binary runs its seeds.
#
# protobuf-c's runtime comes from its source (scripts/fetch-protobuf-c.sh):
# the libFuzzer build finds it in $SRC/protobuf-c, where the Dockerfile
# clones it, and build.sh fetches its own into $WORK for the AFL++ build.
# Every target holding protobuf-c's decoder must have it instrumented.
# When the source cannot be fetched (no network), that check is skipped
# with a note, and both builds link libprotobuf-c.a.
#
# Exit 77 (ctest: skipped) when clang or afl-clang-fast is missing.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
for tool in clang clang++ afl-clang-fast afl-clang-fast++ zip unzip cmake; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "SKIP: $tool not installed"
        exit 77
    fi
done
driver=/usr/lib/afl/libAFLDriver.a
if [ ! -f "$driver" ]; then
    echo "SKIP: $driver not installed"
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mmsim-oss-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
targets=$(sed -n 's/^mmsim_add_fuzz_target(\([a-z0-9_]*\).*/\1/p' \
    "$root/fuzz/CMakeLists.txt")
[ -n "$targets" ] || { echo "FAIL: no targets in fuzz/CMakeLists.txt"; exit 1; }
asan="-O1 -fno-omit-frame-pointer -gline-tables-only"
asan="$asan -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION"
asan="$asan -fsanitize=address -fsanitize-address-use-after-scope"
status=0

pbc=
if sh "$root/scripts/fetch-protobuf-c.sh" "$tmp/protobuf-c" \
    >"$tmp/fetch.log" 2>&1; then
    pbc=$tmp/protobuf-c
    unset MMSIM_PROTOBUF_C_SOURCE
else
    echo "NOTE: instrumented protobuf-c not checked: its source cannot be" \
         "fetched here:"
    tail -n 3 "$tmp/fetch.log"
    export MMSIM_PROTOBUF_C_SOURCE=
fi
for tool in nm objdump; do
    if [ -n "$pbc" ] && ! command -v "$tool" >/dev/null 2>&1; then
        echo "NOTE: instrumented protobuf-c not checked: no $tool"
        pbc=
    fi
done

# run_build <engine> <CC> <CXX> <CFLAGS> <LIB_FUZZING_ENGINE>
run_build() {
    engine=$1
    mkdir -p "$tmp/$engine/src" "$tmp/$engine/work" "$tmp/$engine/out"
    # Where build.sh should find protobuf-c's source.
    pbc_want=
    if [ -n "$pbc" ] && [ "$engine" = libfuzzer ]; then
        ln -s "$pbc" "$tmp/$engine/src/protobuf-c"
        pbc_want=$tmp/$engine/src/protobuf-c
    elif [ -n "$pbc" ]; then
        pbc_want=$tmp/$engine/work/protobuf-c
    fi
    echo "== build.sh for $engine"
    if ! env CC="$2" CXX="$3" CFLAGS="$4" CXXFLAGS="$4" \
        LIB_FUZZING_ENGINE="$5" SRC="$tmp/$engine/src" \
        WORK="$tmp/$engine/work" OUT="$tmp/$engine/out" MMSIM_SRC="$root" \
        AFL_QUIET=1 bash "$root/deploy/oss-fuzz/build.sh" \
        >"$tmp/$engine.log" 2>&1; then
        echo "FAIL: build.sh for $engine"
        tail -n 40 "$tmp/$engine.log"
        status=1
        return
    fi
    out=$tmp/$engine/out
    if [ -n "$pbc" ]; then
        pbc_got=$(sed -n 's/^MMSIM_PROTOBUF_C_SOURCE:[A-Z]*=//p' \
            "$tmp/$engine/work/mmsim-build/CMakeCache.txt")
        if [ "$pbc_got" != "$pbc_want" ]; then
            echo "FAIL: $engine: protobuf-c source '$pbc_got', not $pbc_want"
            status=1
        fi
    fi
    decoders=0
    for t in $targets; do
        for f in "$t" "$t.dict" "$t.options" "${t}_seed_corpus.zip"; do
            if [ ! -s "$out/$f" ]; then
                echo "FAIL: $engine: \$OUT/$f missing or empty"
                status=1
            fi
        done
        [ -x "$out/$t" ] || { echo "FAIL: $engine: $t not executable"; status=1; }
        # Third-party libraries are linked statically.
        for lib in libyaml libprotobuf-c; do
            if ldd "$out/$t" 2>/dev/null | grep -q "$lib"; then
                echo "FAIL: $engine: $t links $lib dynamically"
                status=1
            fi
        done
        # protobuf-c's decoder, where linked in, carries ASan's checks.
        if [ -n "$pbc" ] &&
            nm "$out/$t" 2>/dev/null | grep -q ' T protobuf_c_message_unpack$'; then
            decoders=$((decoders + 1))
            if ! objdump -d --disassemble=protobuf_c_message_unpack "$out/$t" |
                grep -q '__asan_'; then
                echo "FAIL: $engine: $t: protobuf-c's decoder not instrumented"
                status=1
            fi
        fi
        [ -s "$out/${t}_seed_corpus.zip" ] || continue
        want=$(find "$root/corpus/$t" -type f ! -name '.*' | wc -l)
        got=$(unzip -Z1 "$out/${t}_seed_corpus.zip" | grep -vc /) || true
        nested=$(unzip -Z1 "$out/${t}_seed_corpus.zip" | grep -c /) || true
        if [ "$got" -ne "$want" ] || [ "$nested" -ne 0 ]; then
            echo "FAIL: $engine: ${t}_seed_corpus.zip has $got flat and" \
                 "$nested nested entries, corpus/$t has $want files"
            status=1
        fi
    done
    if [ -n "$pbc" ] && [ "$decoders" -eq 0 ]; then
        echo "FAIL: $engine: no target links protobuf-c's decoder"
        status=1
    fi
}

run_build libfuzzer clang clang++ "$asan -fsanitize=fuzzer-no-link" \
    -fsanitize=fuzzer
run_build afl afl-clang-fast afl-clang-fast++ "$asan" "$driver"

# The binaries work: libFuzzer replays the seeds, the AFL++ driver runs
# one input given as an argument. The seeds only: regress/ may hold
# inputs of bugs not fixed yet, which ctest reports.
for t in $targets; do
    seeds=$(find "$root/corpus/$t" -maxdepth 1 -type f ! -name '.*' | sort)
    one=$(echo "$seeds" | head -n 1)
    if [ -x "$tmp/libfuzzer/out/$t" ]; then
        mkdir -p "$tmp/seeds-$t"
        # shellcheck disable=SC2086 # file names without spaces
        cp $seeds "$tmp/seeds-$t/"
        "$tmp/libfuzzer/out/$t" -runs=0 "$tmp/seeds-$t" \
            >"$tmp/run-lf-$t.log" 2>&1 ||
            { echo "FAIL: libfuzzer $t on its seeds"; tail "$tmp/run-lf-$t.log"; status=1; }
    fi
    if [ -x "$tmp/afl/out/$t" ] && [ -n "$one" ]; then
        "$tmp/afl/out/$t" "$one" >"$tmp/run-afl-$t.log" 2>&1 ||
            { echo "FAIL: afl $t on $one"; tail "$tmp/run-afl-$t.log"; status=1; }
    fi
done

[ "$status" -eq 0 ] && echo "== OSS-Fuzz build: every target and file in \$OUT, for libFuzzer and AFL++"
[ "$status" -eq 0 ] && [ -n "$pbc" ] &&
    echo "== protobuf-c's decoder instrumented in both (source from \$SRC and \$WORK)"
exit $status
