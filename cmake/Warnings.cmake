# Warning flags, probed so any C compiler we meet accepts them (libuv's way).
include(CheckCCompilerFlag)

set(MMSIM_WARNING_FLAGS)
foreach(flag -Wall -Wextra -Wstrict-prototypes -Wshadow -Wformat=2 -Wvla
             -Wimplicit-fallthrough -Wmissing-prototypes -Wno-unused-parameter)
  string(MAKE_C_IDENTIFIER "HAVE_C${flag}" var)
  check_c_compiler_flag(${flag} ${var})
  if(${var})
    list(APPEND MMSIM_WARNING_FLAGS ${flag})
  endif()
endforeach()
if(MMSIM_WERROR)
  list(APPEND MMSIM_WARNING_FLAGS -Werror)
endif()

# mmsim_target_warnings(<target>): our own code gets the full set.
function(mmsim_target_warnings target)
  target_compile_options(${target} PRIVATE ${MMSIM_WARNING_FLAGS})
endfunction()
