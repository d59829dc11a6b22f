// Reading a repository directory: which models and versions it holds, the
// content of their files, and a fingerprint of all of it.
//
// Only the files of the layout count (config.yaml, <name>/config.yaml,
// <name>/<version>/model.yaml and tests.yaml): editor backups, swap files
// and hidden entries are ignored, so they never trigger a reload.

#ifndef HEALTHSCORE_ENGINE_REPOSITORY_INTERNAL_SCAN_H_
#define HEALTHSCORE_ENGINE_REPOSITORY_INTERNAL_SCAN_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace healthscore::engine::repository_internal {

struct FileContent {
  std::string path;
  std::string text;
};

struct VersionDir {
  int64_t version = 0;
  std::string dir;
  FileContent model;
  std::optional<FileContent> tests;
  // SHA-256 (hex) of the model and tests text: equal hashes mean the
  // version can be reused without compiling it again.
  std::string source_hash;
};

struct ModelDir {
  std::string name;
  std::string dir;
  std::optional<FileContent> config;
  std::map<int64_t, VersionDir> versions;
  // Entries that look like mistakes (a version directory without
  // model.yaml, a non-numeric directory), one sentence each.
  std::vector<std::string> notes;
};

struct TreeScan {
  std::string root;
  std::optional<FileContent> config;
  std::map<std::string, ModelDir> models;
  // Directories with versions whose name is not a valid model name.
  std::vector<std::string> errors;
  // SHA-256 (hex) over the path and content of every file above.
  std::string fingerprint;
};

// Scans `root`. A directory counts as a model when it holds a numeric
// version directory or a config.yaml; others (e.g. rules/testdata) are
// skipped. Errors: NotFound when `root` is not a readable directory;
// DataLoss when a file of the layout cannot be read.
absl::StatusOr<TreeScan> ScanTree(const std::string& root);

// Reads a whole file. NotFound when it cannot be opened.
absl::StatusOr<std::string> ReadFile(const std::string& path);

// Hex SHA-256 of `data`.
std::string Sha256Hex(const std::string& data);

}  // namespace healthscore::engine::repository_internal

#endif  // HEALTHSCORE_ENGINE_REPOSITORY_INTERNAL_SCAN_H_
