# Sanitizer builds. At most one of them per build directory (scripts/hark.sh names them):
#   HARK_SANITIZE  ASan + UBSan for the whole build (build/asan: every test runs under it);
#   HARK_TSAN      ThreadSanitizer (build/tsan: the tests where threads meet);
#   HARK_FUZZ      clang only: libFuzzer coverage plus ASan + UBSan on everything, so that the
#                  fuzz targets (tests/fuzz) see inside the hark_core code they call.
option(HARK_TSAN "Build with ThreadSanitizer" OFF)
option(HARK_FUZZ "Build hark_core and the libFuzzer targets with fuzzing instrumentation (clang)" OFF)

# The sanitizer builds compile with -O1 and line tables only (`-g1`, clang's
# -gline-tables-only): what their reports need for a symbolized stack, at about 60 % of the
# compile time of -O2 -g (docs/performance.md, "Build time"). AddressSanitizer's own advice is
# -O1 with frame pointers.
if(HARK_SANITIZE OR HARK_TSAN OR HARK_FUZZ)
  if(CMAKE_CXX_COMPILER_ID MATCHES Clang)
    set(CMAKE_CXX_FLAGS_RELWITHDEBINFO "-O1 -gline-tables-only -DNDEBUG")
  else()
    set(CMAKE_CXX_FLAGS_RELWITHDEBINFO "-O1 -g1 -DNDEBUG")
  endif()
endif()

if(HARK_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  # The sanitizers' instrumentation makes GCC 12's -Wmaybe-uninitialized report values inside
  # libstdc++ (std::regex, std::function) that are initialized: a documented source of false
  # positives. The release build keeps the warning.
  add_compile_options(-Wno-maybe-uninitialized)
endif()

if(HARK_TSAN)
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer)
  add_link_options(-fsanitize=thread)
  # GCC warns that TSan does not model std::atomic_thread_fence (used inside Asio and
  # libstdc++'s shared_ptr); the fences there pair with atomics TSan does model. Like ASan's,
  # TSan's instrumentation gives GCC 12's flow warnings false positives inside libstdc++
  # (-Warray-bounds, -Wstringop-overflow on std::string concatenation in
  # store/entry_listing.cpp); the release build keeps them.
  if(CMAKE_CXX_COMPILER_ID STREQUAL GNU)
    add_compile_options(-Wno-tsan -Wno-maybe-uninitialized -Wno-array-bounds
                        -Wno-stringop-overflow)
  endif()
endif()

if(HARK_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES Clang)
    message(FATAL_ERROR "HARK_FUZZ needs clang (libFuzzer): -DCMAKE_CXX_COMPILER=clang++-14")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
