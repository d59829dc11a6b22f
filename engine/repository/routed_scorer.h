// ScoreRouted: scores a request's accounts, each with the model its
// segment routes it to.
//
// The requested model's router (routing.h) decides per account, before any
// scoring, which model scores it. The accounts are then split into one
// Batch per model, in request order within each, every part is scored with
// its model, and the caller reads the results back in request order, each
// stamped with the model (name, version, hash) that scored it.
//
// Accounts reach the engine through an AccountFiller, so the same code
// serves the gRPC server (proto messages) and tools (files): a batch is
// model-specific (its columns are the model's inputs), so the filler is
// asked once for the requested model's batch (all accounts, to decide the
// routes; that batch is also what the requested model scores) and once
// more per other model that receives accounts. Without routes, or when no
// account is routed, that is a single fill and a single score: routing
// costs nothing for models that do not use it.
//
// Thread-safety: ScoreRouted may be called concurrently; the filler is
// called on the calling thread only.

#ifndef HEALTHSCORE_ENGINE_REPOSITORY_ROUTED_SCORER_H_
#define HEALTHSCORE_ENGINE_REPOSITORY_ROUTED_SCORER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/eval/batch.h"
#include "engine/eval/result.h"
#include "engine/eval/worker_pool.h"
#include "engine/model/compiled_model.h"
#include "engine/repository/model_set.h"

namespace healthscore::engine {

// Adds the request's accounts at indices `rows` (ascending) to `builder`,
// in that order, one row each, for a batch of `model`.
using AccountFiller =
    std::function<void(const CompiledModel& model,
                       const std::vector<uint32_t>& rows,
                       BatchBuilder* builder)>;

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
  // built to decide the routes and holds every account of the request (row
  // i is request index i): it is scored whole, because scoring the few
  // accounts routed away costs less than reading the ones that stay a
  // second time. Its rows not in `rows` are not results.
  std::unique_ptr<Batch> batch;
  BatchResult result;
  // True for such a whole batch.
  bool whole = false;

  // The batch row holding request index rows[k].
  size_t batch_row(size_t k) const { return whole ? rows[k] : k; }
};

struct RoutedResult {
  // parts[0] is the requested model (a whole batch) when any account
  // stayed with it.
  std::vector<RoutedPart> parts;
  // Per request index: {part, row in that part's batch}.
  std::vector<std::pair<uint32_t, uint32_t>> where;

  size_t size() const { return where.size(); }
  const RoutedPart& part(size_t i) const { return parts[where[i].first]; }
  size_t row(size_t i) const { return where[i].second; }
};

// Scores `n` accounts for `requested` (from ModelSet::Find; the set must be
// held for the duration of the call). `pool` may be null.
//
// Errors: InvalidArgument when n does not fit in 32 bits; the errors of
// Scorer::Score. Bad accounts are rows with an error, not an error of the
// call.
absl::StatusOr<RoutedResult> ScoreRouted(const ModelRef& requested, size_t n,
                                         const AccountFiller& fill,
                                         WorkerPool* pool = nullptr);

}  // namespace healthscore::engine

#endif  // HEALTHSCORE_ENGINE_REPOSITORY_ROUTED_SCORER_H_
