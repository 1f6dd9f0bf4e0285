# Precompiled headers for the heavy third-party headers most translation units include (Asio,
# Beast, nlohmann/json, spdlog, the standard library). Parsing them is most of the compile time
# of a typical Hark source file; with a PCH each target parses them once.
#
# ccache caches PCH compilations only when told that the PCH is safe to reuse:
# scripts/hark.sh sets CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,
# include_file_ctime, and clang gets -fno-pch-timestamp (its PCH would otherwise embed mtimes).
# Off by default: with it GCC 12 -O3 reports a false -Wstringop-overflow in store/entry_listing.cpp
# (an error under -Werror); on again once the warning is worked around.
option(HARK_PCH "Precompile the heavy third-party headers" OFF)

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
  endif()
endfunction()
