// Compiles a ModelSpec into an immutable CompiledModel.
//
// Compile checks everything a model author can get wrong and reports all of
// it at once, each finding with file:line:col and a hint: unknown or
// undeclared names (with "did you mean"), type errors, cycles among derived
// values, non-positive weights, equal thresholds, overlapping or gapped
// tiers, playbook conditions that can never be true (when decidable),
// duplicate ids; and warns only about likely mistakes: inputs and plugins
// nothing reads. Weights need not sum to 1 (each is divided by the sum of
// its siblings), so that is no warning. Only a model with no errors is
// produced.
//
// Plugins: a model's `plugins:` entries are loaded through
// CompileOptions::plugins while compiling (never on first use), each
// initialised with its config, and each plugin signal created and checked
// against the inputs the model binds to it. A library that is missing, not
// a plugin, of another ABI version, fails to initialise or lacks a signal
// the model asks for is an error located at the model line that names it,
// with the library's path in the message. The compiled model then owns
// what it uses (see engine/plugin_host/plugin_library.h), so a plugin stays
// loaded while the model lives.
//
// Thread-safety: free functions with no shared state (a PluginHost is
// itself thread-safe).

#ifndef HEALTHSCORE_ENGINE_MODEL_COMPILER_H_
#define HEALTHSCORE_ENGINE_MODEL_COMPILER_H_

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/common/load_budget.h"
#include "engine/common/yaml_reader.h"
#include "engine/model/compiled_model.h"
#include "engine/model/diagnostic.h"
#include "engine/model/model_spec.h"

namespace healthscore::engine::plugin_host {
class PluginHost;  // engine/plugin_host/plugin_host.h
}  // namespace healthscore::engine::plugin_host

namespace healthscore::engine::model {

struct CompileOptions {
  // Where the libraries of a model's `plugins:` come from. Null: a model
  // with plugins fails to compile (its other problems are still reported).
  // Must outlive the call; compiled models do not refer to it.
  plugin_host::PluginHost* plugins = nullptr;
  // With plugins null: why a model's plugins are not loaded, and what to do,
  // said in their error instead of "no plugin directory is configured" (the
  // server's ValidateModel, which loads no plugin for a client by default).
  std::string plugins_refused_reason;
  std::string plugins_refused_hint;
  // Bounds on reading the model file: size (default 4 MiB), nodes with
  // aliases expanded (default 1,000,000) and nesting (default 64). See
  // engine/common/yaml_reader.h.
  common::YamlLimits yaml;
  // Deadline and cancellation of the load, checked while the YAML is read,
  // in the loader's loops over keys and items, and between compile phases.
  // When it runs out, CompileResult::status says so and no model is built.
  // Default: no deadline, no cancellation.
  common::LoadBudget budget;
};

struct CompileResult {
  // OK, or DeadlineExceeded / Cancelled when CompileOptions::budget ran out
  // (diagnostics then holds what was found before, and model is null).
  // A model with mistakes is OK here: its errors are in diagnostics.
  absl::Status status;
  // Null when diagnostics has errors or status is not OK.
  std::shared_ptr<const CompiledModel> model;
  // Errors and warnings, in file order (loader findings included).
  DiagnosticList diagnostics;
};

// A spec the loader marked unreadable gives no model and no diagnostics:
// the loader's own error says what is wrong with the file.
CompileResult Compile(const ModelSpec& spec,
                      const CompileOptions& options = {});
// Parses and compiles YAML text; `file` names it in diagnostics.
CompileResult CompileString(std::string_view text, const std::string& file,
                            const CompileOptions& options = {});
// Reads, parses and compiles a file. An unreadable file, or one longer
// than options.yaml.max_bytes (which is not read), is one error diagnostic
// naming the path.
CompileResult CompileFile(const std::string& path,
                          const CompileOptions& options = {});

// CompileFile, as a status: InvalidArgument listing every error, or the
// model.
absl::StatusOr<std::shared_ptr<const CompiledModel>> LoadModel(
    const std::string& path, const CompileOptions& options = {});

}  // namespace healthscore::engine::model

#endif  // HEALTHSCORE_ENGINE_MODEL_COMPILER_H_
