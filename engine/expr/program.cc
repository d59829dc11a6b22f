// Program: the interpreter. Run() executes the planned steps over one chunk
// of columns; the planner is program_builder.cc, normalisation
// normalization.cc.

#include "engine/expr/program.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "engine/expr/internal/program_step.h"

namespace healthscore::engine::expr {

using internal::Code;
using internal::Finite;
using internal::kNaN;

namespace {

const char* CodeName(Code c) {
  static const char* kNames[] = {
      "add", "sub", "mul", "div", "min", "max", "neg", "abs", "log", "clamp",
      "coalesce", "lt", "le", "gt", "ge", "eq", "ne", "and", "or", "not",
      "bool_eq", "bool_ne", "str_eq", "str_ne", "str_in", "has_num",
      "has_str", "has_series", "select_num", "select_bool", "series_last",
      "series_count", "series_mean_last", "series_mean_window",
      "series_pct_change", "series_ratio_change", "series_slope", "normalize",
      "mean", "coverage", "tier", "gate", "tier_changed", "external"};
  return kNames[static_cast<int>(c)];
}

// Mean of values[begin, end); the caller guarantees end > begin.
inline double Mean(const double* v, uint32_t begin, uint32_t end) {
  double s = 0;
  for (uint32_t i = begin; i < end; ++i) s += v[i];
  return s / static_cast<double>(end - begin);
}

// `a` when `c`, else `b`, chosen by masking bits. Both values are already
// loaded, so the choice costs no branch: the compiler branches on a
// ternary between doubles, and when the condition follows the data (a
// segment, a missing value) about every other branch is mispredicted.
// Bit-exact: the result is one of the two values, untouched.
inline double Pick(bool c, double a, double b) {
  uint64_t ua, ub;
  std::memcpy(&ua, &a, sizeof ua);
  std::memcpy(&ub, &b, sizeof ub);
  const uint64_t mask = uint64_t{0} - static_cast<uint64_t>(c);
  const uint64_t r = (ua & mask) | (ub & ~mask);
  double out;
  std::memcpy(&out, &r, sizeof out);
  return out;
}

// Whether a per-segment table's `rows` entries for one member are equal.
inline bool SameForEveryRow(const double* values, size_t rows) {
  for (size_t r = 1; r < rows; ++r) {
    if (values[r] != values[0]) return false;
  }
  return true;
}

std::atomic<uint64_t> next_program_id{1};

}  // namespace

Program::Program() : id_(next_program_id.fetch_add(1)) {}
size_t Program::step_count() const { return steps_.size(); }
Program::~Program() = default;

void Program::Prepare(Scratch* s) const {
  if (s->prepared_for_ == id_) return;
  const size_t rows = kChunkRows;
  if (s->num_.size() < num_regs_ * rows) {
    s->num_.resize(num_regs_ * rows);
    s->num_valid_.resize(num_regs_ * rows);
  }
  if (s->bool_.size() < bool_regs_ * rows) s->bool_.resize(bool_regs_ * rows);
  if (s->str_.size() < str_regs_ * rows) s->str_.resize(str_regs_ * rows);
  s->tmp_.resize(rows);
  s->index_.resize(rows);
  if (s->external_.size() < max_external_inputs_) {
    s->external_.resize(max_external_inputs_);
  }
  for (const auto& [reg, value] : constants_) {
    std::fill_n(&s->num_[reg * rows], rows, value);
    std::fill_n(&s->num_valid_[reg * rows], rows, Finite(value) ? 1 : 0);
  }
  s->prepared_for_ = id_;
}

const double* Program::Num(Operand op, const SlotView& slots,
                           const Scratch& s) const {
  if (op.kind == Operand::Kind::kSlot) return slots.num[op.index];
  return &s.num_[op.index * kChunkRows];
}
const uint8_t* Program::NumValid(Operand op, const SlotView& slots,
                                 const Scratch& s) const {
  if (op.kind == Operand::Kind::kSlot) return slots.num_valid[op.index];
  return &s.num_valid_[op.index * kChunkRows];
}
const uint8_t* Program::Bool(Operand op, const Scratch& s) const {
  return &s.bool_[op.index * kChunkRows];
}
const int32_t* Program::Str(Operand op, const SlotView& slots,
                            const Scratch& s) const {
  if (op.kind == Operand::Kind::kSlot) return slots.str[op.index];
  return &s.str_[op.index * kChunkRows];
}

// Every step, written once: RunBaseline and RunAvx2 inline it, each
// compiled for its target.
HEALTHSCORE_ALWAYS_INLINE void Program::RunSteps(const SlotView& slots,
                                                 size_t n,
                                                 Scratch* s) const {
  const size_t R = kChunkRows;
  auto num = [&](const Operand& o) { return Num(o, slots, *s); };
  auto val = [&](const Operand& o) { return NumValid(o, slots, *s); };
  auto boo = [&](const Operand& o) -> const uint8_t* {
    return &s->bool_[o.index * R];
  };
  auto str = [&](const Operand& o) { return Str(o, slots, *s); };
  auto onum = [&](int r) { return &s->num_[r * R]; };
  auto oval = [&](int r) { return &s->num_valid_[r * R]; };
  auto obool = [&](int r) { return &s->bool_[r * R]; };
  auto ostr = [&](int r) { return &s->str_[r * R]; };
  // Each row's index into a per-segment table (see SegmentIndex), or null
  // when the table has a single row.
  auto segment_rows = [&](const Operand& segment) -> const int32_t* {
    if (segment.kind == Operand::Kind::kNone) return nullptr;
    const int32_t* seg = str(segment);
    int32_t* idx = s->index_.data();
    for (size_t i = 0; i < n; ++i) idx[i] = SegmentIndex(seg[i]);
    return idx;
  };

  for (const Step& st : steps_) {
    switch (st.code) {
#define HS_BINARY_NUM(CODE, EXPR)                                   \
  case Code::CODE: {                                                \
    const double* __restrict a = num(st.a);                         \
    const double* __restrict b = num(st.b);                         \
    const uint8_t* __restrict av = val(st.a);                       \
    const uint8_t* __restrict bv = val(st.b);                       \
    double* __restrict o = onum(st.out);                            \
    uint8_t* __restrict ov = oval(st.out);                          \
    for (size_t i = 0; i < n; ++i) {                                \
      double x = a[i], y = b[i];                                    \
      double r = (EXPR);                                            \
      o[i] = r;                                                     \
      ov[i] = av[i] & bv[i] & static_cast<uint8_t>(Finite(r));      \
    }                                                               \
    break;                                                          \
  }
      HS_BINARY_NUM(kAdd, x + y)
      HS_BINARY_NUM(kSub, x - y)
      HS_BINARY_NUM(kMul, x * y)
      HS_BINARY_NUM(kDiv, x / y)
      HS_BINARY_NUM(kMin, x < y ? x : y)
      HS_BINARY_NUM(kMax, x > y ? x : y)
#undef HS_BINARY_NUM
#define HS_UNARY_NUM(CODE, EXPR)                                    \
  case Code::CODE: {                                                \
    const double* __restrict a = num(st.a);                         \
    const uint8_t* __restrict av = val(st.a);                       \
    double* __restrict o = onum(st.out);                            \
    uint8_t* __restrict ov = oval(st.out);                          \
    for (size_t i = 0; i < n; ++i) {                                \
      double x = a[i];                                              \
      double r = (EXPR);                                            \
      o[i] = r;                                                     \
      ov[i] = av[i] & static_cast<uint8_t>(Finite(r));              \
    }                                                               \
    break;                                                          \
  }
      HS_UNARY_NUM(kNeg, -x)
      HS_UNARY_NUM(kAbs, std::fabs(x))
      HS_UNARY_NUM(kLog, x > 0 ? std::log(x) : kNaN)
#undef HS_UNARY_NUM
      case Code::kClamp: {
        const double* a = num(st.a);
        const double* lo = num(st.b);
        const double* hi = num(st.c);
        const uint8_t* av = val(st.a);
        const uint8_t* lv = val(st.b);
        const uint8_t* hv = val(st.c);
        double* o = onum(st.out);
        uint8_t* ov = oval(st.out);
        for (size_t i = 0; i < n; ++i) {
          double r = a[i] < lo[i] ? lo[i] : (a[i] > hi[i] ? hi[i] : a[i]);
          o[i] = r;
          ov[i] = av[i] & lv[i] & hv[i] & static_cast<uint8_t>(Finite(r));
        }
        break;
      }
      case Code::kCoalesce: {
        const double* a = num(st.a);
        const double* b = num(st.b);
        const uint8_t* av = val(st.a);
        const uint8_t* bv = val(st.b);
        double* o = onum(st.out);
        uint8_t* ov = oval(st.out);
        for (size_t i = 0; i < n; ++i) {
          o[i] = Pick(av[i], a[i], b[i]);
          ov[i] = av[i] | bv[i];
        }
        break;
      }
#define HS_COMPARE(CODE, OP)                                        \
  case Code::CODE: {                                                \
    const double* __restrict a = num(st.a);                         \
    const double* __restrict b = num(st.b);                         \
    const uint8_t* __restrict av = val(st.a);                       \
    const uint8_t* __restrict bv = val(st.b);                       \
    uint8_t* __restrict o = obool(st.out);                          \
    for (size_t i = 0; i < n; ++i) {                                \
      o[i] = av[i] & bv[i] & static_cast<uint8_t>(a[i] OP b[i]);    \
    }                                                               \
    break;                                                          \
  }
      HS_COMPARE(kLt, <)
      HS_COMPARE(kLe, <=)
      HS_COMPARE(kGt, >)
      HS_COMPARE(kGe, >=)
      HS_COMPARE(kEq, ==)
      HS_COMPARE(kNe, !=)
#undef HS_COMPARE
#define HS_BOOL2(CODE, EXPR)                                        \
  case Code::CODE: {                                                \
    const uint8_t* __restrict a = boo(st.a);                        \
    const uint8_t* __restrict b = boo(st.b);                        \
    uint8_t* __restrict o = obool(st.out);                          \
    for (size_t i = 0; i < n; ++i) o[i] = (EXPR);                   \
    break;                                                          \
  }
      HS_BOOL2(kAnd, a[i] & b[i])
      HS_BOOL2(kOr, a[i] | b[i])
      HS_BOOL2(kBoolEq, static_cast<uint8_t>(a[i] == b[i]))
      HS_BOOL2(kBoolNe, static_cast<uint8_t>(a[i] != b[i]))
#undef HS_BOOL2
      case Code::kNot: {
        const uint8_t* a = boo(st.a);
        uint8_t* o = obool(st.out);
        for (size_t i = 0; i < n; ++i) o[i] = a[i] ^ 1;
        break;
      }
      case Code::kStrEq:
      case Code::kStrNe: {
        const int32_t* a = str(st.a);
        uint8_t* o = obool(st.out);
        const bool eq = st.code == Code::kStrEq;
        for (size_t i = 0; i < n; ++i) {
          // A missing value compares false either way.
          o[i] = static_cast<uint8_t>(a[i] != kMissingCode &&
                                      ((a[i] == st.k) == eq));
        }
        break;
      }
      case Code::kStrIn: {
        const int32_t* a = str(st.a);
        uint8_t* o = obool(st.out);
        const std::vector<int32_t>& codes = code_lists_[st.aux];
        for (size_t i = 0; i < n; ++i) {
          uint8_t hit = 0;
          for (int32_t c : codes) hit |= static_cast<uint8_t>(a[i] == c);
          o[i] = hit & static_cast<uint8_t>(a[i] >= 0);
        }
        break;
      }
      case Code::kHasNum: {
        const uint8_t* av = val(st.a);
        uint8_t* o = obool(st.out);
        std::copy_n(av, n, o);
        break;
      }
      case Code::kHasStr: {
        const int32_t* a = str(st.a);
        uint8_t* o = obool(st.out);
        for (size_t i = 0; i < n; ++i) {
          o[i] = static_cast<uint8_t>(a[i] != kMissingCode);
        }
        break;
      }
      case Code::kHasSeries: {
        const SeriesColumn& sc = slots.series[st.a.index];
        uint8_t* o = obool(st.out);
        std::copy_n(sc.valid, n, o);
        break;
      }
      case Code::kSelectNum: {
        const uint8_t* c = boo(st.a);
        const double* a = num(st.b);
        const double* b = num(st.c);
        const uint8_t* av = val(st.b);
        const uint8_t* bv = val(st.c);
        double* o = onum(st.out);
        uint8_t* ov = oval(st.out);
        for (size_t i = 0; i < n; ++i) {
          o[i] = Pick(c[i], a[i], b[i]);
          ov[i] = c[i] ? av[i] : bv[i];
        }
        break;
      }
      case Code::kSelectBool: {
        const uint8_t* c = boo(st.a);
        const uint8_t* a = boo(st.b);
        const uint8_t* b = boo(st.c);
        uint8_t* o = obool(st.out);
        for (size_t i = 0; i < n; ++i) o[i] = c[i] ? a[i] : b[i];
        break;
      }
      case Code::kSeriesLast:
      case Code::kSeriesCount:
      case Code::kSeriesMeanLast:
      case Code::kSeriesMeanWindow:
      case Code::kSeriesPctChange:
      case Code::kSeriesRatioChange:
      case Code::kSeriesSlope: {
        const SeriesColumn& sc = slots.series[st.a.index];
        double* o = onum(st.out);
        uint8_t* ov = oval(st.out);
        const uint32_t p1 = static_cast<uint32_t>(st.p1);
        const uint32_t p2 = static_cast<uint32_t>(st.p2);
        for (size_t i = 0; i < n; ++i) {
          const uint32_t begin = sc.offsets[i], end = sc.offsets[i + 1];
          const uint32_t len = end - begin;
          const double* v = sc.values;
          double r = kNaN;
          if (sc.valid[i]) {
            switch (st.code) {
              case Code::kSeriesLast:
                if (len > 0) r = v[end - 1];
                break;
              case Code::kSeriesCount:
                r = len;
                break;
              case Code::kSeriesMeanLast:
                if (len >= p1) r = Mean(v, end - p1, end);
                break;
              case Code::kSeriesMeanWindow:
                if (len >= p1 + p2) r = Mean(v, end - p2 - p1, end - p2);
                break;
              case Code::kSeriesPctChange:
                if (len >= p1 + p2) {
                  double recent = Mean(v, end - p1, end);
                  double base = Mean(v, end - p1 - p2, end - p1);
                  r = (recent - base) / std::fabs(base) * 100.0;
                }
                break;
              case Code::kSeriesRatioChange:
                // Exactly mean_last(s, p1) / mean_window(s, p2, p1) - 1,
                // the same operations in the same order, so the two
                // forms agree to the bit. A zero baseline gives an
                // infinity or NaN, hence missing below.
                if (len >= p1 + p2) {
                  r = Mean(v, end - p1, end) /
                          Mean(v, end - p1 - p2, end - p1) -
                      1.0;
                }
                break;
              default: {  // kSeriesSlope
                uint32_t m = p1 == 0 ? len : p1;
                if (m >= 2 && len >= m) {
                  const double xbar = (m - 1) / 2.0;
                  double ybar = Mean(v, end - m, end);
                  double sxy = 0, sxx = 0;
                  for (uint32_t j = 0; j < m; ++j) {
                    double dx = j - xbar;
                    sxy += dx * (v[end - m + j] - ybar);
                    sxx += dx * dx;
                  }
                  r = sxy / sxx;
                }
                break;
              }
            }
          }
          o[i] = r;
          ov[i] = static_cast<uint8_t>(Finite(r));
        }
        break;
      }
      case Code::kNormalize: {
        const NormTable& t = norms_[st.aux];
        const double* a = num(st.a);
        const uint8_t* av = val(st.a);
        double* o = onum(st.out);
        uint8_t* ov = oval(st.out);
        t.specs[0].ApplyColumn(a, o, n);
        if (t.segment.kind != Operand::Kind::kNone) {
          // Each override runs over the whole chunk, then rows of its
          // segments take its values: a few passes that vectorise beat a
          // per-row dispatch.
          const int32_t* seg = str(t.segment);
          int32_t* __restrict sel = s->index_.data();
          for (size_t i = 0; i < n; ++i) {
            sel[i] = t.spec_by_segment[SegmentIndex(seg[i])];
          }
          double* __restrict tmp = s->tmp_.data();
          double* __restrict to = o;
          for (size_t k = 1; k < t.specs.size(); ++k) {
            t.specs[k].ApplyColumn(a, tmp, n);
            const int32_t kk = static_cast<int32_t>(k);
            for (size_t i = 0; i < n; ++i) {
              to[i] = Pick(sel[i] == kk, tmp[i], to[i]);
            }
          }
        }
        std::copy_n(av, n, ov);
        break;
      }
      case Code::kMean: {
        const MeanTable& t = means_[st.aux];
        double* __restrict o = onum(st.out);
        uint8_t* __restrict ov = oval(st.out);
        // o accumulates the weighted sum, and the weight sum is kept in a
        // second register (out2) until the division.
        double* __restrict wsum = onum(st.out2);
        std::fill_n(o, n, 0.0);
        std::fill_n(wsum, n, 0.0);
        const size_t rows = t.weights.size();
        const int32_t* __restrict seg_row = segment_rows(t.segment);
        for (size_t m = 0; m < t.members.size(); ++m) {
          const double* __restrict x = num(t.members[m]);
          const uint8_t* __restrict xv = val(t.members[m]);
          const double* w = &t.by_member[m * rows];
          // Every value is loaded, also a missing one's, and the choice
          // is made by Pick: a member goes missing at random, and a branch
          // on it would be mispredicted as often.
          // A member whose weight no segment changes takes the loop
          // without the per-row look-up, which vectorises.
          if (seg_row == nullptr || SameForEveryRow(w, rows)) {
            const double w0 = w[0];
            for (size_t i = 0; i < n; ++i) {
              const double wi = Pick(xv[i], w0, 0.0);
              o[i] += wi * Pick(xv[i], x[i], 0.0);
              wsum[i] += wi;
            }
          } else {
            for (size_t i = 0; i < n; ++i) {
              const double wi = Pick(xv[i], w[seg_row[i]], 0.0);
              o[i] += wi * Pick(xv[i], x[i], 0.0);
              wsum[i] += wi;
            }
          }
        }
        for (size_t i = 0; i < n; ++i) {
          const bool present = wsum[i] > 0;
          o[i] = Pick(present, o[i] / wsum[i], kNaN);
          ov[i] = static_cast<uint8_t>(present);
        }
        break;
      }
      case Code::kCoverage: {
        const CoverageTable& t = coverages_[st.aux];
        double* __restrict o = onum(st.out);
        uint8_t* __restrict ov = oval(st.out);
        std::fill_n(o, n, 0.0);
        std::fill_n(ov, n, 1);
        const size_t rows = t.shares.size();
        const int32_t* __restrict seg_row = segment_rows(t.segment);
        for (size_t m = 0; m < t.members.size(); ++m) {
          const uint8_t* __restrict xv = val(t.members[m]);
          const double* share = &t.by_member[m * rows];
          if (seg_row == nullptr || SameForEveryRow(share, rows)) {
            const double s0 = share[0];
            for (size_t i = 0; i < n; ++i) o[i] += Pick(xv[i], s0, 0.0);
          } else {
            for (size_t i = 0; i < n; ++i) {
              o[i] += Pick(xv[i], share[seg_row[i]], 0.0);
            }
          }
        }
        // Shares that add up to 1 can sum to 1 plus an ulp (0.4 + 0.3 +
        // 0.3 is 1.0000000000000002); coverage is a share, and is written
        // exactly, so it is capped at 1.
        for (size_t i = 0; i < n; ++i) o[i] = std::min(o[i], 1.0);
        break;
      }
      case Code::kTier: {
        const TierTable& t = tiers_[st.aux];
        const double* score = num(st.a);
        const uint8_t* sv = val(st.a);
        const double* cov = num(st.b);
        const int32_t* prev = str(st.c);
        int32_t* tier = ostr(st.out);
        int32_t* by_score = ostr(st.out2);
        uint8_t* held = obool(st.out3);
        const int32_t count = static_cast<int32_t>(t.mins.size());
        const double* mins = t.mins.data();
        const double* maxs = t.maxs.data();
        const bool hysteresis = t.hysteresis > 0;
        // Scores and previous tiers follow the data, so every decision
        // below is made without a branch: the first tier whose minimum the
        // score reaches is found by walking up from the lowest, and the
        // previous tier's bounds are read for every row (tier 0's for a row
        // without one) and used only where they apply.
        for (size_t i = 0; i < n; ++i) {
          const double x = score[i];
          int32_t ts = count - 1;
          for (int32_t k = count - 1; k >= 0; --k) {
            ts = x >= mins[k] ? k : ts;
          }
          // Coverage is compared with a small tolerance so that shares that
          // add up to exactly the minimum are not lost to rounding.
          const bool sufficient =
              (sv[i] != 0) & (cov[i] >= t.min_coverage - 1e-9);
          const int32_t by = sufficient ? ts : count;
          const int32_t p = prev[i];
          const bool known = (p >= 0) & (p < count);
          const int32_t pk = known ? p : 0;
          // Stay in the previous tier until the score is clearly past its
          // bounds; this stops accounts near a boundary from flapping.
          const bool left = (x >= maxs[pk] + t.hysteresis) |
                            (x < mins[pk] - t.hysteresis);
          const bool hold = sufficient & hysteresis & known & (p != ts) & !left;
          tier[i] = hold ? p : by;
          by_score[i] = by;
          held[i] = static_cast<uint8_t>(hold);
        }
        break;
      }
      case Code::kGate: {
        const uint8_t* c = boo(st.a);
        const int32_t* tier = str(st.b);
        uint8_t* o = obool(st.out);
        for (size_t i = 0; i < n; ++i) {
          o[i] = c[i] & static_cast<uint8_t>(tier[i] != st.k);
        }
        break;
      }
      case Code::kTierChanged: {
        const int32_t* prev = str(st.a);
        const int32_t* tier = str(st.b);
        uint8_t* o = obool(st.out);
        for (size_t i = 0; i < n; ++i) {
          o[i] = static_cast<uint8_t>(prev[i] >= 0 && prev[i] != tier[i]);
        }
        break;
      }
      case Code::kExternal: {
        const ExternalCall& call = externals_[st.aux];
        ExternalColumn* cols = s->external_.data();
        const size_t k = call.inputs.size();
        for (size_t j = 0; j < k; ++j) {
          const Operand& in = call.inputs[j];
          if (call.kinds[j] == ValueKind::kSeries) {
            const SeriesColumn& sc = slots.series[in.index];
            cols[j] = {ValueKind::kSeries, sc.values, sc.valid, sc.offsets};
          } else {
            cols[j] = {ValueKind::kNum, num(in), val(in), nullptr};
          }
        }
        call.fn->EvaluateChunk(cols, k, n, onum(st.out), oval(st.out));
        break;
      }
    }
  }
}

namespace {

bool CpuHasAvx2() {
#if HEALTHSCORE_HAVE_AVX2_KERNEL
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

// The ColumnKernel set by SetColumnKernel.
std::atomic<ColumnKernel> chosen_kernel{ColumnKernel::kAuto};

}  // namespace

namespace internal {

bool UseAvx2Kernel() {
  static const bool cpu_has_avx2 = CpuHasAvx2();
  switch (chosen_kernel.load(std::memory_order_relaxed)) {
    case ColumnKernel::kAuto: return cpu_has_avx2;
    case ColumnKernel::kBaseline: return false;
    case ColumnKernel::kAvx2: return true;  // only set where it can run
  }
  return false;
}

}  // namespace internal

bool SetColumnKernel(ColumnKernel kernel) {
  if (kernel == ColumnKernel::kAvx2 && !CpuHasAvx2()) return false;
  chosen_kernel.store(kernel, std::memory_order_relaxed);
  return true;
}

ColumnKernel ColumnKernelInUse() {
  return internal::UseAvx2Kernel() ? ColumnKernel::kAvx2
                                   : ColumnKernel::kBaseline;
}

void Program::Run(const SlotView& slots, size_t n, Scratch* s) const {
  Prepare(s);
#if HEALTHSCORE_HAVE_AVX2_KERNEL
  if (internal::UseAvx2Kernel()) {
    RunAvx2(slots, n, s);
    return;
  }
#endif
  RunBaseline(slots, n, s);
}

void Program::RunBaseline(const SlotView& slots, size_t n, Scratch* s) const {
  RunSteps(slots, n, s);
}

#if HEALTHSCORE_HAVE_AVX2_KERNEL
HEALTHSCORE_TARGET_AVX2
void Program::RunAvx2(const SlotView& slots, size_t n, Scratch* s) const {
  RunSteps(slots, n, s);
}
#endif

std::string Program::DebugString() const {
  std::string out;
  auto op = [](const Operand& o) -> std::string {
    switch (o.kind) {
      case Operand::Kind::kSlot: return absl::StrCat("s", o.index);
      case Operand::Kind::kRegister: return absl::StrCat("r", o.index);
      case Operand::Kind::kConst: return absl::StrCat(o.value);
      case Operand::Kind::kNone: return "_";
    }
    return "?";
  };
  for (const Step& st : steps_) {
    absl::StrAppend(&out, "r", st.out, " = ", CodeName(st.code), " ",
                    op(st.a), " ", op(st.b), " ", op(st.c), "\n");
  }
  return out;
}

}  // namespace healthscore::engine::expr
