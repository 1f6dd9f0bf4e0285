# Script mode (cmake -P): writes OUTPUT, a C++ file holding every file listed in LIST_FILE (paths
# relative to ROOT) as a byte string with an ETag made of its SHA-256, for hark_core to serve the
# web UI from the binary (src/api/web_ui.cpp). No network, no tool beyond CMake itself.
#
#   cmake -DROOT=<web dir> -DOUTPUT=<file.cpp> -DLIST_FILE=<one path a line> -P embed_web_assets.cmake

set(out "// Generated from web/ by cmake/embed_web_assets.cmake at build time: do not edit.\n")
string(APPEND out "#include \"hark/api/web_assets.hpp\"\n\nnamespace hark::api {\nnamespace {\n\n")
file(STRINGS "${LIST_FILE}" FILES)
string(REPEAT "\\\\x[0-9a-f][0-9a-f]" 48 line_of_bytes)
set(table "")
set(index 0)
list(SORT FILES)
foreach(relative IN LISTS FILES)
  file(READ "${ROOT}/${relative}" hex HEX)
  file(SHA256 "${ROOT}/${relative}" digest)
  string(SUBSTRING "${digest}" 0 20 short_digest)
  # 48 bytes per line of the literal; every byte as \xNN (an escape ends at the next backslash).
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" escaped "${hex}")
  string(REGEX REPLACE "(${line_of_bytes})" "\\1\"\n    \"" escaped "${escaped}")
  string(LENGTH "${hex}" hex_length)
  math(EXPR size "${hex_length} / 2")
  string(APPEND out "// ${relative}\nconstexpr char asset_${index}[] =\n    \"${escaped}\";\n\n")
  string(APPEND table "    web_asset{\"${relative}\", std::string_view(asset_${index}, ${size}),\n"
                      "              \"\\\"${short_digest}\\\"\"},\n")
  math(EXPR index "${index} + 1")
endforeach()
string(APPEND out "constexpr std::array<web_asset, ${index}> assets{\n${table}};\n\n}  // namespace\n\n")
string(APPEND out "std::span<const web_asset> web_assets() {\n  return assets;\n}\n\n}  // namespace hark::api\n")

file(WRITE "${OUTPUT}" "${out}")
