# hs_add_plugin(): build a Healthscore plugin the way the host expects.
#
#   hs_add_plugin(<name>
#                 SOURCES <file>...
#                 [LINK_LIBRARIES <lib>...]
#                 [OUTPUT_DIRECTORY <dir>])
#
# Creates the MODULE library target hs_<name>, built as libhs_<name>.so so
# that a model loads it with `library: <name>`. The library is compiled with
# hidden visibility and linked with a version script that exports only
# hs_plugin_* (the entry point), with every symbol resolved at link time
# (--no-undefined: a plugin may not rely on symbols from the host), against
# the SDK headers (target healthscore::plugin_sdk).
#
# Shipped in the SDK's CMake package (find_package(healthscore) includes it)
# and used for the plugins built inside the Healthscore tree.

function(hs_add_plugin name)
  cmake_parse_arguments(HS "" "OUTPUT_DIRECTORY" "SOURCES;LINK_LIBRARIES"
                        ${ARGN})
  if(NOT HS_SOURCES)
    message(FATAL_ERROR "hs_add_plugin(${name}): SOURCES is required")
  endif()
  if(NOT name MATCHES "^[a-z0-9_]+$")
    message(FATAL_ERROR
      "hs_add_plugin(${name}): use lowercase letters, digits and '_'")
  endif()
  if(NOT TARGET healthscore::plugin_sdk)
    message(FATAL_ERROR "hs_add_plugin: healthscore::plugin_sdk is missing; "
                        "call find_package(healthscore) first")
  endif()
  set(target hs_${name})
  set(map "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/hs_plugin.map")
  add_library(${target} MODULE ${HS_SOURCES})
  target_link_libraries(${target} PRIVATE healthscore::plugin_sdk
                        ${HS_LINK_LIBRARIES})
  set_target_properties(${target} PROPERTIES
    PREFIX "lib"
    OUTPUT_NAME "hs_${name}"
    SUFFIX ".so"
    POSITION_INDEPENDENT_CODE ON
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LINK_DEPENDS "${map}")
  target_link_options(${target} PRIVATE
    "LINKER:--version-script=${map}" "LINKER:--no-undefined")
  if(HS_OUTPUT_DIRECTORY)
    set_target_properties(${target} PROPERTIES
      LIBRARY_OUTPUT_DIRECTORY "${HS_OUTPUT_DIRECTORY}")
  endif()
endfunction()
