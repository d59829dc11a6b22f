// Lint of a model's place in the routing of its repository (lint.h): routes
// of its config.yaml that do not compile, and segment overrides no account
// gets because routing sends that segment elsewhere.
//
// Thread-safety: free functions with no shared state.

#ifndef HEALTHSCORE_ENGINE_LINT_INTERNAL_LINT_ROUTES_H_
#define HEALTHSCORE_ENGINE_LINT_INTERNAL_LINT_ROUTES_H_

#include "engine/lint/lint_context.h"
#include "engine/model/compiled_model.h"
#include "engine/model/diagnostic.h"
#include "engine/model/model_spec.h"

namespace healthscore::engine::lint::internal {

// Appends the route findings for `model` (compiled from `spec`) to `out`.
void LintRoutes(const model::ModelSpec& spec, const model::CompiledModel& model,
                const LintContext& context, model::DiagnosticList* out);

}  // namespace healthscore::engine::lint::internal

#endif  // HEALTHSCORE_ENGINE_LINT_INTERNAL_LINT_ROUTES_H_
