# The web UI (web/) embedded in hark_core at build time: every servable file of web/ becomes a
# byte string in ${PROJECT_BINARY_DIR}/generated/web_assets.cpp (cmake/embed_web_assets.cmake),
# regenerated whenever a file of web/ changes or one is added (CONFIGURE_DEPENDS).

set(HARK_WEB_DIR ${PROJECT_SOURCE_DIR}/web)
file(GLOB_RECURSE HARK_WEB_FILES CONFIGURE_DEPENDS RELATIVE ${HARK_WEB_DIR}
     ${HARK_WEB_DIR}/*.html ${HARK_WEB_DIR}/*.js ${HARK_WEB_DIR}/*.css ${HARK_WEB_DIR}/*.svg
     ${HARK_WEB_DIR}/*.png ${HARK_WEB_DIR}/*.txt)
set(HARK_WEB_ASSETS_CPP ${PROJECT_BINARY_DIR}/generated/web_assets.cpp)
list(TRANSFORM HARK_WEB_FILES PREPEND ${HARK_WEB_DIR}/ OUTPUT_VARIABLE HARK_WEB_PATHS)
list(JOIN HARK_WEB_FILES "\n" HARK_WEB_LIST)
file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/generated/web_files.txt CONTENT "${HARK_WEB_LIST}\n")
add_custom_command(
  OUTPUT ${HARK_WEB_ASSETS_CPP}
  COMMAND ${CMAKE_COMMAND} -DROOT=${HARK_WEB_DIR} -DOUTPUT=${HARK_WEB_ASSETS_CPP}
          -DLIST_FILE=${PROJECT_BINARY_DIR}/generated/web_files.txt -P ${PROJECT_SOURCE_DIR}/cmake/embed_web_assets.cmake
  DEPENDS ${HARK_WEB_PATHS} ${PROJECT_BINARY_DIR}/generated/web_files.txt ${PROJECT_SOURCE_DIR}/cmake/embed_web_assets.cmake
  COMMENT "Embedding the web UI (web/) into hark"
  VERBATIM)
