// BatchResult: the scores of one Batch, stored by column.
//
// Filled by Scorer::Score. Per account (row, in batch order): a status, the
// 0-100 score, coverage, tier, group scores, every signal's raw value and
// normalised score, every derived value, which playbooks matched (in
// priority order) and whether their success condition holds, and the change
// against the previous score. Reasons and explanations are formatted on
// demand from these columns (explain.h), never on the scoring path.
//
// Thread-safety: not synchronised; scoring writes disjoint rows from several
// threads; read it after Score returns.

#ifndef HEALTHSCORE_ENGINE_EVAL_RESULT_H_
#define HEALTHSCORE_ENGINE_EVAL_RESULT_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

#include "engine/model/compiled_model.h"

namespace healthscore::engine::eval {

class BatchResult {
 public:
  BatchResult() = default;

  size_t size() const { return size_; }
  const model::CompiledModel& model() const { return *model_; }
  const std::shared_ptr<const model::CompiledModel>& model_ptr() const {
    return model_;
  }

  // False for an account the batch rejected (see Batch::row_error); such a
  // row has no score, tier or playbooks.
  bool ok(size_t row) const { return ok_[row] != 0; }

  // NaN when no signal had data.
  double score(size_t row) const { return score_.At(row); }
  bool has_score(size_t row) const { return score_.valid[row] != 0; }
  double coverage(size_t row) const { return coverage_.At(row); }
  // Index into model().tiers(), or kInsufficientDataTier.
  int tier(size_t row) const { return tier_[row]; }
  // The tier the score alone gives, before hysteresis.
  int tier_by_score(size_t row) const { return tier_by_score_[row]; }

  // NaN when the group had no present signal.
  double group_score(size_t row, int group) const {
    return group_score_.At(group * size_ + row);
  }
  // Whether the signals' and derived values below were kept
  // (ScoreOptions::signal_values); without them each reads as NaN.
  bool has_signal_values() const { return signal_values_; }
  // NaN when missing.
  double signal_raw(size_t row, int signal) const {
    return signal_values_ ? signal_raw_.At(signal * size_ + row) : kNaN;
  }
  double signal_score(size_t row, int signal) const {
    return signal_values_ ? signal_score_.At(signal * size_ + row) : kNaN;
  }
  // Derived values: numbers as is, booleans as 0/1; NaN when missing.
  double derived(size_t row, int derived) const {
    return signal_values_ ? derived_.At(derived * size_ + row) : kNaN;
  }

  bool playbook_matched(size_t row, int playbook) const {
    return matched_[playbook * size_ + row] != 0;
  }
  bool playbook_succeeded(size_t row, int playbook) const {
    return succeeded_[playbook * size_ + row] != 0;
  }
  // Number of matched playbooks for the row.
  int matched_count(size_t row) const { return matched_count_[row]; }

  // score - previous score; NaN when either is missing.
  double delta(size_t row) const { return delta_.At(row); }
  // True when the snapshot carried a previous tier and it differs.
  bool tier_changed(size_t row) const { return tier_changed_[row] != 0; }
  // True when hysteresis kept the previous tier.
  bool tier_held(size_t row) const { return tier_held_[row] != 0; }

  // Counts per tier (index tier+1, so insufficient_data is [0]) over ok rows.
  std::vector<size_t> TierCounts() const;

  // The columns behind the accessors above, for readers of many rows at
  // once (FillOutcomeColumns): row r of a per-row column is at [r], of
  // column k of a many-column one (groups, playbooks) at [k * size() + r].
  // A number's value is meaningful only where its validity byte is 1. The
  // pointers stay valid until the result is scored again.
  struct Numbers {
    const double* value;
    const uint8_t* valid;
  };
  struct Columns {
    const uint8_t* ok;
    Numbers score, coverage, delta, group_score;
    const int32_t* tier;
    const uint8_t* tier_changed;
    const uint8_t* tier_held;
    const uint8_t* matched;
  };
  Columns columns() const {
    auto numbers = [](const NumberColumn& c) {
      return Numbers{c.value.data(), c.valid.data()};
    };
    return {ok_.data(),          numbers(score_),
            numbers(coverage_),  numbers(delta_),
            numbers(group_score_), tier_.data(),
            tier_changed_.data(), tier_held_.data(),
            matched_.data()};
  }

 private:
  friend class Scorer;
  static constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  void Resize(std::shared_ptr<const model::CompiledModel> model, size_t n,
              bool signal_values);

  // Numbers with a validity byte each, copied as they come out of the
  // scoring program (two block copies, no per-value select).
  struct NumberColumn {
    std::vector<double> value;
    std::vector<uint8_t> valid;
    double At(size_t i) const {
      return valid[i] ? value[i] : std::numeric_limits<double>::quiet_NaN();
    }
    void Resize(size_t n) {
      value.resize(n);
      valid.resize(n);
    }
  };

  std::shared_ptr<const model::CompiledModel> model_;
  size_t size_ = 0;
  bool signal_values_ = true;
  std::vector<uint8_t> ok_;
  NumberColumn score_, coverage_, delta_;
  std::vector<int32_t> tier_, tier_by_score_;
  std::vector<uint8_t> tier_changed_, tier_held_;
  NumberColumn group_score_, signal_raw_, signal_score_, derived_;
  std::vector<uint8_t> matched_, succeeded_;
  std::vector<int32_t> matched_count_;
};

}  // namespace healthscore::engine::eval

#endif  // HEALTHSCORE_ENGINE_EVAL_RESULT_H_
