#include "engine/expr/program.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"

namespace healthscore::engine::expr {

namespace {

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

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

inline bool Finite(double x) { return x - x == 0; }

// Mean of values[begin, end); the caller guarantees end > begin.
inline double Mean(const double* v, uint32_t begin, uint32_t end) {
  double s = 0;
  for (uint32_t i = begin; i < end; ++i) s += v[i];
  return s / static_cast<double>(end - begin);
}

std::atomic<uint64_t> next_program_id{1};

}  // namespace

struct Program::Step {
  Code code = Code::kAdd;
  Operand a, b, c;
  int out = -1, out2 = -1, out3 = -1;
  int aux = -1;
  int32_t k = 0;
  int p1 = 0, p2 = 0;
};

double Normalization::Apply(double x) const {
  switch (kind) {
    case Kind::kLinear: {
      double t = (x - bad) / (good - bad);
      return 100.0 * std::clamp(t, 0.0, 1.0);
    }
    case Kind::kSteps: {
      size_t i = 0;
      while (i < below.size() && !(x < below[i])) ++i;
      return step_scores[i];
    }
    case Kind::kPiecewise: {
      if (x <= xs.front()) return ys.front();
      if (x >= xs.back()) return ys.back();
      size_t i = std::upper_bound(xs.begin(), xs.end(), x) - xs.begin();
      double t = (x - xs[i - 1]) / (xs[i] - xs[i - 1]);
      return ys[i - 1] + t * (ys[i] - ys[i - 1]);
    }
    case Kind::kLogistic:
      return 100.0 / (1.0 + std::exp(-(x - midpoint) / scale));
    case Kind::kIdentity:
      return std::clamp(x, 0.0, 100.0);
  }
  return kNaN;
}

void Normalization::ApplyColumn(const double* __restrict x,
                                double* __restrict out, size_t n) const {
  switch (kind) {
    case Kind::kLinear: {
      const double inv = 1.0 / (good - bad);
      const double b = bad;
      for (size_t i = 0; i < n; ++i) {
        double t = (x[i] - b) * inv;
        t = std::min(std::max(t, 0.0), 1.0);
        out[i] = 100.0 * t;
      }
      return;
    }
    case Kind::kSteps: {
      // The first step's score plus every rise whose threshold the value
      // has reached: a sum instead of a search, so it vectorises.
      const double first = step_scores[0];
      for (size_t i = 0; i < n; ++i) out[i] = first;
      for (size_t j = 0; j < below.size(); ++j) {
        const double rise = step_scores[j + 1] - step_scores[j];
        const double at = below[j];
        for (size_t i = 0; i < n; ++i) out[i] += x[i] >= at ? rise : 0.0;
      }
      return;
    }
    case Kind::kPiecewise: {
      // The interpolation as a sum of clamped ramps, one per segment.
      const double first = ys[0];
      for (size_t i = 0; i < n; ++i) out[i] = first;
      for (size_t j = 0; j + 1 < xs.size(); ++j) {
        const double x0 = xs[j];
        const double inv = 1.0 / (xs[j + 1] - xs[j]);
        const double rise = ys[j + 1] - ys[j];
        for (size_t i = 0; i < n; ++i) {
          double t = (x[i] - x0) * inv;
          t = std::min(std::max(t, 0.0), 1.0);
          out[i] += rise * t;
        }
      }
      return;
    }
    case Kind::kLogistic:
      for (size_t i = 0; i < n; ++i) out[i] = Apply(x[i]);
      return;
    case Kind::kIdentity:
      for (size_t i = 0; i < n; ++i) {
        out[i] = std::min(std::max(x[i], 0.0), 100.0);
      }
      return;
  }
}

std::string Normalization::ToString() const {
  switch (kind) {
    case Kind::kLinear:
      return absl::StrFormat("linear bad=%g good=%g", bad, good);
    case Kind::kSteps: {
      std::vector<std::string> parts;
      for (size_t i = 0; i < below.size(); ++i) {
        parts.push_back(absl::StrFormat("<%g:%g", below[i], step_scores[i]));
      }
      parts.push_back(absl::StrFormat("else:%g", step_scores.back()));
      return absl::StrCat("steps ", absl::StrJoin(parts, " "));
    }
    case Kind::kPiecewise: {
      std::vector<std::string> parts;
      for (size_t i = 0; i < xs.size(); ++i) {
        parts.push_back(absl::StrFormat("(%g,%g)", xs[i], ys[i]));
      }
      return absl::StrCat("piecewise ", absl::StrJoin(parts, " "));
    }
    case Kind::kLogistic:
      return absl::StrFormat("logistic midpoint=%g scale=%g", midpoint, scale);
    case Kind::kIdentity:
      return "identity";
  }
  return "";
}

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

void Program::Run(const SlotView& slots, size_t n, Scratch* s) const {
  Prepare(s);
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
          o[i] = av[i] ? a[i] : b[i];
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
          o[i] = c[i] ? a[i] : b[i];
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
          for (size_t k = 1; k < t.specs.size(); ++k) {
            t.specs[k].ApplyColumn(a, tmp, n);
            const int32_t kk = static_cast<int32_t>(k);
            for (size_t i = 0; i < n; ++i) o[i] = sel[i] == kk ? tmp[i] : o[i];
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
          if (seg_row == nullptr) {
            const double w0 = w[0];
            for (size_t i = 0; i < n; ++i) {
              const double wi = xv[i] ? w0 : 0.0;
              o[i] += wi * (xv[i] ? x[i] : 0.0);
              wsum[i] += wi;
            }
          } else {
            for (size_t i = 0; i < n; ++i) {
              const double wi = xv[i] ? w[seg_row[i]] : 0.0;
              o[i] += wi * (xv[i] ? x[i] : 0.0);
              wsum[i] += wi;
            }
          }
        }
        for (size_t i = 0; i < n; ++i) {
          const bool present = wsum[i] > 0;
          o[i] = present ? o[i] / wsum[i] : kNaN;
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
          if (seg_row == nullptr) {
            const double s0 = share[0];
            for (size_t i = 0; i < n; ++i) o[i] += xv[i] ? s0 : 0.0;
          } else {
            for (size_t i = 0; i < n; ++i) {
              o[i] += xv[i] ? share[seg_row[i]] : 0.0;
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
        for (size_t i = 0; i < n; ++i) {
          int32_t ts = count - 1;
          for (int32_t k = 0; k < count; ++k) {
            if (score[i] >= t.mins[k]) {
              ts = k;
              break;
            }
          }
          // Coverage is compared with a small tolerance so that shares that
          // add up to exactly the minimum are not lost to rounding.
          const bool sufficient = sv[i] && cov[i] >= t.min_coverage - 1e-9;
          int32_t chosen = sufficient ? ts : count;
          uint8_t h = 0;
          const int32_t p = prev[i];
          if (sufficient && t.hysteresis > 0 && p >= 0 && p < count &&
              p != ts) {
            // Stay in the previous tier until the score is clearly past its
            // bounds; this stops accounts near a boundary from flapping.
            const bool left = score[i] >= t.maxs[p] + t.hysteresis ||
                              score[i] < t.mins[p] - t.hysteresis;
            if (!left) {
              chosen = p;
              h = 1;
            }
          }
          tier[i] = chosen;
          by_score[i] = sufficient ? ts : count;
          held[i] = h;
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

// ---------------------------------------------------------------------------

struct ProgramBuilder::Impl {
  std::unique_ptr<Program> p{new Program()};
  // Free registers per kind, reused by temporaries.
  std::vector<int> free_num, free_bool, free_str;
  std::map<double, int> const_regs;
  std::map<int, int> bool_const_regs;  // 0/1 -> bool register

  int NewReg(ValueKind kind) {
    auto take = [](std::vector<int>* free, int* count) {
      if (!free->empty()) {
        int r = free->back();
        free->pop_back();
        return r;
      }
      return (*count)++;
    };
    switch (kind) {
      case ValueKind::kNum: return take(&free_num, &p->num_regs_);
      case ValueKind::kBool: return take(&free_bool, &p->bool_regs_);
      default: return take(&free_str, &p->str_regs_);
    }
  }

  void Free(const Operand& o, ValueKind kind) {
    if (o.kind != Operand::Kind::kRegister) return;
    switch (kind) {
      case ValueKind::kNum: free_num.push_back(o.index); break;
      case ValueKind::kBool: free_bool.push_back(o.index); break;
      default: free_str.push_back(o.index); break;
    }
  }

  // A register holding a constant number for every row.
  Operand NumConst(double v) {
    // NaN never compares equal to itself, so key missing constants apart.
    double key = std::isnan(v) ? std::numeric_limits<double>::infinity() : v;
    auto it = const_regs.find(key);
    if (it != const_regs.end()) return Operand::Register(it->second);
    int r = p->num_regs_++;
    p->constants_.push_back({r, v});
    const_regs[key] = r;
    return Operand::Register(r);
  }

  // Bool constants are computed by one step at the top of the program.
  ABSL_ATTRIBUTE_NOINLINE Operand BoolConst(bool v) {
    auto it = bool_const_regs.find(v);
    if (it != bool_const_regs.end()) return Operand::Register(it->second);
    Operand one = NumConst(1.0);
    int r = p->bool_regs_++;
    Program::Step st;
    st.code = v ? Code::kHasNum : Code::kNe;
    st.a = one;
    st.b = one;
    st.out = r;
    p->steps_.insert(p->steps_.begin(), st);
    bool_const_regs[v] = r;
    return Operand::Register(r);
  }

  // Value of an emitted subtree; `temp` when its register may be recycled
  // once consumed.
  struct Val {
    Operand op;
    bool temp = false;
  };

  Operand AsNum(const Operand& o) {
    return o.is_const() ? NumConst(o.value) : o;
  }
  Operand AsBool(const Operand& o) {
    return o.is_const() ? BoolConst(o.value != 0) : o;
  }

  static ValueKind KindOf(Type t) {
    switch (t) {
      case Type::kBool: return ValueKind::kBool;
      case Type::kString: return ValueKind::kStr;
      case Type::kSeries: return ValueKind::kSeries;
      default: return ValueKind::kNum;
    }
  }

  void Release(const Val& v, Type t) {
    if (v.temp) Free(v.op, KindOf(t));
  }

  Val Step(Code code, ValueKind out_kind, std::initializer_list<Operand> ops,
           int p1 = 0, int p2 = 0, int32_t k = 0, int aux = -1) {
    Program::Step st;
    st.code = code;
    auto it = ops.begin();
    if (it != ops.end()) st.a = *it++;
    if (it != ops.end()) st.b = *it++;
    if (it != ops.end()) st.c = *it++;
    st.p1 = p1;
    st.p2 = p2;
    st.k = k;
    st.aux = aux;
    st.out = NewReg(out_kind);
    p->steps_.push_back(st);
    return {Operand::Register(st.out), true};
  }

  static double FoldNum(Code code, double x, double y) {
    switch (code) {
      case Code::kAdd: return x + y;
      case Code::kSub: return x - y;
      case Code::kMul: return x * y;
      case Code::kDiv: return x / y;
      case Code::kMin: return x < y ? x : y;
      case Code::kMax: return x > y ? x : y;
      case Code::kNeg: return -x;
      case Code::kAbs: return std::fabs(x);
      case Code::kLog: return x > 0 ? std::log(x) : kNaN;
      default: return kNaN;
    }
  }

  // The only recursive function of the planner, with a small frame: it
  // emits a node's operands, in order, and leaves what the node itself
  // becomes to functions that do not recurse, so a tree needs its depth
  // times this frame of stack.
  ABSL_ATTRIBUTE_NOINLINE Val EmitNode(const Node& n) {
    if (n.kind == NodeKind::kList || n.children.empty()) return Leaf(n);
    if (n.kind == NodeKind::kBinary && n.op == Op::kIn) {
      return StrIn(n, EmitNode(*n.children[0]));
    }
    if (n.kind == NodeKind::kCall) {
      if (IsMinMax(n)) return EmitMinMax(n);
      if (IsHasBool(n)) return {BoolConst(true), false};
    }
    // Unary, binary, conditional and the other calls: at most 3 operands.
    Val v[3];
    const size_t count = n.children.size() < 3 ? n.children.size() : 3;
    for (size_t i = 0; i < count; ++i) v[i] = EmitNode(*n.children[i]);
    return Combine(n, v);
  }

  // Folded one argument at a time: two registers live, however many
  // arguments.
  ABSL_ATTRIBUTE_NOINLINE Val EmitMinMax(const Node& n) {
    Val acc = EmitNode(*n.children[0]);
    for (size_t i = 1; i < n.children.size(); ++i) {
      acc = MinMax(n, acc, EmitNode(*n.children[i]));
    }
    return acc;
  }

  static bool IsMinMax(const Node& n) {
    return n.text == "min" || n.text == "max";
  }
  // has() of a bool is always true.
  static bool IsHasBool(const Node& n) {
    return n.text == "has" && n.children[0]->type == Type::kBool;
  }

  ABSL_ATTRIBUTE_NOINLINE static Val Leaf(const Node& n) {
    switch (n.kind) {
      case NodeKind::kNumber:
        return {Operand::Const(n.number), false};
      case NodeKind::kBool:
        return {Operand::Const(n.boolean ? 1 : 0), false};
      case NodeKind::kIdent:
        return {n.ref, false};
      default:
        return {};  // strings and lists: consumed by their comparison
    }
  }

  ABSL_ATTRIBUTE_NOINLINE Val StrIn(const Node& n, Val s) {
    const Node& a = *n.children[0];
    p->code_lists_.push_back(n.children[1]->list_codes);
    Val out = Step(Code::kStrIn, ValueKind::kBool, {s.op}, 0, 0, 0,
                   static_cast<int>(p->code_lists_.size() - 1));
    Release(s, a.type);
    return out;
  }

  ABSL_ATTRIBUTE_NOINLINE Val MinMax(const Node& n, Val acc, Val next) {
    const Code code = n.text == "min" ? Code::kMin : Code::kMax;
    Val out;
    if (acc.op.is_const() && next.op.is_const()) {
      out = {Operand::Const(FoldNum(code, acc.op.value, next.op.value)),
             false};
    } else {
      out = Step(code, ValueKind::kNum, {AsNum(acc.op), AsNum(next.op)});
    }
    Release(acc, Type::kNumber);
    Release(next, Type::kNumber);
    return out;
  }

  // A node whose operands are emitted, in `v`.
  ABSL_ATTRIBUTE_NOINLINE Val Combine(const Node& n, const Val* v) {
    switch (n.kind) {
      case NodeKind::kUnary: {
        if (n.op == Op::kNeg) return NumOp(Code::kNeg, n, v);
        if (v[0].op.is_const()) {
          return {Operand::Const(v[0].op.value ? 0 : 1), false};
        }
        Val out = Step(Code::kNot, ValueKind::kBool, {v[0].op});
        Release(v[0], Type::kBool);
        return out;
      }
      case NodeKind::kBinary:
        switch (n.op) {
          case Op::kAdd: return NumOp(Code::kAdd, n, v);
          case Op::kSub: return NumOp(Code::kSub, n, v);
          case Op::kMul: return NumOp(Code::kMul, n, v);
          case Op::kDiv: return NumOp(Code::kDiv, n, v);
          case Op::kAnd:
          case Op::kOr: {
            const Val& x = v[0];
            const Val& y = v[1];
            if (x.op.is_const() && y.op.is_const()) {
              bool r = n.op == Op::kAnd ? (x.op.value && y.op.value)
                                        : (x.op.value || y.op.value);
              return {Operand::Const(r ? 1 : 0), false};
            }
            Val out = Step(n.op == Op::kAnd ? Code::kAnd : Code::kOr,
                           ValueKind::kBool, {AsBool(x.op), AsBool(y.op)});
            Release(x, Type::kBool);
            Release(y, Type::kBool);
            return out;
          }
          default:
            return Compare(n, v);
        }
      case NodeKind::kConditional: {
        Val out;
        if (n.type == Type::kBool) {
          out = Step(Code::kSelectBool, ValueKind::kBool,
                     {AsBool(v[0].op), AsBool(v[1].op), AsBool(v[2].op)});
        } else {
          out = Step(Code::kSelectNum, ValueKind::kNum,
                     {AsBool(v[0].op), AsNum(v[1].op), AsNum(v[2].op)});
        }
        Release(v[0], Type::kBool);
        Release(v[1], n.type);
        Release(v[2], n.type);
        return out;
      }
      case NodeKind::kCall:
        return Call(n, v);
      default:
        return {};
    }
  }

  // Unary or binary arithmetic; folded when every operand is constant.
  Val NumOp(Code code, const Node& n, const Val* v) {
    const bool binary = n.children.size() == 2;
    const Val& x = v[0];
    if (x.op.is_const() && (!binary || v[1].op.is_const())) {
      double r = FoldNum(code, x.op.value, binary ? v[1].op.value : 0);
      return {Operand::Const(Finite(r) ? r : kNaN), false};
    }
    Val out = binary
                  ? Step(code, ValueKind::kNum, {AsNum(x.op), AsNum(v[1].op)})
                  : Step(code, ValueKind::kNum, {AsNum(x.op)});
    Release(x, n.children[0]->type);
    if (binary) Release(v[1], n.children[1]->type);
    return out;
  }

  Val Compare(const Node& n, const Val* v) {
    const Node& a = *n.children[0];
    const Node& b = *n.children[1];
    if (a.type == Type::kString || b.type == Type::kString) {
      // The literal's operand is empty: only the attribute's is read.
      const bool a_lit = a.kind == NodeKind::kString;
      const Node& sym = a_lit ? b : a;
      const Node& lit = a_lit ? a : b;
      const Val& s = a_lit ? v[1] : v[0];
      Val out = Step(n.op == Op::kEq ? Code::kStrEq : Code::kStrNe,
                     ValueKind::kBool, {s.op}, 0, 0, lit.string_code);
      Release(s, sym.type);
      return out;
    }
    const Val& x = v[0];
    const Val& y = v[1];
    if (a.type == Type::kBool) {
      Val out = Step(n.op == Op::kEq ? Code::kBoolEq : Code::kBoolNe,
                     ValueKind::kBool, {AsBool(x.op), AsBool(y.op)});
      Release(x, a.type);
      Release(y, b.type);
      return out;
    }
    Code code = Code::kLt;
    switch (n.op) {
      case Op::kLt: code = Code::kLt; break;
      case Op::kLe: code = Code::kLe; break;
      case Op::kGt: code = Code::kGt; break;
      case Op::kGe: code = Code::kGe; break;
      case Op::kEq: code = Code::kEq; break;
      default: code = Code::kNe; break;
    }
    Val out = Step(code, ValueKind::kBool, {AsNum(x.op), AsNum(y.op)});
    Release(x, a.type);
    Release(y, b.type);
    return out;
  }

  // Calls other than min, max and has(bool), with their operands emitted.
  Val Call(const Node& n, const Val* v) {
    const std::string& f = n.text;
    auto arg_int = [&](size_t i) {
      return static_cast<int>(n.children[i]->number);
    };
    if (f == "has") {
      const Node& a = *n.children[0];
      const Val& x = v[0];
      if (x.op.is_const()) return {BoolConst(Finite(x.op.value)), false};
      Code code = a.type == Type::kString   ? Code::kHasStr
                  : a.type == Type::kSeries ? Code::kHasSeries
                                            : Code::kHasNum;
      Val out = Step(code, ValueKind::kBool, {x.op});
      Release(x, a.type);
      return out;
    }
    if (f == "coalesce") {
      Val out = Step(Code::kCoalesce, ValueKind::kNum,
                     {AsNum(v[0].op), AsNum(v[1].op)});
      Release(v[0], Type::kNumber);
      Release(v[1], Type::kNumber);
      return out;
    }
    if (f == "abs") return NumOp(Code::kAbs, n, v);
    if (f == "log") return NumOp(Code::kLog, n, v);
    if (f == "clamp") {
      Val out = Step(Code::kClamp, ValueKind::kNum,
                     {AsNum(v[0].op), AsNum(v[1].op), AsNum(v[2].op)});
      Release(v[0], Type::kNumber);
      Release(v[1], Type::kNumber);
      Release(v[2], Type::kNumber);
      return out;
    }
    if (f == "days_since") {
      Val out = Step(Code::kSub, ValueKind::kNum, {n.ref, AsNum(v[0].op)});
      Release(v[0], Type::kDate);
      return out;
    }
    if (f == "days_between") {
      Val out = Step(Code::kSub, ValueKind::kNum,
                     {AsNum(v[1].op), AsNum(v[0].op)});
      Release(v[0], Type::kDate);
      Release(v[1], Type::kDate);
      return out;
    }
    // Series functions read the series slot directly (their operands, a
    // name and number literals, emitted nothing).
    const Operand s = n.children[0]->ref;
    if (f == "last") return Step(Code::kSeriesLast, ValueKind::kNum, {s});
    if (f == "count") return Step(Code::kSeriesCount, ValueKind::kNum, {s});
    if (f == "mean_last") {
      return Step(Code::kSeriesMeanLast, ValueKind::kNum, {s}, arg_int(1));
    }
    if (f == "mean_window") {
      return Step(Code::kSeriesMeanWindow, ValueKind::kNum, {s}, arg_int(1),
                  arg_int(2));
    }
    if (f == "pct_change") {
      return Step(Code::kSeriesPctChange, ValueKind::kNum, {s}, arg_int(1),
                  arg_int(2));
    }
    if (f == "ratio_change") {
      return Step(Code::kSeriesRatioChange, ValueKind::kNum, {s}, arg_int(1),
                  arg_int(2));
    }
    // slope
    return Step(Code::kSeriesSlope, ValueKind::kNum, {s},
                n.children.size() == 2 ? arg_int(1) : 0);
  }
};

ProgramBuilder::ProgramBuilder() : impl_(new Impl) {}
ProgramBuilder::~ProgramBuilder() = default;

int ProgramBuilder::AddSlot(ValueKind kind) {
  impl_->p->slot_kinds_.push_back(kind);
  return static_cast<int>(impl_->p->slot_kinds_.size() - 1);
}

Operand ProgramBuilder::Emit(const Node& checked) {
  Impl::Val v = impl_->EmitNode(checked);
  // Results handed to the caller stay allocated: never marked temporary.
  if (v.op.is_const()) {
    return checked.type == Type::kBool ? impl_->BoolConst(v.op.value != 0)
                                       : impl_->NumConst(v.op.value);
  }
  return v.op;
}

Operand ProgramBuilder::Normalize(Operand x, NormTable table) {
  impl_->p->norms_.push_back(std::move(table));
  return impl_
      ->Step(Code::kNormalize, ValueKind::kNum, {impl_->AsNum(x)}, 0, 0, 0,
             static_cast<int>(impl_->p->norms_.size() - 1))
      .op;
}

namespace {
// Transposes per-segment rows of per-member values to [member * rows + row].
std::vector<double> ByMember(const std::vector<std::vector<double>>& rows,
                             size_t members) {
  std::vector<double> out(members * rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t m = 0; m < members; ++m) out[m * rows.size() + r] = rows[r][m];
  }
  return out;
}
}  // namespace

Operand ProgramBuilder::WeightedMean(MeanTable table) {
  table.by_member = ByMember(table.weights, table.members.size());
  impl_->p->means_.push_back(std::move(table));
  auto out = impl_->Step(Code::kMean, ValueKind::kNum, {}, 0, 0, 0,
                         static_cast<int>(impl_->p->means_.size() - 1));
  // The weight-sum accumulator is private to the step.
  int wsum = impl_->NewReg(ValueKind::kNum);
  impl_->p->steps_.back().out2 = wsum;
  return out.op;
}

Operand ProgramBuilder::Coverage(CoverageTable table) {
  table.by_member = ByMember(table.shares, table.members.size());
  impl_->p->coverages_.push_back(std::move(table));
  return impl_
      ->Step(Code::kCoverage, ValueKind::kNum, {}, 0, 0, 0,
             static_cast<int>(impl_->p->coverages_.size() - 1))
      .op;
}

TierOutputs ProgramBuilder::Tier(Operand score, Operand coverage,
                                 Operand previous_tier, TierTable table) {
  impl_->p->tiers_.push_back(std::move(table));
  auto out = impl_->Step(Code::kTier, ValueKind::kStr,
                         {score, coverage, previous_tier}, 0, 0, 0,
                         static_cast<int>(impl_->p->tiers_.size() - 1));
  Program::Step& st = impl_->p->steps_.back();
  st.out2 = impl_->NewReg(ValueKind::kStr);
  st.out3 = impl_->NewReg(ValueKind::kBool);
  return {out.op, Operand::Register(st.out2), Operand::Register(st.out3)};
}

Operand ProgramBuilder::Gate(Operand cond, Operand tier,
                             int32_t insufficient_code) {
  return impl_
      ->Step(Code::kGate, ValueKind::kBool, {impl_->AsBool(cond), tier}, 0, 0,
             insufficient_code)
      .op;
}

Operand ProgramBuilder::Subtract(Operand a, Operand b) {
  return impl_
      ->Step(Code::kSub, ValueKind::kNum, {impl_->AsNum(a), impl_->AsNum(b)})
      .op;
}

Operand ProgramBuilder::TierChanged(Operand previous_tier, Operand tier) {
  return impl_->Step(Code::kTierChanged, ValueKind::kBool,
                     {previous_tier, tier})
      .op;
}

Operand ProgramBuilder::External(std::shared_ptr<const ExternalFunction> fn,
                                 const std::vector<Operand>& inputs) {
  Program& p = *impl_->p;
  Program::ExternalCall call;
  call.fn = std::move(fn);
  for (const Operand& in : inputs) {
    const bool series = in.kind == Operand::Kind::kSlot &&
                        p.slot_kinds_[in.index] == ValueKind::kSeries;
    call.inputs.push_back(series ? in : impl_->AsNum(in));
    call.kinds.push_back(series ? ValueKind::kSeries : ValueKind::kNum);
  }
  p.max_external_inputs_ = std::max(p.max_external_inputs_, inputs.size());
  p.externals_.push_back(std::move(call));
  return impl_
      ->Step(Code::kExternal, ValueKind::kNum, {}, 0, 0, 0,
             static_cast<int>(p.externals_.size() - 1))
      .op;
}

std::unique_ptr<Program> ProgramBuilder::Build() {
  return std::move(impl_->p);
}

}  // namespace healthscore::engine::expr
