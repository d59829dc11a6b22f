#include "engine/eval/scorer.h"

#include <algorithm>
#include <limits>

#include "engine/expr/program.h"
#include "engine/model/internal/plan.h"

namespace healthscore::engine {

namespace {

using expr::Operand;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

// Scores rows [begin, end) chunk by chunk on the calling thread.
void Scorer::ScoreRange(const Batch& batch, size_t begin, size_t end,
                        BatchResult* result) {
  BatchResult& r = *result;
  double* out_score = r.score_.data();
  double* out_cov = r.coverage_.data();
  double* out_delta = r.delta_.data();
  int32_t* out_tier = r.tier_.data();
  int32_t* out_by_score = r.tier_by_score_.data();
  uint8_t* out_changed = r.tier_changed_.data();
  uint8_t* out_held = r.tier_held_.data();
  uint8_t* out_ok = r.ok_.data();
  double* groups = r.group_score_.data();
  double* raw = r.signal_raw_.data();
  double* norm = r.signal_score_.data();
  double* weight = r.signal_weight_.data();
  double* derived = r.derived_.data();
  uint8_t* matched = r.matched_.data();
  uint8_t* succeeded = r.succeeded_.data();
  int32_t* matched_count = r.matched_count_.data();
  const CompiledModel& model = batch.model();
  const internal::ModelPlan& plan = model.plan();
  const expr::Program& program = *plan.program;
  const size_t n = batch.size();

  // Per-thread state, reused across calls: no allocation once warm.
  thread_local expr::Scratch scratch;
  thread_local expr::SlotView slots;
  slots.num.assign(plan.slot_count, nullptr);
  slots.num_valid.assign(plan.slot_count, nullptr);
  slots.str.assign(plan.slot_count, nullptr);
  slots.series.assign(plan.slot_count, {});

  const int32_t insufficient = static_cast<int32_t>(model.tiers().size());
  const size_t groups_n = model.groups().size();
  const size_t signals_n = model.signals().size();
  const size_t derived_n = model.derived().size();
  const size_t playbooks_n = model.playbooks().size();
  const bool per_segment_weight = plan.signal_weight.size() > 1;
  const int32_t* segment =
      plan.segment_column >= 0 ? batch.string_codes(plan.segment_column)
                               : nullptr;

  for (size_t start = begin; start < end; start += expr::kChunkRows) {
    const size_t len = std::min<size_t>(expr::kChunkRows, end - start);
    for (size_t c = 0; c < plan.number_slot.size(); ++c) {
      slots.num[plan.number_slot[c]] = batch.number(c) + start;
      slots.num_valid[plan.number_slot[c]] = batch.number_valid(c) + start;
    }
    for (size_t c = 0; c < plan.string_slot.size(); ++c) {
      slots.str[plan.string_slot[c]] = batch.string_codes(c) + start;
    }
    for (size_t c = 0; c < plan.series_slot.size(); ++c) {
      slots.series[plan.series_slot[c]] = {batch.series_values(c),
                                           batch.series_offsets(c) + start,
                                           batch.series_valid(c) + start};
    }
    slots.num[plan.as_of_slot] = batch.as_of() + start;
    slots.num_valid[plan.as_of_slot] = batch.as_of_valid() + start;
    slots.num[plan.previous_score_slot] = batch.previous_score() + start;
    slots.num_valid[plan.previous_score_slot] =
        batch.previous_score_valid() + start;
    slots.str[plan.previous_tier_slot] = batch.previous_tier() + start;

    program.Run(slots, len, &scratch);

    auto copy_num = [&](Operand op, double* out) {
      const double* v = program.Num(op, slots, scratch);
      const uint8_t* ok = program.NumValid(op, slots, scratch);
      for (size_t i = 0; i < len; ++i) out[start + i] = ok[i] ? v[i] : kNaN;
    };
    copy_num(plan.score, out_score);
    copy_num(plan.coverage, out_cov);
    copy_num(plan.delta, out_delta);
    {
      const int32_t* t = program.Str(plan.tier.tier, slots, scratch);
      const int32_t* bs = program.Str(plan.tier.by_score, slots, scratch);
      const uint8_t* held = program.Bool(plan.tier.held, scratch);
      const uint8_t* changed = program.Bool(plan.tier_changed, scratch);
      for (size_t i = 0; i < len; ++i) {
        const size_t r = start + i;
        out_ok[r] = batch.row_ok(r) ? 1 : 0;
        out_tier[r] = t[i] == insufficient ? kInsufficientDataTier : t[i];
        out_by_score[r] = bs[i] == insufficient ? kInsufficientDataTier : bs[i];
        out_held[r] = held[i];
        out_changed[r] = changed[i];
      }
    }
    for (size_t g = 0; g < groups_n; ++g) {
      copy_num(plan.group_score[g], groups + g * n);
    }
    for (size_t s = 0; s < signals_n; ++s) {
      copy_num(plan.signal_raw[s], raw + s * n);
      copy_num(plan.signal_score[s], norm + s * n);
      double* w = weight + s * n + start;
      if (per_segment_weight) {
        for (size_t i = 0; i < len; ++i) {
          w[i] = plan.signal_weight[expr::SegmentIndex(segment[start + i])][s];
        }
      } else {
        std::fill_n(w, len, plan.signal_weight[0][s]);
      }
    }
    for (size_t d = 0; d < derived_n; ++d) {
      if (model.derived()[d].is_bool) {
        const uint8_t* b = program.Bool(plan.derived[d], scratch);
        for (size_t i = 0; i < len; ++i) derived[d * n + start + i] = b[i];
      } else {
        copy_num(plan.derived[d], derived + d * n);
      }
    }
    std::fill_n(matched_count + start, len, 0);
    for (size_t p = 0; p < playbooks_n; ++p) {
      const uint8_t* m = program.Bool(plan.playbook_matched[p], scratch);
      uint8_t* out = matched + p * n + start;
      for (size_t i = 0; i < len; ++i) {
        out[i] = m[i] & out_ok[start + i];
        matched_count[start + i] += out[i];
      }
      uint8_t* sout = succeeded + p * n + start;
      if (plan.playbook_success[p].kind == Operand::Kind::kNone) {
        std::fill_n(sout, len, 0);
      } else {
        const uint8_t* s = program.Bool(plan.playbook_success[p], scratch);
        for (size_t i = 0; i < len; ++i) sout[i] = s[i] & out_ok[start + i];
      }
    }
  }
}

absl::Status Scorer::Score(const Batch& batch, BatchResult* result,
                           WorkerPool* pool, const ScoreOptions& options) {
  if (result == nullptr) {
    return absl::InvalidArgumentError("Score needs a result to fill");
  }
  const size_t n = batch.size();
  result->Resize(batch.model_ptr(), n);
  if (n == 0) return absl::OkStatus();
  auto run = [&](size_t begin, size_t end) {
    ScoreRange(batch, begin, end, result);
  };
  // Task boundaries fall on chunk boundaries, so every row is computed the
  // same way whatever the thread count.
  size_t per_task = std::max<size_t>(options.rows_per_task, expr::kChunkRows);
  per_task = (per_task + expr::kChunkRows - 1) / expr::kChunkRows *
             expr::kChunkRows;
  if (pool == nullptr || pool->threads() == 0 || n <= per_task) {
    run(0, n);
    return absl::OkStatus();
  }
  const size_t tasks = (n + per_task - 1) / per_task;
  pool->ParallelFor(tasks, [&](size_t t) {
    run(t * per_task, std::min(n, (t + 1) * per_task));
  });
  return absl::OkStatus();
}

}  // namespace healthscore::engine
