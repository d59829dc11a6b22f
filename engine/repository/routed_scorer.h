// Routed results: a request's accounts, each scored by the model its
// segment routes it to (engine::ScoreTable, score_table.h).
//
// The requested model's router (engine/routing/routing.h) decides per
// account, before any scoring, which model scores it. The accounts are then split into one
// Batch per model, in request order within each, every part is scored with
// its model, and the caller reads the results back in request order, each
// stamped with the model (name, version, hash) that scored it. Without
// routes, or when no account is routed, there is one part: routing costs
// nothing for models that do not use it.
//
// Thread-safety: plain data; not synchronised.

#ifndef HEALTHSCORE_ENGINE_REPOSITORY_ROUTED_SCORER_H_
#define HEALTHSCORE_ENGINE_REPOSITORY_ROUTED_SCORER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "engine/eval/batch.h"
#include "engine/eval/result.h"
#include "engine/model/compiled_model.h"
#include "engine/repository/model_set.h"

namespace healthscore::engine::repository {

// The accounts one model scored.
struct RoutedPart {
  // The model that scored these accounts.
  ModelRef model;
  // The route that sent them (index into the requested model's router), or
  // -1 for the accounts that stayed with the requested model.
  int route = -1;
  // Request indices of the accounts this model scored, ascending.
  std::vector<uint32_t> rows;
  // The part's batch. For a routed-to model it holds exactly `rows` (row k
  // is request index rows[k]). The requested model's batch is the one
  // built to decide the routes. When routes took a good share of the
  // accounts (and there is no shadow candidate, whose comparison needs the
  // requested model on every account) it then keeps only `rows`, as a
  // routed-to batch does; otherwise it holds every account of the request
  // (row i is request index i) and is scored whole, because scoring the
  // few accounts routed away costs less than gathering the ones that stay.
  // A whole batch's rows not in `rows` are not results.
  std::unique_ptr<eval::Batch> batch;
  eval::BatchResult result;
  // True for such a whole batch.
  bool whole = false;
  // Over `rows`: accounts per tier as BatchResult::TierCounts ([0]
  // insufficient_data, [t + 1] tier t of `model`), accounts that failed,
  // and values used as missing in accounts that did not fail.
  std::vector<uint64_t> tier_counts;
  uint64_t failed = 0;
  uint64_t dropped_values = 0;

  // The batch row holding request index rows[k].
  size_t batch_row(size_t k) const { return whole ? rows[k] : k; }
};

struct RoutedResult {
  // parts[0] is the requested model when any account stayed with it.
  std::vector<RoutedPart> parts;
  // Per request index: {part, row in that part's batch}.
  std::vector<std::pair<uint32_t, uint32_t>> where;

  // Values given for names the model that scored their account does not
  // declare.
  uint64_t ignored_fields = 0;

  size_t size() const { return where.size(); }
  const RoutedPart& part(size_t i) const { return parts[where[i].first]; }
  size_t row(size_t i) const { return where[i].second; }
};

}  // namespace healthscore::engine::repository

#endif  // HEALTHSCORE_ENGINE_REPOSITORY_ROUTED_SCORER_H_
