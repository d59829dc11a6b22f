// Loads a health model file (YAML) into a ModelSpec.
//
// The only place that reads model files with yaml-cpp (through the bounded
// reader of engine/common/yaml_reader.h); yaml-cpp throws, and every
// exception is caught and turned into a diagnostic with file:line:col.
// The loader checks shape only: YAML syntax, unknown keys (with a "did you
// mean"), value types, required keys, duplicate keys. Names and semantics are
// checked by the compiler.
//
// Every YAML front end reads through engine/common/yaml_reader.h, so a file
// over the size limit, an alias bomb, a recursive alias or too deep a
// nesting is one located error, found before any node is walked; the walks
// here carry their own depth and size bounds as well.
//
// Thread-safety: free functions with no shared state; safe to call from any
// thread.

#ifndef HEALTHSCORE_ENGINE_MODEL_YAML_LOADER_H_
#define HEALTHSCORE_ENGINE_MODEL_YAML_LOADER_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/common/load_budget.h"
#include "engine/common/yaml_reader.h"
#include "engine/model/diagnostic.h"
#include "engine/model/model_spec.h"

namespace healthscore::engine::model {

// How a model file is read.
struct ModelLoadOptions {
  // Size, node count (aliases expanded) and nesting bounds; a text over one
  // of them is one located error and nothing of it is read.
  common::YamlLimits yaml;
  // Checked while the YAML is read and in the loops over its keys and
  // items. When it runs out the loader stops with one error diagnostic
  // (the budget's message) and ModelSpec::unreadable set; the caller tells
  // a timeout from a bad model with budget.Check().
  common::LoadBudget budget;
};

// Parses `text` (the contents of `file`, used only in locations). Problems
// are appended to `diags`; the returned spec holds everything that could be
// read, so the compiler can report more problems in the same pass. Never
// throws, never crashes on any input. At most kMaxLoaderErrors errors are
// reported; the loader then stops with one more saying so.
ModelSpec LoadModelSpecFromString(std::string_view text,
                                  const std::string& file,
                                  DiagnosticList* diags,
                                  const ModelLoadOptions& options = {});

// Reads and parses a file. NotFound if it cannot be read; ResourceExhausted,
// without reading it, when it is longer than options.yaml.max_bytes.
absl::StatusOr<ModelSpec> LoadModelSpecFromFile(
    const std::string& path, DiagnosticList* diags,
    const ModelLoadOptions& options = {});

// One less than DiagnosticList::kMaxKept, so that the loader's own note
// ("too many errors") is the last diagnostic kept, located where it stopped.
inline constexpr int kMaxLoaderErrors = DiagnosticList::kMaxKept - 1;

}  // namespace healthscore::engine::model

#endif  // HEALTHSCORE_ENGINE_MODEL_YAML_LOADER_H_
