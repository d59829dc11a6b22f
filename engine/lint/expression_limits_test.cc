// Expressions at and past the ExpressionLimits (engine/expr/limits.h),
// through every pass a model's expressions go through: loading, parsing,
// checking, planning, canonical hashing, evaluation, explanations, lint and
// routing. Each pass runs on a thread with a deliberately small stack, and
// must use at most half of it: the margin the limits promise.

#include <cmath>
#include <functional>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "engine/common/testing/stack_use.h"
#include "engine/eval/batch.h"
#include "engine/eval/explain.h"
#include "engine/eval/result.h"
#include "engine/eval/scorer.h"
#include "engine/expr/limits.h"
#include "engine/expr/testing/limit_shapes.h"
#include "engine/lint/lint.h"
#include "engine/model/compiler.h"
#include "engine/model/testing/minimal_model.h"
#include "engine/model/yaml_loader.h"
#include "engine/repository/repository_config.h"
#include "engine/routing/routing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::lint {

using eval::Explain;
using eval::PlaybookReason;
using model::Compile;
using model::CompiledModel;
using model::CompileResult;
using model::CompileString;
using model::DiagnosticList;
using model::LoadModelSpecFromString;

namespace {

using ::healthscore::engine::common::testing::RunOnStack;
using ::healthscore::engine::common::testing::StackUse;
using ::healthscore::engine::expr::ExpressionLimits;
using ::healthscore::engine::expr::testing::Chain;
using ::healthscore::engine::expr::testing::Shape;
using ::healthscore::engine::expr::testing::ShapesAtTheLimit;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Every pass must fit in half of it.
constexpr size_t kStack = common::testing::kSmallStack;

// Runs `fn` on a kStack thread and checks that it used at most half.
void OnSmallStack(const std::string& pass, const std::function<void()>& fn) {
  const StackUse use = RunOnStack(kStack, fn);
  ASSERT_TRUE(use.ran) << pass;
  std::cout << "[ stack    ] " << pass << ": " << use.used << " of "
            << use.size << " bytes\n";
  EXPECT_LT(use.used, kStack / 2) << pass;
}

// A model with every shape at the limit as a derived value, and every
// condition among them as a playbook's `when`.
std::string ModelAtTheLimits() {
  std::string derived, playbooks;
  for (const Shape& s : ShapesAtTheLimit()) {
    absl::StrAppend(&derived, "  - id: d_", s.name, "\n    expr: '", s.text,
                    "'\n");
    if (!s.is_bool) continue;
    absl::StrAppend(&playbooks, "  - id: p_", s.name, "\n    name: ", s.name,
                    "\n    owner: csm\n    priority: 1\n    when: '", s.text,
                    "'\n");
  }
  return absl::StrCat(R"(name: limits
version: 1
segment_by: seg
inputs:
  - {id: x, type: number}
  - {id: seg, type: string}
derived:
)",
                      derived, R"(groups:
  - id: g
    weight: 1
    signals:
      - id: s
        source: x
        weight: 1
        normalize: {linear: {bad: 0, good: 10}}
        overrides:
          a: {weight: 1, normalize: {linear: {bad: 0, good: 20}}}
tiers:
  - {id: green, min: 50}
  - {id: red, min: 0}
playbooks:
)",
                      playbooks);
}

// Every condition at the limit as a route.
std::string RoutesAtTheLimits() {
  std::string out = "routes:\n";
  for (const Shape& s : ShapesAtTheLimit()) {
    if (s.is_bool) {
      absl::StrAppend(&out, "  - when: '", s.text, "'\n    model: other\n");
    }
  }
  return out;
}

int DerivedIndex(const CompiledModel& m, const std::string& id) {
  for (size_t i = 0; i < m.derived().size(); ++i) {
    if (m.derived()[i].id == id) return static_cast<int>(i);
  }
  ADD_FAILURE() << "no derived value " << id;
  return 0;
}

TEST(ExpressionLimitsTest, EveryPassHandlesTheLargestExpressionsOnASmallStack) {
  const std::string text = ModelAtTheLimits();
  model::ModelSpec spec;
  CompileResult compiled;
  OnSmallStack("load", [&] {
    DiagnosticList diags;
    spec = LoadModelSpecFromString(text, "limits.yaml", &diags);
    EXPECT_FALSE(diags.has_errors()) << diags.ToString();
  });
  // Parse, check, plan, canonical text and hash.
  OnSmallStack("compile", [&] { compiled = Compile(spec); });
  ASSERT_NE(compiled.model, nullptr) << compiled.diagnostics.ToString();
  const std::shared_ptr<const CompiledModel> model = compiled.model;
  OnSmallStack("compile again", [&] {
    CompileResult again = Compile(spec);
    ASSERT_NE(again.model, nullptr);
    EXPECT_EQ(again.model->hash(), model->hash());
  });

  DiagnosticList config_diags;
  const repository::ModelConfig config = repository::ParseModelConfig(
      RoutesAtTheLimits(), "config.yaml", &config_diags);
  ASSERT_FALSE(config_diags.has_errors()) << config_diags.ToString();
  ASSERT_FALSE(config.routes.empty());

  OnSmallStack("lint", [&] {
    LintContext context;
    context.model_name = "limits";
    context.routes = config.routes;
    context.repository_models = {"limits", "other"};
    for (const routing::RouteSpec& r : config.routes) {
      context.routes_in.emplace_back("other", r);
    }
    const DiagnosticList findings = LintModel(spec, *model, context);
    EXPECT_FALSE(findings.has_errors()) << findings.ToString();
  });

  std::unique_ptr<const routing::Router> router;
  OnSmallStack("routing", [&] {
    DiagnosticList diags;
    router = routing::Router::Create(
        config.routes, *model,
        [&](const routing::RouteSpec&) -> absl::StatusOr<routing::RouteTarget> {
          return routing::RouteTarget{"other", 1, model};
        },
        &diags);
    EXPECT_FALSE(diags.has_errors()) << diags.ToString();
  });
  ASSERT_NE(router, nullptr);

  eval::Batch batch(model);
  {
    eval::BatchBuilder b(&batch);
    b.BeginRow("two");
    b.SetMetric("x", 2);
    b.SetAttribute("seg", "a");
    b.EndRow();
    b.BeginRow("half");
    b.SetMetric("x", 0.5);
    b.SetAttribute("seg", "b");
    b.EndRow();
    b.BeginRow("none");
    b.EndRow();
  }
  eval::BatchResult result;
  OnSmallStack("score", [&] {
    ASSERT_TRUE(eval::Scorer::Score(batch, &result).ok());
    std::vector<int> routes;
    router->Decide(batch, &routes);
    // The first route, and_chain, takes x > 1.
    EXPECT_EQ(routes[0], 0);
  });
  OnSmallStack("explain", [&] {
    for (size_t row = 0; row < batch.size(); ++row) {
      eval::Explanation e = Explain(batch, result, row, 3);
      EXPECT_FALSE(e.tier_rule.empty());
      for (size_t p = 0; p < model->playbooks().size(); ++p) {
        // The condition, then the values it read.
        const std::string reason =
            PlaybookReason(batch, result, row, static_cast<int>(p));
        EXPECT_EQ(reason.rfind(model->playbooks()[p].when, 0), 0u) << p;
        EXPECT_NE(reason.find("  [", model->playbooks()[p].when.size()),
                  std::string::npos)
            << p;
        EXPECT_TRUE(absl::EndsWith(reason, "]")) << p;
      }
    }
  });

  // The trees were evaluated right, not only survived.
  const CompiledModel& m = *model;
  auto derived = [&](const char* id, size_t row) {
    return result.derived(row, DerivedIndex(m, id));
  };
  constexpr int D = ExpressionLimits::kMaxDepth;
  EXPECT_EQ(derived("d_sum_chain", 0), 2.0 * (D + 1));
  EXPECT_EQ(derived("d_product_chain", 0), std::pow(2.0, D + 1));
  EXPECT_EQ(derived("d_and_chain", 0), 1);
  EXPECT_EQ(derived("d_and_chain", 1), 0);
  EXPECT_EQ(derived("d_or_chain", 1), 0);
  EXPECT_EQ(derived("d_parens", 1), 0.5);
  EXPECT_EQ(derived("d_bool_parens", 0), 1);
  EXPECT_EQ(derived("d_neg_chain", 0), 2);  // an even number of minus signs
  EXPECT_EQ(derived("d_neg_literal", 0), 1);
  EXPECT_EQ(derived("d_not_chain", 0), 1);
  EXPECT_EQ(derived("d_ternary_chain", 0), 1);
  EXPECT_EQ(derived("d_ternary_chain", 1), 0);
  EXPECT_EQ(derived("d_bool_ternary", 0), 0);  // 2 > 2 is false
  EXPECT_EQ(derived("d_call_chain", 1), 0.5);
  EXPECT_EQ(derived("d_min_chain", 0), 2);
  EXPECT_EQ(derived("d_right_nested", 0), 2.0 * (D / 2 + 1));
  EXPECT_EQ(derived("d_list", 0), 1);
  EXPECT_EQ(derived("d_list", 1), 0);
  EXPECT_EQ(derived("d_wide", 0), -2.0 * ExpressionLimits::kMaxNodes / 2);
  EXPECT_TRUE(std::isnan(derived("d_sum_chain", 2)));

  OnSmallStack("destroy", [&] {
    router.reset();
    compiled = {};
    spec = {};
  });
}

// The diagnostic a model author sees for an expression past a limit, from
// the YAML text to the located error.
std::string CompileErrors(const std::string& when) {
  const std::string text = model::testing::MinimalModel(
      "m", "", absl::StrCat(R"(  - id: p
    name: P
    owner: csm
    priority: 1
    when: )",
                            when, "\n"));
  CompileResult r;
  OnSmallStack("compile", [&] { r = CompileString(text, "m.yaml"); });
  EXPECT_EQ(r.model, nullptr);
  return r.diagnostics.ToString();
}

TEST(ExpressionLimitsTest, ModelAuthorsGetALocatedError) {
  // `when:` is on line 18; its value starts at column 11.
  constexpr int kLine = 18;
  constexpr int kColumn = 11;
  // 100,000 `&&` terms: rejected by length, at the first byte past 64 KiB.
  const std::string and_chain = Chain("x > 0", " && ", 99999);
  EXPECT_EQ(CompileErrors(and_chain),
            absl::StrCat("m.yaml:", kLine, ":", kColumn + 65536,
                         ": error: in playbook condition: expression is too "
                         "long: ",
                         and_chain.size(),
                         " bytes, more than 65536 (hint: split it into "
                         "derived values)"));
  // 7,000 terms fit in 64 KiB: rejected by depth, at the 256th `&&`
  // (the first term is one level deep), column 9 * 256 - 2 of the text.
  EXPECT_EQ(
      CompileErrors(Chain("x > 0", " && ", 6999)),
      absl::StrCat("m.yaml:", kLine, ":", kColumn + 9 * 256 - 3,
                   ": error: in playbook condition: expression is nested too "
                   "deeply: more than 256 levels (every operator, call, list "
                   "and pair of parentheses is one level; a + b + c is two) "
                   "(hint: split it into derived values, or group a long "
                   "chain with parentheses: (a + b + c) + (d + e + f))"));
  // A block scalar: the error is on the line of the offending operator.
  EXPECT_THAT(CompileErrors("|\n      " + Chain("x > 0", " ||\n      ", 300)),
              HasSubstr(absl::StrCat("m.yaml:", kLine + 256, ":13: error: in "
                                     "playbook condition: expression is "
                                     "nested too deeply")));
  // Too many nodes: a list of 12,000 names.
  EXPECT_THAT(
      CompileErrors("'x in [" + Chain("\"a\"", ",", 12000) + "]'"),
      HasSubstr("error: in playbook condition: expression is too large: more "
                "than 10000 names, literals, operators and calls"));
}

// Thousands of mistakes in one expression: the first errors, then a count.
TEST(ExpressionLimitsTest, ManyErrorsInOneExpressionAreCounted) {
  const std::string errors = CompileErrors(Chain("y > 0", " || ", 200));
  EXPECT_THAT(errors, HasSubstr("unknown name 'y'"));
  EXPECT_THAT(errors, HasSubstr(": error: in playbook condition: 181 more "
                                "errors in this expression not shown (hint: "
                                "fix the errors above first)"));
}

}  // namespace
}  // namespace healthscore::engine::lint
