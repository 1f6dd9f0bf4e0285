# The web UI (web/) embedded in hark_core at build time: every servable file of web/ becomes a
# byte string in ${PROJECT_BINARY_DIR}/generated/web_assets.cpp (cmake/embed_web_assets.cmake),
# regenerated whenever a file of web/ changes or one is added (CONFIGURE_DEPENDS).
#
# hark_web_assets(<var>) sets <var> to the generated source. Call it from the directory of the
# target that compiles it: a custom command's rule belongs to the directory it is declared in.
function(hark_web_assets out_var)
  set(web_dir ${PROJECT_SOURCE_DIR}/web)
  file(GLOB_RECURSE web_files CONFIGURE_DEPENDS RELATIVE ${web_dir}
       ${web_dir}/*.html ${web_dir}/*.js ${web_dir}/*.css ${web_dir}/*.svg ${web_dir}/*.png
       ${web_dir}/*.txt)
  set(output ${PROJECT_BINARY_DIR}/generated/web_assets.cpp)
  set(list_file ${PROJECT_BINARY_DIR}/generated/web_files.txt)
  list(TRANSFORM web_files PREPEND ${web_dir}/ OUTPUT_VARIABLE web_paths)
  list(JOIN web_files "\n" web_list)
  file(CONFIGURE OUTPUT ${list_file} CONTENT "${web_list}\n")
  add_custom_command(
    OUTPUT ${output}
    COMMAND ${CMAKE_COMMAND} -DROOT=${web_dir} -DOUTPUT=${output} -DLIST_FILE=${list_file}
            -P ${PROJECT_SOURCE_DIR}/cmake/embed_web_assets.cmake
    DEPENDS ${web_paths} ${list_file} ${PROJECT_SOURCE_DIR}/cmake/embed_web_assets.cmake
    COMMENT "Embedding the web UI (web/) into hark"
    VERBATIM)
  set(${out_var} ${output} PARENT_SCOPE)
endfunction()
