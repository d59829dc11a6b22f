// Lint: scoring mistakes the compiler cannot see in one expression at a
// time, found by reasoning over the whole model (and its repository).
//
// Run on a model that compiled. Findings, each a Diagnostic with
// file:line:col and a hint:
//
//   error    a tier no score can reach. The reachable scores come from the
//            normalisations' output ranges (linear, identity and logistic
//            reach 0..100; steps and piecewise only the scores they list),
//            combined through the weights for every set of present signals
//            whose coverage meets min_coverage, per segment. E.g. every
//            signal capped at 75 by its steps makes a green tier at 80
//            unreachable.
//   error    a playbook no account can trigger: its `when` needs a tier no
//            score reaches, `insufficient_data` (no playbook fires on such
//            accounts), or a score, group or signal value outside what the
//            normalisations can give (`score >= 90` when at most 72.5 is
//            reachable).
//   warning  a signal whose share of the score is below 0.5% (for the
//            default weights or a segment's): it rounds to nothing.
//   warning  a segment override no account gets: the model's own routes
//            send every account of that segment to another model, or the
//            model receives routed accounts only from other segments (and
//            is not the default model).
//   error    a route condition of the model's config.yaml that does not
//            compile (as when the repository loads).
//
// The analysis is sound in one direction: reachability is over-estimated
// (discrete steps are treated as ranges; correlations between signals are
// ignored), so a finding is always a real mistake, while some mistakes may
// go unreported.
//
// What lint knows of the repository (LintContext, and how to read it for a
// model file in place) is in lint_context.h.
//
// Thread-safety: free functions with no shared state.

#ifndef HEALTHSCORE_ENGINE_LINT_LINT_H_
#define HEALTHSCORE_ENGINE_LINT_LINT_H_

#include "engine/lint/lint_context.h"
#include "engine/model/compiled_model.h"
#include "engine/model/diagnostic.h"
#include "engine/model/model_spec.h"

namespace healthscore::engine::lint {

// The findings for `model`, compiled from `spec`, in file order.
model::DiagnosticList LintModel(const model::ModelSpec& spec,
                                const model::CompiledModel& model,
                                const LintContext& context);

}  // namespace healthscore::engine::lint

#endif  // HEALTHSCORE_ENGINE_LINT_LINT_H_
