// The health tier each account had at the period start, for the portfolio
// breakdown by tier (portfolio.h, TierColumn): from snapshots a model
// scores (the same scoring path as the backtest, backtest::ScoreSnapshots)
// or from the results of an earlier `healthscore score` run.
//
// From snapshots, per account (matched to revenue records by id):
//   - snapshots dated after the period start are not used (their tier was
//     not known at the start) and are counted;
//   - of the others, the one with the latest as_of gives the tier; a
//     snapshot without an as_of is taken as of the period start;
//   - two usable snapshots with the same (latest) date, or two without a
//     date, are ambiguous: the account gets no tier, and is counted;
//   - a snapshot the model failed to read gives no tier (counted); one with
//     insufficient data is in the tier "insufficient_data", after the
//     model's own tiers.
// From a scores file (JSON Lines or CSV as `healthscore score` writes it:
// id, status, tier, score; other columns ignored), one record per account,
// taken as of the period start: a record with status "error" or without a
// tier gives no tier. The tiers are ordered as `model` names them when a
// model is given (with its colours), tiers it does not name after them;
// without a model, by descending mean score, then name.
//
// Revenue records without a tier are counted in the portfolio report
// (PortfolioReport::without_tier); snapshots and scores whose id has no
// revenue record are counted in TierColumn::notes.
//
// Thread-safety: pure functions.

#ifndef HEALTHSCORE_ENGINE_PORTFOLIO_TIERS_H_
#define HEALTHSCORE_ENGINE_PORTFOLIO_TIERS_H_

#include <string>

#include "absl/status/statusor.h"
#include "engine/backtest/scored_snapshots.h"
#include "engine/model/compiled_model.h"
#include "engine/outcomes/record_table.h"
#include "engine/portfolio/portfolio.h"

namespace healthscore::engine::portfolio {

// The schema of a scores file: status (string), tier (string), score
// (number).
outcomes::RecordSchema ScoresSchema();

// Tiers at `period.start` from the live model's scores of `snapshots`.
// `source` names where they came from, for reports.
TierColumn TiersFromSnapshots(const backtest::ScoredSnapshots& snapshots,
                              const outcomes::RecordTable& revenue,
                              const Period& period, std::string source);

// Tiers from a scores file read with ScoresSchema(); `model` may be null.
// InvalidArgument when the file has no tier column.
absl::StatusOr<TierColumn> TiersFromScores(const outcomes::RecordTable& scores,
                                           const outcomes::RecordTable& revenue,
                                           const model::CompiledModel* model,
                                           std::string source);

}  // namespace healthscore::engine::portfolio

#endif  // HEALTHSCORE_ENGINE_PORTFOLIO_TIERS_H_
