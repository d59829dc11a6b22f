// Loads a health model file (YAML) into a ModelSpec.
//
// This is the only place that talks to yaml-cpp; yaml-cpp throws, and every
// exception is caught here and turned into a diagnostic with file:line:col.
// The loader checks shape only: YAML syntax, unknown keys (with a "did you
// mean"), value types, required keys, duplicate keys. Names and semantics are
// checked by the compiler.
//
// Thread-safety: free functions with no shared state; safe to call from any
// thread.

#ifndef HEALTHSCORE_ENGINE_MODEL_YAML_LOADER_H_
#define HEALTHSCORE_ENGINE_MODEL_YAML_LOADER_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/model/diagnostic.h"
#include "engine/model/model_spec.h"

namespace healthscore::engine {

// Parses `text` (the contents of `file`, used only in locations). Problems
// are appended to `diags`; the returned spec holds everything that could be
// read, so the compiler can report more problems in the same pass. Never
// throws, never crashes on any input.
ModelSpec LoadModelSpecFromString(std::string_view text,
                                  const std::string& file,
                                  DiagnosticList* diags);

// Reads and parses a file. NotFound if it cannot be read.
absl::StatusOr<ModelSpec> LoadModelSpecFromFile(const std::string& path,
                                                DiagnosticList* diags);

}  // namespace healthscore::engine

#endif  // HEALTHSCORE_ENGINE_MODEL_YAML_LOADER_H_
