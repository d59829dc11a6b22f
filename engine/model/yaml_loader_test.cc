#include "engine/model/yaml_loader.h"

#include <atomic>
#include <fstream>
#include <limits>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/common/testing/temp_dir.h"
#include "engine/common/testing/yaml_bombs.h"
#include "engine/model/diagnostic.h"
#include "engine/model/model_spec.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::model {
namespace {

using ::healthscore::engine::common::testing::AliasBomb;
using ::healthscore::engine::common::testing::StatusIs;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Eq;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

std::string TestData(const std::string& name) {
  return absl::StrCat(HEALTHSCORE_SOURCE_DIR, "/engine/model/testdata/", name);
}

// Every diagnostic, formatted.
std::vector<std::string> Messages(const DiagnosticList& diags) {
  std::vector<std::string> out;
  for (const Diagnostic& d : diags.items()) out.push_back(d.ToString());
  return out;
}

struct Loaded {
  ModelSpec spec;
  DiagnosticList diags;
};

Loaded Load(const std::string& text) {
  Loaded out;
  out.spec = LoadModelSpecFromString(text, "m.yaml", &out.diags);
  return out;
}

// "line:col" of a location, to compare positions compactly.
std::string Pos(const SourceLocation& loc) {
  return absl::StrCat(loc.line, ":", loc.column);
}

SourceLocation Unknown() { return SourceLocation{"?", 0, 0}; }

// Checks that every character of the expression's text, mapped through
// ExprSource::At, lands on the same character of the file.
void ExpectAtMapsOntoSource(const std::string& file_text,
                            const ExprSource& expr) {
  const std::vector<std::string> file_lines = absl::StrSplit(file_text, '\n');
  const std::vector<std::string> text_lines = absl::StrSplit(expr.text, '\n');
  int checked = 0;
  for (size_t l = 0; l < text_lines.size(); ++l) {
    for (size_t c = 0; c < text_lines[l].size(); ++c) {
      const SourceLocation at =
          expr.At(static_cast<int>(l) + 1, static_cast<int>(c) + 1);
      ASSERT_GE(at.line, 1);
      ASSERT_LE(at.line, static_cast<int>(file_lines.size()));
      const std::string& raw = file_lines[at.line - 1];
      ASSERT_GE(at.column, 1);
      ASSERT_LE(at.column, static_cast<int>(raw.size()))
          << "text line " << l + 1 << " col " << c + 1;
      EXPECT_EQ(raw[at.column - 1], text_lines[l][c])
          << "text line " << l + 1 << " col " << c + 1 << " -> "
          << at.ToString();
      ++checked;
    }
  }
  EXPECT_GT(checked, 0);
}

// ---------------------------------------------------------------------------
// model_spec.cc

TEST(InputTypeNameTest, NamesEveryType) {
  EXPECT_STREQ(InputTypeName(InputType::kNumber), "number");
  EXPECT_STREQ(InputTypeName(InputType::kString), "string");
  EXPECT_STREQ(InputTypeName(InputType::kDate), "date");
  EXPECT_STREQ(InputTypeName(InputType::kSeries), "series");
}

TEST(ExprSourceTest, FirstLineIsOffsetFromTheStart) {
  ExprSource expr;
  expr.text = "score < 40";
  expr.location = SourceLocation{"m.yaml", 12, 11};
  const SourceLocation at = expr.At(1, 9);
  EXPECT_EQ(at.file, "m.yaml");
  EXPECT_EQ(Pos(at), "12:19");
  EXPECT_EQ(Pos(expr.At(1, 1)), "12:11");
}

TEST(ExprSourceTest, LaterLinesStartAtTheBlockColumn) {
  ExprSource expr;
  expr.text = "a\n  && b\n";
  expr.location = SourceLocation{"m.yaml", 20, 7};
  expr.block_column = 7;
  EXPECT_EQ(Pos(expr.At(2, 1)), "21:7");
  EXPECT_EQ(Pos(expr.At(2, 4)), "21:10");
  EXPECT_EQ(Pos(expr.At(3, 2)), "22:8");
}

TEST(ExprSourceTest, LaterLinesWithoutBlockColumnUseTheColumnAsIs) {
  ExprSource expr;
  expr.text = "a &&\nb";
  expr.location = SourceLocation{"m.yaml", 5, 9};
  EXPECT_EQ(Pos(expr.At(2, 3)), "6:3");
}

TEST(ExprSourceTest, UnknownLocationStaysUnknown) {
  ExprSource expr;
  expr.text = "x";
  expr.location = SourceLocation{"m.yaml", 0, 0};
  const SourceLocation at = expr.At(1, 5);
  EXPECT_EQ(at.file, "m.yaml");
  EXPECT_EQ(at.line, 0);
  EXPECT_EQ(at.column, 0);
}

// ---------------------------------------------------------------------------
// A complete, valid model.

class ValidModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = TestData("valid_model.yaml");
    absl::StatusOr<ModelSpec> spec = LoadModelSpecFromFile(path_, &diags_);
    ASSERT_TRUE(spec.ok()) << spec.status();
    spec_ = *std::move(spec);
  }

  std::string path_;
  DiagnosticList diags_;
  ModelSpec spec_;
};

TEST_F(ValidModelTest, HasNoDiagnostics) {
  EXPECT_THAT(Messages(diags_), IsEmpty());
}

TEST_F(ValidModelTest, TopLevel) {
  EXPECT_EQ(spec_.file, path_);
  EXPECT_EQ(spec_.name, "b2b-saas_health");
  EXPECT_EQ(spec_.version, "1.20");  // as written, not 1.2
  EXPECT_EQ(spec_.description, "Health of B2B SaaS accounts");
  EXPECT_EQ(spec_.owner, "cs-ops");
  EXPECT_EQ(spec_.segment_by, "segment");
  EXPECT_DOUBLE_EQ(spec_.min_coverage, 0.6);
  EXPECT_DOUBLE_EQ(spec_.hysteresis, 2.5);
  EXPECT_EQ(spec_.location.file, path_);
  EXPECT_EQ(Pos(spec_.location), "2:1");
  const SourceLocation& name = spec_.fields.Get("name", Unknown());
  EXPECT_EQ(name.file, path_);
  EXPECT_EQ(Pos(name), "2:7");
  EXPECT_EQ(Pos(spec_.fields.Get("version", Unknown())), "3:10");
  EXPECT_EQ(Pos(spec_.fields.Get("hysteresis", Unknown())), "8:13");
  EXPECT_EQ(Pos(spec_.fields.Get("inputs", Unknown())), "11:3");
  EXPECT_EQ(Pos(spec_.fields.Get("tiers", Unknown())), "78:3");
  EXPECT_EQ(spec_.fields.Get("no_such_key", Unknown()).file, "?");
}

TEST_F(ValidModelTest, Inputs) {
  ASSERT_EQ(spec_.inputs.size(), 4u);
  const InputSpec& dau = spec_.inputs[0];
  EXPECT_EQ(dau.id, "dau_mau");
  EXPECT_EQ(dau.type, InputType::kNumber);
  EXPECT_EQ(dau.description, "daily over monthly active users");
  EXPECT_EQ(dau.unit, "ratio");
  EXPECT_EQ(dau.range_min, 0.0);
  EXPECT_EQ(dau.range_max, 1.0);
  EXPECT_THAT(dau.values, IsEmpty());
  EXPECT_EQ(Pos(dau.location), "11:5");
  EXPECT_EQ(Pos(dau.fields.Get("id", Unknown())), "11:9");
  EXPECT_EQ(Pos(dau.fields.Get("type", Unknown())), "12:11");
  EXPECT_EQ(Pos(dau.fields.Get("range", Unknown())), "15:12");

  const InputSpec& segment = spec_.inputs[1];
  EXPECT_EQ(segment.id, "segment");
  EXPECT_EQ(segment.type, InputType::kString);
  EXPECT_THAT(segment.values, ElementsAre("smb", "mid_market", "enterprise"));
  EXPECT_FALSE(segment.range_min.has_value());
  EXPECT_FALSE(segment.range_max.has_value());

  EXPECT_EQ(spec_.inputs[2].id, "contract_start");
  EXPECT_EQ(spec_.inputs[2].type, InputType::kDate);

  const InputSpec& wau = spec_.inputs[3];
  EXPECT_EQ(wau.type, InputType::kSeries);
  EXPECT_EQ(wau.range_min, 0.0);
  ASSERT_TRUE(wau.range_max.has_value());
  EXPECT_EQ(*wau.range_max, std::numeric_limits<double>::infinity());
}

TEST_F(ValidModelTest, DerivedExpressionsAndTheirLocations) {
  ASSERT_EQ(spec_.derived.size(), 3u);
  // Plain scalar: the text starts right at the value.
  const DerivedSpec& trend = spec_.derived[0];
  EXPECT_EQ(trend.id, "wau_trend");
  EXPECT_EQ(trend.expr.text, "pct_change(weekly_active_users, 4, 8)");
  EXPECT_EQ(trend.expr.location.file, path_);
  EXPECT_EQ(Pos(trend.expr.location), "27:11");
  EXPECT_EQ(trend.expr.block_column, 0);
  EXPECT_EQ(Pos(trend.location), "26:5");
  EXPECT_EQ(Pos(trend.fields.Get("expr", Unknown())), "27:11");

  // Double-quoted: one column after the quote.
  const DerivedSpec& tenure = spec_.derived[1];
  EXPECT_EQ(tenure.id, "tenure_days");
  EXPECT_EQ(tenure.description, "days since the contract started");
  EXPECT_EQ(tenure.expr.text, "days_since(contract_start)");
  EXPECT_EQ(Pos(tenure.expr.location), "30:12");
  EXPECT_EQ(tenure.expr.block_column, 0);
  EXPECT_EQ(Pos(tenure.fields.Get("expr", Unknown())), "30:11");

  // Literal block: first content line, at the block's indentation.
  const DerivedSpec& engaged = spec_.derived[2];
  EXPECT_EQ(engaged.expr.text, "dau_mau > 0.2\n  && wau_trend > -10\n");
  EXPECT_EQ(Pos(engaged.expr.location), "33:7");
  EXPECT_EQ(engaged.expr.block_column, 7);
  EXPECT_EQ(Pos(engaged.expr.At(2, 3)), "34:9");                   // the '&&'
  EXPECT_EQ(Pos(engaged.fields.Get("expr", Unknown())), "32:11");  // the '|'
}

TEST_F(ValidModelTest, GroupsAndSignals) {
  ASSERT_EQ(spec_.groups.size(), 2u);
  const GroupSpec& usage = spec_.groups[0];
  EXPECT_EQ(usage.id, "usage");
  EXPECT_EQ(usage.name, "Product usage");
  EXPECT_DOUBLE_EQ(usage.weight, 2);
  EXPECT_EQ(Pos(usage.location), "37:5");
  EXPECT_EQ(Pos(usage.fields.Get("weight", Unknown())), "39:13");
  ASSERT_EQ(usage.signals.size(), 2u);

  const SignalSpec& stickiness = usage.signals[0];
  EXPECT_EQ(stickiness.id, "stickiness");
  EXPECT_EQ(stickiness.source, "dau_mau");
  EXPECT_DOUBLE_EQ(stickiness.weight, 3);
  EXPECT_EQ(Pos(stickiness.location), "41:9");
  EXPECT_EQ(Pos(stickiness.fields.Get("source", Unknown())), "42:17");
  const NormalizeSpec& linear = stickiness.normalize;
  EXPECT_EQ(linear.kind, NormalizeSpec::Kind::kLinear);
  EXPECT_DOUBLE_EQ(linear.bad, 0.05);
  EXPECT_DOUBLE_EQ(linear.good, 0.4);
  EXPECT_EQ(Pos(linear.location), "45:11");
  EXPECT_EQ(Pos(linear.fields.Get("linear", Unknown())), "45:19");
  EXPECT_EQ(Pos(linear.fields.Get("bad", Unknown())), "45:25");
  EXPECT_EQ(Pos(linear.fields.Get("good", Unknown())), "45:37");

  ASSERT_EQ(stickiness.overrides.size(), 2u);
  const SignalOverrideSpec& enterprise = stickiness.overrides[0];
  EXPECT_EQ(enterprise.segment, "enterprise");
  EXPECT_EQ(enterprise.weight, 4.0);
  ASSERT_TRUE(enterprise.normalize.has_value());
  EXPECT_EQ(enterprise.normalize->kind, NormalizeSpec::Kind::kLinear);
  EXPECT_DOUBLE_EQ(enterprise.normalize->bad, 0.1);
  EXPECT_DOUBLE_EQ(enterprise.normalize->good, 0.5);
  EXPECT_EQ(Pos(enterprise.location), "48:13");
  EXPECT_EQ(Pos(enterprise.fields.Get("segment", Unknown())), "47:11");
  EXPECT_EQ(Pos(enterprise.fields.Get("weight", Unknown())), "48:21");
  const SignalOverrideSpec& smb = stickiness.overrides[1];
  EXPECT_EQ(smb.segment, "smb");
  EXPECT_EQ(smb.weight, 1.0);
  EXPECT_FALSE(smb.normalize.has_value());
  EXPECT_EQ(Pos(smb.location), "50:16");

  const SignalSpec& trend = usage.signals[1];
  EXPECT_EQ(trend.source, "wau_trend");
  EXPECT_THAT(trend.overrides, IsEmpty());
  const NormalizeSpec& steps = trend.normalize;
  EXPECT_EQ(steps.kind, NormalizeSpec::Kind::kSteps);
  ASSERT_EQ(steps.steps.size(), 3u);
  EXPECT_EQ(steps.steps[0].below, -20.0);
  EXPECT_DOUBLE_EQ(steps.steps[0].score, 0);
  EXPECT_EQ(Pos(steps.steps[0].location), "56:15");
  EXPECT_EQ(steps.steps[1].below, 0.0);
  EXPECT_DOUBLE_EQ(steps.steps[1].score, 50);
  EXPECT_FALSE(steps.steps[2].below.has_value());
  EXPECT_DOUBLE_EQ(steps.steps[2].score, 100);
  EXPECT_EQ(Pos(steps.steps[2].location), "58:15");

  const GroupSpec& relationship = spec_.groups[1];
  EXPECT_EQ(relationship.name, "");
  ASSERT_EQ(relationship.signals.size(), 3u);
  const NormalizeSpec& piecewise = relationship.signals[0].normalize;
  EXPECT_EQ(piecewise.kind, NormalizeSpec::Kind::kPiecewise);
  ASSERT_EQ(piecewise.points.size(), 3u);
  EXPECT_DOUBLE_EQ(piecewise.points[1].x, 365);
  EXPECT_DOUBLE_EQ(piecewise.points[1].score, 80);
  EXPECT_DOUBLE_EQ(piecewise.points[2].x, 730);
  EXPECT_DOUBLE_EQ(piecewise.points[2].score, 100);
  EXPECT_EQ(Pos(piecewise.points[1].location), "66:32");

  EXPECT_EQ(relationship.signals[1].normalize.kind,
            NormalizeSpec::Kind::kIdentity);
  EXPECT_EQ(Pos(relationship.signals[1].normalize.location), "70:20");

  const SignalSpec& curve = relationship.signals[2];
  EXPECT_DOUBLE_EQ(curve.weight, 0.5);
  EXPECT_EQ(curve.normalize.kind, NormalizeSpec::Kind::kLogistic);
  EXPECT_DOUBLE_EQ(curve.normalize.midpoint, 180);
  EXPECT_DOUBLE_EQ(curve.normalize.scale, -30);
}

TEST_F(ValidModelTest, Tiers) {
  ASSERT_EQ(spec_.tiers.size(), 3u);
  const TierSpec& red = spec_.tiers[0];
  EXPECT_EQ(red.id, "red");
  EXPECT_EQ(red.name, "At risk");
  EXPECT_EQ(red.color, "#c62828");
  EXPECT_DOUBLE_EQ(red.min, 0);
  EXPECT_EQ(red.max, 40.0);
  EXPECT_EQ(Pos(red.location), "78:5");
  EXPECT_EQ(Pos(red.fields.Get("max", Unknown())), "82:10");
  EXPECT_EQ(spec_.tiers[1].id, "yellow");
  EXPECT_DOUBLE_EQ(spec_.tiers[1].min, 40);
  EXPECT_EQ(spec_.tiers[1].max, 70.0);
  EXPECT_EQ(spec_.tiers[2].id, "green");
  EXPECT_DOUBLE_EQ(spec_.tiers[2].min, 70);
  EXPECT_FALSE(spec_.tiers[2].max.has_value());
}

TEST_F(ValidModelTest, Playbooks) {
  ASSERT_EQ(spec_.playbooks.size(), 2u);
  const PlaybookSpec& rescue = spec_.playbooks[0];
  EXPECT_EQ(rescue.id, "rescue");
  EXPECT_EQ(rescue.name, "Executive rescue");
  EXPECT_EQ(rescue.owner, "cs-leadership");
  EXPECT_EQ(rescue.priority, 1);
  EXPECT_EQ(rescue.when.text, "tier == 'red' && segment == \"enterprise\"");
  EXPECT_EQ(Pos(rescue.when.location), "94:11");
  // Single-quoted: one column after the quote.
  EXPECT_EQ(rescue.success.text, "score >= 40");
  EXPECT_EQ(Pos(rescue.success.location), "95:15");
  EXPECT_THAT(rescue.steps,
              ElementsAre("Book an executive sponsor call",
                          "Agree a recovery plan: owners and dates"));
  EXPECT_EQ(Pos(rescue.fields.Get("priority", Unknown())), "93:15");

  const PlaybookSpec& expansion = spec_.playbooks[1];
  EXPECT_EQ(expansion.priority, 3);
  EXPECT_EQ(expansion.description, "upsell healthy accounts");
  // Folded block scalar.
  EXPECT_EQ(expansion.when.text, "score >= 80\n");
  EXPECT_EQ(Pos(expansion.when.location), "104:7");
  EXPECT_EQ(expansion.when.block_column, 7);
  EXPECT_TRUE(expansion.success.empty());
  EXPECT_THAT(expansion.steps, IsEmpty());
}

TEST_F(ValidModelTest, ExpressionCharactersMapBackOntoTheFile) {
  const std::string file_text = [&] {
    std::ifstream in(path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }();
  for (const DerivedSpec& d : spec_.derived) {
    SCOPED_TRACE(d.id);
    ExpectAtMapsOntoSource(file_text, d.expr);
  }
  for (const PlaybookSpec& p : spec_.playbooks) {
    SCOPED_TRACE(p.id);
    ExpectAtMapsOntoSource(file_text, p.when);
    if (!p.success.empty()) ExpectAtMapsOntoSource(file_text, p.success);
  }
}

// ---------------------------------------------------------------------------
// Expression locations for every way of writing a scalar.

struct ExprCase {
  std::string name;
  std::string yaml;  // a model whose only derived value is `d`
  std::string text;
  std::string location;
  int block_column;
};

void PrintTo(const ExprCase& c, std::ostream* os) { *os << c.name; }

class ExprLocationTest : public ::testing::TestWithParam<ExprCase> {};

std::string ModelWithDerived(const std::string& derived_block) {
  return absl::StrCat(
      "name: m\n"
      "version: 1\n"
      "inputs:\n"
      "  - {id: x, type: number}\n"
      "derived:\n"
      "  - id: d\n",
      derived_block,
      "groups:\n"
      "  - id: g\n"
      "    weight: 1\n"
      "    signals:\n"
      "      - {id: s, source: d, weight: 1, normalize: identity}\n"
      "tiers:\n"
      "  - {id: red, min: 0}\n");
}

TEST_P(ExprLocationTest, LocatesTheFirstCharacterOfTheText) {
  const ExprCase& c = GetParam();
  Loaded l = Load(c.yaml);
  ASSERT_THAT(Messages(l.diags), IsEmpty());
  ASSERT_EQ(l.spec.derived.size(), 1u);
  const ExprSource& expr = l.spec.derived[0].expr;
  EXPECT_EQ(expr.text, c.text);
  EXPECT_EQ(expr.location.file, "m.yaml");
  EXPECT_EQ(Pos(expr.location), c.location);
  EXPECT_EQ(expr.block_column, c.block_column);
  std::string file_text = c.yaml;
  absl::StrReplaceAll({{"\r\n", "\n"}}, &file_text);
  ExpectAtMapsOntoSource(file_text, expr);
}

INSTANTIATE_TEST_SUITE_P(
    AllStyles, ExprLocationTest,
    ::testing::Values(
        ExprCase{"Plain", ModelWithDerived("    expr: x * 2 + 1\n"),
                 "x * 2 + 1", "7:11", 0},
        ExprCase{"DoubleQuoted", ModelWithDerived("    expr: \"x > 1\"\n"),
                 "x > 1", "7:12", 0},
        ExprCase{"SingleQuoted", ModelWithDerived("    expr:    'x == 1'\n"),
                 "x == 1", "7:15", 0},
        ExprCase{"Literal",
                 ModelWithDerived("    expr: |\n"
                                  "      x > 1 &&\n"
                                  "        x < 5\n"),
                 "x > 1 &&\n  x < 5\n", "8:7", 7},
        ExprCase{"LiteralStrip",
                 ModelWithDerived("    expr: |-\n"
                                  "        x\n"
                                  "        + 1\n"),
                 "x\n+ 1", "8:9", 9},
        ExprCase{"LiteralWithComment",
                 ModelWithDerived("    expr: |  # why\n"
                                  "      x\n"),
                 "x\n", "8:7", 7},
        ExprCase{"LiteralExplicitIndent",
                 ModelWithDerived("    expr: |2\n"
                                  "         x + 1\n"
                                  "      - 2\n"),
                 "   x + 1\n- 2\n", "8:7", 7},
        ExprCase{"LiteralLeadingBlankLine",
                 ModelWithDerived("    expr: |\n"
                                  "\n"
                                  "      x\n"),
                 "\nx\n", "8:7", 7},
        ExprCase{"Folded",
                 ModelWithDerived("    expr: >-\n"
                                  "      x > 1\n"),
                 "x > 1", "8:7", 7},
        ExprCase{"AnchorAndTag",
                 ModelWithDerived("    expr: &e !!str \"x + 1\"\n"), "x + 1",
                 "7:21", 0},
        ExprCase{"TagOnItsOwnLine",
                 ModelWithDerived("    expr: !!str\n"
                                  "      x + 2\n"),
                 "x + 2", "8:7", 0},
        ExprCase{"Crlf",
                 absl::StrReplaceAll(
                     ModelWithDerived("    expr: |\n      x +\n        1\n"),
                     {{"\n", "\r\n"}}),
                 "x +\n  1\n", "8:7", 7}),
    [](const ::testing::TestParamInfo<ExprCase>& info) {
      return info.param.name;
    });

TEST(ExprErrorTest, MappingIsNotAnExpression) {
  Loaded l = Load(ModelWithDerived("    expr: {a: 1}\n"));
  EXPECT_THAT(Messages(l.diags),
              ElementsAre("m.yaml:7:11: error: 'expr' must be an expression, "
                          "got a mapping (hint: a value containing ': ' must "
                          "be quoted)"));
}

// ---------------------------------------------------------------------------
// Shape errors: one mistake in an otherwise valid model, with the exact
// diagnostics it produces.

constexpr char kMinimal[] =
    "name: m\n"                      // 1
    "version: 1\n"                   // 2
    "inputs:\n"                      // 3
    "  - id: x\n"                    // 4
    "    type: number\n"             // 5
    "groups:\n"                      // 6
    "  - id: g\n"                    // 7
    "    weight: 1\n"                // 8
    "    signals:\n"                 // 9
    "      - id: s\n"                // 10
    "        source: x\n"            // 11
    "        weight: 1\n"            // 12
    "        normalize: identity\n"  // 13
    "tiers:\n"                       // 14
    "  - id: red\n"                  // 15
    "    min: 0\n";                  // 16

constexpr char kPlaybook[] =
    "playbooks:\n"             // 17
    "  - id: p\n"              // 18
    "    name: P\n"            // 19
    "    owner: cs\n"          // 20
    "    priority: 1\n"        // 21
    "    when: score < 40\n";  // 22

// kMinimal with `from` replaced by `to` (which must occur exactly once).
std::string Minimal(const std::string& from, const std::string& to) {
  std::string text = kMinimal;
  const size_t pos = text.find(from);
  if (pos == std::string::npos ||
      text.find(from, pos + 1) != std::string::npos) {
    ADD_FAILURE() << "'" << from << "' must occur once in kMinimal";
    return text;
  }
  return text.replace(pos, from.size(), to);
}

std::string WithPlaybook(const std::string& from, const std::string& to) {
  std::string text = absl::StrCat(kMinimal, kPlaybook);
  const size_t pos = text.find(from);
  if (pos == std::string::npos) {
    ADD_FAILURE() << "'" << from << "' not found";
    return text;
  }
  return text.replace(pos, from.size(), to);
}

TEST(MinimalModelTest, LoadsCleanly) {
  Loaded l = Load(kMinimal);
  EXPECT_THAT(Messages(l.diags), IsEmpty());
  EXPECT_EQ(l.spec.name, "m");
  EXPECT_EQ(l.spec.version, "1");
  EXPECT_DOUBLE_EQ(l.spec.min_coverage, 0.5);  // defaults kept
  EXPECT_DOUBLE_EQ(l.spec.hysteresis, 0);
  EXPECT_THAT(l.spec.derived, IsEmpty());
  EXPECT_THAT(l.spec.playbooks, IsEmpty());

  Loaded p = Load(absl::StrCat(kMinimal, kPlaybook));
  EXPECT_THAT(Messages(p.diags), IsEmpty());
  ASSERT_EQ(p.spec.playbooks.size(), 1u);
  EXPECT_EQ(p.spec.playbooks[0].when.text, "score < 40");
  EXPECT_EQ(Pos(p.spec.playbooks[0].when.location), "22:11");
}

struct ShapeCase {
  std::string name;
  std::string yaml;
  std::vector<std::string> expected;
};

void PrintTo(const ShapeCase& c, std::ostream* os) { *os << c.name; }

class ShapeErrorTest : public ::testing::TestWithParam<ShapeCase> {};

TEST_P(ShapeErrorTest, ReportsExactly) {
  const ShapeCase& c = GetParam();
  Loaded l = Load(c.yaml);
  EXPECT_EQ(Messages(l.diags), c.expected) << c.yaml;
}

INSTANTIATE_TEST_SUITE_P(
    Mistakes, ShapeErrorTest,
    ::testing::Values(
        ShapeCase{"UnknownKeyWithSuggestion",
                  Minimal("        weight: 1\n", "        wieght: 1\n"),
                  {"m.yaml:10:9: error: missing required key 'weight' in "
                   "signal 's'",
                   "m.yaml:12:9: error: unknown key 'wieght' in signal "
                   "(hint: did you mean 'weight'?)"}},
        ShapeCase{"UnknownKeyWithoutSuggestion",
                  Minimal("name: m\n", "name: m\ncolour: red\n"),
                  {"m.yaml:2:1: error: unknown key 'colour' in model (hint: "
                   "known keys: name, version, description, owner, "
                   "segment_by, min_coverage, hysteresis, plugins, inputs, "
                   "derived, groups, tiers, playbooks)"}},
        ShapeCase{"NumberIsText",
                  Minimal("        weight: 1\n", "        weight: abc\n"),
                  {"m.yaml:12:17: error: 'weight' must be a number, got "
                   "\"abc\""}},
        ShapeCase{"NumberIsQuoted",
                  Minimal("        weight: 1\n", "        weight: \"2\"\n"),
                  {"m.yaml:12:17: error: 'weight' must be a number, got the "
                   "string \"2\" (hint: remove the quotes)"}},
        ShapeCase{"NumberIsAList",
                  Minimal("    weight: 1\n    signals",
                          "    weight: [1]\n    signals"),
                  {"m.yaml:8:13: error: 'weight' must be a number, got a "
                   "list"}},
        ShapeCase{"NumberIsNaN",
                  Minimal("        weight: 1\n", "        weight: .nan\n"),
                  {"m.yaml:12:17: error: 'weight' must be a finite number, "
                   "got \".nan\""}},
        ShapeCase{"NumberIsHuge",
                  Minimal("        weight: 1\n", "        weight: -1e999\n"),
                  {"m.yaml:12:17: error: 'weight' must be a finite number, "
                   "got \"-1e999\""}},
        ShapeCase{"NumberIsHex",
                  Minimal("    min: 0\n", "    min: 0x10\n"),
                  {"m.yaml:16:10: error: 'min' must be a number, got "
                   "\"0x10\""}},
        ShapeCase{"RequiredKeyMissing",
                  Minimal("        source: x\n", ""),
                  {"m.yaml:10:9: error: missing required key 'source' in "
                   "signal 's'"}},
        ShapeCase{"RequiredKeyEmpty",
                  Minimal("        source: x\n", "        source:\n"),
                  {"m.yaml:11:9: error: 'source' must be an input or "
                   "derived id, got nothing"}},
        ShapeCase{"RequiredTopLevelKeyMissing",
                  Minimal("version: 1\n", ""),
                  {"m.yaml:1:1: error: missing required key 'version' in "
                   "model"}},
        ShapeCase{"RequiredGroupKeyMissing",
                  Minimal("    weight: 1\n    signals", "    signals"),
                  {"m.yaml:7:5: error: missing required key 'weight' in "
                   "group 'g'"}},
        ShapeCase{"RequiredTierKeyMissing",
                  Minimal("    min: 0\n", ""),
                  {"m.yaml:15:5: error: missing required key 'min' in tier "
                   "'red'"}},
        ShapeCase{"RequiredIdMissing",
                  Minimal("  - id: red\n    min: 0\n", "  - min: 0\n"),
                  {"m.yaml:15:5: error: missing required key 'id' in tier"}},
        ShapeCase{"DuplicateKey",
                  Minimal("        weight: 1\n",
                          "        weight: 1\n        weight: 2\n"),
                  {"m.yaml:13:9: error: duplicate key 'weight' in signal "
                   "(hint: the first 'weight' is at line 12; remove one of "
                   "them)"}},
        ShapeCase{"BadIdentifier",
                  Minimal("  - id: x\n", "  - id: Dau\n"),
                  {"m.yaml:4:9: error: 'id' must be an identifier "
                   "([a-z_][a-z0-9_]*), got \"Dau\" (hint: use lowercase "
                   "letters, digits and '_', e.g. 'dau')"}},
        ShapeCase{"IdentifierStartsWithDigit",
                  Minimal("  - id: g\n", "  - id: 2nd-group\n"),
                  {"m.yaml:7:9: error: 'id' must be an identifier "
                   "([a-z_][a-z0-9_]*), got \"2nd-group\" (hint: use "
                   "lowercase letters, digits and '_', e.g. '_2nd_group')"}},
        ShapeCase{"SourceIsAnExpression",
                  Minimal("        source: x\n", "        source: x * 2\n"),
                  {"m.yaml:11:17: error: 'source' must be an identifier "
                   "([a-z_][a-z0-9_]*), got \"x * 2\" (hint: 'source' names "
                   "an input or derived value; define the expression under "
                   "'derived' and use its id)"}},
        ShapeCase{"BadModelName",
                  Minimal("name: m\n", "name: My Model\n"),
                  {"m.yaml:1:7: error: 'name' must match [a-z0-9_-]+, got "
                   "\"My Model\" (hint: use lowercase letters, digits, '_' "
                   "and '-', e.g. 'my-model')"}},
        ShapeCase{"VersionIsAList",
                  Minimal("version: 1\n", "version: [1]\n"),
                  {"m.yaml:2:10: error: 'version' must be a string or "
                   "number, got a list"}},
        ShapeCase{"InputTypeTypo",
                  Minimal("    type: number\n", "    type: nubmer\n"),
                  {"m.yaml:5:11: error: 'type' must be one of number, "
                   "string, date, series, got \"nubmer\" (hint: did you mean "
                   "'number'?)"}},
        ShapeCase{"InputNotAMapping",
                  Minimal("  - id: x\n    type: number\n", "  - x\n"),
                  {"m.yaml:4:5: error: each input must be a mapping, got "
                   "\"x\""}},
        ShapeCase{"InputsNotAList",
                  Minimal("inputs:\n  - id: x\n    type: number\n",
                          "inputs: {id: x, type: number}\n"),
                  {"m.yaml:3:9: error: 'inputs' must be a list, got a "
                   "mapping"}},
        ShapeCase{"RangeWrongSize",
                  Minimal("    type: number\n",
                          "    type: number\n    range: [0, 1, 2]\n"),
                  {"m.yaml:6:12: error: 'range' must have 2 numbers [min, "
                   "max], got 3"}},
        ShapeCase{"RangeNotNumeric",
                  Minimal("    type: number\n",
                          "    type: number\n    range: [0, high]\n"),
                  {"m.yaml:6:16: error: 'range' must be a number, got "
                   "\"high\""}},
        ShapeCase{"RangeNotAList",
                  Minimal("    type: number\n",
                          "    type: number\n    range: 0..1\n"),
                  {"m.yaml:6:12: error: 'range' must be a list [min, max], "
                   "got \"0..1\""}},
        ShapeCase{"ValuesNotStrings",
                  Minimal("    type: number\n",
                          "    type: string\n    values: [a, [b]]\n"),
                  {"m.yaml:6:17: error: each item of 'values' must be a "
                   "string, got a list"}},
        ShapeCase{"NormalizeTwoKinds",
                  Minimal("        normalize: identity\n",
                          "        normalize: {linear: {bad: 0, good: 1}, "
                          "identity: {}}\n"),
                  {"m.yaml:13:48: error: 'normalize' must have exactly one "
                   "of linear, steps, piecewise, logistic or identity, got "
                   "both 'linear' and 'identity'"}},
        ShapeCase{
            "NormalizeEmpty",
            Minimal("        normalize: identity\n", "        normalize: {}\n"),
            {"m.yaml:13:20: error: 'normalize' must have one of "
             "linear, steps, piecewise, logistic or identity, got "
             "none"}},
        ShapeCase{"NormalizeTypo",
                  Minimal("        normalize: identity\n",
                          "        normalize: lienar\n"),
                  {"m.yaml:13:20: error: 'normalize' must be one of linear, "
                   "steps, piecewise, logistic or identity, got \"lienar\" "
                   "(hint: did you mean 'linear'?)"}},
        ShapeCase{"NormalizeKindWithoutParameters",
                  Minimal("        normalize: identity\n",
                          "        normalize: linear\n"),
                  {"m.yaml:13:20: error: 'normalize' must be one of linear, "
                   "steps, piecewise, logistic or identity, got \"linear\" "
                   "(hint: 'linear' takes parameters, e.g. normalize: "
                   "{linear: {bad: 0, good: 1}})"}},
        ShapeCase{"NormalizeUnknownKindKey",
                  Minimal("        normalize: identity\n",
                          "        normalize: {lineer: {bad: 0, good: 1}}\n"),
                  {"m.yaml:13:21: error: unknown key 'lineer' in normalize "
                   "(hint: did you mean 'linear'?)"}},
        ShapeCase{"IdentityWithParameters",
                  Minimal("        normalize: identity\n",
                          "        normalize: {identity: {x: 1}}\n"),
                  {"m.yaml:13:31: error: 'identity' takes no parameters "
                   "(hint: write normalize: identity)"}},
        ShapeCase{"LinearMissingAndUnknownKey",
                  Minimal("        normalize: identity\n",
                          "        normalize: {linear: {bad: 0, god: 1}}\n"),
                  {"m.yaml:13:29: error: missing required key 'good' in "
                   "linear",
                   "m.yaml:13:38: error: unknown key 'god' in linear (hint: "
                   "did you mean 'good'?)"}},
        ShapeCase{"LogisticNotAMapping",
                  Minimal("        normalize: identity\n",
                          "        normalize: {logistic: [1, 2]}\n"),
                  {"m.yaml:13:31: error: 'logistic' must be a mapping "
                   "{midpoint, scale}, got a list"}},
        ShapeCase{"StepMissingScore",
                  Minimal("        normalize: identity\n",
                          "        normalize: {steps: [{below: 1}, {score: "
                          "100}]}\n"),
                  {"m.yaml:13:29: error: missing required key 'score' in "
                   "step"}},
        ShapeCase{"StepNotAMapping",
                  Minimal("        normalize: identity\n",
                          "        normalize:\n"
                          "          steps:\n"
                          "            - 10\n"
                          "            - score: 100\n"),
                  {"m.yaml:15:15: error: each step {below, score} must be a "
                   "mapping, got \"10\""}},
        ShapeCase{"StepsNotAList",
                  Minimal("        normalize: identity\n",
                          "        normalize: {steps: {score: 1}}\n"),
                  {"m.yaml:13:28: error: 'steps' must be a list, got a "
                   "mapping"}},
        ShapeCase{"PiecewisePointWrongSize",
                  Minimal("        normalize: identity\n",
                          "        normalize: {piecewise: [[0, 1], [2]]}\n"),
                  {"m.yaml:13:41: error: each piecewise point must have 2 "
                   "numbers [x, score], got 1"}},
        ShapeCase{"PiecewisePointNotNumeric",
                  Minimal("        normalize: identity\n",
                          "        normalize: {piecewise: [[0, 1], [2, "
                          "x]]}\n"),
                  {"m.yaml:13:45: error: 'score' must be a number, got "
                   "\"x\""}},
        ShapeCase{"OverrideUnknownKey",
                  Minimal("        normalize: identity\n",
                          "        normalize: identity\n"
                          "        overrides:\n"
                          "          smb: {wieght: 2}\n"),
                  {"m.yaml:15:17: error: unknown key 'wieght' in override "
                   "(hint: did you mean 'weight'?)"}},
        ShapeCase{"OverridesNotAMapping",
                  Minimal("        normalize: identity\n",
                          "        normalize: identity\n"
                          "        overrides: [smb]\n"),
                  {"m.yaml:14:20: error: 'overrides' must be a mapping of "
                   "segment to {weight, normalize}, got a list"}},
        ShapeCase{"OverrideNotAMapping",
                  Minimal("        normalize: identity\n",
                          "        normalize: identity\n"
                          "        overrides:\n"
                          "          smb: 2\n"),
                  {"m.yaml:15:16: error: override for segment 'smb' must be "
                   "a mapping {weight, normalize}, got \"2\""}},
        ShapeCase{"OverrideDuplicateSegment",
                  Minimal("        normalize: identity\n",
                          "        normalize: identity\n"
                          "        overrides:\n"
                          "          smb: {weight: 2}\n"
                          "          smb: {weight: 3}\n"),
                  {"m.yaml:16:11: error: duplicate segment 'smb' in "
                   "overrides (hint: the first is at line 15; remove one of "
                   "them)"}},
        ShapeCase{"OverrideBadNormalize",
                  Minimal("        normalize: identity\n",
                          "        normalize: identity\n"
                          "        overrides:\n"
                          "          smb: {normalize: {steps: 1}}\n"),
                  {"m.yaml:15:36: error: 'steps' must be a list, got "
                   "\"1\""}},
        ShapeCase{"TierMinIsText",
                  Minimal("    min: 0\n", "    min: zero\n"),
                  {"m.yaml:16:10: error: 'min' must be a number, got "
                   "\"zero\""}},
        ShapeCase{"CommentedOutColor",
                  Minimal("    min: 0\n", "    min: 0\n    color: #c62828\n"),
                  {"m.yaml:17:5: warning: 'color' is empty (hint: '#' starts "
                   "a comment in YAML; quote the value: color: "
                   "\"#c62828\")"}},
        ShapeCase{"StringIsAMapping",
                  Minimal("  - id: g\n", "  - id: g\n    name: {a: b}\n"),
                  {"m.yaml:8:11: error: 'name' must be a string, got a "
                   "mapping (hint: a value containing ': ' must be quoted)"}},
        ShapeCase{"KeyIsAList",
                  Minimal("name: m\n", "name: m\n[a]: 1\n"),
                  {"m.yaml:2:1: error: keys in model must be names, got a "
                   "list"}},
        ShapeCase{"PriorityZero",
                  WithPlaybook("    priority: 1\n", "    priority: 0\n"),
                  {"m.yaml:21:15: error: 'priority' must be an integer >= 1, "
                   "got \"0\" (hint: 1 is the most urgent)"}},
        ShapeCase{"PriorityFraction",
                  WithPlaybook("    priority: 1\n", "    priority: 1.5\n"),
                  {"m.yaml:21:15: error: 'priority' must be an integer, got "
                   "\"1.5\""}},
        ShapeCase{"PriorityHuge",
                  WithPlaybook("    priority: 1\n",
                               "    priority: 99999999999999999999\n"),
                  {"m.yaml:21:15: error: 'priority' is out of range, got "
                   "\"99999999999999999999\""}},
        ShapeCase{"PlaybookMissingKeys",
                  WithPlaybook("    name: P\n    owner: cs\n", ""),
                  {"m.yaml:18:5: error: missing required key 'name' in "
                   "playbook 'p'",
                   "m.yaml:18:5: error: missing required key 'owner' in "
                   "playbook 'p'"}},
        ShapeCase{"WhenIsTagged",
                  WithPlaybook("    when: score < 40\n", "    when: !has(x)\n"),
                  {"m.yaml:22:11: error: 'when' has the YAML tag '!has(x)' "
                   "(hint: a value starting with '!' is read as a tag; quote "
                   "the whole value)"}},
        ShapeCase{"WhenIsEmpty",
                  WithPlaybook("    when: score < 40\n", "    when: \"  \"\n"),
                  {"m.yaml:22:11: error: 'when' is empty (hint: write an "
                   "expression, or remove the key if it is optional)"}},
        ShapeCase{"StepIsAMapping",
                  WithPlaybook("    when: score < 40\n",
                               "    when: score < 40\n"
                               "    steps:\n"
                               "      - Call them: today\n"
                               "      -\n"
                               "      - fine\n"),
                  {"m.yaml:24:9: error: each item of 'steps' must be a "
                   "string, got a mapping (hint: a value containing ': ' "
                   "must be quoted)",
                   "m.yaml:25:7: error: each item of 'steps' must be a "
                   "string, got nothing"}}),
    [](const ::testing::TestParamInfo<ShapeCase>& info) {
      return info.param.name;
    });

TEST(NormalizeFormsTest, IdentityCanBeWrittenThreeWays) {
  for (const std::string& form :
       {std::string("normalize: identity"),
        std::string("normalize: {identity: {}}"),
        std::string("normalize:\n          identity:")}) {
    SCOPED_TRACE(form);
    Loaded l = Load(Minimal("normalize: identity", form));
    EXPECT_THAT(Messages(l.diags), IsEmpty());
    ASSERT_EQ(l.spec.groups.size(), 1u);
    ASSERT_EQ(l.spec.groups[0].signals.size(), 1u);
    EXPECT_EQ(l.spec.groups[0].signals[0].normalize.kind,
              NormalizeSpec::Kind::kIdentity);
  }
}

TEST(VersionTest, KeepsTheTextAsWritten) {
  for (const auto& [yaml, expected] :
       std::vector<std::pair<std::string, std::string>>{
           {"version: 3", "3"},
           {"version: 1.10", "1.10"},
           {"version: \"2024-06\"", "2024-06"},
           {"version: v2 beta", "v2 beta"}}) {
    Loaded l = Load(Minimal("version: 1", yaml));
    EXPECT_THAT(Messages(l.diags), IsEmpty()) << yaml;
    EXPECT_EQ(l.spec.version, expected);
  }
}

TEST(NumbersTest, AcceptsYamlNumberSpellings) {
  for (const auto& [text, expected] :
       std::vector<std::pair<std::string, double>>{{"0", 0},
                                                   {"-3", -3},
                                                   {"+2.5", 2.5},
                                                   {".5", 0.5},
                                                   {"1e3", 1000},
                                                   {"1.5E-2", 0.015},
                                                   {"1e-400", 0}}) {
    Loaded l = Load(Minimal("    weight: 1\n    signals",
                            "    weight: " + text + "\n    signals"));
    EXPECT_THAT(Messages(l.diags), IsEmpty()) << text;
    ASSERT_EQ(l.spec.groups.size(), 1u);
    EXPECT_DOUBLE_EQ(l.spec.groups[0].weight, expected) << text;
  }
}

// ---------------------------------------------------------------------------
// Many problems, one pass.

TEST(ManyErrorsTest, ReportsEveryProblemInFileOrder) {
  DiagnosticList diags;
  const std::string path = TestData("many_errors.yaml");
  absl::StatusOr<ModelSpec> spec = LoadModelSpecFromFile(path, &diags);
  ASSERT_TRUE(spec.ok()) << spec.status();
  std::vector<std::string> messages = Messages(diags);
  for (std::string& m : messages) {
    ASSERT_THAT(m, StartsWith(path + ":"));
    m = m.substr(path.size() + 1);
  }
  EXPECT_THAT(
      messages,
      ElementsAre(
          "3:7: error: 'name' must match [a-z0-9_-]+, got \"My Model\" "
          "(hint: use lowercase letters, digits, '_' and '-', e.g. "
          "'my-model')",
          "4:10: error: 'version' must be a string or number, got a list",
          "5:1: error: unknown key 'colour' in model (hint: known keys: "
          "name, version, description, owner, segment_by, min_coverage, "
          "hysteresis, plugins, inputs, derived, groups, tiers, playbooks)",
          "7:9: error: 'id' must be an identifier ([a-z_][a-z0-9_]*), got "
          "\"DAU\" (hint: use lowercase letters, digits and '_', e.g. "
          "'dau')",
          "8:11: error: 'type' must be one of number, string, date, series, "
          "got \"nubmer\" (hint: did you mean 'number'?)",
          "9:12: error: 'range' must have 2 numbers [min, max], got 1",
          "12:13: error: 'range' must be a number, got \"a\"",
          "13:5: error: each input must be a mapping, got \"just_a_string\"",
          "16:11: error: 'expr' is empty (hint: write an expression, or "
          "remove the key if it is optional)",
          "19:13: error: 'weight' must be a number, got \"abc\"",
          "21:9: error: missing required key 'weight' in signal 's'",
          "22:17: error: 'source' must be an identifier ([a-z_][a-z0-9_]*), "
          "got \"x + 1\" (hint: 'source' names an input or derived value; "
          "define the expression under 'derived' and use its id)",
          "23:9: error: unknown key 'wieght' in signal (hint: did you mean "
          "'weight'?)",
          "24:29: error: missing required key 'good' in linear",
          "24:39: error: 'normalize' must have exactly one of linear, steps, "
          "piecewise, logistic or identity, got both 'linear' and 'steps'",
          "26:16: error: override for segment 'smb' must be a mapping "
          "{weight, normalize}, got \"3\"",
          "27:25: error: 'weight' must be a number, got the string \"2\" "
          "(hint: remove the quotes)",
          "27:41: error: 'normalize' must be one of linear, steps, "
          "piecewise, logistic or identity, got \"lienar\" (hint: did you "
          "mean 'linear'?)",
          "28:9: error: missing required key 'source' in signal 's2'",
          "29:17: error: 'weight' must be a finite number, got \".nan\"",
          "30:9: error: duplicate key 'weight' in signal (hint: the first "
          "'weight' is at line 29; remove one of them)",
          "32:31: error: each piecewise point must have 2 numbers [x, "
          "score], got 1",
          "32:36: error: each piecewise point must be a list [x, score], got "
          "\"x\"",
          "35:5: warning: 'color' is empty (hint: '#' starts a comment in "
          "YAML; quote the value: color: \"#c62828\")",
          "36:10: error: 'min' must be a number, got the string \"0\" (hint: "
          "remove the quotes)",
          "37:10: error: 'max' must be a finite number, got \".inf\"",
          "39:5: error: missing required key 'owner' in playbook 'p'",
          "41:15: error: 'priority' must be an integer >= 1, got \"0\" "
          "(hint: 1 is the most urgent)",
          "42:11: error: 'when' has the YAML tag '!has(x)' (hint: a value "
          "starting with '!' is read as a tag; quote the whole value)",
          "44:9: error: each item of 'steps' must be a string, got a mapping "
          "(hint: a value containing ': ' must be quoted)",
          "45:7: error: each item of 'steps' must be a string, got nothing"));
  EXPECT_EQ(diags.error_count(), 30);
  EXPECT_EQ(diags.warning_count(), 1);

  // What could be read is still there for the compiler.
  EXPECT_EQ(spec->name, "My Model");
  ASSERT_EQ(spec->inputs.size(), 2u);
  EXPECT_EQ(spec->inputs[0].id, "DAU");
  EXPECT_EQ(spec->inputs[1].range_max,
            std::numeric_limits<double>::infinity());  // 1e999
  ASSERT_EQ(spec->groups.size(), 1u);
  ASSERT_EQ(spec->groups[0].signals.size(), 2u);
  EXPECT_EQ(spec->groups[0].signals[0].overrides.size(), 1u);
  // The first 'weight' counts; it is invalid, so the default stays.
  EXPECT_DOUBLE_EQ(spec->groups[0].signals[1].weight, 1);
  ASSERT_EQ(spec->playbooks.size(), 1u);
  EXPECT_EQ(spec->playbooks[0].name, "P");
}

TEST(ManyErrorsTest, ToStatusCarriesEveryErrorOnItsOwnLine) {
  Loaded l = Load(Minimal("        weight: 1\n", "        wieght: x\n"));
  EXPECT_THAT(l.diags.ToStatus(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       Eq("m.yaml:10:9: error: missing required key 'weight' "
                          "in signal 's'\n"
                          "m.yaml:12:9: error: unknown key 'wieght' in signal "
                          "(hint: did you mean 'weight'?)")));
}

TEST(ManyErrorsTest, AppendsToExistingDiagnostics) {
  DiagnosticList diags;
  diags.Error(SourceLocation{"other.yaml", 99, 1}, "earlier problem");
  LoadModelSpecFromString(Minimal("    min: 0\n", "    min: x\n"), "m.yaml",
                          &diags);
  EXPECT_THAT(Messages(diags),
              ElementsAre("other.yaml:99:1: error: earlier problem",
                          "m.yaml:16:10: error: 'min' must be a number, got "
                          "\"x\""));
}

// ---------------------------------------------------------------------------
// Not a model at all.

TEST(DocumentTest, MalformedYamlGivesLineAndColumn) {
  struct Case {
    std::string yaml;
    std::string expected;
  };
  for (const Case& c : std::vector<Case>{
           {"name: m\ninputs: [1, 2\ngroups: 3\n",
            "m.yaml:3:7: error: invalid YAML: end of sequence flow not found "
            "(hint: a '[' or '{' is not closed)"},
           {"name: m\n  version: 1\n",
            "m.yaml:2:10: error: invalid YAML: illegal map value (hint: quote "
            "values that contain ': ', or check the indentation)"},
           {"name: m\n\tversion: 1\n",
            "m.yaml:2:1: error: invalid YAML: illegal tab when looking for "
            "indentation (hint: indent with spaces; YAML does not allow tabs "
            "for indentation)"},
           {"name: m\nversion: *v\n",
            "m.yaml:2:10: error: invalid YAML: the referenced anchor is not "
            "defined (hint: a value starting with '*' or '&' must be quoted)"},
           {", name: m\n", "m.yaml:1:1: error: invalid YAML: unexpected ','"},
           {"name: m\n- x\n",
            "m.yaml:2:1: error: invalid YAML: end of map not found"},
       }) {
    Loaded l = Load(c.yaml);
    EXPECT_THAT(Messages(l.diags), ElementsAre(c.expected)) << c.yaml;
  }
}

TEST(DocumentTest, EmptyFile) {
  for (const std::string& yaml :
       {std::string(""), std::string("\n\n"), std::string("# nothing\n"),
        std::string("---\n"), std::string("~\n"),
        std::string("\xEF\xBB\xBF")}) {
    Loaded l = Load(yaml);
    EXPECT_THAT(Messages(l.diags),
                ElementsAre("m.yaml:1:1: error: the model file is empty "
                            "(hint: start with 'name:', 'version:', "
                            "'inputs:', 'groups:' and 'tiers:')"))
        << yaml;
  }
}

TEST(DocumentTest, RootMustBeAMapping) {
  EXPECT_THAT(Messages(Load("- name: m\n").diags),
              ElementsAre("m.yaml:1:1: error: a model must be a mapping with "
                          "keys such as 'name' and 'inputs', got a list"));
  // The text of a scalar is not shown: a file that is not a model (a link
  // to /etc/passwd, say) must not have its bytes echoed to clients.
  EXPECT_THAT(Messages(Load("\n  hello\n").diags),
              ElementsAre("m.yaml:2:3: error: a model must be a mapping with "
                          "keys such as 'name' and 'inputs', got a single "
                          "value"));
}

TEST(DocumentTest, OnlyOneDocument) {
  Loaded l = Load(absl::StrCat(kMinimal, "---\nname: other\n"));
  EXPECT_THAT(Messages(l.diags),
              ElementsAre("m.yaml:17:1: error: the model file must hold one "
                          "YAML document, found 2 (hint: remove the '---' "
                          "separators or split the models into files)"));
  EXPECT_EQ(l.spec.name, "m");  // the first document is still read
}

TEST(DocumentTest, ByteOrderMarkAndCrlfKeepColumns) {
  std::string text =
      absl::StrCat("\xEF\xBB\xBF",
                   absl::StrReplaceAll(Minimal("    min: 0\n", "    min: x\n"),
                                       {{"\n", "\r\n"}}));
  Loaded l = Load(text);
  EXPECT_THAT(Messages(l.diags),
              ElementsAre("m.yaml:16:10: error: 'min' must be a number, got "
                          "\"x\""));
}

TEST(DocumentTest, AllRequiredTopLevelKeysMissing) {
  Loaded l = Load("description: nothing else\n");
  EXPECT_THAT(
      Messages(l.diags),
      ElementsAre("m.yaml:1:1: error: missing required key 'name' in model",
                  "m.yaml:1:1: error: missing required key 'version' in model",
                  "m.yaml:1:1: error: missing required key 'inputs' in model",
                  "m.yaml:1:1: error: missing required key 'groups' in model",
                  "m.yaml:1:1: error: missing required key 'tiers' in model"));
}

// ---------------------------------------------------------------------------
// Files.

TEST(FileTest, MissingFileIsNotFoundNamingThePath) {
  DiagnosticList diags;
  const std::string path = TestData("no_such_model.yaml");
  EXPECT_THAT(
      LoadModelSpecFromFile(path, &diags),
      StatusIs(absl::StatusCode::kNotFound,
               AllOf(HasSubstr("cannot read model file"), HasSubstr(path))));
  EXPECT_TRUE(diags.empty());
}

TEST(FileTest, DirectoryIsNotFound) {
  DiagnosticList diags;
  const std::string path = TestData("");
  EXPECT_THAT(LoadModelSpecFromFile(path, &diags),
              StatusIs(absl::StatusCode::kNotFound,
                       AllOf(HasSubstr(path), HasSubstr("directory"))));
}

// ---------------------------------------------------------------------------
// Hostile input: never crash, never throw, always say something located.

std::vector<std::string> NastyInputs() {
  std::vector<std::string> inputs = {
      "",
      " ",
      "\n",
      "\t",
      "\r",
      "\r\n\r\n",
      "---",
      "...",
      "--- ---",
      "~",
      "null",
      "42",
      "-1e999",
      ".nan",
      "true",
      "[1, 2]",
      "{}",
      "[]",
      "- a\n- b\n",
      "{",
      "}",
      "[",
      "]",
      ",",
      ",,,,",
      ":",
      "::",
      "? ",
      "? [a]\n: b\n",
      "\"",
      "'",
      "\"\\x\"",
      "|",
      ">",
      "|\n",
      ">-\n  x",
      "&a",
      "*a",
      "&a [*a]",
      "a: &a\n  b: *a\n",
      "!",
      "!!",
      "!!binary AAAA",
      "!<tag:x> 1",
      "%YAML 1.2\n---\na: 1",
      "%TAG ! tag:x,2000:\n--- !y 1",
      "name: [",
      "name: {",
      "name: \"",
      "name: |",
      "inputs: [[[[[",
      "inputs: -",
      "inputs:\n  - \n  -\n  - ~\n",
      "inputs: [{id: [1]}, {type: {}}, 7, null]",
      "groups: [{signals: [{normalize: {steps: [[], 1, {}]}}]}]",
      "groups: [{signals: [{normalize: {piecewise: [[], [1], {}, 1]}}]}]",
      "groups: [{signals: [{overrides: {[a]: 1, ~: 2, b: ~}}]}]",
      "playbooks: [{when: [], success: {}, steps: {}, priority: -1}]",
      "tiers: [{min: .NaN, max: -.inf}]",
      "name: x\nname: y\nname: z\n",
      std::string("\0\0\0\0", 4),
      std::string("name: \0m\n", 9),
      "\xff\xfe\x00\x00",
      "\xfe\xff\x00n\x00a",
      "\xef\xbb\xbf\xef\xbb\xbf",
      "\xc3\x28: \xa0\xa1",
      "\x80\x81\x82",
  };
  // Deep nesting, in flow and block style, closed and not.
  inputs.push_back(std::string(100000, '['));
  inputs.push_back(std::string(5000, '[') + std::string(5000, ']'));
  inputs.push_back(std::string(5000, '{'));
  std::string block;
  for (int i = 0; i < 1500; ++i) block += std::string(i, ' ') + "a:\n";
  inputs.push_back(block);
  std::string dashes;
  for (int i = 0; i < 1500; ++i) dashes += std::string(2 * i, ' ') + "-\n";
  inputs.push_back(dashes);
  // Huge keys and values, many keys.
  inputs.push_back("name: " + std::string(1 << 20, 'x'));
  inputs.push_back(std::string(1 << 16, 'k') + ": 1");
  std::string many;
  for (int i = 0; i < 5000; ++i) many += "k" + std::to_string(i) + ": 1\n";
  inputs.push_back(many);
  std::string numbers = "tiers:\n";
  for (const char* n : {"1e999999999999", "-0", "0e0", "1e-99999", "00012",
                        "1.", ".", "-", "+", "1e", "1e+", "--1", "1_000"}) {
    numbers += std::string("  - {id: t, min: ") + n + ", max: " + n + "}\n";
  }
  inputs.push_back(numbers);
  // Deterministic random bytes, and random mixes of YAML punctuation.
  std::mt19937 rng(12345);
  for (int i = 0; i < 200; ++i) {
    std::string junk(rng() % 200, '\0');
    for (char& c : junk) c = static_cast<char>(rng() % 256);
    inputs.push_back(junk);
  }
  const std::string alphabet = "-:?[]{},&*!|>'\"%@`# \n\tabc019.~";
  for (int i = 0; i < 500; ++i) {
    std::string junk(rng() % 80, ' ');
    for (char& c : junk) c = alphabet[rng() % alphabet.size()];
    inputs.push_back(junk);
  }
  return inputs;
}

TEST(JunkTest, NeverCrashesAndAlwaysReportsALocatedError) {
  const std::vector<std::string> inputs = NastyInputs();
  for (size_t i = 0; i < inputs.size(); ++i) {
    const std::string& input = inputs[i];
    DiagnosticList diags;
    ModelSpec spec;
    ASSERT_NO_THROW(spec = LoadModelSpecFromString(input, "junk.yaml", &diags))
        << "input #" << i;
    EXPECT_EQ(spec.file, "junk.yaml");
    // None of these is a valid model.
    EXPECT_TRUE(diags.has_errors()) << "input #" << i;
    for (const Diagnostic& d : diags.items()) {
      EXPECT_EQ(d.location.file, "junk.yaml") << "input #" << i;
      EXPECT_GE(d.location.line, 1) << "input #" << i << ": " << d.ToString();
      EXPECT_GE(d.location.column, 1) << "input #" << i << ": " << d.ToString();
      EXPECT_FALSE(d.message.empty());
      EXPECT_NE(d.message.back(), '.') << d.message;
    }
    // Formatting never fails either.
    EXPECT_FALSE(diags.ToString().empty());
    EXPECT_THAT(diags.ToStatus(), StatusIs(absl::StatusCode::kInvalidArgument,
                                           StartsWith("junk.yaml:")));
  }
}

// --- Plugins ---------------------------------------------------------------

// kMinimal with a plugins list and a plugin derived value.
constexpr char kWithPlugins[] =
    "name: m\n"                                     // 1
    "version: 1\n"                                  // 2
    "plugins:\n"                                    // 3
    "  - id: survey\n"                              // 4
    "    library: nps\n"                            // 5
    "    description: NPS from raw answers\n"       // 6
    "    config:\n"                                 // 7
    "      endpoint: https://x.example\n"           // 8
    "      retry: {count: 3, backoff: [1, 2.5]}\n"  // 9
    "      verbose: true\n"                         // 10
    "      empty:\n"                                // 11
    "inputs:\n"                                     // 12
    "  - id: x\n"                                   // 13
    "    type: series\n"                            // 14
    "derived:\n"                                    // 15
    "  - id: score_nps\n"                           // 16
    "    plugin: survey\n"                          // 17
    "    signal: nps\n"                             // 18
    "    inputs: [x]\n"                             // 19
    "    params: {window: 10, tags: [a, b]}\n"      // 20
    "    description: NPS of the last 10\n"         // 21
    "groups:\n"                                     // 22
    "  - id: g\n"                                   // 23
    "    weight: 1\n"                               // 24
    "    signals:\n"                                // 25
    "      - id: s\n"                               // 26
    "        source: score_nps\n"                   // 27
    "        weight: 1\n"                           // 28
    "        normalize: identity\n"                 // 29
    "tiers:\n"                                      // 30
    "  - id: red\n"                                 // 31
    "    min: 0\n";                                 // 32

std::string WithPlugins(const std::string& from, const std::string& to) {
  std::string text = kWithPlugins;
  const size_t pos = text.find(from);
  if (pos == std::string::npos ||
      text.find(from, pos + 1) != std::string::npos) {
    ADD_FAILURE() << "'" << from << "' must occur once in kWithPlugins";
    return text;
  }
  return text.replace(pos, from.size(), to);
}

TEST(PluginSpecTest, ReadsPluginsAndPluginSignals) {
  Loaded l = Load(kWithPlugins);
  EXPECT_THAT(Messages(l.diags), IsEmpty());
  ASSERT_EQ(l.spec.plugins.size(), 1u);
  const PluginSpec& p = l.spec.plugins[0];
  EXPECT_EQ(p.id, "survey");
  EXPECT_EQ(p.library, "nps");
  EXPECT_EQ(p.description, "NPS from raw answers");
  EXPECT_EQ(Pos(p.location), "4:5");
  EXPECT_EQ(Pos(p.fields.Get("library", Unknown())), "5:14");
  std::vector<std::string> config;
  for (const PluginSetting& c : p.config) {
    config.push_back(absl::StrCat(c.key, "=", c.value, "@", Pos(c.location)));
  }
  // Nested mappings flatten to dotted keys, lists join with commas.
  EXPECT_THAT(config,
              ElementsAre("endpoint=https://x.example@8:17",
                          "retry.count=3@9:22", "retry.backoff=1,2.5@9:34",
                          "verbose=true@10:16", "empty=@11:7"));

  ASSERT_EQ(l.spec.derived.size(), 1u);
  const DerivedSpec& d = l.spec.derived[0];
  EXPECT_TRUE(d.uses_plugin);
  EXPECT_TRUE(d.expr.empty());
  EXPECT_EQ(d.plugin, "survey");
  EXPECT_EQ(d.signal, "nps");
  EXPECT_THAT(d.inputs, ElementsAre("x"));
  ASSERT_EQ(d.params.size(), 2u);
  EXPECT_EQ(d.params[0].key, "window");
  EXPECT_EQ(d.params[0].value, "10");
  EXPECT_EQ(d.params[1].key, "tags");
  EXPECT_EQ(d.params[1].value, "a,b");
  EXPECT_EQ(d.description, "NPS of the last 10");
  EXPECT_EQ(Pos(d.fields.Get("signal", Unknown())), "18:13");
  EXPECT_EQ(Pos(d.fields.Get("inputs", Unknown())), "19:13");
}

TEST(PluginSpecTest, ExpressionDerivedValuesAreNotPluginSignals) {
  Loaded l = Load(ModelWithDerived("    expr: x + 1\n"));
  ASSERT_EQ(l.spec.derived.size(), 1u);
  EXPECT_FALSE(l.spec.derived[0].uses_plugin);
  EXPECT_THAT(l.spec.plugins, IsEmpty());
}

INSTANTIATE_TEST_SUITE_P(
    Plugins, ShapeErrorTest,
    ::testing::Values(
        ShapeCase{"PluginWithoutLibrary",
                  WithPlugins("    library: nps\n", ""),
                  {"m.yaml:4:5: error: missing required key 'library' in "
                   "plugin 'survey'"}},
        ShapeCase{"EmptyLibrary",
                  WithPlugins("    library: nps\n", "    library: ''\n"),
                  {"m.yaml:5:14: error: 'library' of plugin 'survey' is "
                   "empty (hint: name the plugin's library file in a plugin "
                   "directory, e.g. library: nps for libhs_nps.so)"}},
        ShapeCase{"BlankLibrary",
                  WithPlugins("    library: nps\n", "    library: \"  \"\n"),
                  {"m.yaml:5:14: error: 'library' of plugin 'survey' is "
                   "empty (hint: name the plugin's library file in a plugin "
                   "directory, e.g. library: nps for libhs_nps.so)"}},
        ShapeCase{"PluginUnknownKey",
                  WithPlugins("    library: nps\n",
                              "    library: nps\n    confg: {}\n"),
                  {"m.yaml:6:5: error: unknown key 'confg' in plugin "
                   "(hint: did you mean 'config'?)"}},
        ShapeCase{"ConfigMustBeAMapping",
                  WithPlugins("    config:\n"
                              "      endpoint: https://x.example\n"
                              "      retry: {count: 3, backoff: [1, 2.5]}\n"
                              "      verbose: true\n"
                              "      empty:\n",
                              "    config: [a, b]\n"),
                  {"m.yaml:7:13: error: 'config' must be a mapping of keys "
                   "to values, got a list (hint: e.g. config: {window: "
                   "10})"}},
        ShapeCase{
            "ConfigListOfMappings",
            WithPlugins("      verbose: true\n", "      verbose: [{a: 1}]\n"),
            {"m.yaml:10:17: error: each item of 'verbose' in 'config' "
             "must be a scalar, got a mapping"}},
        ShapeCase{"ConfigListItemWithComma",
                  WithPlugins("tags: [a, b]", "tags: [\"a,b\"]"),
                  {"m.yaml:20:33: error: items of 'tags' in 'params' must "
                   "not contain ',' (hint: plugins receive a list as its "
                   "items joined by commas)"}},
        ShapeCase{"BothExprAndPlugin",
                  WithPlugins("    plugin: survey\n",
                              "    expr: x\n    plugin: survey\n"),
                  {"m.yaml:17:5: error: derived 'score_nps' has both 'expr' "
                   "and 'plugin' (hint: a derived value is either an "
                   "expression or a plugin signal; remove one of them)"}},
        ShapeCase{"PluginWithoutSignal",
                  WithPlugins("    signal: nps\n", ""),
                  {"m.yaml:16:5: error: missing required key 'signal' in "
                   "derived 'score_nps'"}},
        ShapeCase{"SignalWithoutPlugin",
                  WithPlugins("    plugin: survey\n", ""),
                  {"m.yaml:16:5: error: missing required key 'expr' in "
                   "derived 'score_nps'",
                   "m.yaml:17:5: error: 'signal' in derived 'score_nps' "
                   "belongs to a plugin signal, which also needs 'plugin' "
                   "(hint: add plugin: <an id from the model's plugins "
                   "list>, or remove 'signal')",
                   "m.yaml:18:5: error: 'inputs' in derived 'score_nps' "
                   "belongs to a plugin signal, which also needs 'plugin' "
                   "(hint: add plugin: <an id from the model's plugins "
                   "list>, or remove 'inputs')",
                   "m.yaml:19:5: error: 'params' in derived 'score_nps' "
                   "belongs to a plugin signal, which also needs 'plugin' "
                   "(hint: add plugin: <an id from the model's plugins "
                   "list>, or remove 'params')"}},
        ShapeCase{"InputsMustBeIds",
                  WithPlugins("inputs: [x]", "inputs: [x, \"x * 2\"]"),
                  {"m.yaml:19:17: error: each item of 'inputs' must be an "
                   "identifier ([a-z_][a-z0-9_]*), got \"x * 2\" (hint: "
                   "name an input or a derived value; define expressions "
                   "under 'derived' and use their ids)"}},
        ShapeCase{"InputsMustBeAList",
                  WithPlugins("inputs: [x]", "inputs: x"),
                  {"m.yaml:19:13: error: 'inputs' must be a list, got "
                   "\"x\""}}),
    [](const ::testing::TestParamInfo<ShapeCase>& info) {
      return info.param.name;
    });

// ---------------------------------------------------------------------------
// Hostile input: every file below is refused with one located error, in
// time linear in its size, whatever the aliases in it would expand to.


constexpr char kRecursiveAliasHint[] =
    " (hint: an alias may only repeat a node that ends before it; write the "
    "value out instead)";

TEST(HostileInputTest, RecursiveAliasInPluginConfig) {
  Loaded l =
      Load(WithPlugins("    config:\n      endpoint: https://x.example\n",
                       "    config: &c\n      k: *c\n"
                       "      endpoint: https://x.example\n"));
  EXPECT_THAT(Messages(l.diags),
              ElementsAre(absl::StrCat(
                  "m.yaml:8:10: error: invalid YAML: alias '*c' is inside the "
                  "node it refers to ('&c' at line 7, column 13): a "
                  "recursive alias",
                  kRecursiveAliasHint)));
  EXPECT_TRUE(l.spec.unreadable);
  EXPECT_THAT(l.spec.plugins, IsEmpty());
}

TEST(HostileInputTest, RecursiveAliasInFlowPluginConfigAsReported) {
  // The input of issue 9, defect 1.
  Loaded l = Load(absl::StrCat(
      "plugins: [{id: p, library: nps, config: &c {k: *c}}]\n", kMinimal));
  EXPECT_THAT(Messages(l.diags),
              ElementsAre(absl::StrCat(
                  "m.yaml:1:48: error: invalid YAML: alias '*c' is inside "
                  "the node it refers to ('&c' at line 1, column 41): a "
                  "recursive alias",
                  kRecursiveAliasHint)));
}

TEST(HostileInputTest, RecursiveAliasInDerivedParams) {
  Loaded l = Load(WithPlugins("    params: {window: 10, tags: [a, b]}\n",
                              "    params: &p {window: 10, again: *p}\n"));
  EXPECT_THAT(Messages(l.diags),
              ElementsAre(absl::StrCat(
                  "m.yaml:20:36: error: invalid YAML: alias '*p' is inside "
                  "the node it refers to ('&p' at line 20, column 13): a "
                  "recursive alias",
                  kRecursiveAliasHint)));
}

TEST(HostileInputTest, AliasBombInPluginConfigIsRefusedNamingTheLimit) {
  const std::string bomb = AliasBomb("      ");
  ASSERT_LT(bomb.size(), 700u);
  // config: is line 7; the bomb takes lines 8-16 and its seventh line
  // (14) crosses the limit at its first alias, column 6 + 10.
  Loaded l =
      Load(WithPlugins("    config:\n      endpoint: https://x.example\n",
                       absl::StrCat("    config:\n", bomb)));
  EXPECT_THAT(Messages(l.diags),
              ElementsAre("m.yaml:14:16: error: alias '*a5' expands the YAML "
                          "to more than 1000000 nodes, the limit once aliases "
                          "are expanded (hint: an alias repeats its whole "
                          "anchored node; write the values out, or raise the "
                          "limit with --max-yaml-nodes)"));
  EXPECT_TRUE(l.spec.unreadable);
}

TEST(HostileInputTest, AliasBombOfMappingsIsRefusedToo) {
  // Mappings of aliases: each key would be compared with the ones before.
  std::string bomb = "      b0: &b0 {k: v}\n";
  for (int level = 1; level < 9; ++level) {
    absl::StrAppend(&bomb, "      b", level, ": &b", level, " {");
    for (int i = 0; i < 9; ++i) {
      absl::StrAppend(&bomb, i == 0 ? "" : ", ", "k", i, ": *b", level - 1);
    }
    absl::StrAppend(&bomb, "}\n");
  }
  Loaded l =
      Load(WithPlugins("    config:\n      endpoint: https://x.example\n",
                       absl::StrCat("    config:\n", bomb)));
  ASSERT_EQ(l.diags.items().size(), 1u) << l.diags.ToString();
  EXPECT_THAT(l.diags.items()[0].message,
              AllOf(HasSubstr("expands the YAML to more than 1000000 nodes"),
                    StartsWith("alias '*b")));
  EXPECT_GT(l.diags.items()[0].location.line, 8);
}

TEST(HostileInputTest, NodeLimitIsConfigurable) {
  ModelLoadOptions options;
  options.yaml.max_nodes = 20;
  DiagnosticList diags;
  ModelSpec spec = LoadModelSpecFromString(kMinimal, "m.yaml", &diags, options);
  EXPECT_THAT(Messages(diags),
              ElementsAre(AllOf(StartsWith("m.yaml:"),
                                HasSubstr("the YAML holds more than 20 nodes, "
                                          "the limit"))));
  EXPECT_TRUE(spec.unreadable);
}

TEST(HostileInputTest, ManyDistinctSettingsLoadAndDuplicatesAreFound) {
  // 200,000 keys in one config mapping: duplicate detection is a hash set,
  // so this loads in linear time (it took hours when each key was compared
  // with every earlier one).
  constexpr int kKeys = 200000;
  std::string config = "    config:\n";
  for (int i = 0; i < kKeys; ++i)
    absl::StrAppend(&config, "      k", i, ": ", i, "\n");
  absl::StrAppend(&config, "      k77: again\n");
  Loaded l =
      Load(WithPlugins("    config:\n      endpoint: https://x.example\n"
                       "      retry: {count: 3, backoff: [1, 2.5]}\n"
                       "      verbose: true\n"
                       "      empty:\n",
                       config));
  EXPECT_THAT(Messages(l.diags),
              ElementsAre(absl::StrCat("m.yaml:", 8 + kKeys,
                                       ":7: error: duplicate key 'k77' in "
                                       "'config'")));
  ASSERT_EQ(l.spec.plugins.size(), 1u);
  const std::vector<PluginSetting>& settings = l.spec.plugins[0].config;
  ASSERT_EQ(settings.size(), static_cast<size_t>(kKeys));
  EXPECT_EQ(settings[0].key, "k0");
  EXPECT_EQ(settings[kKeys - 1].key, absl::StrCat("k", kKeys - 1));
  EXPECT_EQ(settings[kKeys - 1].value, absl::StrCat(kKeys - 1));
}

TEST(HostileInputTest, DuplicateSegmentsInOverridesAreFound) {
  Loaded l = Load(Minimal("        normalize: identity\n",
                          "        normalize: identity\n"
                          "        overrides:\n"
                          "          smb: {weight: 2}\n"
                          "          ent: {weight: 3}\n"
                          "          smb: {weight: 4}\n"));
  EXPECT_THAT(Messages(l.diags),
              ElementsAre("m.yaml:17:11: error: duplicate segment 'smb' in "
                          "overrides (hint: the first is at line 15; remove "
                          "one of them)"));
}

TEST(HostileInputTest, OversizeTextIsRefusedSayingTheLimitAndTheFlag) {
  std::string text = kMinimal;
  text.resize(common::YamlLimits::kDefaultMaxBytes + 1, '#');
  Loaded l = Load(text);
  EXPECT_THAT(Messages(l.diags),
              ElementsAre("m.yaml:1:1: error: the YAML is 4194305 bytes (4.0 "
                          "MiB), over the limit of 4194304 bytes (4.0 MiB) "
                          "(hint: split it into smaller files, or raise the "
                          "limit with --max-model-bytes)"));
  EXPECT_TRUE(l.spec.unreadable);

  ModelLoadOptions options;
  options.yaml.max_bytes = 100;
  DiagnosticList diags;
  LoadModelSpecFromString(kMinimal, "m.yaml", &diags, options);
  EXPECT_THAT(Messages(diags),
              ElementsAre(HasSubstr("over the limit of 100 bytes")));
}

TEST(HostileInputTest, OversizeFileIsNotRead) {
  const std::string path = common::testing::ScratchFile("big_model.yaml");
  std::ofstream(path, std::ios::binary) << kMinimal;
  ModelLoadOptions options;
  options.yaml.max_bytes = 100;
  DiagnosticList diags;
  EXPECT_THAT(LoadModelSpecFromFile(path, &diags, options),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr(path), HasSubstr("bytes"),
                             HasSubstr("over the limit of 100 bytes"),
                             HasSubstr("--max-model-bytes"))));
  EXPECT_TRUE(diags.empty());
}

TEST(HostileInputTest, DeepNestingIsOneLocatedError) {
  std::string deep = "      top: ";
  for (int i = 0; i < 200; ++i) deep += "{k: ";
  deep += "1";
  for (int i = 0; i < 200; ++i) deep += "}";
  Loaded l = Load(WithPlugins("      verbose: true\n", deep + "\n"));
  ASSERT_EQ(l.diags.items().size(), 1u) << l.diags.ToString();
  EXPECT_THAT(Messages(l.diags),
              ElementsAre(AllOf(StartsWith("m.yaml:10:"),
                                HasSubstr("error: invalid YAML: lists and "
                                          "mappings nest more than 64 levels "
                                          "deep"))));
}

TEST(HostileInputTest, NulByteIsRefusedWithoutShowingTheBytes) {
  Loaded l = Load(std::string("name: m\nsecret\0stuff: 1\n", 24));
  EXPECT_THAT(Messages(l.diags),
              ElementsAre("m.yaml:2:7: error: the file holds a NUL byte: it "
                          "is not a text file (hint: a model file is YAML "
                          "text in UTF-8)"));
}

TEST(HostileInputTest, ErrorsStopAtTheLimit) {
  std::string text = kMinimal;
  for (int i = 0; i < 1000; ++i) absl::StrAppend(&text, "junk", i, ": 1\n");
  Loaded l = Load(text);
  ASSERT_EQ(l.diags.error_count(), kMaxLoaderErrors + 1);
  EXPECT_EQ(l.diags.items().back().ToString(),
            absl::StrCat("m.yaml:", 17 + kMaxLoaderErrors,
                         ":1: error: too many errors (99); the rest of the "
                         "file is not checked (hint: fix these first)"));
  EXPECT_TRUE(l.spec.unreadable);
}

TEST(HostileInputTest, CancelledLoadStopsWithOneError) {
  std::atomic<bool> cancelled{true};
  ModelLoadOptions options;
  options.budget.cancelled = &cancelled;
  DiagnosticList diags;
  ModelSpec spec = LoadModelSpecFromString(kMinimal, "m.yaml", &diags, options);
  EXPECT_THAT(Messages(diags),
              ElementsAre("m.yaml:1:1: error: the model load was cancelled"));
  EXPECT_TRUE(spec.unreadable);
}

TEST(HostileInputTest, MergeKeysAndOrdinaryAliasesStillWork) {
  // yaml-cpp 0.7 reads `<<` as an ordinary key; an alias to a finished
  // node is fine and expands like a copy.
  Loaded l = Load(
      WithPlugins("    config:\n      endpoint: https://x.example\n",
                  "    config:\n      base: &b {window: 3}\n      copy: *b\n"
                  "      <<: *b\n"));
  EXPECT_THAT(Messages(l.diags), IsEmpty());
  ASSERT_EQ(l.spec.plugins.size(), 1u);
  std::vector<std::string> keys;
  for (const PluginSetting& c : l.spec.plugins[0].config) keys.push_back(c.key);
  EXPECT_THAT(keys,
              ElementsAre("base.window", "copy.window", "<<.window",
                          "retry.count", "retry.backoff", "verbose", "empty"));
}

}  // namespace
}  // namespace healthscore::engine::model
