#!/bin/sh
# Regenerate corpus/<target>/ for every fuzz target: build the libFuzzer
# variant (build/fuzz-libfuzzer), fuzz/gen-corpus and fuzz/gen-wire-corpus
# (the frame and rpc seeds), write the seeds to a scratch directory, and
# keep only those that add coverage (libFuzzer -merge=1 into an empty
# directory). corpus/<target>/regress/ is left alone. Review and commit
# the result.
#
#   TARGETS  space-separated subset (default: all)
#   JOBS     build parallelism (default 2)
#   MMSIM_BUILD_ROOT  where the build directory goes (default build/)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${JOBS:-2}
lf=${MMSIM_BUILD_ROOT:-$root/build}/fuzz-libfuzzer

cmake -S "$root" -B "$lf" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DMMSIM_FUZZ_ENGINE=libfuzzer \
    -DMMSIM_ASAN=ON -DMMSIM_UBSAN=ON -DBUILD_TESTING=OFF \
    -DMMSIM_BUILD_BENCH=OFF >/dev/null
ninja -C "$lf" -j"$jobs" fuzz-targets gen-corpus gen-wire-corpus

work=$(mktemp -d "${TMPDIR:-/tmp}/mmsim-fuzz-corpus.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
"$lf/fuzz/gen-corpus" "$work/seeds" "$root"
"$lf/fuzz/gen-wire-corpus" "$work/seeds"

for t in ${TARGETS:-$(cat "$lf/fuzz/targets.txt")}; do
    mkdir -p "$work/min-$t" "$root/corpus/$t"
    "$lf/fuzz/$t" -merge=1 -max_len=1048576 "$work/min-$t" \
        "$work/seeds/$t" >"$work/merge-$t.log" 2>&1 || {
        echo "merge of $t failed:"
        tail -n 30 "$work/merge-$t.log"
        exit 1
    }
    find "$root/corpus/$t" -maxdepth 1 -type f -delete
    cp "$work/min-$t"/* "$root/corpus/$t/"
    echo "corpus/$t: $(find "$root/corpus/$t" -maxdepth 1 -type f | wc -l)" \
         "seeds of $(find "$work/seeds/$t" -type f | wc -l)," \
         "$(du -sk "$root/corpus/$t" | cut -f1) KiB"
done
