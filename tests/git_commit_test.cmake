# cmake -DSOURCE_DIR=<repo> -DWORK_DIR=<scratch> -P tests/git_commit_test.cmake
#
# cmake/git_commit.cmake, which gives --version its commit: the commit of a
# git work tree, "unknown" for a copy without .git (even inside another
# repository), and the COMMIT override.

set(script ${SOURCE_DIR}/cmake/git_commit.cmake)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR}/not_git)

function(commit_of dir out_var)
  set(header ${WORK_DIR}/commit.h)
  file(REMOVE ${header})
  execute_process(COMMAND ${CMAKE_COMMAND} -DSOURCE_DIR=${dir}
                          -DOUTPUT=${header} ${ARGN} -P ${script}
                  RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "git_commit.cmake failed for ${dir}: ${rc}")
  endif()
  file(READ ${header} text)
  string(REGEX MATCH "#define HEALTHSCORE_GIT_COMMIT \"([^\"]*)\"" m "${text}")
  set(${out_var} "${CMAKE_MATCH_1}" PARENT_SCOPE)
endfunction()

# A directory that is not the top of a git work tree (the scratch directory
# sits in the build tree, so possibly inside the repository: still not its
# top).
commit_of(${WORK_DIR}/not_git got)
if(NOT got STREQUAL "unknown")
  message(FATAL_ERROR "outside git: expected \"unknown\", got \"${got}\"")
endif()

# A directory inside the work tree is not its top: "unknown" too.
commit_of(${SOURCE_DIR}/docs got)
if(NOT got STREQUAL "unknown")
  message(FATAL_ERROR "subdirectory of a work tree: expected \"unknown\", got \"${got}\"")
endif()

commit_of(${WORK_DIR}/not_git got -DCOMMIT=abc123def456)
if(NOT got STREQUAL "abc123def456")
  message(FATAL_ERROR "COMMIT override: got \"${got}\"")
endif()

# The repository itself: its HEAD, maybe marked dirty.
execute_process(COMMAND git -C ${SOURCE_DIR} rev-parse --short=12 HEAD
                OUTPUT_VARIABLE head OUTPUT_STRIP_TRAILING_WHITESPACE
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "git rev-parse failed in ${SOURCE_DIR}")
endif()
commit_of(${SOURCE_DIR} got)
if(NOT got MATCHES "^${head}(-dirty)?$")
  message(FATAL_ERROR "work tree: expected ${head}[-dirty], got \"${got}\"")
endif()
message(STATUS "git_commit.cmake: ok (${got})")
