#include "engine/eval/outcome.h"

#include <cmath>

namespace healthscore::engine::eval {

std::string_view RowErrorText(const Batch& batch, size_t row) {
  return batch.row_ok(row) ? std::string_view("not scored")
                           : std::string_view(batch.row_error(row));
}

void FillRowOutcome(const Batch& batch, const BatchResult& result, size_t row,
                    const OutcomeOptions& options, RowOutcome* out) {
  const model::CompiledModel& model = result.model();
  out->model_ = &model;
  out->id_ = batch.id(row);
  out->ok_ = result.ok(row);
  out->groups_.Clear();
  out->playbooks_.Clear();
  out->warnings_.Clear();
  out->has_explanation_ = false;
  out->has_reasons_ = options.reasons;
  if (!out->ok_) {
    // The error says it all: no score, tier, playbooks or warnings.
    out->error_ = RowErrorText(batch, row);
    out->has_score_ = false;
    out->score_ = 0;
    out->tier_ = model::kInsufficientDataTier;
    out->tier_id_ = std::string_view();
    out->coverage_ = 0;
    out->has_delta_ = false;
    out->delta_ = 0;
    out->show_tier_change_ = out->tier_changed_ = out->tier_held_ = false;
    return;
  }
  out->error_ = std::string_view();
  out->has_score_ = result.has_score(row);
  out->score_ = out->has_score_ ? result.score(row) : 0;
  out->tier_ = result.tier(row);
  out->tier_id_ = model.TierId(out->tier_);
  out->coverage_ = result.coverage(row);

  const int groups = static_cast<int>(model.groups().size());
  for (int g = 0; g < groups; ++g) {
    const double score = result.group_score(row, g);
    if (std::isnan(score)) continue;
    GroupOutcome* o = out->groups_.Add();
    o->group = g;
    o->score = score;
  }

  if (result.matched_count(row) > 0) {
    // playbooks() is in priority order, so index order is priority order.
    const std::vector<model::PlaybookInfo>& playbooks = model.playbooks();
    const int count = static_cast<int>(playbooks.size());
    for (int p = 0; p < count; ++p) {
      if (!result.playbook_matched(row, p)) continue;
      PlaybookOutcome* o = out->playbooks_.Add();
      o->playbook = p;
      o->succeeded = result.playbook_succeeded(row, p);
      o->has_success = !playbooks[p].success.empty();
      o->reason_values.clear();
      if (options.reasons) {
        AppendPlaybookReasonValues(batch, result, row, p, options.numbers,
                                   &o->reason_values);
      }
    }
  }

  const double delta = result.delta(row);
  out->has_delta_ = !std::isnan(delta);
  out->delta_ = out->has_delta_ ? delta : 0;

  // Hysteresis and a change both need a previous tier, so the last two
  // terms only guard a batch filled without one.
  out->tier_changed_ = result.tier_changed(row);
  out->tier_held_ = result.tier_held(row);
  out->show_tier_change_ =
      batch.previous_tier()[row] != model::kMissingString ||
      out->tier_changed_ || out->tier_held_;

  // Values used as missing first: they change the score; a range warning
  // does not.
  const RowWarningRange w = RowWarningsOf(batch, row);
  for (auto it = w.values_begin; it != w.values_end; ++it) {
    std::string* text = out->warnings_.Add();
    text->assign(it->text);
  }
  for (auto it = w.ranges_begin; it != w.ranges_end; ++it) {
    std::string* text = out->warnings_.Add();
    text->clear();
    AppendRangeWarningText(batch.model(), *it, options.numbers, text);
  }

  if (options.explain) {
    ExplainInto(batch, result, row, options.top_drivers, options.numbers,
                &out->explanation_, &out->group_weights_);
    out->has_explanation_ = true;
  }
}

}  // namespace healthscore::engine::eval
