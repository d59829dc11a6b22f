// Test-only file helpers shared by every test binary (CMake target
// healthscore_testing, linked into each test by healthscore_cc_test): the
// scratch space of the test process and reading a whole file.
//
// Every scratch path of a test process lies in one directory of its own,
// ::testing::TempDir() (TEST_TMPDIR, or /tmp/) + "hs_<pid>", made on first
// use. When the test program ends and every test passed, that directory is
// removed; when any failed, it is kept for inspection and its path printed
// to stderr. So a passing run leaves nothing behind, however often it runs.
//
// Thread-safety: ScratchDir must not be called for the same name from two
// threads at once; ScratchFile and ReadFile are safe from any thread.

#ifndef HEALTHSCORE_ENGINE_COMMON_TESTING_TEMP_DIR_H_
#define HEALTHSCORE_ENGINE_COMMON_TESTING_TEMP_DIR_H_

#include <filesystem>
#include <string>

namespace healthscore::engine::common::testing {

// The directory that holds this process's scratch (see the file comment),
// made when missing.
std::string ScratchRoot();

// A fresh, empty directory `name` in ScratchRoot(). Whatever an earlier
// call for the same name left there is removed first, so a test starts
// from nothing. Fails the test (ADD_FAILURE) when it cannot be created.
std::string ScratchDir(const std::string& name);

// The path of a scratch file `name` in ScratchRoot(), for the caller to
// write (nothing is created or removed there).
std::string ScratchFile(const std::string& name);

// The bytes of the file at `path`; empty when it cannot be read.
std::string ReadFile(const std::filesystem::path& path);

}  // namespace healthscore::engine::common::testing

#endif  // HEALTHSCORE_ENGINE_COMMON_TESTING_TEMP_DIR_H_
