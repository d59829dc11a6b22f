# Fuzz targets: every *_fuzzer.cc under engine/ defines LLVMFuzzerTestOneInput.
#
# Always: each is linked with a replay driver (<name>_replay) and run by
# CTest over its seed corpus, so the targets compile and known inputs are
# replayed in every build (under ASan/UBSan in the sanitizer build).
# With -DHEALTHSCORE_FUZZ=ON and clang: each is also built as a libFuzzer
# binary (<name>) for real fuzzing; see docs/fuzzing.md.

# HEALTHSCORE_FUZZ is declared in the top-level CMakeLists.txt, which also
# instruments every library for coverage in that build.

# healthscore_fuzz_target(NAME name SRC file DEPS libs CORPUS dirs...)
function(healthscore_fuzz_target)
  cmake_parse_arguments(F "" "NAME;SRC" "DEPS;CORPUS" ${ARGN})
  if(HEALTHSCORE_BUILD_TESTS)
    add_executable(${F_NAME}_replay ${F_SRC}
                   ${PROJECT_SOURCE_DIR}/engine/common/fuzz_replay_main.cc)
    target_link_libraries(${F_NAME}_replay PRIVATE ${F_DEPS})
    add_test(NAME ${F_NAME}_replay COMMAND ${F_NAME}_replay ${F_CORPUS}
             WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
    set_tests_properties(${F_NAME}_replay PROPERTIES LABELS unit TIMEOUT 600)
  endif()
  if(HEALTHSCORE_FUZZ)
    add_executable(${F_NAME} ${F_SRC})
    target_link_libraries(${F_NAME} PRIVATE ${F_DEPS})
    target_compile_options(${F_NAME} PRIVATE -fsanitize=fuzzer)
    target_link_options(${F_NAME} PRIVATE -fsanitize=fuzzer)
  endif()
endfunction()

set(_e ${PROJECT_SOURCE_DIR}/engine)
healthscore_fuzz_target(NAME yaml_loader_fuzzer
  SRC ${_e}/model/yaml_loader_fuzzer.cc DEPS healthscore_model
  CORPUS ${_e}/model/testdata ${PROJECT_SOURCE_DIR}/rules)
healthscore_fuzz_target(NAME compiler_fuzzer
  SRC ${_e}/eval/compiler_fuzzer.cc DEPS healthscore_eval
  CORPUS ${_e}/model/testdata ${PROJECT_SOURCE_DIR}/rules)
healthscore_fuzz_target(NAME expr_fuzzer
  SRC ${_e}/expr/expr_fuzzer.cc DEPS healthscore_expr
  CORPUS ${_e}/expr/testdata/fuzz)
healthscore_fuzz_target(NAME snapshot_reader_fuzzer
  SRC ${_e}/io/snapshot_reader_fuzzer.cc DEPS healthscore_io
  CORPUS ${_e}/io/testdata ${PROJECT_SOURCE_DIR}/rules/testdata)
