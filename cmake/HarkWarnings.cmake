# Warnings as an INTERFACE target: every Hark target links hark_warnings.
add_library(hark_warnings INTERFACE)
target_compile_options(hark_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
  -Wimplicit-fallthrough -Wno-missing-field-initializers
  # GCC 12 reports Asio's coroutine frame allocator (operator new/delete pairs of
  # awaitable_frame_base) as mismatched: a known false positive with C++20 coroutines.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>
  # GCC 12 at -O3 reports `"[" + s + "]"` string concatenations as overlapping memcpy
  # (GCC bug 105329, a false positive inside libstdc++).
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>)
if(HARK_WERROR)
  target_compile_options(hark_warnings INTERFACE -Werror)
endif()
