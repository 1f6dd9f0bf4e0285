# Warnings as an INTERFACE target: every Hark target links hark_warnings.
add_library(hark_warnings INTERFACE)
target_compile_options(hark_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual
  -Wnull-dereference -Wimplicit-fallthrough -Wno-missing-field-initializers)
if(HARK_WERROR)
  target_compile_options(hark_warnings INTERFACE -Werror)
endif()
