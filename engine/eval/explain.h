// Reasons and explanations, formatted from a scored batch on demand.
//
// Nothing here runs on the scoring path: these functions allocate and format
// strings, and are called only for the rows and playbooks a caller outputs.
// Numbers in the texts are written as `format` says (number_format.h): by
// default the shortest text that reads back to the same double, so a value
// quoted in a reason, a warning or a tier rule is the engine's value exactly.
//
// Thread-safety: pure functions over const inputs.

#ifndef HEALTHSCORE_ENGINE_EVAL_EXPLAIN_H_
#define HEALTHSCORE_ENGINE_EVAL_EXPLAIN_H_

#include <string>
#include <vector>

#include "engine/common/number_format.h"
#include "engine/eval/batch.h"
#include "engine/eval/result.h"

namespace healthscore::engine {

// Why playbook `playbook` fired for `row`: its condition text and the values
// the condition read, e.g. `tier == "red" && score_delta < -10  [tier="red",
// score_delta=-12.5]`.
std::string PlaybookReason(const Batch& batch, const BatchResult& result,
                           size_t row, int playbook,
                           NumberFormat format = NumberFormat());

// Indices into model().playbooks() of the playbooks that matched `row`, in
// priority order.
std::vector<int> MatchedPlaybooks(const BatchResult& result, size_t row);

struct SignalExplanation {
  int signal = -1;        // index into model().signals()
  bool present = false;
  double raw = 0;         // the source value (NaN when missing)
  double score = 0;       // normalised 0-100
  double weight = 0;      // weight used (after segment overrides)
  double effective_weight = 0;  // share of the overall score, renormalised
  double points = 0;      // score * effective_weight
  double points_lost = 0; // (100 - score) * effective_weight
};

struct Explanation {
  std::vector<SignalExplanation> signals;  // model order
  std::vector<int> top_drivers;     // signals losing the most points
  std::vector<int> missing_signals;
  std::vector<std::string> warnings;  // e.g. values outside expected range
  // Which tier boundary applied, e.g. "yellow: 50 <= score < 80", plus a
  // note when hysteresis held the previous tier.
  std::string tier_rule;
};

// The weight signal `signal` has for `row`, after segment overrides.
double SignalWeight(const Batch& batch, size_t row, int signal);

// The text of one range warning of a batch of `model`, e.g. "dau_mau = 1.7
// is outside the expected range [0, 1]". The one rendering of a range
// warning: the CLI, explanations and the server all write this text.
std::string RangeWarningText(const CompiledModel& model,
                             const RangeWarning& warning,
                             NumberFormat format = NumberFormat());

// Warnings about the row's inputs: the values used as missing
// (Batch::value_warnings()) first, then RangeWarningText of each value
// outside its input's range.
std::vector<std::string> RowWarnings(const Batch& batch, size_t row,
                                     NumberFormat format = NumberFormat());

// How many top drivers an explanation lists when the caller does not say
// (`healthscore score --top-drivers`, ScoreOptions.top_drivers = 0), and the
// most a caller may ask for.
inline constexpr int kDefaultTopDrivers = 3;
inline constexpr int kMaxTopDrivers = 1000;

// The per-signal breakdown of `row`. `top_drivers` caps the driver list.
// The numbers of the result are doubles; `format` applies to the texts
// (warnings, tier_rule).
Explanation Explain(const Batch& batch, const BatchResult& result, size_t row,
                    int top_drivers, NumberFormat format = NumberFormat());

}  // namespace healthscore::engine

#endif  // HEALTHSCORE_ENGINE_EVAL_EXPLAIN_H_
