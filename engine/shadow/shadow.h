// Shadow scoring: the same accounts scored by a live and a candidate model,
// and what would change if the candidate replaced the live one.
//
// The report says, over every account both models scored:
//   - the tier table: how many accounts go from each live tier to each
//     candidate tier (insufficient_data included), and how many change;
//   - per playbook id (of either model): on how many accounts it newly
//     fires (candidate only) and stops firing (live only);
//   - the distribution of the score delta (candidate - live): min, p5,
//     p25, median, p75, p95, max and mean;
//   - the first accounts that change tier, with both scores;
//   - accounts that failed with one model or both (bad input).
//
// Input is streamed: Add() takes one pair of scored batches at a time and
// the comparison keeps constant memory (the delta distribution is a
// histogram at 0.001-point resolution, exact to that resolution; min, max
// and mean are exact), so a file of any size can be compared.
//
// Thread-safety: a ShadowComparison is used by one thread at a time; the
// report is a plain value.

#ifndef HEALTHSCORE_ENGINE_SHADOW_SHADOW_H_
#define HEALTHSCORE_ENGINE_SHADOW_SHADOW_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/common/number_format.h"
#include "engine/eval/account_table.h"
#include "engine/eval/batch.h"
#include "engine/eval/result.h"
#include "engine/eval/worker_pool.h"
#include "engine/model/compiled_model.h"
#include "engine/repository/score_table.h"

namespace healthscore::engine::shadow {

// How many accounts that change tier a report lists when the caller does
// not say (`healthscore diff --examples`, ShadowRequest.max_examples = 0).
inline constexpr size_t kDefaultShadowExamples = 20;

struct ShadowOptions {
  // How many accounts that change tier the report lists (the first ones,
  // in input order).
  size_t max_examples = kDefaultShadowExamples;
};

struct ShadowModelInfo {
  std::string name;
  std::string version;
  std::string hash;
};

struct ShadowTierCell {
  std::string from;  // live tier id
  std::string to;    // candidate tier id
  uint64_t count = 0;
};

struct ShadowPlaybook {
  std::string id;
  uint64_t live = 0;       // accounts the live model fires it on
  uint64_t candidate = 0;  // accounts the candidate fires it on
  uint64_t newly_firing = 0;
  uint64_t stopped_firing = 0;
};

struct ShadowDelta {
  uint64_t count = 0;  // accounts with a score from both models
  double min = 0, p5 = 0, p25 = 0, median = 0, p75 = 0, p95 = 0, max = 0;
  double mean = 0;
};

struct ShadowAccount {
  std::string id;
  std::string live_tier;
  std::string candidate_tier;
  double live_score = 0;       // NaN when the model gave no score
  double candidate_score = 0;  // NaN when the model gave no score
};

struct ShadowReport {
  ShadowModelInfo live;
  ShadowModelInfo candidate;
  uint64_t accounts = 0;  // every account read
  uint64_t compared = 0;  // scored by both models
  uint64_t failed_both = 0;
  uint64_t failed_live_only = 0;
  uint64_t failed_candidate_only = 0;
  uint64_t tier_changed = 0;
  // Row and column labels of the tier table: each model's tiers from the
  // highest down, then insufficient_data.
  std::vector<std::string> live_tiers;
  std::vector<std::string> candidate_tiers;
  // Every cell, row by row (live tier), then column (candidate tier),
  // zero cells included.
  std::vector<ShadowTierCell> tier_table;
  // Every playbook of either model: the live model's in priority order,
  // then the candidate's own.
  std::vector<ShadowPlaybook> playbooks;
  ShadowDelta delta;
  std::vector<ShadowAccount> changed;  // the first max_examples

  // The count of one cell; 0 for labels not in the table.
  uint64_t TierCount(const std::string& from, const std::string& to) const;
  const ShadowPlaybook* Playbook(const std::string& id) const;
};

class ShadowComparison {
 public:
  ShadowComparison(std::shared_ptr<const model::CompiledModel> live,
                   std::shared_ptr<const model::CompiledModel> candidate,
                   const ShadowOptions& options = {});
  ~ShadowComparison();

  // Adds one batch of accounts scored by both models: `live_batch` built
  // for the live model and `candidate_batch` for the candidate, holding
  // the same accounts in the same order. InvalidArgument when the batches
  // or results belong to other models, differ in size, or an account id
  // differs (naming the row).
  absl::Status Add(const eval::Batch& live_batch, const eval::BatchResult& live,
                   const eval::Batch& candidate_batch,
                   const eval::BatchResult& candidate);

  // Adds the accounts of a table scored with a shadow candidate
  // (ScoreTable with TableRequest::shadow set): the live model's and the
  // candidate's scores of every account, as Add but without comparing ids
  // (ScoreTable binds both batches from the one table, row for row).
  // FailedPrecondition when `scores` was scored without a shadow candidate;
  // otherwise as Add.
  absl::Status AddScores(const repository::TableScores& scores);

  ShadowReport Report() const;

 private:
  std::shared_ptr<const model::CompiledModel> live_;
  std::shared_ptr<const model::CompiledModel> candidate_;
  ShadowOptions options_;
  ShadowReport report_;
  // [live tier index * candidate tiers + candidate tier index],
  // insufficient_data last in each.
  std::vector<uint64_t> tiers_;
  // Whether a live tier and a candidate tier have different ids, by the
  // indices of tiers_ (row-major), so a row compares no strings.
  std::vector<uint8_t> tier_differs_;
  // A row's cell in tiers_ is live_cell_[live tier + 1] +
  // candidate_cell_[candidate tier + 1] (insufficient_data, -1, first).
  std::vector<uint32_t> live_cell_;
  std::vector<uint32_t> candidate_cell_;
  // Playbook index in each model per report_.playbooks entry (-1: absent).
  std::vector<std::pair<int, int>> playbook_index_;
  // Buffers the comparison writes before it reads them, so not zeroed
  // when they grow.
  template <typename T>
  using Buffer = std::vector<T, eval::DefaultInitAllocator<T>>;
  // The rows of the current batch that both models scored (1) or not (0).
  Buffer<uint8_t> compared_;
  // InvalidArgument unless the batches and results belong to the two
  // models and hold as many rows.
  absl::Status CheckShapes(const eval::Batch& live_batch,
                           const eval::BatchResult& live,
                           const eval::Batch& candidate_batch,
                           const eval::BatchResult& candidate) const;
  // Counts the rows; the caller has checked that their ids agree.
  void Accumulate(const eval::Batch& live_batch, const eval::BatchResult& live,
                  const eval::BatchResult& candidate);
  // The current batch's score deltas and rows whose tier changed
  // (Accumulate).
  Buffer<double> deltas_;
  Buffer<uint32_t> changed_rows_;
  // Deltas binned to 1/1000 of a point: the bins of each account while
  // they are few (a request), a dense histogram of counts once they are
  // many (a whole file). Either gives the same percentiles.
  void AddBins(const double* deltas, size_t n);
  Buffer<uint32_t> bins_;
  std::vector<uint64_t> histogram_;
  double sum_ = 0;
};

// Scores the accounts of `table` with both models (ScoreTable with a shadow
// candidate: each binds to the one table; `strict` as
// TableBinder::set_strict) and compares them. `pool` may be null.
absl::StatusOr<ShadowReport> CompareModels(
    std::shared_ptr<const model::CompiledModel> live,
    std::shared_ptr<const model::CompiledModel> candidate,
    const eval::AccountTable& table, bool strict = false,
    eval::WorkerPool* pool = nullptr, const ShadowOptions& options = {});

// Human-readable report (the `healthscore diff` text format). Scores and
// deltas are written as `numbers` says (engine/common/number_format.h; by
// default exactly, the shortest text that reads back to the same double).
std::string FormatShadowReport(
    const ShadowReport& report,
    common::NumberFormat numbers = common::NumberFormat());
// The report as one JSON object (the `healthscore diff --format json`
// format), with a trailing newline; numbers as for FormatShadowReport,
// a missing score as null.
std::string ShadowReportJson(
    const ShadowReport& report,
    common::NumberFormat numbers = common::NumberFormat());

}  // namespace healthscore::engine::shadow

#endif  // HEALTHSCORE_ENGINE_SHADOW_SHADOW_H_
