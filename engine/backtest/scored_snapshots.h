// Scored snapshots: every account snapshot of an input scored by a model,
// and optionally by a candidate, kept per snapshot for a backtest.
//
// A backtest compares what a model said about each snapshot with what the
// account did afterwards (engine/outcomes), so unlike `healthscore score`
// it needs every snapshot at once: ScoreSnapshots reads the input table by
// table through the engine's one entry point (repository::ScoreTable, each
// model on every account, routes ignored, the candidate as a shadow) and
// keeps, per snapshot, the id, the as_of day, a segment code, and per model
// the score, the tier and the playbooks that fired: about 40 bytes plus the
// id per snapshot and model, so 1 million snapshots take tens of MB.
// ScoreOptions::max_snapshots bounds it.
//
// Thread-safety: the result is a plain value; ScoreSnapshots uses `pool`
// (may be null) for scoring.

#ifndef HEALTHSCORE_ENGINE_BACKTEST_SCORED_SNAPSHOTS_H_
#define HEALTHSCORE_ENGINE_BACKTEST_SCORED_SNAPSHOTS_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/eval/worker_pool.h"
#include "engine/io/snapshot_reader.h"
#include "engine/model/compiled_model.h"
#include "engine/shadow/shadow.h"

namespace healthscore::engine::backtest {

// The tier of a snapshot its model could not score (the record failed).
inline constexpr int32_t kFailedTier = -2;

// What one model said, per snapshot.
struct ModelColumns {
  std::shared_ptr<const model::CompiledModel> model;
  // NaN when the model gave no score (insufficient data or a failed row).
  std::vector<double> score;
  // Index into model->tiers(), model::kInsufficientDataTier or kFailedTier.
  std::vector<int32_t> tier;
  // Whether playbook p of the model fired on snapshot r:
  // fired[r * playbooks + p], playbooks = model->playbooks().size().
  std::vector<uint8_t> fired;
  uint64_t failed = 0;  // snapshots with kFailedTier
  // False for scores that did not come from the engine (tune's held-out
  // scores): `fired` is then all zeros and means nothing.
  bool playbooks_known = true;
  // With ScoreOptions::keep_signal_scores: signal s's 0-100 score of
  // snapshot r at signal_score[r * signals + s] (signals =
  // model->signals().size()), NaN when missing or the row failed.
  std::vector<double> signal_score;
  // The same for each signal's raw value (before normalisation).
  std::vector<double> signal_raw;
  // With keep_signal_scores and a model with per-segment signal weights:
  // each snapshot's weight row (SignalScores::weight_row). Empty otherwise.
  std::vector<int32_t> weight_row;

  size_t playbooks() const { return model->playbooks().size(); }
  bool Fired(size_t row, size_t playbook) const {
    return fired[row * playbooks() + playbook] != 0;
  }
};

struct ScoreOptions {
  // A string input of the live model whose value is each snapshot's
  // segment. Empty: the input `segment` when the model declares it as a
  // string, otherwise no segments.
  std::string segment_input;
  // TableBinder::set_strict: a value that does not fit its input fails the
  // snapshot instead of being used as missing.
  bool strict = false;
  // Snapshots read and scored per table.
  size_t table_rows = 65536;
  // ResourceExhausted past this many snapshots (`--max-snapshots`).
  size_t max_snapshots = 20'000'000;
  // At most this many distinct segments are kept; later ones count as
  // the segment "(other)".
  size_t max_segments = 1000;
  // Keep every signal's score and raw value per snapshot
  // (ModelColumns::signal_score, signal_raw), for fitting weights and
  // thresholds: 16 bytes per snapshot and signal.
  bool keep_signal_scores = false;
  // First failed records kept as examples (their error texts).
  size_t max_error_examples = 5;
};

struct ScoredSnapshots {
  size_t size() const { return id_ends.size(); }
  std::string_view id(size_t row) const {
    const size_t begin = row == 0 ? 0 : id_ends[row - 1];
    return std::string_view(id_text).substr(begin, id_ends[row] - begin);
  }

  // Ids back to back; snapshot r's id ends at id_ends[r].
  std::string id_text;
  std::vector<size_t> id_ends;
  // Days since 1970-01-01 of each snapshot's as_of; NaN when it has none.
  std::vector<double> as_of;
  // Index into `segments`, or -1 when the snapshot has no segment.
  std::vector<int32_t> segment;
  std::vector<std::string> segments;
  // The input the segments come from (empty when none).
  std::string segment_input;

  ModelColumns live;
  // Set when a candidate was given (`candidate.model` non-null).
  ModelColumns candidate;

  // With a candidate: what `healthscore diff` reports of the two models on
  // these snapshots (tier migration, playbooks, score deltas).
  std::optional<shadow::ShadowReport> shadow;

  uint64_t dropped_values = 0;  // values used as missing, live model
  uint64_t ignored_fields = 0;  // values for names the live model ignores
  std::vector<std::string> error_examples;  // first failed records
};

// Reads every snapshot of `reader` and scores it with `live` and, when not
// null, `candidate` (see the file comment). Errors: InvalidArgument when
// ScoreOptions::segment_input is not a string input of `live`; the
// reader's errors; ResourceExhausted past max_snapshots. Failed records
// are snapshots with kFailedTier, not errors.
absl::StatusOr<ScoredSnapshots> ScoreSnapshots(
    io::SnapshotReader& reader,
    std::shared_ptr<const model::CompiledModel> live,
    std::shared_ptr<const model::CompiledModel> candidate,
    const ScoreOptions& options, eval::WorkerPool* pool = nullptr);

}  // namespace healthscore::engine::backtest

#endif  // HEALTHSCORE_ENGINE_BACKTEST_SCORED_SNAPSHOTS_H_
