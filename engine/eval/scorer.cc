#include "engine/eval/scorer.h"

#include <algorithm>

#include "engine/expr/program.h"
#include "engine/model/model_plan.h"

namespace healthscore::engine::eval {

using expr::Operand;

// Scores rows [begin, end) chunk by chunk on the calling thread.
void Scorer::ScoreRange(const Batch& batch, size_t begin, size_t end,
                        bool signal_values, BatchResult* result) {
  BatchResult& r = *result;
  const model::CompiledModel& model = batch.model();
  const model::ModelPlan& plan = model.plan();
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
  const size_t signals_n = signal_values ? model.signals().size() : 0;
  const size_t derived_n = signal_values ? model.derived().size() : 0;
  const size_t playbooks_n = model.playbooks().size();

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

    // Column `k` of a result column holding one column per item.
    auto copy_num = [&](Operand op, BatchResult::NumberColumn* out,
                        size_t k) {
      std::copy_n(program.Num(op, slots, scratch), len,
                  out->value.data() + k * n + start);
      std::copy_n(program.NumValid(op, slots, scratch), len,
                  out->valid.data() + k * n + start);
    };
    copy_num(plan.score, &r.score_, 0);
    copy_num(plan.coverage, &r.coverage_, 0);
    copy_num(plan.delta, &r.delta_, 0);
    uint8_t* out_ok = r.ok_.data();
    {
      const int32_t* t = program.Str(plan.tier.tier, slots, scratch);
      const int32_t* bs = program.Str(plan.tier.by_score, slots, scratch);
      const uint8_t* held = program.Bool(plan.tier.held, scratch);
      const uint8_t* changed = program.Bool(plan.tier_changed, scratch);
      for (size_t i = 0; i < len; ++i) {
        const size_t row = start + i;
        out_ok[row] = batch.row_ok(row) ? 1 : 0;
        r.tier_[row] =
            t[i] == insufficient ? model::kInsufficientDataTier : t[i];
        r.tier_by_score_[row] =
            bs[i] == insufficient ? model::kInsufficientDataTier : bs[i];
      }
      std::copy_n(held, len, r.tier_held_.data() + start);
      std::copy_n(changed, len, r.tier_changed_.data() + start);
    }
    for (size_t g = 0; g < groups_n; ++g) {
      copy_num(plan.group_score[g], &r.group_score_, g);
    }
    for (size_t s = 0; s < signals_n; ++s) {
      copy_num(plan.signal_raw[s], &r.signal_raw_, s);
      copy_num(plan.signal_score[s], &r.signal_score_, s);
    }
    for (size_t d = 0; d < derived_n; ++d) {
      if (model.derived()[d].is_bool) {
        const uint8_t* b = program.Bool(plan.derived[d], scratch);
        double* v = r.derived_.value.data() + d * n + start;
        for (size_t i = 0; i < len; ++i) v[i] = b[i];
        std::fill_n(r.derived_.valid.data() + d * n + start, len, 1);
      } else {
        copy_num(plan.derived[d], &r.derived_, d);
      }
    }
    int32_t* matched_count = r.matched_count_.data();
    std::fill_n(matched_count + start, len, 0);
    for (size_t p = 0; p < playbooks_n; ++p) {
      const uint8_t* __restrict m =
          program.Bool(plan.playbook_matched[p], scratch);
      const uint8_t* __restrict ok = out_ok + start;
      uint8_t* __restrict out = r.matched_.data() + p * n + start;
      int32_t* __restrict count = matched_count + start;
      for (size_t i = 0; i < len; ++i) {
        out[i] = m[i] & ok[i];
        count[i] += out[i];
      }
      uint8_t* __restrict sout = r.succeeded_.data() + p * n + start;
      if (plan.playbook_success[p].kind == Operand::Kind::kNone) {
        std::fill_n(sout, len, 0);
      } else {
        const uint8_t* __restrict s =
            program.Bool(plan.playbook_success[p], scratch);
        for (size_t i = 0; i < len; ++i) sout[i] = s[i] & ok[i];
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
  result->Resize(batch.model_ptr(), n, options.signal_values);
  if (n == 0) return absl::OkStatus();
  auto run = [&](size_t begin, size_t end) {
    ScoreRange(batch, begin, end, options.signal_values, result);
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

}  // namespace healthscore::engine::eval
