// Test-only file helpers shared by every test binary (CMake target
// healthscore_testing, linked into each test by healthscore_cc_test): a
// scratch directory of the test process and reading a whole file.
//
// Thread-safety: ScratchDir must not be called for the same name from two
// threads at once; ReadFile is safe from any thread.

#ifndef HEALTHSCORE_ENGINE_COMMON_TESTING_TEMP_DIR_H_
#define HEALTHSCORE_ENGINE_COMMON_TESTING_TEMP_DIR_H_

#include <filesystem>
#include <string>

namespace healthscore::engine::common::testing {

// A fresh, empty directory of this test process for `name`:
// ::testing::TempDir() (TEST_TMPDIR, or /tmp/) + "hs_<name>_<pid>". Whatever
// an earlier call for the same name left there is removed first, so a test
// starts from nothing; the directory is left in place afterwards for
// inspection. Fails the test (ADD_FAILURE) when it cannot be created.
std::string ScratchDir(const std::string& name);

// The bytes of the file at `path`; empty when it cannot be read.
std::string ReadFile(const std::filesystem::path& path);

}  // namespace healthscore::engine::common::testing

#endif  // HEALTHSCORE_ENGINE_COMMON_TESTING_TEMP_DIR_H_
