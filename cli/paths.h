// Finding model and test files for the `healthscore` commands.
//
// Directory searches are recursive, skip hidden directories (.git, ...),
// do not follow symbolic links to directories, and return paths sorted so
// that output is stable across runs and machines.
//
// Thread-safety: free functions over the file system.

#ifndef HEALTHSCORE_CLI_PATHS_H_
#define HEALTHSCORE_CLI_PATHS_H_

#include <ostream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace healthscore::cli {

// The model files `path` names: the file itself when it is a .yaml/.yml file
// other than tests.yaml, or every model.yaml below a directory (possibly
// none). NotFound when `path` does not exist; InvalidArgument for a
// tests.yaml or a file that is not YAML.
// The model files under every path in `paths`, each once, in order. A path
// that does not exist or holds no model.yaml is reported on `err` as
// "healthscore COMMAND: ..." and sets *exit_code to kExitFailure; a path
// that is not a model file at all (e.g. a tests.yaml) returns
// InvalidArgument, a usage error.
absl::StatusOr<std::vector<std::string>> CollectModelFiles(
    const std::vector<std::string>& paths, const std::string& command,
    std::ostream& err, int* exit_code);

absl::StatusOr<std::vector<std::string>> FindModelFiles(
    const std::string& path);

// The test files `path` names: the file itself, the tests.yaml beside a
// file named model.yaml, or every tests.yaml below a directory (possibly
// none). NotFound when `path` (or the tests.yaml of a model.yaml) does not
// exist.
absl::StatusOr<std::vector<std::string>> FindTestFiles(const std::string& path);

// The model file for `--model`: `path` itself when it is a file;
// path/model.yaml for a model directory; for a directory of numbered
// versions (rules/default/1/, rules/default/2/...), the highest version's
// model.yaml. NotFound when none exists.
absl::StatusOr<std::string> ResolveModelPath(const std::string& path);

}  // namespace healthscore::cli

#endif  // HEALTHSCORE_CLI_PATHS_H_
