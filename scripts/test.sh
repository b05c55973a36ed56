#!/bin/sh
# Build and run the whole test suite, three ways:
#   build/release  gcc, -Werror, every test (and the benchmarks compile)
#   build/asan     clang, AddressSanitizer + UndefinedBehaviorSanitizer,
#                  every test, and every fuzz corpus replayed through the
#                  fuzz targets' reproducers (ctest -L replay)
#   build/tsan     clang, ThreadSanitizer, the concurrency tests
# and once, deploy/oss-fuzz/build.sh for libFuzzer and AFL++ (ctest -L
# fuzzbuild).
# Any failure, sanitizer report or warning stops the run with non-zero.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=${JOBS:-2}

configure_and_build() {
    dir=$1
    shift
    echo "== build $dir"
    cmake -S "$root" -B "$root/build/$dir" -G Ninja -DMMSIM_WERROR=ON "$@"
    ninja -C "$root/build/$dir"
}

run_ctest() {
    dir=$1
    shift
    echo "== test $dir"
    ctest --test-dir "$root/build/$dir" -j"$jobs" --output-on-failure "$@"
}

configure_and_build release -DCMAKE_BUILD_TYPE=RelWithDebInfo
run_ctest release -LE fuzzbuild

configure_and_build asan -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang \
    -DMMSIM_ASAN=ON -DMMSIM_UBSAN=ON -DMMSIM_BUILD_BENCH=OFF
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_ctest asan -LE fuzzbuild

# deploy/oss-fuzz/build.sh for libFuzzer and AFL++ (two more builds), once.
run_ctest release -L fuzzbuild

configure_and_build tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang -DMMSIM_TSAN=ON -DMMSIM_BUILD_BENCH=OFF
TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
    run_ctest tsan -L concurrency

echo "== all tests passed"
