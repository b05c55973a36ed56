# MMSIM_FUZZ_ENGINE: how the targets under fuzz/ are built (see
# fuzz/README.md). Included before the code is added, because libFuzzer
# needs the whole build, core included, compiled with its coverage
# instrumentation.
#
#   none       plain reproducers: each target gets fuzz/reproducer.c as its
#              main() and ctest replays corpus/<target>/ through it
#   libfuzzer  clang; everything -fsanitize=fuzzer-no-link, targets linked
#              with -fsanitize=fuzzer
#   afl        CC=afl-clang-fast (or afl-clang-lto); targets linked with
#              -fsanitize=fuzzer, which afl-clang-fast turns into AFL++'s
#              persistent-mode driver
#   oss-fuzz   flags from the environment (CC, CFLAGS, CXX, CXXFLAGS, as
#              OSS-Fuzz sets them); targets linked by the C++ compiler with
#              MMSIM_FUZZ_LIB (its $LIB_FUZZING_ENGINE)
set(MMSIM_FUZZ_ENGINE none CACHE STRING
  "Fuzz target engine: none, libfuzzer, afl or oss-fuzz")
set_property(CACHE MMSIM_FUZZ_ENGINE PROPERTY STRINGS
  none libfuzzer afl oss-fuzz)
set(MMSIM_FUZZ_LIB "" CACHE STRING
  "oss-fuzz engine: what the targets link with ($LIB_FUZZING_ENGINE)")
# MMSIM_PROTOBUF_C_SOURCE: protobuf-c's source tree (holding
# protobuf-c/protobuf-c.c; scripts/fetch-protobuf-c.sh fetches it). With
# an engine other than none, proto/CMakeLists.txt compiles its runtime
# into the build with the fuzz flags, so the decoder the rpc target
# drives is instrumented, instead of linking the system library.
set(MMSIM_PROTOBUF_C_SOURCE "" CACHE PATH
  "Fuzz builds: compile protobuf-c's runtime from this source tree")

if(NOT MMSIM_FUZZ_ENGINE MATCHES "^(none|libfuzzer|afl|oss-fuzz)$")
  message(FATAL_ERROR
    "MMSIM_FUZZ_ENGINE must be none, libfuzzer, afl or oss-fuzz, "
    "not '${MMSIM_FUZZ_ENGINE}'")
endif()

if(NOT MMSIM_FUZZ_ENGINE STREQUAL "none")
  # Findings must abort, whatever the build type says about NDEBUG.
  add_compile_options(-UNDEBUG)
  add_compile_definitions(FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION)
endif()

if(MMSIM_FUZZ_ENGINE STREQUAL "libfuzzer")
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "MMSIM_FUZZ_ENGINE=libfuzzer needs clang")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
  set(MMSIM_FUZZ_LINK -fsanitize=fuzzer)
elseif(MMSIM_FUZZ_ENGINE STREQUAL "afl")
  if(NOT CMAKE_C_COMPILER MATCHES "afl-clang-(fast|lto)$")
    message(WARNING "MMSIM_FUZZ_ENGINE=afl expects CC=afl-clang-fast, "
                    "got ${CMAKE_C_COMPILER}")
  endif()
  set(MMSIM_FUZZ_LINK -fsanitize=fuzzer)
elseif(MMSIM_FUZZ_ENGINE STREQUAL "oss-fuzz")
  if(NOT MMSIM_FUZZ_LIB)
    message(FATAL_ERROR
      "MMSIM_FUZZ_ENGINE=oss-fuzz needs -DMMSIM_FUZZ_LIB=$LIB_FUZZING_ENGINE")
  endif()
  enable_language(CXX)
  separate_arguments(MMSIM_FUZZ_LINK UNIX_COMMAND "${MMSIM_FUZZ_LIB}")
endif()
