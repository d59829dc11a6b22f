// Program: a planned, immutable list of column operations.
//
// The planner (ProgramBuilder) turns checked expression trees and the
// model's scoring steps (normalisation, weighted means, coverage, tiers,
// playbook gates) into one flat Program over registers. Run() executes every
// step over a chunk of up to kChunkRows accounts at a time: each step is one
// tight loop over columns of doubles with validity bytes, so the per-account
// cost is a handful of arithmetic instructions per step and there is no
// per-account allocation, branching on names or string lookup.
//
// Values live in three kinds of register: numbers (a double and a validity
// byte per row), booleans (a byte per row; booleans are never missing,
// since a comparison with a missing value is false) and string codes (an
// int32 per row; kMissingCode when absent). External columns (the batch's
// inputs) are "slots" the caller points at for each chunk.
//
// Thread-safety: a built Program is immutable and may be Run concurrently
// from many threads, each with its own Scratch.

#ifndef HEALTHSCORE_ENGINE_EXPR_PROGRAM_H_
#define HEALTHSCORE_ENGINE_EXPR_PROGRAM_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/expr/ast.h"

namespace healthscore::engine::expr {

inline constexpr int kChunkRows = 256;
inline constexpr int32_t kMissingCode = -1;

enum class ValueKind : uint8_t { kNum, kBool, kStr, kSeries };

// A series column for one chunk: row i's points are
// values[offsets[i] .. offsets[i+1]).
struct SeriesColumn {
  const double* values = nullptr;
  const uint32_t* offsets = nullptr;
  const uint8_t* valid = nullptr;
};

// The caller's columns for one chunk; index = slot. Only the pointer array
// matching a slot's kind is read.
struct SlotView {
  std::vector<const double*> num;
  std::vector<const uint8_t*> num_valid;
  std::vector<const int32_t*> str;
  std::vector<SeriesColumn> series;
};

// How a raw value becomes a 0-100 score.
struct Normalization {
  enum class Kind : uint8_t { kLinear, kSteps, kPiecewise, kLogistic,
                              kIdentity };
  Kind kind = Kind::kIdentity;
  double bad = 0, good = 100;           // kLinear
  std::vector<double> below;            // kSteps: thresholds, increasing
  std::vector<double> step_scores;      // kSteps: below.size() + 1 scores
  std::vector<double> xs, ys;           // kPiecewise
  double midpoint = 0, scale = 1;       // kLogistic

  double Apply(double x) const;
  // Apply over a column: out[i] = Apply(x[i]) for valid inputs (invalid
  // lanes get unspecified values). Branch-free for every kind but logistic,
  // so the compiler vectorises it.
  void ApplyColumn(const double* x, double* out, size_t n) const;
  // e.g. "linear bad=0.05 good=0.4".
  std::string ToString() const;
};

// Per-segment tables are indexed by SegmentIndex(code): 0 for a value the
// model does not name (code -2), 1 for a missing segment (code -1), and
// 2 + code for the values it knows.
inline int SegmentIndex(int32_t code) { return code + 2; }

struct NormTable {
  Operand segment;  // kNone when the signal has no overrides
  std::vector<Normalization> specs;     // [0] is the default
  std::vector<int> spec_by_segment;     // SegmentIndex -> specs index
};

// Weighted mean of the present members; missing when none is present.
struct MeanTable {
  std::vector<Operand> members;         // number registers
  Operand segment;                      // kNone without overrides
  // weights[SegmentIndex][member]; a single row without overrides.
  std::vector<std::vector<double>> weights;
  // Filled by the builder: weights transposed, [member * rows + row].
  std::vector<double> by_member;
};

// Sum of the shares of present members.
struct CoverageTable {
  std::vector<Operand> members;
  Operand segment;
  std::vector<std::vector<double>> shares;  // [SegmentIndex][member]
  std::vector<double> by_member;  // filled by the builder, as in MeanTable
};

struct TierTable {
  std::vector<double> mins;  // descending
  std::vector<double> maxs;  // exclusive (the top tier's is +inf)
  double min_coverage = 0;
  double hysteresis = 0;
};

struct TierOutputs {
  Operand tier;      // string register: 0..T-1, or T for insufficient data
  Operand by_score;  // string register: the tier the score alone gives
  Operand held;      // bool register: hysteresis kept the previous tier
};

// An input column of an external step, for one chunk.
struct ExternalColumn {
  ValueKind kind = ValueKind::kNum;   // kNum or kSeries
  const double* values = nullptr;     // kNum: n values; kSeries: all points
  const uint8_t* valid = nullptr;     // n bytes
  const uint32_t* offsets = nullptr;  // kSeries: n + 1 offsets into values
};

// A number column computed by code outside the expression language (a
// plugin signal: engine/plugin_host). The program calls it once per chunk,
// never per row.
//
// Thread-safety: EvaluateChunk is called concurrently from every thread
// that runs the program; implementations lock what they must.
class ExternalFunction {
 public:
  virtual ~ExternalFunction() = default;
  // Computes rows [0, n) of one chunk from `inputs` (one per input the step
  // was built with, in order): out[i] and valid[i] for every row; valid[i]
  // is 0 for a row without a value. Must not throw.
  virtual void EvaluateChunk(const ExternalColumn* inputs, size_t n_inputs,
                             size_t n, double* out, uint8_t* valid) const = 0;
};

// The compiled form of the column loops a Program runs. kAuto, the
// default, takes AVX2 when the CPU has it, else the x86-64 baseline; both
// give bit-identical results, so this exists for tests that prove it and
// for ruling out a CPU-specific fault.
enum class ColumnKernel : uint8_t { kAuto, kBaseline, kAvx2 };

// Sets the form every Program in the process runs from now on. Returns
// false (and changes nothing) for kAvx2 where it cannot run: a CPU without
// AVX2, or a build for another architecture. Thread-safe; takes effect at
// the next chunk.
bool SetColumnKernel(ColumnKernel kernel);
// The form Run uses now: kBaseline or kAvx2, never kAuto.
ColumnKernel ColumnKernelInUse();

class Program;

// Per-thread working memory for running programs. Reusable across programs
// and calls; grows to the largest program it has run and then stops
// allocating.
class Scratch {
 public:
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;

 private:
  friend class Program;
  std::vector<double> num_;
  std::vector<uint8_t> num_valid_;
  std::vector<uint8_t> bool_;
  std::vector<int32_t> str_;
  // Working columns private to a single step.
  std::vector<double> tmp_;
  std::vector<int32_t> index_;
  std::vector<ExternalColumn> external_;
  uint64_t prepared_for_ = 0;
};

class Program {
 public:
  ~Program();

  // Runs every step over rows [0, n) of the chunk described by `slots`.
  // REQUIRES: n <= kChunkRows; slots has a pointer for every slot.
  void Run(const SlotView& slots, size_t n, Scratch* scratch) const;

  // Reading results after Run (valid until the next Run on this scratch).
  // The operand may be a slot, a register or a constant (constants are
  // materialised in the scratch).
  const double* Num(Operand op, const SlotView& slots,
                    const Scratch& scratch) const;
  const uint8_t* NumValid(Operand op, const SlotView& slots,
                          const Scratch& scratch) const;
  const uint8_t* Bool(Operand op, const Scratch& scratch) const;
  const int32_t* Str(Operand op, const SlotView& slots,
                     const Scratch& scratch) const;

  size_t step_count() const;
  // A listing of the steps, for tests and debugging.
  std::string DebugString() const;

 private:
  friend class ProgramBuilder;
  struct Step;
  Program();
  void Prepare(Scratch* scratch) const;
  // Run's loops (program.cc), inlined into one function per ColumnKernel.
  void RunSteps(const SlotView& slots, size_t n, Scratch* scratch) const;
  void RunBaseline(const SlotView& slots, size_t n, Scratch* scratch) const;
  void RunAvx2(const SlotView& slots, size_t n, Scratch* scratch) const;

  uint64_t id_ = 0;
  std::vector<Step> steps_;
  std::vector<ValueKind> slot_kinds_;
  int num_regs_ = 0, bool_regs_ = 0, str_regs_ = 0;
  std::vector<std::pair<int, double>> constants_;  // num register, value
  std::vector<NormTable> norms_;
  std::vector<MeanTable> means_;
  std::vector<CoverageTable> coverages_;
  std::vector<TierTable> tiers_;
  std::vector<std::vector<int32_t>> code_lists_;
  struct ExternalCall {
    std::shared_ptr<const ExternalFunction> fn;
    std::vector<Operand> inputs;
    std::vector<ValueKind> kinds;
  };
  std::vector<ExternalCall> externals_;
  size_t max_external_inputs_ = 0;
};

// Builds a Program. Not thread-safe; used once per model compile.
class ProgramBuilder {
 public:
  ProgramBuilder();
  ~ProgramBuilder();

  // Declares an external column; returns its slot index.
  int AddSlot(ValueKind kind);

  // Plans a tree that Check() accepted. Returns where the value will be:
  // a slot or register (or a constant for literal-only trees). The result
  // stays available until Build.
  Operand Emit(const Node& checked);

  Operand Normalize(Operand x, NormTable table);
  Operand WeightedMean(MeanTable table);
  Operand Coverage(CoverageTable table);
  TierOutputs Tier(Operand score, Operand coverage, Operand previous_tier,
                   TierTable table);
  // cond && tier != insufficient_code.
  Operand Gate(Operand cond, Operand tier, int32_t insufficient_code);
  // a - b over numbers.
  Operand Subtract(Operand a, Operand b);
  // previous tier present and different from tier.
  Operand TierChanged(Operand previous_tier, Operand tier);
  // A number computed by `fn` from `inputs`: number operands (slots,
  // registers or constants) or series slots. The program keeps `fn` alive
  // (shared ownership) for as long as it exists.
  Operand External(std::shared_ptr<const ExternalFunction> fn,
                   const std::vector<Operand>& inputs);

  std::unique_ptr<Program> Build();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace healthscore::engine::expr

#endif  // HEALTHSCORE_ENGINE_EXPR_PROGRAM_H_
