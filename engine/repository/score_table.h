// ScoreTable: the engine's one entry point for scoring a request's
// accounts.
//
// A request's accounts arrive as an AccountTable (engine/eval/
// account_table.h), read once by whatever reader the caller has (a file, a
// gRPC request, later a data frame). ScoreTable does everything that is
// not reading or writing: it binds every model that scores to the one
// table, applies the requested model's routes (engine/routing/routing.h)
// unless the request ignores them, scores each part, and, for a shadow
// request, also scores every account with the requested model and the
// candidate on their own for an engine::ShadowComparison. Its output
// says, per account, which model scored it and where its result is, and
// per model the accounts, the tiers, the failures and the values used as
// missing, plus the values ignored because the scoring model does not
// declare them.
//
// The gRPC server (server/score_job.cc), `healthscore score` and
// `healthscore diff` call it; they adapt requests and results, and own
// threads, limits and status codes.
//
// Reuse: a caller that scores a stream of tables passes the same
// TableScores to every call (one per thread). Its batches, results and
// binders are kept and reused for the models they belong to, so steady
// traffic allocates no engine buffers after warm-up. A call keeps buffers
// only for the models its request can reach (the requested model, its
// route targets, the candidate): a model the repository replaced is
// released by the next call.
//
// Thread-safety: ScoreTable may be called concurrently with different
// TableScores, also on one table.

#ifndef HEALTHSCORE_ENGINE_REPOSITORY_SCORE_TABLE_H_
#define HEALTHSCORE_ENGINE_REPOSITORY_SCORE_TABLE_H_

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/eval/account_table.h"
#include "engine/eval/batch.h"
#include "engine/eval/result.h"
#include "engine/eval/worker_pool.h"
#include "engine/repository/model_set.h"
#include "engine/repository/routed_scorer.h"
#include "engine/routing/routing.h"

namespace healthscore::engine::repository {

struct TableRequest {
  // The requested model, from ModelSet::Find; the set must be held for the
  // duration of the call (it owns the routes).
  ModelRef model;
  // Score every account with `model`, even when it has routes.
  bool ignore_routes = false;
  // A value that does not fit its input fails the account
  // (TableBinder::set_strict).
  bool strict = false;
  // A shadow candidate (from ModelSet::Find), or null.
  const ModelRef* shadow = nullptr;
  // eval::ScoreOptions::signal_values: false when nothing will read playbook
  // reasons or explanations from the results.
  bool signal_values = true;
};

class TableScores {
 public:
  TableScores();
  ~TableScores();
  TableScores(TableScores&&) noexcept;
  TableScores& operator=(TableScores&&) noexcept;

  // Which model scored each account and where its result is (RoutedResult;
  // one whole part when no route applies), with each part's counts
  // (RoutedPart::tier_counts, failed, dropped_values).
  const RoutedResult& routed() const { return routed_; }
  size_t size() const { return routed_.size(); }

  // Over every account of the table.
  uint64_t failed() const { return failed_; }
  uint64_t dropped_values() const { return dropped_; }
  uint64_t ignored_fields() const { return routed_.ignored_fields; }

  // For a shadow request: the requested model and the candidate, each on
  // every account on its own (no routes), as
  // engine::ShadowComparison::AddScores compares them. Null otherwise. The
  // candidate's result holds no signal values (has_signal_values() is
  // false): a comparison reads outcomes, not reasons.
  const eval::Batch* live_batch() const { return live_batch_; }
  const eval::BatchResult* live_result() const { return live_result_; }
  const eval::Batch* candidate_batch() const { return candidate_.batch.get(); }
  const eval::BatchResult* candidate_result() const {
    return candidate_.batch ? &candidate_.result : nullptr;
  }

  // The binder this object keeps for `model` (made on first use), e.g. to
  // read its ignored_names() after a stream of calls.
  eval::TableBinder* Binder(
      const std::shared_ptr<const model::CompiledModel>& model);

 private:
  friend absl::Status ScoreTable(const TableRequest& request,
                                 const eval::AccountTable& table,
                                 eval::WorkerPool* pool, TableScores* out);
  friend absl::StatusOr<RoutedResult> ScoreRouted(
      const ModelRef& requested, const eval::AccountTable& table, bool strict,
      eval::WorkerPool* pool);

  // A reusable batch of `model` (cleared), from the previous call's parts
  // when one matches.
  std::unique_ptr<eval::Batch> TakeBatch(
      const std::shared_ptr<const model::CompiledModel>& model);
  // Drops the kept buffers and binders of models not in `models`.
  void Keep(const std::vector<const model::CompiledModel*>& models);
  // A reusable part (with its result) for `model`, batch cleared.
  RoutedPart TakePart(const std::shared_ptr<const model::CompiledModel>& model);

  RoutedResult routed_;
  uint64_t failed_ = 0;
  uint64_t dropped_ = 0;
  // Parts of the previous call, kept for their buffers.
  std::vector<RoutedPart> spare_;
  std::vector<std::unique_ptr<eval::TableBinder>> binders_;
  // Shadow: the live model's scores are parts_[0] when it scored every
  // account, else own_live_.
  const eval::Batch* live_batch_ = nullptr;
  const eval::BatchResult* live_result_ = nullptr;
  RoutedPart own_live_;
  RoutedPart candidate_;
  std::vector<uint32_t> ignored_per_row_;
  std::vector<int> route_of_row_;
  std::vector<int> route_of_entry_;  // DecideFromTable
  // Grouping the rows by part (ScoreTable).
  std::vector<uint32_t> part_of_route_;
  std::vector<int> first_route_;
  std::vector<uint32_t> part_of_row_;
  std::vector<uint32_t> part_counts_;
  std::unique_ptr<routing::Router::Scratch> decide_;  // made on first use
};

// Scores `table` as `request` asks, into `*out` (see the file comment).
// `pool` may be null.
//
// Errors: InvalidArgument when the table holds more than 2^32 - 1 accounts;
// those of Scorer::Score. Bad accounts are failed rows of their part, not
// an error of the call.
absl::Status ScoreTable(const TableRequest& request,
                        const eval::AccountTable& table, eval::WorkerPool* pool,
                        TableScores* out);

// ScoreTable with the requested model's routes and nothing else, for
// callers that score one table and keep its RoutedResult. Errors: as
// ScoreTable.
absl::StatusOr<RoutedResult> ScoreRouted(const ModelRef& requested,
                                         const eval::AccountTable& table,
                                         bool strict = false,
                                         eval::WorkerPool* pool = nullptr);

}  // namespace healthscore::engine::repository

#endif  // HEALTHSCORE_ENGINE_REPOSITORY_SCORE_TABLE_H_
