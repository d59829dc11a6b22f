// RowOutcome: what one scored account comes to, decided once for every
// output.
//
// Every writer of a scored row (the CLI's JSON Lines and CSV renderers in
// engine/io/result_writer.h, the server's AccountResult in server/convert.h)
// reads a RowOutcome instead of walking Batch and BatchResult itself, so the
// decisions are made here and only here:
//   - a failed row has only its error text: the batch's row_error, or
//     "not scored" for a row the batch accepted but no scorer filled;
//   - the score is optional (no signal had data), groups without data are
//     left out, delta is optional (no previous score);
//   - matched playbooks come in priority order, each with whether it
//     succeeded, whether it has a success condition at all, and its reason
//     (PlaybookReason: the condition text, then the values it read, kept
//     apart);
//   - tier_changed and tier_held are shown when the snapshot carried a
//     previous tier (or either is true);
//   - the warnings are the row's values used as missing, then its values
//     out of range (RangeWarningText): one text everywhere;
//   - with explain, the per-signal Explanation (ExplainInto).
//
// Built for the hot path: FillRowOutcome clears and refills the outcome's
// strings and vectors, so an outcome reused across rows allocates nothing
// once it has grown to the largest row. Formats render from it; none of
// them re-derives a decision.
//
// Thread-safety: a RowOutcome is used by one thread at a time; fill one per
// thread. It refers to the batch and result it was filled from (id, error
// and tier texts are views): refill it before they change or go away.

#ifndef HEALTHSCORE_ENGINE_EVAL_OUTCOME_H_
#define HEALTHSCORE_ENGINE_EVAL_OUTCOME_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "engine/common/number_format.h"
#include "engine/common/text_buffer.h"
#include "engine/eval/batch.h"
#include "engine/eval/explain.h"
#include "engine/eval/result.h"

namespace healthscore::engine::eval {

// What a row outcome holds beyond the always-present fields.
struct OutcomeOptions {
  // How numbers in the texts (reasons, warnings, tier rule) are written.
  common::NumberFormat numbers;
  // Fill PlaybookOutcome::reason. Off for outputs that do not show reasons
  // (CSV, a request with omit_reasons): the reasons are then empty.
  bool reasons = true;
  // Fill the explanation.
  bool explain = false;
  // The most top drivers the explanation lists.
  int top_drivers = kDefaultTopDrivers;
  // Names whose values the outcome must not show (the server's decision
  // log mask): input ids, derived ids, as_of, previous_score,
  // previous_tier. In reasons their values are written kMaskedValue; a
  // warning or a failed row's error that names one ("metrics.nps: ...")
  // keeps the text up to the name and shows ": [masked]" instead of the
  // rest (which may hold the value); delta, which gives previous_score away, is left out when
  // previous_score is masked, and tier_changed/tier_held when
  // previous_tier is. Not applied to the explanation (the decision log
  // writes none). Null: nothing is masked. Must outlive the fill.
  const std::vector<std::string>* masked = nullptr;
};

// The text a failed row carries: the batch's error for a row it rejected,
// "not scored" for a row it accepted that has no result.
std::string_view RowErrorText(const Batch& batch, size_t row);

// A list that keeps its elements' storage when cleared: Add() hands back a
// slot that may hold an earlier row's values, which the filler overwrites.
template <typename T>
class ReusedList {
 public:
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const T& operator[](size_t i) const { return items_[i]; }
  T& operator[](size_t i) { return items_[i]; }
  const T* begin() const { return items_.data(); }
  const T* end() const { return items_.data() + size_; }

  void Clear() { size_ = 0; }
  T* Add() {
    if (size_ == items_.size()) items_.emplace_back();
    return &items_[size_++];
  }

 private:
  std::vector<T> items_;
  size_t size_ = 0;
};

struct GroupOutcome {
  int group = -1;    // index into model().groups()
  double score = 0;  // never NaN: groups without data are left out
};

struct PlaybookOutcome {
  int playbook = -1;         // index into model().playbooks()
  bool succeeded = false;    // its success condition holds (false if none)
  bool has_success = false;  // it has a success condition
  // With OutcomeOptions::reasons, the values part of the reason
  // (AppendPlaybookReasonValues): the reason, PlaybookReason, is the
  // playbook's `when` text followed by these, which Reason() joins. Apart,
  // a writer can keep the condition text escaped once per model and append
  // only the values per row. Empty without reasons. A view of the
  // RowOutcome's own text: valid until it is filled again.
  std::string_view reason_values;

  // The reason (PlaybookReason) for `model`, the outcome's model.
  std::string Reason(const model::CompiledModel& model) const {
    std::string reason = model.playbooks()[playbook].when;
    reason.append(reason_values.data(), reason_values.size());
    return reason;
  }
};

class RowOutcome {
 public:
  RowOutcome() = default;
  RowOutcome(const RowOutcome&) = delete;
  RowOutcome& operator=(const RowOutcome&) = delete;

  const model::CompiledModel& model() const { return *model_; }
  std::string_view id() const { return id_; }
  bool ok() const { return ok_; }
  // RowErrorText when !ok(), empty otherwise. A failed row has nothing else.
  std::string_view error() const { return error_; }

  bool has_score() const { return has_score_; }
  double score() const { return score_; }  // when has_score()
  // Index into model().tiers(), or kInsufficientDataTier; and its id.
  int tier() const { return tier_; }
  std::string_view tier_id() const { return tier_id_; }
  double coverage() const { return coverage_; }

  // Groups with a score, in model order.
  const ReusedList<GroupOutcome>& groups() const { return groups_; }
  // Matched playbooks in priority order.
  const ReusedList<PlaybookOutcome>& playbooks() const { return playbooks_; }
  // Whether the playbooks carry their reasons (OutcomeOptions::reasons).
  bool has_reasons() const { return has_reasons_; }

  bool has_delta() const { return has_delta_; }
  double delta() const { return delta_; }  // when has_delta()

  // Whether an output shows tier_changed and tier_held: the snapshot
  // carried a previous tier (or either is true).
  bool show_tier_change() const { return show_tier_change_; }
  bool tier_changed() const { return tier_changed_; }
  bool tier_held() const { return tier_held_; }

  // Values used as missing, then values out of range.
  const ReusedList<std::string>& warnings() const { return warnings_; }

  // With OutcomeOptions::explain on an ok row, the explanation (its
  // `warnings` left empty: they are warnings()); null otherwise.
  const Explanation* explanation() const {
    return has_explanation_ ? &explanation_ : nullptr;
  }

 private:
  friend void FillRowOutcome(const Batch& batch, const BatchResult& result,
                             size_t row, const OutcomeOptions& options,
                             RowOutcome* out);

  const model::CompiledModel* model_ = nullptr;
  std::string_view id_;
  bool ok_ = false;
  std::string_view error_;
  bool has_score_ = false;
  double score_ = 0;
  int tier_ = model::kInsufficientDataTier;
  std::string_view tier_id_;
  double coverage_ = 0;
  ReusedList<GroupOutcome> groups_;
  ReusedList<PlaybookOutcome> playbooks_;
  bool has_reasons_ = false;
  bool has_delta_ = false;
  double delta_ = 0;
  bool show_tier_change_ = false;
  bool tier_changed_ = false;
  bool tier_held_ = false;
  ReusedList<std::string> warnings_;
  std::string masked_error_;  // error_'s text when masking changed it
  bool has_explanation_ = false;
  Explanation explanation_;
  std::vector<double> group_weights_;  // ExplainInto's scratch
  // The reason values of every playbook of the row, one after the other
  // (each PlaybookOutcome views its part), written in pieces without a
  // library call per piece (text_buffer.h), and where each part ends.
  common::TextBuffer reason_text_;
  std::vector<size_t> reason_ends_;
};

// Fills `out` with row `row` of a scored batch (`result` scores `batch`).
// Everything `out` held before is replaced.
void FillRowOutcome(const Batch& batch, const BatchResult& result, size_t row,
                    const OutcomeOptions& options, RowOutcome* out);

// The fields of RowOutcome that are one number each, for outputs that keep
// columns (the Python package's result arrays): FillOutcomeColumns writes
// them for a range of rows at once, with RowOutcome's decisions, instead of
// filling a RowOutcome per row. A writer then fills a RowOutcome only for
// the rows that have texts to show (a failed row, warnings, explain).
//
// Row k of the range goes to index at[k] of every column (k when `at` is
// null). A null column is not written.
struct OutcomeColumns {
  const uint32_t* at = nullptr;
  uint8_t* ok = nullptr;
  // NaN where RowOutcome has none (no score, no delta) and for failed rows.
  double* score = nullptr;
  double* coverage = nullptr;
  double* delta = nullptr;
  // RowOutcome::tier(): kInsufficientDataTier for failed rows.
  int32_t* tier = nullptr;
  // 1 or 0, or -1 where !show_tier_change() (and for failed rows).
  int8_t* tier_changed = nullptr;
  int8_t* tier_held = nullptr;
  // Group g at groups[g * group_stride + index]; NaN for a group without
  // data (the groups RowOutcome leaves out) and for failed rows.
  double* groups = nullptr;
  size_t group_stride = 0;
  // Bit p set when playbook p matched (playbooks() lists them by p);
  // only for models with at most 64 playbooks. 0 for failed rows.
  uint64_t* playbooks = nullptr;
  // warnings().size(): 0 for failed rows.
  uint32_t* warnings = nullptr;
};

// Writes rows [begin, end) of a scored batch into `out` (see
// OutcomeColumns): what FillRowOutcome with `options` gives those rows.
// Fails (writing nothing) when `out.playbooks` is set and the model has
// more than 64 playbooks.
absl::Status FillOutcomeColumns(const Batch& batch, const BatchResult& result,
                                size_t begin, size_t end,
                                const OutcomeOptions& options,
                                const OutcomeColumns& out);

}  // namespace healthscore::engine::eval

#endif  // HEALTHSCORE_ENGINE_EVAL_OUTCOME_H_
