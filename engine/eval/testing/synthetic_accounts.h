// Synthetic account snapshots for benchmarks and tests, generated from a
// model's own input declarations (so any model can be used) with a fixed
// seed.

#ifndef HEALTHSCORE_ENGINE_EVAL_TESTING_SYNTHETIC_ACCOUNTS_H_
#define HEALTHSCORE_ENGINE_EVAL_TESTING_SYNTHETIC_ACCOUNTS_H_

#include <random>
#include <string>
#include <vector>

#include "engine/eval/batch.h"

namespace healthscore::engine::eval::testing {

// Appends `n` accounts to `batch`: numbers uniform over their declared range
// (0..100 without one), strings from their declared values, dates within a
// year of the as-of date, 12-point series; about 5% of values missing.
inline void AddSyntheticAccounts(engine::eval::Batch* batch, size_t n,
                                 uint32_t seed = 42) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  const engine::model::CompiledModel& m = batch->model();
  engine::eval::BatchBuilder b(batch);
  std::vector<double> series(12);
  std::string id;
  for (size_t i = 0; i < n; ++i) {
    id = "acct-" + std::to_string(i);
    b.BeginRow(id);
    b.SetAsOf("2026-11-01");
    for (size_t k = 0; k < m.inputs().size(); ++k) {
      const engine::model::InputInfo& in = m.inputs()[k];
      if (unit(rng) < 0.05) continue;  // missing
      const double lo = in.range_min.value_or(0);
      double hi = in.range_max.value_or(100);
      if (hi - lo > 1000) hi = lo + 1000;
      switch (in.type) {
        case engine::model::InputType::kNumber:
          b.SetNumberAt(static_cast<int>(k), lo + unit(rng) * (hi - lo));
          break;
        case engine::model::InputType::kString:
          if (!in.values.empty()) {
            b.SetStringAt(static_cast<int>(k),
                          in.values[rng() % in.values.size()]);
          }
          break;
        case engine::model::InputType::kDate:
          // 2026-11-01 is day 20393.
          b.SetDateDaysAt(static_cast<int>(k),
                          20393 + (unit(rng) - 0.5) * 730);
          break;
        case engine::model::InputType::kSeries:
          for (double& v : series) v = 50 + unit(rng) * 100;
          b.SetSeriesAt(static_cast<int>(k), series.data(), series.size());
          break;
      }
    }
    if (unit(rng) < 0.5) {
      b.SetPreviousScore(unit(rng) * 100);
      b.SetPreviousTier(m.tiers()[rng() % m.tiers().size()].id);
    }
    b.EndRow();
  }
}

}  // namespace healthscore::engine::eval::testing

#endif  // HEALTHSCORE_ENGINE_EVAL_TESTING_SYNTHETIC_ACCOUNTS_H_
