# Small helpers in the spirit of absl_cc_library / absl_cc_test.

# healthscore_cc_test(NAME name SRCS ... DEPS ... [LABELS ...])
# Builds one GoogleTest binary and registers it with CTest. Tests run with the
# repository root as working directory so they can read rules/ and testdata,
# and link the shared test helpers (healthscore_testing).
function(healthscore_cc_test)
  cmake_parse_arguments(T "" "NAME" "SRCS;DEPS;LABELS" ${ARGN})
  if(NOT HEALTHSCORE_BUILD_TESTS)
    return()
  endif()
  add_executable(${T_NAME} ${T_SRCS})
  target_link_libraries(${T_NAME} PRIVATE ${T_DEPS} healthscore_testing
                        GTest::gmock GTest::gtest_main)
  target_compile_definitions(${T_NAME} PRIVATE
    HEALTHSCORE_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    HEALTHSCORE_BINARY_DIR="${PROJECT_BINARY_DIR}")
  add_test(NAME ${T_NAME} COMMAND ${T_NAME}
           WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  set(labels unit)
  if(T_LABELS)
    set(labels ${T_LABELS})
  endif()
  set_tests_properties(${T_NAME} PROPERTIES LABELS "${labels}" TIMEOUT 600)
endfunction()

# healthscore_cc_benchmark(NAME name SRCS ... DEPS ...)
function(healthscore_cc_benchmark)
  cmake_parse_arguments(B "" "NAME" "SRCS;DEPS" ${ARGN})
  if(NOT HEALTHSCORE_BUILD_BENCHMARKS)
    return()
  endif()
  add_executable(${B_NAME} ${B_SRCS})
  target_link_libraries(${B_NAME} PRIVATE ${B_DEPS} benchmark::benchmark)
  target_compile_definitions(${B_NAME} PRIVATE
    HEALTHSCORE_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
endfunction()

# healthscore_cc_tests(DIR dir TESTS name... DEPS ... [PREFIX p] [LABELS ...])
# One healthscore_cc_test per name, built from DIR/name.cc and registered as
# PREFIXname. Test files are listed, never globbed: a file is a test when a
# CMakeLists.txt says so.
function(healthscore_cc_tests)
  cmake_parse_arguments(T "" "DIR;PREFIX" "TESTS;DEPS;LABELS" ${ARGN})
  foreach(name ${T_TESTS})
    healthscore_cc_test(NAME ${T_PREFIX}${name} SRCS ${T_DIR}/${name}.cc
                        DEPS ${T_DEPS} LABELS ${T_LABELS})
  endforeach()
endfunction()
