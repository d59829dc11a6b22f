#include "engine/expr/program.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/common/testing/stack_use.h"
#include "engine/expr/checker.h"
#include "engine/expr/parser.h"
#include "engine/expr/testing/limit_shapes.h"
#include "engine/expr/testing/scope.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::expr {
namespace {

using testing::TestingScope;

using ::testing::ElementsAre;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Four accounts with two numbers, a segment, two dates and a series.
class ProgramTest : public ::testing::Test {
 protected:
  ProgramTest() {
    scope_.Add("x", {Type::kNumber, Operand::Slot(x_slot_)});
    scope_.Add("y", {Type::kNumber, Operand::Slot(y_slot_)});
    scope_.Add("segment", {Type::kString, Operand::Slot(seg_slot_)});
    scope_.Add("start", {Type::kDate, Operand::Slot(start_slot_)});
    scope_.Add("as_of", {Type::kDate, Operand::Slot(as_of_slot_)});
    scope_.Add("wau", {Type::kSeries, Operand::Slot(wau_slot_)});
    // Codes 0 and 1 for "smb" and "enterprise".
    int32_t code;
    std::string e, h;
    scope_.StringCode(Symbol{}, "smb", &code, &e, &h);
    scope_.StringCode(Symbol{}, "enterprise", &code, &e, &h);
  }

  // Plans every expression into one program, runs it, returns the columns.
  void Plan(const std::vector<std::string>& exprs) {
    ProgramBuilder builder;
    ASSERT_EQ(builder.AddSlot(ValueKind::kNum), x_slot_);
    ASSERT_EQ(builder.AddSlot(ValueKind::kNum), y_slot_);
    ASSERT_EQ(builder.AddSlot(ValueKind::kStr), seg_slot_);
    ASSERT_EQ(builder.AddSlot(ValueKind::kNum), start_slot_);
    ASSERT_EQ(builder.AddSlot(ValueKind::kNum), as_of_slot_);
    ASSERT_EQ(builder.AddSlot(ValueKind::kSeries), wau_slot_);
    outputs_.clear();
    trees_.clear();
    for (const auto& text : exprs) {
      ParseResult p = Parse(text);
      ASSERT_TRUE(p.ok()) << text << ": " << p.error.message;
      CheckResult c = Check(p.root.get(), &scope_);
      ASSERT_TRUE(c.ok()) << text << ": " << c.errors[0].message;
      outputs_.push_back(builder.Emit(*p.root));
      trees_.push_back(std::move(p.root));
    }
    program_ = builder.Build();
    slots_.num.assign(6, nullptr);
    slots_.num_valid.assign(6, nullptr);
    slots_.str.assign(6, nullptr);
    slots_.series.assign(6, {});
    slots_.num[x_slot_] = x_;
    slots_.num_valid[x_slot_] = xv_;
    slots_.num[y_slot_] = y_;
    slots_.num_valid[y_slot_] = yv_;
    slots_.str[seg_slot_] = seg_;
    slots_.num[start_slot_] = start_;
    slots_.num_valid[start_slot_] = startv_;
    slots_.num[as_of_slot_] = as_of_;
    slots_.num_valid[as_of_slot_] = as_ofv_;
    slots_.series[wau_slot_] = {wau_values_, wau_offsets_, wau_valid_};
    program_->Run(slots_, 4, &scratch_);
  }

  std::vector<double> Num(size_t i) const {
    const double* v = program_->Num(outputs_[i], slots_, scratch_);
    const uint8_t* ok = program_->NumValid(outputs_[i], slots_, scratch_);
    std::vector<double> out;
    for (int r = 0; r < 4; ++r) out.push_back(ok[r] ? v[r] : kNaN);
    return out;
  }
  std::vector<int> Bool(size_t i) const {
    const uint8_t* b = program_->Bool(outputs_[i], scratch_);
    return {b[0], b[1], b[2], b[3]};
  }
  // One expression at a time.
  std::vector<double> EvalNum(const std::string& text) {
    Plan({text});
    return Num(0);
  }
  std::vector<int> EvalBool(const std::string& text) {
    Plan({text});
    return Bool(0);
  }

  // Row 2 has x missing; row 3 has y missing and no segment.
  double x_[4] = {2, 10, 0, -4};
  uint8_t xv_[4] = {1, 1, 0, 1};
  double y_[4] = {4, 0, 1, 0};
  uint8_t yv_[4] = {1, 1, 1, 0};
  int32_t seg_[4] = {0, 1, -2, kMissingCode};
  double start_[4] = {100, 200, 0, 0};
  uint8_t startv_[4] = {1, 1, 0, 1};
  double as_of_[4] = {130, 230, 10, 10};
  uint8_t as_ofv_[4] = {1, 1, 1, 0};
  // wau: row 0 [1 2 3 4 5 6], row 1 [10 10 5 5], row 2 [] (present, empty),
  // row 3 absent.
  double wau_values_[10] = {1, 2, 3, 4, 5, 6, 10, 10, 5, 5};
  uint32_t wau_offsets_[5] = {0, 6, 10, 10, 10};
  uint8_t wau_valid_[4] = {1, 1, 1, 0};

  const int x_slot_ = 0, y_slot_ = 1, seg_slot_ = 2, start_slot_ = 3,
            as_of_slot_ = 4, wau_slot_ = 5;
  TestingScope scope_;
  std::vector<std::unique_ptr<Node>> trees_;
  std::vector<Operand> outputs_;
  std::unique_ptr<Program> program_;
  SlotView slots_;
  Scratch scratch_;
};

MATCHER_P(NumsAre, expected, "") {
  if (arg.size() != expected.size()) return false;
  for (size_t i = 0; i < arg.size(); ++i) {
    if (std::isnan(expected[i]) != std::isnan(arg[i])) return false;
    if (!std::isnan(expected[i]) && std::fabs(expected[i] - arg[i]) > 1e-9) {
      *result_listener << "element " << i << " is " << arg[i];
      return false;
    }
  }
  return true;
}

using V = std::vector<double>;

TEST_F(ProgramTest, ArithmeticPropagatesMissing) {
  EXPECT_THAT(EvalNum("x + y * 2"), NumsAre(V{10, 10, kNaN, kNaN}));
}

TEST_F(ProgramTest, DivisionByZeroIsMissing) {
  EXPECT_THAT(EvalNum("x / y"), NumsAre(V{0.5, kNaN, kNaN, kNaN}));
}

TEST_F(ProgramTest, ComparisonWithMissingIsFalseBothWays) {
  EXPECT_THAT(EvalBool("x > 1"), ElementsAre(1, 1, 0, 0));
  EXPECT_THAT(EvalBool("x <= 1"), ElementsAre(0, 0, 0, 1));
  EXPECT_THAT(EvalBool("!(x > 1)"), ElementsAre(0, 0, 1, 1));
  EXPECT_THAT(EvalBool("x == 10 || y == 0"), ElementsAre(0, 1, 0, 0));
  EXPECT_THAT(EvalBool("x != 2"), ElementsAre(0, 1, 0, 1));
}

TEST_F(ProgramTest, HasAndCoalesce) {
  EXPECT_THAT(EvalBool("has(x)"), ElementsAre(1, 1, 0, 1));
  EXPECT_THAT(EvalBool("has(segment)"), ElementsAre(1, 1, 1, 0));
  EXPECT_THAT(EvalBool("has(wau)"), ElementsAre(1, 1, 1, 0));
  EXPECT_THAT(EvalNum("coalesce(x, -1)"), NumsAre(V{2, 10, -1, -4}));
  EXPECT_THAT(EvalNum("coalesce(x, y)"), NumsAre(V{2, 10, 1, -4}));
}

TEST_F(ProgramTest, StringComparisons) {
  EXPECT_THAT(EvalBool("segment == 'smb'"), ElementsAre(1, 0, 0, 0));
  // An unknown value differs from every literal; a missing one compares
  // false either way.
  EXPECT_THAT(EvalBool("segment != 'smb'"), ElementsAre(0, 1, 1, 0));
  EXPECT_THAT(EvalBool("segment in ['smb', 'enterprise']"),
              ElementsAre(1, 1, 0, 0));
  EXPECT_THAT(EvalBool("'enterprise' == segment"), ElementsAre(0, 1, 0, 0));
}

TEST_F(ProgramTest, Functions) {
  EXPECT_THAT(EvalNum("abs(x)"), NumsAre(V{2, 10, kNaN, 4}));
  EXPECT_THAT(EvalNum("min(x, 5, y)"), NumsAre(V{2, 0, kNaN, kNaN}));
  EXPECT_THAT(EvalNum("max(x, 3)"), NumsAre(V{3, 10, kNaN, 3}));
  EXPECT_THAT(EvalNum("clamp(x, 0, 5)"), NumsAre(V{2, 5, kNaN, 0}));
  EXPECT_THAT(EvalNum("log(x)"),
              NumsAre(V{std::log(2.0), std::log(10.0), kNaN, kNaN}));
}

TEST_F(ProgramTest, Conditional) {
  EXPECT_THAT(EvalNum("x > 5 ? x : y"), NumsAre(V{4, 10, 1, kNaN}));
  EXPECT_THAT(EvalBool("x > 5 ? true : y > 0"), ElementsAre(1, 1, 1, 0));
}

TEST_F(ProgramTest, Dates) {
  EXPECT_THAT(EvalNum("days_since(start)"), NumsAre(V{30, 30, kNaN, kNaN}));
  EXPECT_THAT(EvalNum("as_of - start"), NumsAre(V{30, 30, kNaN, kNaN}));
  EXPECT_THAT(EvalNum("days_between(as_of, start)"),
              NumsAre(V{-30, -30, kNaN, kNaN}));
}

TEST_F(ProgramTest, SeriesFunctions) {
  EXPECT_THAT(EvalNum("last(wau)"), NumsAre(V{6, 5, kNaN, kNaN}));
  EXPECT_THAT(EvalNum("count(wau)"), NumsAre(V{6, 4, 0, kNaN}));
  EXPECT_THAT(EvalNum("mean_last(wau, 2)"), NumsAre(V{5.5, 5, kNaN, kNaN}));
  // Fewer points than the window: missing, not a shorter mean.
  EXPECT_THAT(EvalNum("mean_last(wau, 5)"), NumsAre(V{4, kNaN, kNaN, kNaN}));
  // The 2 points before the last 2: [3 4] and [10 10].
  EXPECT_THAT(EvalNum("mean_window(wau, 2, 2)"),
              NumsAre(V{3.5, 10, kNaN, kNaN}));
  // (5.5 - 3.5) / 3.5 and (5 - 10) / 10.
  EXPECT_THAT(EvalNum("pct_change(wau, 2, 2)"),
              NumsAre(V{2.0 / 3.5 * 100, -50, kNaN, kNaN}));
  // 5.5 / 3.5 - 1 and 5 / 10 - 1: pct_change / 100 for positive means.
  EXPECT_THAT(EvalNum("ratio_change(wau, 2, 2)"),
              NumsAre(V{2.0 / 3.5, -0.5, kNaN, kNaN}));
  EXPECT_THAT(EvalNum("ratio_change(wau, 1, 3)"),
              NumsAre(V{6.0 / 4 - 1, 5.0 / (25.0 / 3) - 1, kNaN, kNaN}));
  // 1..6 rises by 1 per point; 10 10 5 5 falls by 2 per point.
  EXPECT_THAT(EvalNum("slope(wau)"), NumsAre(V{1, -2, kNaN, kNaN}));
  EXPECT_THAT(EvalNum("slope(wau, 3)"), NumsAre(V{1, -2.5, kNaN, kNaN}));
}

uint64_t Bits(double x) {
  uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return bits;
}

// Issue 10: the ratio form authors write by hand, as one function.
TEST_F(ProgramTest, RatioChangeIsTheHandWrittenRatioToTheBit) {
  // Row 0: a zero baseline (0 0 | 3 3), row 1: a negative one (-4 -4 | -2 -2).
  const double values[10] = {9, 9, 0, 0, 3, 3, -4, -4, -2, -2};
  std::copy(values, values + 10, wau_values_);
  // Missing on a zero baseline, like pct_change; on a negative baseline
  // pct_change divides by its absolute value (-2 against -4 is +50%) and
  // ratio_change by the baseline itself (-2 / -4 - 1 = -0.5).
  EXPECT_THAT(EvalNum("ratio_change(wau, 2, 2)"),
              NumsAre(V{kNaN, -0.5, kNaN, kNaN}));
  EXPECT_THAT(EvalNum("pct_change(wau, 2, 2)"),
              NumsAre(V{kNaN, 50, kNaN, kNaN}));
  // Same value, bit for bit, as mean_last / mean_window - 1, for every
  // window that fits, on series that do not divide evenly.
  const double uneven[10] = {3, 7, 11, 0.1, 0.7, 13, 1e-3, 17, 0.3, 19};
  std::copy(uneven, uneven + 10, wau_values_);
  for (int recent = 1; recent <= 3; ++recent) {
    for (int baseline = 1; baseline <= 3; ++baseline) {
      const std::string r = std::to_string(recent);
      const std::string b = std::to_string(baseline);
      Plan({"ratio_change(wau, " + r + ", " + b + ")",
            "mean_last(wau, " + r + ") / mean_window(wau, " + b + ", " + r +
                ") - 1"});
      const std::vector<double> fused = Num(0), by_hand = Num(1);
      for (int row = 0; row < 4; ++row) {
        SCOPED_TRACE(r + ", " + b + " row " + std::to_string(row));
        EXPECT_EQ(std::isnan(fused[row]), std::isnan(by_hand[row]));
        if (!std::isnan(by_hand[row])) {
          EXPECT_EQ(Bits(fused[row]), Bits(by_hand[row]));
        }
      }
    }
  }
}

TEST_F(ProgramTest, ConstantsFoldAndMaterialise) {
  EXPECT_THAT(EvalNum("1 + 2 * 3"), NumsAre(V{7, 7, 7, 7}));
  EXPECT_THAT(EvalNum("1 / 0"), NumsAre(V{kNaN, kNaN, kNaN, kNaN}));
  EXPECT_THAT(EvalBool("true && false"), ElementsAre(0, 0, 0, 0));
  EXPECT_THAT(EvalBool("!false"), ElementsAre(1, 1, 1, 1));
}

TEST_F(ProgramTest, ManyExpressionsShareOneProgramWithoutClobbering) {
  Plan({"x + 1", "y * 10", "x > 1 && y > 1", "mean_last(wau, 2) - x"});
  EXPECT_THAT(Num(0), NumsAre(V{3, 11, kNaN, -3}));
  EXPECT_THAT(Num(1), NumsAre(V{40, 0, 10, kNaN}));
  EXPECT_THAT(Bool(2), ElementsAre(1, 0, 0, 0));
  EXPECT_THAT(Num(3), NumsAre(V{3.5, -5, kNaN, kNaN}));
}

TEST(NormalizationTest, EveryKind) {
  Normalization lin;
  lin.kind = Normalization::Kind::kLinear;
  lin.bad = 0.1;
  lin.good = 0.5;
  EXPECT_DOUBLE_EQ(lin.Apply(0.3), 50);
  EXPECT_DOUBLE_EQ(lin.Apply(0.0), 0);
  EXPECT_DOUBLE_EQ(lin.Apply(9), 100);
  lin.bad = 10;  // lower is better
  lin.good = 0;
  EXPECT_DOUBLE_EQ(lin.Apply(2.5), 75);
  EXPECT_DOUBLE_EQ(lin.Apply(-1), 100);
  EXPECT_DOUBLE_EQ(lin.Apply(11), 0);

  Normalization steps;
  steps.kind = Normalization::Kind::kSteps;
  steps.below = {1, 3};
  steps.step_scores = {100, 60, 0};
  EXPECT_DOUBLE_EQ(steps.Apply(0), 100);
  EXPECT_DOUBLE_EQ(steps.Apply(1), 60);  // below is strict
  EXPECT_DOUBLE_EQ(steps.Apply(2.9), 60);
  EXPECT_DOUBLE_EQ(steps.Apply(3), 0);

  Normalization pw;
  pw.kind = Normalization::Kind::kPiecewise;
  pw.xs = {0, 10, 30};
  pw.ys = {0, 80, 100};
  EXPECT_DOUBLE_EQ(pw.Apply(-5), 0);
  EXPECT_DOUBLE_EQ(pw.Apply(5), 40);
  EXPECT_DOUBLE_EQ(pw.Apply(20), 90);
  EXPECT_DOUBLE_EQ(pw.Apply(99), 100);

  Normalization lg;
  lg.kind = Normalization::Kind::kLogistic;
  lg.midpoint = 30;
  lg.scale = 5;
  EXPECT_DOUBLE_EQ(lg.Apply(30), 50);
  EXPECT_NEAR(lg.Apply(35), 100 / (1 + std::exp(-1.0)), 1e-12);
  lg.scale = -5;
  EXPECT_LT(lg.Apply(40), 50);

  Normalization id;
  id.kind = Normalization::Kind::kIdentity;
  EXPECT_DOUBLE_EQ(id.Apply(42), 42);
  EXPECT_DOUBLE_EQ(id.Apply(142), 100);
  EXPECT_DOUBLE_EQ(id.Apply(-3), 0);
}

// An external step (a plugin signal, in the engine) sees number operands
// (slots, registers, constants) and series slots as columns, once per chunk,
// and its output is a number register like any other.
class SumWithLength : public ExternalFunction {
 public:
  void EvaluateChunk(const ExternalColumn* in, size_t n_inputs, size_t n,
                     double* out, uint8_t* valid) const override {
    ++calls;
    kinds.clear();
    for (size_t k = 0; k < n_inputs; ++k) kinds.push_back(in[k].kind);
    for (size_t i = 0; i < n; ++i) {
      // in[0] + in[1] + number of points of in[2].
      out[i] = in[0].values[i] + in[1].values[i] +
               (in[2].offsets[i + 1] - in[2].offsets[i]);
      valid[i] = in[0].valid[i] & in[1].valid[i] & in[2].valid[i];
    }
  }
  mutable int calls = 0;
  mutable std::vector<ValueKind> kinds;
};

TEST_F(ProgramTest, ExternalStepReadsOperandsAndSeries) {
  ProgramBuilder builder;
  ASSERT_EQ(builder.AddSlot(ValueKind::kNum), x_slot_);
  ASSERT_EQ(builder.AddSlot(ValueKind::kNum), y_slot_);
  ASSERT_EQ(builder.AddSlot(ValueKind::kStr), seg_slot_);
  ASSERT_EQ(builder.AddSlot(ValueKind::kNum), start_slot_);
  ASSERT_EQ(builder.AddSlot(ValueKind::kNum), as_of_slot_);
  ASSERT_EQ(builder.AddSlot(ValueKind::kSeries), wau_slot_);
  ParseResult p = Parse("y * 10");
  ASSERT_TRUE(p.ok());
  ASSERT_TRUE(Check(p.root.get(), &scope_).ok());
  const Operand y10 = builder.Emit(*p.root);
  auto fn = std::make_shared<SumWithLength>();
  const Operand out = builder.External(
      fn, {Operand::Slot(x_slot_), y10, Operand::Slot(wau_slot_)});
  const Operand with_const = builder.External(
      fn, {Operand::Const(100), Operand::Const(0.5), Operand::Slot(wau_slot_)});
  program_ = builder.Build();
  EXPECT_EQ(fn.use_count(), 3);  // the program shares ownership
  EXPECT_THAT(program_->DebugString(), ::testing::HasSubstr("external"));

  slots_.num.assign(6, nullptr);
  slots_.num_valid.assign(6, nullptr);
  slots_.str.assign(6, nullptr);
  slots_.series.assign(6, {});
  slots_.num[x_slot_] = x_;
  slots_.num_valid[x_slot_] = xv_;
  slots_.num[y_slot_] = y_;
  slots_.num_valid[y_slot_] = yv_;
  slots_.series[wau_slot_] = {wau_values_, wau_offsets_, wau_valid_};
  program_->Run(slots_, 4, &scratch_);
  EXPECT_EQ(fn->calls, 2);
  EXPECT_THAT(fn->kinds, ElementsAre(ValueKind::kNum, ValueKind::kNum,
                                     ValueKind::kSeries));
  outputs_ = {out, with_const};
  // x + 10y + len(wau): row 2 lacks x, row 3 lacks y and wau.
  EXPECT_THAT(Num(0), NumsAre(V{2 + 40 + 6, 10 + 0 + 4, kNaN, kNaN}));
  EXPECT_THAT(Num(1), NumsAre(V{106.5, 104.5, 100.5, kNaN}));
}

// The largest trees the parser accepts (limits.h), through every pass of
// this library, each on a thread with a small stack that it may use at most
// half of (engine/lint/expression_limits_test.cc does the same for the
// passes over a whole model).
TEST_F(ProgramTest, ShapesAtTheLimitOnASmallStack) {
  constexpr size_t kStack = common::testing::kSmallStack;
  scope_.Add("seg", {Type::kString, Operand::Slot(seg_slot_)});
  // pass -> the most stack it used, and for which shape
  std::map<std::string, std::pair<size_t, std::string>> deepest;
  std::string shape_name;
  auto pass = [&](const std::string& name, const std::function<void()>& fn) {
    const common::testing::StackUse use =
        common::testing::RunOnStack(kStack, fn);
    ASSERT_TRUE(use.ran) << name;
    EXPECT_LT(use.used, kStack / 2) << name;
    if (use.used > deepest[name].first) deepest[name] = {use.used, shape_name};
  };
  for (const testing::Shape& shape :
       testing::ShapesAtTheLimit()) {
    shape_name = shape.name;
    SCOPED_TRACE(shape.name);
    std::unique_ptr<Node> root;
    pass("parse", [&] {
      ParseResult p = Parse(shape.text);
      ASSERT_TRUE(p.ok()) << p.error.message;
      root = std::move(p.root);
    });
    ASSERT_NE(root, nullptr);
    pass("check", [&] {
      CheckResult c = Check(root.get(), &scope_);
      ASSERT_TRUE(c.ok()) << c.errors[0].message;
      EXPECT_EQ(c.type, shape.is_bool ? Type::kBool : Type::kNumber);
    });
    ProgramBuilder builder;
    for (ValueKind k : {ValueKind::kNum, ValueKind::kNum, ValueKind::kStr,
                        ValueKind::kNum, ValueKind::kNum, ValueKind::kSeries}) {
      builder.AddSlot(k);
    }
    Operand out;
    pass("plan", [&] { out = builder.Emit(*root); });
    program_ = builder.Build();
    outputs_ = {out};
    slots_.num.assign(6, nullptr);
    slots_.num_valid.assign(6, nullptr);
    slots_.str.assign(6, nullptr);
    slots_.series.assign(6, {});
    slots_.num[x_slot_] = x_;
    slots_.num_valid[x_slot_] = xv_;
    slots_.str[seg_slot_] = seg_;
    pass("run", [&] { program_->Run(slots_, 4, &scratch_); });
    if (shape.name == "sum_chain") {
      EXPECT_THAT(Num(0), NumsAre(V{2.0 * 257, 10.0 * 257, kNaN, -4.0 * 257}));
    }
    pass("to_string", [&] {
      const std::string text = ToString(*root);
      std::vector<std::string> names;
      CollectIdentifiers(*root, &names);
      EXPECT_EQ(names.size(), shape.name == "neg_literal" ? 0u : 1u);
      // The canonical text parses back to the same text (it has more
      // parentheses than the source, so it may nest deeper: only for
      // the shapes that stay within the limit).
      ParseResult again = Parse(text);
      if (again.ok()) {
        EXPECT_EQ(ToString(*again.root), text);
      }
    });
    pass("destroy", [&] { root.reset(); });
  }
  for (const auto& [name, most] : deepest) {
    std::cout << "[ stack    ] " << name << ": " << most.first << " of "
              << kStack << " bytes (" << most.second << ")\n";
  }
}

}  // namespace
}  // namespace healthscore::engine::expr
