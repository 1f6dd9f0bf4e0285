# ASan + UBSan for the whole build (CI runs the test suite once with this on).
if(HARK_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
  # The sanitizers' instrumentation makes GCC 12's -Wmaybe-uninitialized report values inside
  # libstdc++ (std::regex, std::function) that are initialized: a documented source of false
  # positives. The release build keeps the warning.
  add_compile_options(-Wno-maybe-uninitialized)
endif()
