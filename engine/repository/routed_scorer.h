// ScoreRouted: scores a request's accounts, each with the model its
// segment routes it to.
//
// The requested model's router (routing.h) decides per account, before any
// scoring, which model scores it. The accounts are then split into one
// Batch per model, in request order within each, every part is scored with
// its model, and the caller reads the results back in request order, each
// stamped with the model (name, version, hash) that scored it.
//
// The accounts come as an AccountTable (engine/eval/account_table.h), read
// once: the requested model binds to every row (to decide the routes; that
// batch is also what the requested model scores) and each other model that
// receives accounts binds to its rows only. Without routes, or when no
// account is routed, that is a single bind and a single score: routing
// costs nothing for models that do not use it.
//
// Thread-safety: ScoreRouted may be called concurrently, also on one table.

#ifndef HEALTHSCORE_ENGINE_REPOSITORY_ROUTED_SCORER_H_
#define HEALTHSCORE_ENGINE_REPOSITORY_ROUTED_SCORER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/eval/account_table.h"
#include "engine/eval/batch.h"
#include "engine/eval/result.h"
#include "engine/eval/worker_pool.h"
#include "engine/model/compiled_model.h"
#include "engine/repository/model_set.h"

namespace healthscore::engine {

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

  // Values given for names the model that scored their account does not
  // declare.
  uint64_t ignored_fields = 0;

  size_t size() const { return where.size(); }
  const RoutedPart& part(size_t i) const { return parts[where[i].first]; }
  size_t row(size_t i) const { return where[i].second; }
};

// Scores the accounts of `table` for `requested` (from ModelSet::Find; the
// set must be held for the duration of the call); request index i is table
// row i. In strict mode a value that does not fit its input fails the
// account (TableBinder::set_strict). `pool` may be null. `binder`, when
// not null, is a binder of requested.model that binds every row (callers
// that read a stream of tables pass the same one to collect its
// ignored_names()); otherwise the call uses one of its own.
//
// Errors: InvalidArgument when the table's size does not fit in 32 bits;
// the errors of Scorer::Score. Bad accounts are rows with an error, not an
// error of the call.
absl::StatusOr<RoutedResult> ScoreRouted(const ModelRef& requested,
                                         const AccountTable& table,
                                         bool strict = false,
                                         WorkerPool* pool = nullptr,
                                         TableBinder* binder = nullptr);

}  // namespace healthscore::engine

#endif  // HEALTHSCORE_ENGINE_REPOSITORY_ROUTED_SCORER_H_
