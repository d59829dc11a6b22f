// Compiles a ModelSpec into an immutable CompiledModel.
//
// Compile checks everything a model author can get wrong and reports all of
// it at once, each finding with file:line:col and a hint: unknown or
// undeclared names (with "did you mean"), type errors, cycles among derived
// values, non-positive weights, equal thresholds, overlapping or gapped
// tiers, playbook conditions that can never be true (when decidable),
// duplicate ids; and warns about weights that do not sum to 1 and inputs
// nothing reads. Only a model with no errors is produced.
//
// Thread-safety: free functions with no shared state.

#ifndef HEALTHSCORE_ENGINE_MODEL_COMPILER_H_
#define HEALTHSCORE_ENGINE_MODEL_COMPILER_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "engine/model/compiled_model.h"
#include "engine/model/diagnostic.h"
#include "engine/model/model_spec.h"

namespace healthscore::engine {

struct CompileResult {
  // Null when diagnostics has errors.
  std::shared_ptr<const CompiledModel> model;
  // Errors and warnings, in file order (loader findings included).
  DiagnosticList diagnostics;
};

CompileResult Compile(const ModelSpec& spec);
// Parses and compiles YAML text; `file` names it in diagnostics.
CompileResult CompileString(std::string_view text, const std::string& file);
// Reads, parses and compiles a file. An unreadable file is one error
// diagnostic naming the path.
CompileResult CompileFile(const std::string& path);

// CompileFile, as a status: InvalidArgument listing every error, or the
// model.
absl::StatusOr<std::shared_ptr<const CompiledModel>> LoadModel(
    const std::string& path);

}  // namespace healthscore::engine

#endif  // HEALTHSCORE_ENGINE_MODEL_COMPILER_H_
