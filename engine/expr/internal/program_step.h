// What the interpreter (program.cc) and the planner (program_builder.cc)
// share: the operation codes, one step of a Program, and the arithmetic
// helpers both use, so that constants the planner folds come out exactly as
// the interpreter would compute them. Private to engine/expr.

#ifndef HEALTHSCORE_ENGINE_EXPR_INTERNAL_PROGRAM_STEP_H_
#define HEALTHSCORE_ENGINE_EXPR_INTERNAL_PROGRAM_STEP_H_

#include <cstdint>
#include <limits>

#include "engine/expr/ast.h"
#include "engine/expr/program.h"

namespace healthscore::engine::expr::internal {

enum class Code : uint8_t {
  kAdd, kSub, kMul, kDiv, kMin, kMax, kNeg, kAbs, kLog, kClamp, kCoalesce,
  kLt, kLe, kGt, kGe, kEq, kNe,
  kAnd, kOr, kNot, kBoolEq, kBoolNe,
  kStrEq, kStrNe, kStrIn,
  kHasNum, kHasStr, kHasSeries,
  kSelectNum, kSelectBool,
  kSeriesLast, kSeriesCount, kSeriesMeanLast, kSeriesMeanWindow,
  kSeriesPctChange, kSeriesRatioChange, kSeriesSlope,
  kNormalize, kMean, kCoverage, kTier, kGate, kTierChanged, kExternal,
};

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

inline bool Finite(double x) { return x - x == 0; }

// The interpreter's column loops (Program::Run, Normalization::ApplyColumn)
// are compiled twice on x86-64: for the baseline (SSE2, two doubles per
// instruction) and for AVX2 (four, and gathers for the per-segment
// tables); each call takes the form ColumnKernelInUse() names. AVX2 does
// not bring FMA and no loop sums across rows, so both forms do the same
// IEEE operations in the same order: results are bit-identical
// (engine/eval/scorer_test.cc, ColumnKernelTest).
#if defined(__GNUC__) && defined(__x86_64__)
#define HEALTHSCORE_HAVE_AVX2_KERNEL 1
#define HEALTHSCORE_TARGET_AVX2 __attribute__((target("avx2")))
#else
#define HEALTHSCORE_HAVE_AVX2_KERNEL 0
#endif
#define HEALTHSCORE_ALWAYS_INLINE __attribute__((always_inline)) inline

// Whether the AVX2 form runs now (program.cc).
bool UseAvx2Kernel();

}  // namespace healthscore::engine::expr::internal

namespace healthscore::engine::expr {

struct Program::Step {
  internal::Code code = internal::Code::kAdd;
  Operand a, b, c;
  int out = -1, out2 = -1, out3 = -1;
  int aux = -1;
  int32_t k = 0;
  int p1 = 0, p2 = 0;
};

}  // namespace healthscore::engine::expr

#endif  // HEALTHSCORE_ENGINE_EXPR_INTERNAL_PROGRAM_STEP_H_
