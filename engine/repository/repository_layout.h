// The layout of a model repository on disk, as read by one scan: which
// models and versions a directory holds, the content of their files, and a
// fingerprint of all of it. The one reader of the layout: the repository's
// loads and reload checks (model_repository.h) and lint's view of where a
// model file sits (engine/lint/lint_context.h) both scan with ScanTree, so
// they cannot disagree on what the layout holds.
//
// The layout: ROOT/config.yaml (optional), ROOT/<name>/config.yaml
// (optional) and ROOT/<name>/<version>/model.yaml with an optional
// tests.yaml beside it (file names in repository_config.h). Only these
// files count: editor backups, swap files and hidden entries are ignored,
// so they never trigger a reload.
//
// Containment: every directory and file the scan uses must resolve (all
// symbolic links followed) inside the repository root, as plugin libraries
// must stay inside their directory (engine/common/paths.h). A link that
// leaves it is refused and never read, so no byte of a file outside the
// repository can reach an error message (and through ListModels, any
// client). A file longer than the size limit is refused without reading it.

#ifndef HEALTHSCORE_ENGINE_REPOSITORY_REPOSITORY_LAYOUT_H_
#define HEALTHSCORE_ENGINE_REPOSITORY_REPOSITORY_LAYOUT_H_

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/common/yaml_reader.h"

namespace healthscore::engine::repository {

struct FileContent {
  std::string path;
  std::string text;
};

struct VersionDir {
  int64_t version = 0;
  std::string dir;
  FileContent model;
  std::optional<FileContent> tests;
  // Set when the version cannot be loaded as laid out (a link leaving the
  // repository, a file over the size limit): one sentence naming the path,
  // and `model` and `tests` hold no text.
  std::string error;
  // SHA-256 (hex) of the model and tests text (or of `error`): equal
  // hashes mean the version can be reused without compiling it again.
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
  // Problems that fail the model's load (config.yaml refused), one
  // sentence each.
  std::vector<std::string> errors;
};

struct TreeScan {
  std::string root;
  std::optional<FileContent> config;
  std::map<std::string, ModelDir> models;
  // Directories with versions whose name is not a valid model name, links
  // to model directories outside the repository, a refused config.yaml.
  std::vector<std::string> errors;
  // SHA-256 (hex) over the path and content of every file above.
  std::string fingerprint;
};

// Scans `root`. Thread-safety: no shared state; it reads the file system
// as it is at the time of the call. A directory counts as a model when it holds a numeric
// version directory or a config.yaml; others (e.g. rules/testdata) are
// skipped. Files longer than `max_file_bytes` are refused unread (see
// VersionDir::error). Errors: NotFound when `root` is not a readable
// directory; DataLoss when a file of the layout cannot be read.
absl::StatusOr<TreeScan> ScanTree(
    const std::string& root,
    size_t max_file_bytes = common::YamlLimits::kDefaultMaxBytes);

// Reads a whole file of at most `max_bytes`. NotFound when it cannot be
// opened; ResourceExhausted when it is longer (it is not read).
absl::StatusOr<std::string> ReadFile(
    const std::string& path,
    size_t max_bytes = std::numeric_limits<size_t>::max());

// Hex SHA-256 of `data`.
std::string Sha256Hex(const std::string& data);

}  // namespace healthscore::engine::repository

#endif  // HEALTHSCORE_ENGINE_REPOSITORY_REPOSITORY_LAYOUT_H_
