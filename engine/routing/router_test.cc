#include "engine/routing/routing.h"

#include <memory>
#include <string>
#include <vector>

#include "engine/eval/batch.h"
#include "engine/model/compiler.h"
#include "engine/model/testing/minimal_model.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::routing {
namespace {

// The minimal model with three string inputs: `segment` declares its
// values, `region` is free text; `plan` is always "a" in the accounts
// below.
std::shared_ptr<const model::CompiledModel> Model() {
  std::string text = model::testing::MinimalModel("routed");
  const std::string inputs = "inputs:\n";
  text.insert(text.find(inputs) + inputs.size(),
              "  - {id: segment, type: string, values: [smb, enterprise, "
              "startup]}\n"
              "  - {id: region, type: string}\n"
              "  - {id: plan, type: string, values: [a, b]}\n");
  model::CompileResult r = model::CompileString(text, "routed.yaml");
  EXPECT_TRUE(r.model != nullptr) << r.diagnostics.ToString();
  return r.model;
}

std::unique_ptr<const Router> Make(
    const std::shared_ptr<const model::CompiledModel>& model,
    const std::vector<std::string>& conditions) {
  std::vector<RouteSpec> routes;
  for (const std::string& c : conditions) {
    RouteSpec r;
    r.when.text = c;
    r.model = "other";
    routes.push_back(r);
  }
  model::DiagnosticList diags;
  std::unique_ptr<const Router> router = Router::Create(
      routes, *model,
      [&model](const RouteSpec&) -> absl::StatusOr<RouteTarget> {
        return RouteTarget{"other", 1, model};
      },
      &diags);
  EXPECT_FALSE(diags.has_errors()) << diags.ToString();
  return router;
}

// Conditions that read `segment` or `region` alone are decided from a
// table of their values made when the router is; the same conditions with
// a term on `plan` that always holds here are run as programs. Both must
// route every kind of value alike: declared values the conditions name or
// not, missing values, free texts named or not, a text outside the
// declared values (used as missing), and failed accounts.
TEST(RouterTest, ValueTablesRouteAsTheProgramDoes) {
  const auto model = Model();
  ASSERT_NE(model, nullptr);
  struct Row {
    const char* segment;  // null: missing
    const char* region;
  };
  const std::vector<Row> rows = {
      {"smb", "emea"},     {"enterprise", "apac"}, {"startup", nullptr},
      {nullptr, "EMEA"},   {"ENTERPRISE", ""},     {"enterprise", "emea"},
      {"smb", "amer"},     {nullptr, nullptr},     {"startup", "emea"}};
  eval::Batch batch(model);
  {
    eval::BatchBuilder b(&batch);
    for (size_t i = 0; i < rows.size(); ++i) {
      b.BeginRow(i == 5 ? "" : "acct-" + std::to_string(i));  // 5 fails
      if (rows[i].segment != nullptr) b.SetAttribute("segment", rows[i].segment);
      if (rows[i].region != nullptr) b.SetAttribute("region", rows[i].region);
      b.SetAttribute("plan", "a");
      b.EndRow();
    }
  }
  ASSERT_FALSE(batch.row_ok(5));
  const std::vector<std::vector<std::string>> cases = {
      {"segment == \"enterprise\""},
      {"segment != \"smb\""},
      {"segment != \"enterprise\""},  // smb: a declared value before it
      {"segment in [\"smb\", \"startup\"]", "segment == \"enterprise\""},
      {"!(segment in [\"enterprise\"])"},
      {"region == \"emea\"", "region != \"apac\""},
      {"region in [\"apac\", \"amer\"]"},
  };
  for (const std::vector<std::string>& conditions : cases) {
    SCOPED_TRACE(conditions[0]);
    std::vector<std::string> programs;
    for (const std::string& c : conditions) {
      programs.push_back("(" + c + ") && (plan == \"a\" || plan == \"b\")");
    }
    const auto by_table = Make(model, conditions);
    const auto by_program = Make(model, programs);
    ASSERT_NE(by_table, nullptr);
    ASSERT_NE(by_program, nullptr);
    std::vector<int> want, got;
    by_program->Decide(batch, &want);
    by_table->Decide(batch, &got);
    EXPECT_EQ(got, want);
    EXPECT_EQ(got[5], -1);  // a failed account stays
  }
  // What the comparisons rest on.
  std::vector<int> routes;
  Make(model, {"segment == \"enterprise\""})->Decide(batch, &routes);
  EXPECT_THAT(routes, ::testing::ElementsAre(-1, 0, -1, -1, -1, -1, -1, -1, -1));
  Make(model, {"region == \"emea\"", "region != \"apac\""})
      ->Decide(batch, &routes);
  EXPECT_EQ(routes[0], 0);
  EXPECT_EQ(routes[1], -1);
  EXPECT_EQ(routes[3], 1);  // "EMEA" is another text
  EXPECT_EQ(routes[6], 1);
}

}  // namespace
}  // namespace healthscore::engine::routing
