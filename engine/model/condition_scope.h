// The one table of names a condition can read.
//
// A model's expressions read names of three origins: the author's inputs
// and derived values, and names the model itself defines (as_of,
// previous_score, score, tier, groups.<id>, signals.<id>, raw.<id>, ...).
// Which of them a condition may read depends on where it is written:
//
//   kDerived   derived expressions and signal sources run while scoring,
//              before the score exists: inputs, derived values, as_of,
//              previous_score, previous_tier.
//   kPlaybook  playbook `when` and `success` run after scoring: all of the
//              above and the model's outputs (score, tier, coverage,
//              score_delta, tier_changed, groups.*, signals.*, raw.*).
//   kRoute     route `when` (repository config.yaml) runs before scoring
//              and before the snapshot's as_of or previous score are
//              bound: the number, date and string inputs only.
//
// The compiler, the router and lint build their expr::Scope from this one
// table, so a name means the same thing (type, bounds) everywhere and is
// refused with the same reason where it is not available.
//
// Thread-safety: free functions with no shared state.

#ifndef HEALTHSCORE_ENGINE_MODEL_CONDITION_SCOPE_H_
#define HEALTHSCORE_ENGINE_MODEL_CONDITION_SCOPE_H_

#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "engine/expr/ast.h"
#include "engine/model/compiled_model.h"
#include "engine/model/model_spec.h"

namespace healthscore::engine::model {

enum class ConditionKind { kDerived, kPlaybook, kRoute };

// A name the model defines for expressions.
struct ModelName {
  enum class Kind {
    kAsOf,
    kPreviousScore,
    kPreviousTier,
    kScore,
    kTier,
    kCoverage,
    kScoreDelta,
    kTierChanged,
    kGroup,        // index: group
    kSignalScore,  // index: signal
    kSignalRaw,    // index: signal
  };
  std::string name;
  Kind kind = Kind::kScore;
  int index = -1;
  expr::Type type = expr::Type::kNumber;
  // The values the model guarantees (scores 0..100, coverage 0..1).
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool tier_valued = false;  // tier, previous_tier: values are tier ids
  bool output = false;       // known only once the account is scored
};

// The names `model` defines, in a fixed order: score, tier, coverage,
// as_of, previous_score, previous_tier, score_delta, tier_changed, then
// groups.<id> per group and signals.<id>, raw.<id> per signal of
// model.groups() and model.signals() (which may still be empty while the
// model is compiled).
std::vector<ModelName> ModelDefinedNames(const CompiledModel& model);

// Whether a condition of `kind` may read the model-defined `name`, an input
// of `type`, or a derived value.
bool CanRead(ConditionKind kind, const ModelName& name);
bool CanReadInput(ConditionKind kind, InputType type);
bool CanReadDerived(ConditionKind kind);

// The expression type of an input of `type`.
expr::Type InputSymbolType(InputType type);

// Why a condition of `kind` cannot read `name`, a name of `model` (an
// input, derived value or model-defined name) it may not read, e.g. "'score'
// is not known before scoring; a route may read the model's number, date
// and string inputs". Empty when it can, or when `model` has no such name.
std::string WhyUnreadable(ConditionKind kind, const CompiledModel& model,
                          std::string_view name);

// Whether an input or derived value may not be called `id` because the
// model defines it (or it is a keyword), and the hint that lists them.
bool IsReservedName(std::string_view id);
const std::string& ReservedNamesHint();

}  // namespace healthscore::engine::model

#endif  // HEALTHSCORE_ENGINE_MODEL_CONDITION_SCOPE_H_
