// Reasons and explanations, formatted from a scored batch on demand.
//
// Nothing here runs on the scoring path: these functions format strings,
// and are called only for the rows and playbooks a caller outputs. The
// Append and Into variants write into the caller's strings and vectors, so
// a caller that reuses them (RowOutcome, outcome.h) allocates nothing per
// row once they have grown; the others return fresh values.
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

namespace healthscore::engine::eval {

// Why playbook `playbook` fired for `row`: its condition text and the values
// the condition read, e.g. `tier == "red" && score_delta < -10  [tier="red",
// score_delta=-12.5]`.
std::string PlaybookReason(
    const Batch& batch, const BatchResult& result, size_t row, int playbook,
    common::NumberFormat format = common::NumberFormat());
// As PlaybookReason, appended to `out`.
void AppendPlaybookReason(const Batch& batch, const BatchResult& result,
                          size_t row, int playbook, common::NumberFormat format,
                          std::string* out);
// What a masked value is written as (OutcomeOptions::masked in outcome.h,
// and the decision records of engine/io/result_writer.h).
inline constexpr char kMaskedValue[] = "[masked]";

// Appends the part of the reason after the condition text: "  [name=value,
// ...]", or nothing when the condition reads no value. Names are
// identifiers; a string value is written between double quotes as is.
// A name listed in `masked` (when not null) is written name=[masked]
// (OutcomeOptions::masked).
void AppendPlaybookReasonValues(
    const Batch& batch, const BatchResult& result, size_t row, int playbook,
    common::NumberFormat format, std::string* out,
    const std::vector<std::string>* masked = nullptr);
// The same, into a TextBuffer (for writers of many rows: text_buffer.h).
void AppendPlaybookReasonValues(
    const Batch& batch, const BatchResult& result, size_t row, int playbook,
    common::NumberFormat format, common::TextBuffer* out,
    const std::vector<std::string>* masked = nullptr);

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
std::string RangeWarningText(
    const model::CompiledModel& model, const RangeWarning& warning,
    common::NumberFormat format = common::NumberFormat());
// As RangeWarningText, appended to `out`.
void AppendRangeWarningText(const model::CompiledModel& model,
                            const RangeWarning& warning,
                            common::NumberFormat format, std::string* out);

// The warnings of one row in a batch: [values_begin, values_end) of
// Batch::value_warnings() and [ranges_begin, ranges_end) of
// Batch::range_warnings(). Valid while the batch is unchanged.
struct RowWarningRange {
  std::vector<ValueWarning>::const_iterator values_begin, values_end;
  std::vector<RangeWarning>::const_iterator ranges_begin, ranges_end;
  bool empty() const {
    return values_begin == values_end && ranges_begin == ranges_end;
  }
};
RowWarningRange RowWarningsOf(const Batch& batch, size_t row);

// Warnings about the row's inputs: the values used as missing
// (Batch::value_warnings()) first, then RangeWarningText of each value
// outside its input's range.
std::vector<std::string> RowWarnings(
    const Batch& batch, size_t row,
    common::NumberFormat format = common::NumberFormat());

// How many top drivers an explanation lists when the caller does not say
// (`healthscore score --top-drivers`, ScoreOptions.top_drivers = 0), and the
// most a caller may ask for.
inline constexpr int kDefaultTopDrivers = 3;
inline constexpr int kMaxTopDrivers = 1000;

// The per-signal breakdown of `row`. `top_drivers` caps the driver list.
// The numbers of the result are doubles; `format` applies to the texts
// (warnings, tier_rule).
Explanation Explain(const Batch& batch, const BatchResult& result, size_t row,
                    int top_drivers,
                    common::NumberFormat format = common::NumberFormat());

// As Explain, into `out`, whose vectors and strings are cleared and
// refilled (keeping their capacity); `group_weights` is scratch. Leaves
// out->warnings empty: they are RowWarnings(batch, row, format), which a
// caller that also writes the row's warnings has already.
void ExplainInto(const Batch& batch, const BatchResult& result, size_t row,
                 int top_drivers, common::NumberFormat format, Explanation* out,
                 std::vector<double>* group_weights);

}  // namespace healthscore::engine::eval

#endif  // HEALTHSCORE_ENGINE_EVAL_EXPLAIN_H_
