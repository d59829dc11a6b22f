// Integration tests of how the `healthscore` binary writes numbers: exactly
// by default (the shortest text that reads back to the engine's double),
// rounded with --precision N on score, diff and test.

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli_runner.h"

namespace healthscore {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

namespace fs = std::filesystem;

using Result = ::healthscore::testing::CliResult;
using ::healthscore::testing::Lines;
using ::healthscore::testing::RunCli;
using ::healthscore::testing::TempPath;

// A one-signal model whose score is the value of `v`, and an account that
// scores 79.999996: six significant digits would print it as 80, next to
// tier yellow.
class CliNumbersTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    fs::create_directories(Dir());
    std::ofstream(Dir() / "model.yaml") << R"yaml(name: numbers
version: 1
inputs:
  - {id: v, type: number}
groups:
  - id: all
    weight: 1
    signals:
      - {id: sv, source: v, weight: 1, normalize: identity}
tiers:
  - {id: green, min: 80}
  - {id: yellow, min: 50}
  - {id: red, min: 0}
playbooks:
  - id: near_green
    name: Near green
    owner: csm
    priority: 1
    when: "score > 79 && tier == \"yellow\""
)yaml";
    std::ofstream(Dir() / "accounts.jsonl")
        << R"({"id":"almost","metrics":{"v":79.999996},"previous_score":0.1})"
           "\n"
           R"({"id":"sum","metrics":{"v":0.30000000000000004}})"
           "\n";
    std::ofstream(Dir() / "tests.yaml") << R"yaml(cases:
  - name: almost green
    account: {id: a, metrics: {v: 79.999996}}
    expect: {score: 90}
)yaml";
  }

  static fs::path Dir() { return TempPath("numbers"); }
  static std::string Model() { return (Dir() / "model.yaml").string(); }
  static std::string Accounts() { return (Dir() / "accounts.jsonl").string(); }
};

TEST_F(CliNumbersTest, ScoreWritesNumbersExactlyByDefault) {
  Result json = RunCli("score --quiet --model " + Model() + " --input " +
                       Accounts());
  ASSERT_EQ(json.exit_code, 0) << json.err;
  std::vector<std::string> lines = Lines(json.out);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_THAT(lines[0],
              AllOf(StartsWith(R"({"id":"almost","status":"ok",)"
                               R"("score":79.999996,"tier":"yellow",)"),
                    HasSubstr(R"("delta":79.899996,)"),
                    HasSubstr("[score=79.999996, tier=\\\"yellow\\\"]")));
  EXPECT_THAT(lines[1], HasSubstr(R"("score":0.30000000000000004,)"));
  // Read back, each number is the engine's double: 79.999996 - 0.1 is
  // 79.899996 in doubles too.
  EXPECT_EQ(std::strtod("79.899996", nullptr), 79.999996 - 0.1);

  Result csv = RunCli("score --quiet --format csv --model " + Model() +
                      " --input " + Accounts());
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_THAT(Lines(csv.out),
              ::testing::ElementsAre(
                  "id,status,error,score,tier,coverage,all,playbooks,delta,"
                  "tier_changed,warnings",
                  "almost,ok,,79.999996,yellow,1,79.999996,near_green,"
                  "79.899996,,",
                  "sum,ok,,0.30000000000000004,red,1,0.30000000000000004,,,,"));
}

TEST_F(CliNumbersTest, ScorePrecisionRoundsEveryNumber) {
  Result json = RunCli("score --quiet --precision 6 --explain --model " +
                       Model() + " --input " + Accounts());
  ASSERT_EQ(json.exit_code, 0) << json.err;
  std::vector<std::string> lines = Lines(json.out);
  ASSERT_EQ(lines.size(), 2u);
  // Rounding was asked for: the text says 80, the tier is still yellow.
  EXPECT_THAT(lines[0],
              AllOf(HasSubstr(R"("score":80,"tier":"yellow",)"),
                    HasSubstr(R"("groups":{"all":80},)"),
                    HasSubstr("[score=80, tier="),
                    HasSubstr(R"("delta":79.9,)"),
                    HasSubstr(R"("raw":80,"score":80,)")));
  EXPECT_THAT(lines[1], HasSubstr(R"("score":0.3,)"));

  Result csv = RunCli("score --quiet --precision=3 --format csv --model " +
                      Model() + " --input " + Accounts());
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_THAT(csv.out, HasSubstr("\nalmost,ok,,80,yellow,1,80,near_green,"
                                 "79.9,,\nsum,ok,,0.3,red,1,0.3,,,,\n"));

  Result full = RunCli("score --quiet --precision 17 --model " + Model() +
                       " --input " + Accounts());
  EXPECT_THAT(full.out, HasSubstr(R"("score":79.999995999999996,)"));
}

TEST_F(CliNumbersTest, BadPrecisionIsAUsageError) {
  for (const char* bad : {"0", "18", "-1", "six", "2.5", ""}) {
    SCOPED_TRACE(bad);
    const std::string value = absl::StrCat("'", bad, "'");
    Result score = RunCli("score --precision " + value + " --model " +
                          Model() + " --input " + Accounts());
    EXPECT_EQ(score.exit_code, 2);
    EXPECT_THAT(score.err,
                HasSubstr(absl::StrCat("healthscore score: option --precision "
                                       "must be an integer from 1 to 17, got \"",
                                       bad, "\"")));
    EXPECT_EQ(score.out, "");
    Result diff = RunCli("diff --precision " + value + " --live " + Model() +
                         " --candidate " + Model() + " --input " + Accounts());
    EXPECT_EQ(diff.exit_code, 2);
    EXPECT_THAT(diff.err, HasSubstr("healthscore diff: option --precision "
                                    "must be an integer from 1 to 17"));
    Result test = RunCli("test --precision " + value + " " + Dir().string());
    EXPECT_EQ(test.exit_code, 2);
    EXPECT_THAT(test.err, HasSubstr("healthscore test: option --precision "
                                    "must be an integer from 1 to 17"));
  }
  Result missing = RunCli("score --model " + Model() + " --input " +
                          Accounts() + " --precision");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("option --precision needs a value"));
}

TEST_F(CliNumbersTest, TestFailuresQuoteExactOrRoundedNumbers) {
  Result exact = RunCli("test " + Dir().string());
  EXPECT_EQ(exact.exit_code, 1);
  EXPECT_THAT(exact.out,
              HasSubstr("    score: expected 90 (+/- 0.01), got 79.999996\n"));
  Result rounded = RunCli("test --precision 3 " + Dir().string());
  EXPECT_EQ(rounded.exit_code, 1);
  EXPECT_THAT(rounded.out,
              HasSubstr("    score: expected 90 (+/- 0.01), got 80\n"));
}

TEST_F(CliNumbersTest, DiffPrecisionRoundsTheReport) {
  // A candidate whose green starts at 79.99999: the almost-green account
  // changes tier, and the report quotes its scores and the delta.
  fs::create_directories(Dir() / "candidate");
  std::string model;
  {
    std::ifstream in(Dir() / "model.yaml");
    model.assign(std::istreambuf_iterator<char>(in), {});
  }
  model.replace(model.find("min: 80"), 7, "min: 79.99999");
  std::ofstream(Dir() / "candidate" / "model.yaml") << model;
  const std::string changed =
      absl::StrCat("diff --live ", Model(), " --candidate ",
                   (Dir() / "candidate").string(), " --input ", Accounts());
  Result exact = RunCli(changed);
  ASSERT_EQ(exact.exit_code, 0) << exact.err;
  EXPECT_THAT(exact.out,
              HasSubstr("  almost: yellow -> green (score 79.999996 -> "
                        "79.999996)\n"));
  Result rounded = RunCli(changed + " --precision 4");
  ASSERT_EQ(rounded.exit_code, 0) << rounded.err;
  EXPECT_THAT(rounded.out,
              HasSubstr("  almost: yellow -> green (score 80 -> 80)\n"));
  Result json = RunCli(changed + " --format json --precision 4");
  EXPECT_THAT(json.out, HasSubstr(R"("live_score":80,"candidate_score":80})"));
  EXPECT_THAT(json.out, Not(HasSubstr("79.99")));
}

TEST_F(CliNumbersTest, HelpNamesThePrecisionOption) {
  for (const char* command : {"score", "diff", "test"}) {
    Result help = RunCli(std::string(command) + " --help");
    EXPECT_EQ(help.exit_code, 0);
    EXPECT_THAT(help.out, HasSubstr("--precision N"));
  }
}

}  // namespace
}  // namespace healthscore
