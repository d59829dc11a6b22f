// Integration tests of `healthscore lint`, `healthscore diff` and
// `healthscore score` in a model repository (segment routing): the real
// binary on real files, exit codes and output as a user or a CI job sees
// them.

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli_runner.h"

namespace healthscore {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

namespace fs = std::filesystem;

constexpr char kBasic[] = "engine/io/testdata/basic";

using Result = ::healthscore::testing::CliResult;
using ::healthscore::engine::common::testing::ReadFile;
using ::healthscore::testing::Lines;
using ::healthscore::testing::RunCli;
using ::healthscore::testing::TempPath;

void Write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// The basic model, edited.
std::string BasicModel(
    const std::vector<std::pair<std::string, std::string>>& edits) {
  std::string text = ReadFile(fs::path(HEALTHSCORE_SOURCE_DIR) / kBasic /
                              "model.yaml");
  for (const auto& [from, to] : edits) {
    EXPECT_NE(text.find(from), std::string::npos) << from;
    text = absl::StrReplaceAll(text, {{from, to}});
  }
  return text;
}

TEST(CliLintTest, BundledModelsAreClean) {
  Result r = RunCli("lint rules/adoption_trends rules/default");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(Lines(r.out),
              ElementsAre("ok: rules/adoption_trends/1/model.yaml (model "
                          "adoption_trends, version 1)",
                          "ok: rules/default/1/model.yaml (model default, "
                          "version 1)",
                          "2 models linted: 2 ok, 0 failed; 0 errors, 0 "
                          "warnings"));
}

TEST(CliLintTest, EveryKindOfFinding) {
  const fs::path root = TempPath("lint_repo");
  fs::remove_all(root);
  // `health`: ticket_load capped at 60 and adoption steps at 50, so with
  // min_coverage 0.9 green (80+) is out of reach; a playbook on green; a
  // tiny signal; an enterprise override while enterprise accounts are
  // routed elsewhere.
  Write(root / "health/1/model.yaml",
        BasicModel({{"name: io_basic", "name: health"},
                    {"min_coverage: 0.5", "min_coverage: 0.9"},
                    {"normalize: {linear: {bad: 0.05, good: 0.4}}",
                     "normalize: {steps: [{below: 0.2, score: 10}, {score: "
                     "50}]}"},
                    {"enterprise: {normalize: {linear: {bad: 0.1, good: 0.5}}}",
                     "enterprise: {weight: 0.9}"},
                    {"{below: 3, score: 100}", "{below: 3, score: 60}"},
                    {"        weight: 0.3\n", "        weight: 0.001\n"}}));
  Write(root / "health/config.yaml",
        "routes:\n"
        "  - when: 'segment == \"enterprise\"'\n"
        "    model: big\n"
        "  - when: 'segmnt == \"smb\"'\n"
        "    model: big\n");
  Write(root / "big/1/model.yaml",
        BasicModel({{"name: io_basic", "name: big"}}));
  const std::string h = (root / "health/1/model.yaml").string();
  const std::string c = (root / "health/config.yaml").string();
  Result r = RunCli("lint " + h);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_THAT(
      Lines(r.out),
      ElementsAre(
          h + ":53:11: warning: signal 'adoption' overrides segment "
              "'enterprise', but every 'enterprise' account is routed to "
              "model 'big' (" +
              c +
              ":2:12), so this override never applies (hint: move the "
              "override to model 'big', or remove it)",
          // 0.001 / (0.9 + 0.001) x 0.6 = 0.067%.
          h + ":56:17: warning: signal 'usage_trend' carries 0.07% of the "
              "score for 'enterprise' accounts (group 'usage'), which rounds "
              "to nothing (hint: raise its weight, or remove the signal: "
              "below 0.5% it never moves a score by more than half a point)",
          // Every signal present (coverage 0.9 needs all but usage_trend):
          // usage (0.7 x 50 + 0.001 x 100) / 0.701 = 50.0713, support
          // 0.6 x 100 + 0.4 x 60 = 84; 0.6 x 50.0713 + 0.4 x 84 = 63.6428.
          h + ":76:55: error: tier 'green' can never be reached: the highest "
              "score this model can give is 63.64279600570613, below its min "
              "80 (hint: lower the tier's min, or let these signals reach "
              "100: adoption (at most 50), ticket_load (at most 60))",
          h + ":100:11: error: playbook 'expansion' can never trigger: tier "
              "'green' can never be reached (hint: fix the condition, or "
              "remove the playbook)",
          c + ":4:12: error: in route condition: unknown name 'segmnt' "
              "(hint: did you mean 'segment'?)",
          "FAILED: " + h + " (3 errors, 2 warnings)",
          "1 model linted: 0 ok, 1 failed; 3 errors, 2 warnings"));

  // Only warnings: exit 0, unless --warnings-as-errors.
  Write(root / "health/config.yaml",
        "routes:\n  - {when: 'segment == \"enterprise\"', model: big}\n");
  Write(root / "health/1/model.yaml",
        BasicModel({{"name: io_basic", "name: health"},
                    {"        weight: 0.3\n", "        weight: 0.001\n"}}));
  r = RunCli("lint --quiet " + h);
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_THAT(Lines(r.out),
              ElementsAre(HasSubstr("overrides segment 'enterprise'"),
                          HasSubstr("carries 0.09% of the score (group"),
                          "1 model linted: 1 ok, 0 failed; 0 errors, 2 "
                          "warnings"));
  r = RunCli("lint --warnings-as-errors " + h);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("FAILED: " + h + " (0 errors, 2 warnings)"));

  // The target model: routing sends it only enterprise accounts.
  Write(root / "big/1/model.yaml",
        BasicModel({{"name: io_basic", "name: big"},
                    {"enterprise: {normalize:", "smb: {normalize:"}}));
  r = RunCli("lint " + (root / "big").string());
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(Lines(r.out),
              ElementsAre((root / "big/1/model.yaml").string() +
                              ":53:11: warning: signal 'adoption' overrides "
                              "segment 'smb', but routing sends only segment "
                              "enterprise to model 'big' (" +
                              c +
                              ":2:13), so the override applies only to "
                              "requests that name the model (hint: remove "
                              "the override, or route that segment here)",
                          HasSubstr("ok: "), HasSubstr("1 model linted")));
}

TEST(CliLintTest, CompileErrorsAndUsage) {
  Result r = RunCli("lint engine/io/testdata/invalid_model.yaml");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr("error: signal 'adoption' reads 'dau_mua'"));
  EXPECT_THAT(r.out, HasSubstr("1 model linted: 0 ok, 1 failed; 2 errors, 1 "
                               "warning"));
  r = RunCli("lint");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("no PATH given"));
  r = RunCli("lint --warnings rules");
  EXPECT_EQ(r.exit_code, 2);
  r = RunCli("lint no/such/dir");
  EXPECT_EQ(r.exit_code, 1);
  r = RunCli("--help");
  EXPECT_THAT(r.out, HasSubstr("  lint      find scoring mistakes"));
  EXPECT_THAT(r.out, HasSubstr("  diff      compare a candidate model"));
}

class CliDiffTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // Green from 70: wayne (79.2, yellow) becomes green.
    Write(TempPath("green70/model.yaml"),
          BasicModel({{"min: 80}", "min: 70}"}}));
    // Group weights swapped: usage 0.4, support 0.6.
    Write(TempPath("swapped/model.yaml"),
          BasicModel({{"\n    weight: 0.6\n", "\n    weight: X\n"},
                      {"\n    weight: 0.4\n", "\n    weight: 0.6\n"},
                      {"\n    weight: X\n", "\n    weight: 0.4\n"}}));
  }
};

TEST_F(CliDiffTest, TierChangesAndPlaybooks) {
  // --strict: the sample's account with a bad value fails with both models.
  Result r = RunCli(absl::StrCat("diff --strict --live ", kBasic,
                                 " --candidate ", TempPath("green70").string(),
                                 " --input ", kBasic, "/accounts.jsonl"));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 18u) << r.out;
  EXPECT_THAT(lines[0], ::testing::StartsWith("live:      io_basic version 1 "
                                              "(hash "));
  EXPECT_THAT(
      std::vector<std::string>(lines.begin() + 2, lines.end()),
      ElementsAre(
          "accounts:  7 read, 6 scored by both; failed with both 1, only "
          "live 0, only candidate 0",
          "tier changes: 1 of 6 accounts (16.7%)",
          "  live \\ candidate   green  yellow  red  insufficient_data",
          "  green                  2       0    0                  0",
          "  yellow                 1       1    0                  0",
          "  red                    0       0    1                  0",
          "  insufficient_data      0       0    0                  1",
          "playbooks (accounts):",
          "  rescue        live 1      candidate 1      newly firing 0      "
          "stopped firing 0",
          "  renewal_prep  live 1      candidate 1      newly firing 0      "
          "stopped firing 0",
          "  expansion     live 2      candidate 3      newly firing 1      "
          "stopped firing 0",
          "  tier_drop     live 2      candidate 1      newly firing 0      "
          "stopped firing 1",
          "score delta (candidate - live) over 6 accounts:",
          "  min 0  p5 0  p25 0  median 0  p75 0  p95 0  max 0  mean 0",
          "accounts changing tier:",
          "  wayne: yellow -> green (score 79.2 -> 79.2)"));
}

TEST_F(CliDiffTest, ScoreDeltasJsonAndStandardInput) {
  const std::string candidate = TempPath("swapped").string();
  Result text = RunCli(absl::StrCat("diff --live ", kBasic, " --candidate ",
                                    candidate, " --input ", kBasic,
                                    "/accounts.jsonl"));
  EXPECT_EQ(text.exit_code, 0) << text.err;
  // Deltas -10.4, -2.4, -2.2857, -0.48, 0 and +2 (hand-computed from the
  // group scores); percentiles by nearest rank at 0.001 resolution.
  EXPECT_THAT(text.out,
              HasSubstr("score delta (candidate - live) over 6 accounts:\n"
                        "  min -10.400000000000006  p5 -10.4  p25 -2.4  "
                        "median -2.286  p75 0  p95 2  max 2  "
                        "mean -2.260952380952382\n"));
  // The account with a bad value scores (insufficient_data) with both.
  EXPECT_THAT(text.out, HasSubstr("accounts:  7 read, 7 scored by both\n"));
  EXPECT_THAT(text.out, HasSubstr("tier changes: 0 of 7 accounts (0%)"));

  Result json = RunCli(absl::StrCat("diff --live ", kBasic, " --candidate ",
                                    candidate, " --input ", kBasic,
                                    "/accounts.jsonl --format json"));
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_THAT(json.out,
              HasSubstr("\"score_delta\":{\"count\":6,"
                        "\"min\":-10.400000000000006,\"p5\":-10.4,"
                        "\"p25\":-2.4,\"median\":-2.286,\"p75\":0,"
                        "\"p95\":2,\"max\":2,\"mean\":-2.260952380952382}"));
  Result stdin_json = RunCli(absl::StrCat("diff --live ", kBasic,
                                          " --candidate ", candidate,
                                          " --input - --format json < ",
                                          kBasic, "/accounts.jsonl"));
  EXPECT_EQ(stdin_json.exit_code, 0) << stdin_json.err;
  EXPECT_EQ(stdin_json.out, json.out);
  // Tiny batches: the same report, read and compared batch by batch.
  Result batched = RunCli(absl::StrCat(
      "diff --live ", kBasic, " --candidate ", candidate, " --input ", kBasic,
      "/accounts.jsonl --format json --batch-size 2 --threads 1"));
  EXPECT_EQ(batched.out, json.out);

  Result csv = RunCli(absl::StrCat("diff --live ", kBasic, " --candidate ",
                                   candidate, " --input ", kBasic,
                                   "/accounts.csv --format json"));
  EXPECT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_THAT(csv.out, HasSubstr("\"accounts\":5,\"compared\":5,"));
}

TEST_F(CliDiffTest, Errors) {
  Result r = RunCli("diff --candidate x --input y.jsonl");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--live is required"));
  r = RunCli(absl::StrCat("diff --live ", kBasic, " --candidate ", kBasic,
                          " --input ", kBasic, "/accounts.jsonl --format xml"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_THAT(r.err, HasSubstr("--format must be text or json, got \"xml\""));
  r = RunCli(absl::StrCat("diff --live ", kBasic,
                          " --candidate engine/io/testdata/invalid_model.yaml"
                          " --input ",
                          kBasic, "/accounts.jsonl"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("reads 'dau_mua'"));
  EXPECT_THAT(r.err, HasSubstr("--candidate: "
                               "engine/io/testdata/invalid_model.yaml has "
                               "errors"));
  r = RunCli(absl::StrCat("diff --live ", kBasic, " --candidate ", kBasic,
                          " --input no/such/file.jsonl"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("no/such/file.jsonl"));
}

// A repository whose default model routes enterprise accounts to
// `enterprise_health`, a model with other inputs (`seats`, which the default
// model does not declare), groups (`scale`) and tiers (strong, weak).
class CliScoreRoutesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const fs::path root = Root();
    fs::remove_all(root);
    Write(root / "default/1/model.yaml",
          BasicModel({{"name: io_basic", "name: default"}}));
    Write(root / "default/config.yaml",
          "routes:\n"
          "  - when: 'segment == \"enterprise\"'\n"
          "    model: enterprise_health\n");
    Write(root / "enterprise_health/1/model.yaml",
          "name: enterprise_health\n"
          "version: \"2024.1\"\n"
          "inputs:\n"
          "  - {id: dau_mau, type: number, range: [0, 1]}\n"
          "  - {id: seats, type: number}\n"
          "groups:\n"
          "  - id: usage\n"
          "    weight: 0.5\n"
          "    signals:\n"
          "      - {id: adoption, source: dau_mau, weight: 1,\n"
          "         normalize: {linear: {bad: 0, good: 1}}}\n"
          "  - id: scale\n"
          "    weight: 0.5\n"
          "    signals:\n"
          "      - {id: seat_count, source: seats, weight: 1,\n"
          "         normalize: {linear: {bad: 0, good: 1000}}}\n"
          "tiers:\n"
          "  - {id: strong, min: 60}\n"
          "  - {id: weak, min: 0}\n");
    // acme, bad_ent and wayne are enterprise accounts; bad_ent's seats are
    // bad, which only the enterprise model reads; soylent is bad for the
    // default model.
    Write(root / "accounts.jsonl",
          absl::StrCat(
              R"({"id": "acme", "as_of": "2026-11-01", "metrics": )"
              R"({"dau_mau": 0.5, "csat": 4.0, "open_tickets": 1, )"
              R"("seats": 200}, "attributes": {"segment": "enterprise", )"
              R"("plan": "pro"}, "dates": {"renewal_date": "2027-06-01"}, )"
              R"("series": {"weekly_active_users": [100, 100, 110, 120]}})"
              "\n",
              R"({"id": "globex", "as_of": "2026-11-01", "metrics": )"
              R"({"dau_mau": 0.1, "csat": 2.5, "open_tickets": 12, )"
              R"("seats": 40}, "attributes": {"segment": "smb"}, )"
              R"("dates": {"renewal_date": "2026-12-01"}, )"
              R"("previous_score": 60, "previous_tier": "yellow"})"
              "\n",
              R"({"id": "bad_ent", "as_of": "2026-11-01", "metrics": )"
              R"({"dau_mau": 0.9, "seats": "many"}, )"
              R"("attributes": {"segment": "enterprise"}})"
              "\n",
              R"({"id": "initech", "as_of": "2026-11-01", "metrics": )"
              R"({"dau_mau": 0.3, "csat": 3.5, "open_tickets": 5}, )"
              R"("attributes": {"segment": "mid_market", "plan": "basic"}})"
              "\n",
              R"({"id": "soylent", "as_of": "2026-11-01", )"
              R"("metrics": {"dau_mau": "high"}})"
              "\n",
              R"({"id": "wayne", "as_of": "2026-11-01", "metrics": )"
              R"({"dau_mau": 0.8, "csat": 3.0, "seats": 900, "nps": 3}, )"
              R"("attributes": {"segment": "enterprise"}, )"
              R"("previous_score": 90, "previous_tier": "green"})"
              "\n"));
  }

  static fs::path Root() { return TempPath("routes_repo"); }
  static std::string Path(const std::string& relative) {
    return (Root() / relative).string();
  }
  static bool IsEnterprise(const std::string& line) {
    return line.rfind(R"({"id":"acme",)", 0) == 0 ||
           line.rfind(R"({"id":"bad_ent",)", 0) == 0 ||
           line.rfind(R"({"id":"wayne",)", 0) == 0;
  }
  // A line of a run without routes, as a routed run writes it: the model
  // object also carries the repository version.
  static std::string WithRepositoryVersion(const std::string& line,
                                           int version) {
    EXPECT_THAT(line, ::testing::EndsWith("\"}}"));
    return absl::StrCat(line.substr(0, line.size() - 2),
                        ",\"repository_version\":", version, "}}");
  }
};

TEST_F(CliScoreRoutesTest, EachAccountIsScoredByTheModelItsRouteNames) {
  const std::string input = " --input " + Path("accounts.jsonl");
  Result routed = RunCli("score --model " + Path("default") + input);
  ASSERT_EQ(routed.exit_code, 0) << routed.err;
  // The same accounts scored by each model alone: the enterprise model is
  // outside any route, the default model with --no-routes.
  Result enterprise =
      RunCli("score --quiet --model " + Path("enterprise_health/1") + input);
  ASSERT_EQ(enterprise.exit_code, 0) << enterprise.err;
  Result fallback =
      RunCli("score --quiet --no-routes --model " + Path("default") + input);
  ASSERT_EQ(fallback.exit_code, 0) << fallback.err;

  const std::vector<std::string> lines = Lines(routed.out);
  const std::vector<std::string> e = Lines(enterprise.out);
  const std::vector<std::string> d = Lines(fallback.out);
  ASSERT_EQ(lines.size(), 6u) << routed.out;
  ASSERT_EQ(e.size(), 6u);
  ASSERT_EQ(d.size(), 6u);
  int routed_count = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const bool ent = IsEnterprise(lines[i]);
    routed_count += ent ? 1 : 0;
    EXPECT_EQ(lines[i], WithRepositoryVersion(ent ? e[i] : d[i], 1))
        << "line " << i + 1;
    EXPECT_THAT(lines[i],
                HasSubstr(ent ? R"("model":{"name":"enterprise_health",)"
                                R"("version":"2024.1","hash":")"
                              : R"("model":{"name":"default","version":"1",)"
                                R"("hash":")"));
  }
  EXPECT_EQ(routed_count, 3);
  // By hand: acme 0.5 x 50 + 0.5 x 20 (200 of 1000 seats) = 35; the
  // default model would give it 95.2.
  EXPECT_THAT(lines[0], HasSubstr(R"("score":35,"tier":"weak","coverage":1,)"
                                  R"("groups":{"usage":50,"scale":20})"));
  EXPECT_THAT(lines[5], HasSubstr(R"("score":85,"tier":"strong")"));
  EXPECT_THAT(d[0], HasSubstr(R"("score":95.2,)"));

  // The summary counts tiers over both models and accounts per model; the
  // note leaves out `seats`, which the enterprise model declares.
  EXPECT_THAT(Lines(routed.err),
              ElementsAre(HasSubstr(": green 0, yellow 1, red 1, strong 2, "
                                    "weak 1, insufficient_data 1; errors 0"),
                          "healthscore score: note: 2 values did not fit "
                          "their input and were used as missing; each "
                          "account's warnings name them (--strict fails such "
                          "accounts instead)",
                          "healthscore score: routed: enterprise_health v1 "
                          "3; not routed: default v1 3",
                          "healthscore score: note: ignored names none of "
                          "the models declares: attributes.plan (2 times); "
                          "metrics.nps"));
  EXPECT_THAT(fallback.err, Not(HasSubstr("routed")));

  // Batch boundaries, threads and standard input change nothing.
  Result small = RunCli("score --quiet --batch-size 2 --threads 1 --model " +
                        Path("default/1/model.yaml") + input);
  EXPECT_EQ(small.out, routed.out);
  Result piped = RunCli("score --quiet --model " + Path("default") +
                        " --input - < " + Path("accounts.jsonl"));
  EXPECT_EQ(piped.out, routed.out);
}

TEST_F(CliScoreRoutesTest, ABadValueIsReportedByTheModelThatReadsIt) {
  Result r = RunCli("score --quiet --batch-size 4 --model " + Path("default") +
                    " --input " + Path("accounts.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 6u);
  // Only the enterprise model reads `seats`: its account scores without it
  // and says why.
  EXPECT_THAT(lines[2],
              ::testing::AllOf(::testing::StartsWith(
                        R"({"id":"bad_ent","status":"ok","score":90,)"),
                    HasSubstr(R"("warnings":["metrics.seats: expected a )"
                              R"(number, got the string \"many\"; used as )"
                              R"(missing"],"model":{"name":"enterprise_health",)")));
  EXPECT_THAT(lines[4],
              HasSubstr(R"("warnings":["metrics.dau_mau: expected a number, )"
                        R"(got the string \"high\"; used as missing"],)"
                        R"("model":{"name":"default",)"));
  for (size_t i : {0, 1, 3, 5}) {
    EXPECT_THAT(lines[i], Not(HasSubstr("warnings"))) << lines[i];
  }

  // --strict: the account fails instead, with the model that read it.
  r = RunCli("score --quiet --strict --batch-size 4 --model " +
             Path("default") + " --input " + Path("accounts.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_THAT(lines[2],
              ::testing::StartsWith(
                  R"({"id":"bad_ent","status":"error","error":"line 3: )"
                  R"(metrics.seats: expected a number, got the string )"
                  R"(\"many\"","model":{"name":"enterprise_health",)"));
  EXPECT_THAT(lines[4],
              ::testing::StartsWith(
                  R"({"id":"soylent","status":"error","error":"line 5: )"
                  R"(metrics.dau_mau: expected a number, got the string )"
                  R"(\"high\"","model":{"name":"default",)"));
  for (size_t i : {0, 1, 3, 5}) {
    EXPECT_THAT(lines[i], HasSubstr(R"("status":"ok")")) << lines[i];
  }
}

// With routes too, blocks parsed and scored on several threads give the
// output and the summary (per-tier and per-model counts, values used as
// missing, ignored names) of one thread reading in order, in both output
// formats.
TEST_F(CliScoreRoutesTest, RoutedBlocksOnManyThreadsAreTheSequentialRun) {
  const std::string input = " --input " + Path("accounts.jsonl");
  auto summary = [](const std::string& err) {
    std::string out;
    for (const std::string& line : Lines(err)) {
      const size_t in = line.find(" accounts in ");
      const size_t colon = line.find("):", in);
      out += (in == std::string::npos || colon == std::string::npos
                  ? line
                  : line.substr(0, in) + line.substr(colon + 1)) +
             "\n";
    }
    return out;
  };
  for (const char* format : {"jsonl", "csv"}) {
    SCOPED_TRACE(format);
    const std::string base = "score --format " + std::string(format) +
                             " --model " + Path("default") + input;
    Result one = RunCli(base + " --threads 1");
    ASSERT_EQ(one.exit_code, 0) << one.err;
    EXPECT_THAT(one.err, HasSubstr("routed: enterprise_health v1 3; not "
                                   "routed: default v1 3"));
    for (const char* blocks : {" --threads 4 --read-block-bytes 16",
                               " --threads 3 --read-block-bytes 300"}) {
      SCOPED_TRACE(blocks);
      Result many = RunCli(base + blocks);
      ASSERT_EQ(many.exit_code, 0) << many.err;
      EXPECT_EQ(many.out, one.out);
      EXPECT_EQ(summary(many.err), summary(one.err));
    }
  }
}

TEST_F(CliScoreRoutesTest, NoRoutesScoresEveryAccountWithTheNamedModel) {
  const std::string input = " --input " + Path("accounts.jsonl");
  Result r = RunCli("score --no-routes --model " + Path("default/1") + input);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 6u);
  for (const std::string& line : lines) {
    EXPECT_THAT(line, HasSubstr(R"("model":{"name":"default","version":"1",)"
                                R"("hash":")"));
    EXPECT_THAT(line, Not(HasSubstr("repository_version")));
  }
  EXPECT_THAT(r.err, HasSubstr("ignored names the model does not declare: "
                               "attributes.plan (2 times); metrics.nps; "
                               "metrics.seats (4 times)"));
  EXPECT_THAT(r.err, Not(HasSubstr("routed")));
  // Exactly what the same model gives outside any repository.
  Write(TempPath("routes_plain/model.yaml"),
        ReadFile(Root() / "default/1/model.yaml"));
  Result plain =
      RunCli("score --model " + TempPath("routes_plain").string() + input);
  EXPECT_EQ(plain.out, r.out);
}

TEST_F(CliScoreRoutesTest, CsvHasTheUnionOfGroupsAndNamesTheModel) {
  Result r = RunCli("score --quiet --format csv --model " + Path("default") +
                    " --input " + Path("accounts.jsonl"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(
      Lines(r.out),
      ElementsAre(
          "id,status,error,score,tier,coverage,usage,support,scale,playbooks,"
          "delta,tier_changed,model,repository_version,warnings",
          "acme,ok,,35,weak,1,50,,20,,,,enterprise_health,1,",
          "globex,ok,,16.57142857142857,red,0.82,14.285714285714285,20,,"
          "rescue;renewal_prep;tier_drop,-43.42857142857143,true,default,1,",
          "bad_ent,ok,,90,strong,0.5,90,,,,,,enterprise_health,1,"
          "\"metrics.seats: expected a number, got the string \"\"many\"\"; "
          "used as missing\"",
          "initech,ok,,66.85714285714285,yellow,0.82,71.42857142857142,60,,,"
          ",,default,1,",
          "soylent,ok,,,insufficient_data,0,,,,,,,default,1,"
          "\"metrics.dau_mau: expected a number, got the string "
          "\"\"high\"\"; used as missing\"",
          "wayne,ok,,85,strong,1,80,,90,,-5,false,enterprise_health,1,"));
  // CSV input: each model matches the header against its own inputs.
  Write(Root() / "accounts.csv",
        "id,dau_mau,csat,open_tickets,seats,segment\n"
        "acme,0.5,4,1,200,enterprise\n"
        "initech,0.3,3.5,5,,mid_market\n");
  Result csv_in = RunCli("score --quiet --format csv --model " +
                         Path("default") + " --input " + Path("accounts.csv"));
  ASSERT_EQ(csv_in.exit_code, 0) << csv_in.err;
  EXPECT_THAT(Lines(csv_in.out),
              ElementsAre(HasSubstr(",model,repository_version"),
                          "acme,ok,,35,weak,1,50,,20,,,,enterprise_health,1,",
                          "initech,ok,,66.85714285714285,yellow,0.82,"
                          "71.42857142857142,60,,,,,default,1,"));
  // Without routes the columns are the model's own, as always.
  Result plain = RunCli("score --quiet --no-routes --format csv --model " +
                        Path("default") + " --input " + Path("accounts.jsonl"));
  EXPECT_EQ(Lines(plain.out)[0],
            "id,status,error,score,tier,coverage,usage,support,playbooks,"
            "delta,tier_changed,warnings");
}

TEST_F(CliScoreRoutesTest, RoutesThatDoNotLoadStopTheRunWithTheFix) {
  const fs::path root = TempPath("routes_broken");
  fs::remove_all(root);
  fs::copy(Root(), root, fs::copy_options::recursive);
  Write(root / "default/config.yaml",
        "routes:\n"
        "  - when: 'segment == \"enterprise\"'\n"
        "    model: enterprize_health\n");
  const std::string model = (root / "default").string();
  const std::string input = " --input " + (root / "accounts.jsonl").string();
  Result r = RunCli("score --model " + model + input);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err,
              HasSubstr("healthscore score: cannot apply the routes of " +
                        (root / "default/config.yaml").string() + ": "));
  EXPECT_THAT(r.err, HasSubstr("config.yaml:3:12: error: route to unknown "
                               "model 'enterprize_health' (did you mean "
                               "'enterprise_health'?)"));
  EXPECT_THAT(r.err, HasSubstr("(pass --no-routes to score every account "
                               "with " +
                               model + "/1/model.yaml alone)"));
  r = RunCli("score --quiet --no-routes --model " + model + input);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Lines(r.out).size(), 6u);
}

}  // namespace
}  // namespace healthscore
