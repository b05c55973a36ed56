#!/bin/bash -eu
# Build mmsim's fuzz targets the OSS-Fuzz way (also ClusterFuzzLite's,
# through .clusterfuzzlite/build.sh).
#
# Inputs, as OSS-Fuzz sets them: $CC $CXX $CFLAGS $CXXFLAGS (sanitizer and
# coverage flags included), $LIB_FUZZING_ENGINE (-fsanitize=fuzzer for
# libFuzzer, a driver archive for AFL++ or honggfuzz), $SRC (sources),
# $WORK (scratch), $OUT (results). Optional: $MMSIM_SRC, the checkout
# (default $SRC/mmsim, else the repository this script is in).
#
# Writes to $OUT, for every target listed by fuzz/CMakeLists.txt: the
# binary, <target>.dict, <target>.options and <target>_seed_corpus.zip
# (a flat zip of corpus/<target>/, regress/ included).
#
# The code is compiled with $CC $CFLAGS; CMake takes both from the
# environment, and MMSIM_FUZZ_ENGINE=oss-fuzz links each target with
# $CXX $CXXFLAGS and $LIB_FUZZING_ENGINE. libyaml is linked from its static
# archive (libyaml-dev ships libyaml.a). protobuf-c's runtime is compiled
# with $CFLAGS from its source, so its decoder is instrumented too: from
# $SRC/protobuf-c (the Dockerfile clones it), else fetched into
# $WORK/protobuf-c by scripts/fetch-protobuf-c.sh, else (with a warning)
# libprotobuf-c-dev's libprotobuf-c.a. $MMSIM_PROTOBUF_C_SOURCE, when
# set, names the source instead; set and empty, it picks libprotobuf-c.a.

if [ -z "${MMSIM_SRC:-}" ]; then
    if [ -f "${SRC:-/nonexistent}/mmsim/CMakeLists.txt" ]; then
        MMSIM_SRC=$SRC/mmsim
    else
        MMSIM_SRC=$(cd "$(dirname "$0")/../.." && pwd)
    fi
fi
build=$WORK/mmsim-build
if [ -z "${MMSIM_PROTOBUF_C_SOURCE+set}" ]; then
    if [ -f "${SRC:-/nonexistent}/protobuf-c/protobuf-c/protobuf-c.c" ]; then
        MMSIM_PROTOBUF_C_SOURCE=$SRC/protobuf-c
    elif sh "$MMSIM_SRC/scripts/fetch-protobuf-c.sh" "$WORK/protobuf-c"; then
        MMSIM_PROTOBUF_C_SOURCE=$WORK/protobuf-c
    else
        echo "build.sh: warning: no protobuf-c source: linking libprotobuf-c.a," \
             "whose decoder the fuzzers cannot see into" >&2
        MMSIM_PROTOBUF_C_SOURCE=
    fi
fi
generator=
if command -v ninja >/dev/null 2>&1; then
    generator="-G Ninja"
fi

# A fresh build directory: CMake reads CC and the flags only once.
rm -rf "$build"
# shellcheck disable=SC2086 # $generator is empty or two words
cmake -S "$MMSIM_SRC" -B "$build" $generator \
    -DCMAKE_BUILD_TYPE=OSSFuzz \
    -DMMSIM_FUZZ_ENGINE=oss-fuzz \
    -DMMSIM_FUZZ_LIB="$LIB_FUZZING_ENGINE" \
    -DMMSIM_YAML_STATIC=ON \
    -DMMSIM_PROTOBUF_C_STATIC=ON \
    -DMMSIM_PROTOBUF_C_SOURCE="$MMSIM_PROTOBUF_C_SOURCE" \
    -DBUILD_TESTING=OFF \
    -DMMSIM_BUILD_BENCH=OFF
cmake --build "$build" --target fuzz-targets -j"$(nproc)"

while read -r target; do
    [ -n "$target" ] || continue
    cp "$build/fuzz/$target" "$OUT/$target"
    cp "$MMSIM_SRC/fuzz/$target.dict" "$OUT/$target.dict"
    cp "$MMSIM_SRC/fuzz/$target.options" "$OUT/$target.options"
    rm -f "$OUT/${target}_seed_corpus.zip"
    (cd "$MMSIM_SRC/corpus/$target" &&
        find . -type f ! -name '.*' -print | zip -q -j -@ \
            "$OUT/${target}_seed_corpus.zip")
done < "$build/fuzz/targets.txt"
