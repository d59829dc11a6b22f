#include "engine/model/model_edit.h"

#include <string>

#include "engine/common/testing/status_matchers.h"
#include "engine/model/compiler.h"
#include "engine/model/yaml_loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::model {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::HasSubstr;

// Block and flow mappings, a comment after a weight, a quoted version.
constexpr char kModel[] = R"yaml(# Our model.
name: edit
version: "3"   # bumped by hand
inputs:
  - {id: a, type: number}
  - {id: b, type: number}
groups:
  - id: g1
    weight: 40 # usage matters most
    signals:
      - {id: sa, source: a, weight: 1, normalize: {linear: {bad: 0, good: 1}}}
      - id: sb
        source: b
        weight: 2.5
        normalize: {linear: {bad: 0, good: 1}}
  - id: g2
    weight: 60
    signals:
      - {id: sc, source: a, weight: 1e0, normalize: {linear: {bad: 1, good: 0}}}
tiers:
  - {id: green, min: 50}
  - {id: red, min: 0}
)yaml";

TEST(ModelEditTest, ReplacesTheScalarsTheLoaderLocated) {
  DiagnosticList diags;
  ModelSpec spec = LoadModelSpecFromString(kModel, "edit.yaml", &diags);
  ASSERT_FALSE(diags.has_errors()) << diags.ToString();
  std::vector<ScalarEdit> edits;
  edits.push_back({spec.fields.Get("version", spec.location), "\"4\""});
  edits.push_back({spec.groups[0].fields.Get("weight", {}), "35.5"});
  edits.push_back({spec.groups[1].fields.Get("weight", {}), "64.5"});
  edits.push_back({spec.groups[0].signals[0].fields.Get("weight", {}), "0.25"});
  edits.push_back({spec.groups[0].signals[1].fields.Get("weight", {}), "0.75"});
  edits.push_back({spec.groups[1].signals[0].fields.Get("weight", {}), "1"});
  ASSERT_OK_AND_ASSIGN(std::string edited, ReplaceScalars(kModel, edits));

  // Only the numbers changed: comments and layout are kept.
  EXPECT_THAT(edited, HasSubstr("version: \"4\"   # bumped by hand\n"));
  EXPECT_THAT(edited, HasSubstr("weight: 35.5 # usage matters most\n"));
  EXPECT_THAT(edited, HasSubstr("{id: sa, source: a, weight: 0.25, normalize"));
  EXPECT_THAT(edited, HasSubstr("        weight: 0.75\n"));
  EXPECT_THAT(edited, HasSubstr("weight: 1, normalize: {linear: {bad: 1"));
  // 40 -> 35.5 and 60 -> 64.5 (+2 each), 1 -> 0.25 (+3), 2.5 -> 0.75 (+1),
  // 1e0 -> 1 (-2): nothing else moved.
  EXPECT_EQ(edited.size(), std::string(kModel).size() + 6);

  CompileResult r = CompileString(edited, "edit.yaml");
  ASSERT_NE(r.model, nullptr) << r.diagnostics.ToString();
  EXPECT_EQ(r.model->version(), "4");
  EXPECT_EQ(r.model->groups()[0].weight, 35.5);
  EXPECT_EQ(r.model->groups()[1].weight, 64.5);
  EXPECT_EQ(r.model->signals()[0].weight, 0.25);
  EXPECT_EQ(r.model->signals()[1].weight, 0.75);
  EXPECT_EQ(r.model->signals()[2].weight, 1);
}

TEST(ModelEditTest, QuotedScalarsAreReplacedWhole) {
  ASSERT_OK_AND_ASSIGN(
      std::string edited,
      ReplaceScalars("a: 'it''s'\nb: \"x\\\"y\" # c\n",
                     {{{"f", 1, 4}, "1"}, {{"f", 2, 4}, "2"}}));
  EXPECT_EQ(edited, "a: 1\nb: 2 # c\n");
}

TEST(ModelEditTest, RefusesEditsThatPointAtNothing) {
  EXPECT_THAT(ReplaceScalars("a: 1\n", {{{"m.yaml", 3, 1}, "2"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("m.yaml:3:1: no scalar to replace here")));
  EXPECT_THAT(ReplaceScalars("a: 1\n", {{{"m.yaml", 1, 3}, "2"}}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("m.yaml:1:3: no scalar")));
  EXPECT_THAT(
      ReplaceScalars("a: 'open\n", {{{"m.yaml", 1, 4}, "2"}}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no scalar")));
  EXPECT_THAT(
      ReplaceScalars("a: 1\n",
                     {{{"m.yaml", 1, 4}, "2"}, {{"m.yaml", 1, 4}, "3"}}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("edited twice")));
}

}  // namespace
}  // namespace healthscore::engine::model
