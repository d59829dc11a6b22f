// ModelPlan: the planned form of a compiled model, what the scorer runs.
//
// One expr::Program computes everything for a chunk of accounts: derived
// values, normalised signals, group and overall scores, coverage, tier,
// delta and playbook conditions. This struct records which slot each batch
// column feeds and which operand holds each output, so the scorer can bind
// inputs and copy results without looking anything up by name.
//
// Owned by engine/model: the compiler (compiler.cc) builds it and
// CompiledModel::plan() hands it out, immutable, for the model's lifetime.
// Its readers are engine/eval (scorer.cc runs the program, explain.cc reads
// what each playbook's `when` reads) and tests; it is not for programs above
// the engine, which read CompiledModel's accessors instead. Thread-safety:
// const after Compile(), so any number of threads may read it.

#ifndef HEALTHSCORE_ENGINE_MODEL_MODEL_PLAN_H_
#define HEALTHSCORE_ENGINE_MODEL_MODEL_PLAN_H_

#include <memory>
#include <string>
#include <vector>

#include "engine/expr/program.h"

namespace healthscore::engine::model {

// A value a playbook condition reads, for printing its reason.
struct ValueRef {
  enum class Kind {
    kNumberInput,  // index: input index (number type)
    kDateInput,    // index: input index (date type)
    kStringInput,  // index: input index
    kSeriesInput,  // index: input index
    kAsOf,
    kPreviousScore,
    kPreviousTier,
    kDerived,      // index: derived index
    kScore,
    kTier,
    kCoverage,
    kScoreDelta,
    kTierChanged,
    kGroup,        // index: group index
    kSignalScore,  // index: signal index
    kSignalRaw,    // index: signal index
  };
  std::string name;
  Kind kind = Kind::kScore;
  int index = -1;
};

struct ModelPlan {
  std::unique_ptr<expr::Program> program;
  int slot_count = 0;
  // Slot fed by each batch column.
  std::vector<int> number_slot, string_slot, series_slot;
  int as_of_slot = -1, previous_score_slot = -1, previous_tier_slot = -1;

  // Where outputs live after Program::Run.
  std::vector<expr::Operand> derived;
  std::vector<expr::Operand> signal_raw, signal_score;
  std::vector<expr::Operand> group_score;
  expr::Operand score, coverage, delta, tier_changed;
  expr::TierOutputs tier;
  std::vector<expr::Operand> playbook_matched;
  std::vector<expr::Operand> playbook_success;  // kNone without a condition

  // Each signal's normalisation (the default one, without per-segment
  // overrides), and whether a segment overrides it: for tools that
  // re-normalise raw values (tune's threshold fit).
  std::vector<expr::Normalization> signal_normalization;
  std::vector<uint8_t> signal_normalization_per_segment;

  // signal_weight[SegmentIndex][signal], for the per-row weight column;
  // a single row when the model has no segment overrides.
  std::vector<std::vector<double>> signal_weight;
  int segment_column = -1;  // string column of segment_by, or -1

  // What each playbook's `when` reads, in order of appearance.
  std::vector<std::vector<ValueRef>> playbook_reads;
};

}  // namespace healthscore::engine::model

#endif  // HEALTHSCORE_ENGINE_MODEL_MODEL_PLAN_H_
