# Precompiled headers for the heavy third-party headers most translation units include (Asio,
# Beast, nlohmann/json, spdlog, the standard library). Parsing them is most of the compile time
# of a typical Hark source file; with a PCH each target parses them once.
#
# ccache caches PCH compilations only when told that the PCH is safe to reuse:
# scripts/hark.sh sets CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,
# include_file_ctime, and clang gets -fno-pch-timestamp (its PCH would otherwise embed mtimes).
# With the PCH, GCC 12 -O3 reports false -Wstringop-overflow and -Warray-bounds errors inside
# libstdc++'s char_traits (std::string concatenation, "bound between 2^63+2 and 2^64-1", GCC
# bug 105329 and its kin) in files that compile cleanly without it; targets built with the PCH
# leave those two warnings to the build without it (HARK_PCH=OFF).
option(HARK_PCH "Precompile the heavy third-party headers" ON)

set(HARK_PCH_HEADERS
  <algorithm> <array> <chrono> <cstdint> <functional> <map> <memory> <optional> <string>
  <string_view> <utility> <vector>
  <boost/asio/awaitable.hpp> <boost/asio/io_context.hpp> <boost/asio/ip/tcp.hpp>
  <boost/asio/steady_timer.hpp> <boost/beast/http/message.hpp> <boost/beast/http/string_body.hpp>
  <nlohmann/json.hpp> <spdlog/spdlog.h>)

# hark_pch(TARGET [EXTRA_HEADER…]) — precompiles HARK_PCH_HEADERS (and the extra ones) for TARGET.
function(hark_pch target)
  if(NOT HARK_PCH)
    return()
  endif()
  target_precompile_headers(${target} PRIVATE ${HARK_PCH_HEADERS} ${ARGN})
  if(CMAKE_CXX_COMPILER_ID MATCHES Clang)
    target_compile_options(${target} PRIVATE -Xclang -fno-pch-timestamp)
  else()
    target_compile_options(${target} PRIVATE -Wno-stringop-overflow -Wno-array-bounds)
  endif()
endfunction()
