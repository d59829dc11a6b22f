// Scorer: evaluates a CompiledModel over a Batch.
//
// Scoring runs column by column over chunks of rows: derived signals,
// normalisation, group and overall scores, tiers and playbook conditions.
// The hot path does no heap allocation and no string lookup; per-thread
// scratch is reused across calls. Large batches are split across a
// WorkerPool; results are identical whatever the thread count, because every
// row is computed by the same code independently of the others.
//
// Thread-safety: Score may be called concurrently from many threads, with
// distinct results, on the same model and batch.

#ifndef HEALTHSCORE_ENGINE_EVAL_SCORER_H_
#define HEALTHSCORE_ENGINE_EVAL_SCORER_H_

#include <cstddef>

#include "absl/status/status.h"
#include "engine/eval/batch.h"
#include "engine/eval/result.h"
#include "engine/eval/worker_pool.h"

namespace healthscore::engine::eval {

struct ScoreOptions {
  // Rows per parallel task. Batches no larger than this are scored on the
  // calling thread.
  size_t rows_per_task = 4096;
  // Keep every signal's raw value and score and every derived value in the
  // result. Playbook reasons and explanations read them; a caller that
  // asks for neither may leave them out (BatchResult::has_signal_values),
  // which saves copying most of what the program computes.
  bool signal_values = true;
};

class Scorer {
 public:
  // Scores every row of `batch` into `result` (resized to the batch). Rows
  // the batch marked bad get ok() == false. `pool` may be null (score on the
  // calling thread).
  //
  // Errors: InvalidArgument if the batch was built for another model.
  static absl::Status Score(const Batch& batch, BatchResult* result,
                            WorkerPool* pool = nullptr,
                            const ScoreOptions& options = {});

 private:
  static void ScoreRange(const Batch& batch, size_t begin, size_t end,
                         bool signal_values, BatchResult* result);
};

}  // namespace healthscore::engine::eval

#endif  // HEALTHSCORE_ENGINE_EVAL_SCORER_H_
