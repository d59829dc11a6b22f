// `healthscore backtest` and `healthscore tune` as data teams run them: the
// real binary on the synthetic churn data set of examples/churn.

#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <string>

#include "absl/strings/str_cat.h"
#include "engine/common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli_runner.h"

namespace healthscore::testing {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// examples/churn/make_data.py's files for `accounts` accounts, made once
// per size.
fs::path ChurnData(int accounts) {
  const fs::path dir = TempPath(absl::StrCat("churn", accounts));
  if (!fs::exists(dir / "outcomes.csv")) {
    const std::string command =
        absl::StrCat("cd '", HEALTHSCORE_SOURCE_DIR,
                     "' && python3 examples/churn/make_data.py --accounts ",
                     accounts, " --out '", dir.string(), "'");
    EXPECT_EQ(std::system(command.c_str()), 0) << command;
  }
  return dir;
}

// The number after `"key":` in the first place it appears after `after`.
double JsonNumber(const std::string& json, const std::string& after,
                  const std::string& key) {
  const size_t start = json.find(after);
  if (start == std::string::npos) return NAN;
  std::smatch m;
  const std::string rest = json.substr(start);
  if (!std::regex_search(rest, m,
                         std::regex("\"" + key + "\":(-?[0-9.eE+-]+)"))) {
    return NAN;
  }
  return std::stod(m[1]);
}

TEST(CliOutcomesTest, BacktestReportsAndWritesTheHtmlReport) {
  const fs::path data = ChurnData(3000);
  const fs::path report = TempPath("backtest.html");
  CliResult r = RunCli(absl::StrCat(
      "backtest --model rules/default --input ",
      (data / "snapshots.jsonl").string(), " --outcomes ",
      (data / "outcomes.csv").string(), " --report ", report.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("3,000 snapshots: "));
  EXPECT_THAT(r.out, HasSubstr("ROC AUC  0."));
  EXPECT_THAT(r.out, HasSubstr("tiers ordered: yes (green < yellow < red)"));
  EXPECT_THAT(r.out, HasSubstr("segment     accounts"));
  const std::string html = engine::common::testing::ReadFile(report);
  for (const char* chart :
       {"roc", "score_distribution", "tier_churn", "calibration", "gains"}) {
    EXPECT_THAT(html, HasSubstr(absl::StrCat("data-chart=\"", chart, "\"")));
  }
  EXPECT_EQ(html.find("<script"), std::string::npos);

  CliResult json = RunCli(
      absl::StrCat("backtest --format json --model rules/default --input ",
                   (data / "snapshots.jsonl").string(), " --outcomes ",
                   (data / "outcomes.csv").string()));
  ASSERT_EQ(json.exit_code, 0) << json.err;
  const double auc = JsonNumber(json.out, "\"live\":", "auc");
  EXPECT_GT(auc, 0.6);
  EXPECT_LT(auc, 0.8);
  EXPECT_EQ(JsonNumber(json.out, "\"join\":", "snapshots"), 3000);
}

TEST(CliOutcomesTest, TuneWritesAVersionThatRanksChurnBetter) {
  const fs::path data = ChurnData(3000);
  const fs::path models = TempPath("tuned");
  fs::remove_all(models);
  const std::string common =
      absl::StrCat(" --input ", (data / "snapshots.jsonl").string(),
                   " --outcomes ", (data / "outcomes.csv").string());
  CliResult r = RunCli(absl::StrCat("tune --format json --model rules/default",
                                    common, " --output ", models.string()));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const fs::path tuned = models / "2" / "model.yaml";
  ASSERT_TRUE(fs::exists(tuned)) << r.out;
  // The churn in this data follows daily use and CSAT more than the
  // default model's weights say: held out, the tuned weights rank it
  // clearly better.
  const double before = JsonNumber(r.out, "\"held_out\":", "written_auc");
  const double after = JsonNumber(r.out, "\"held_out\":", "tuned_auc");
  EXPECT_GT(after - before, 0.05) << r.out;
  EXPECT_LT(JsonNumber(r.out, "\"held_out\":", "p_value"), 1e-6);
  // The fitted weights, scaled to the written sums: the usage group of the
  // default model (0.4 of 1) and its stickiness signal gain the most here.
  EXPECT_GT(JsonNumber(r.out, "\"groups\":", "usage"), 0.4);
  EXPECT_GT(JsonNumber(r.out, "\"signals\":", "stickiness"), 0.3);

  // A valid model, with only weights and the version changed, and a
  // header saying how it was made.
  CliResult valid = RunCli(absl::StrCat("validate ", tuned.string()));
  EXPECT_EQ(valid.exit_code, 0) << valid.out << valid.err;
  const std::string text = engine::common::testing::ReadFile(tuned);
  EXPECT_THAT(text, HasSubstr("# Tuned by `healthscore tune`"));
  EXPECT_THAT(text, HasSubstr("version: \"2\""));
  EXPECT_THAT(text, HasSubstr("# Low-touch SMB accounts"));  // comments kept

  // Backtested against the written model, the candidate wins (in-sample,
  // DeLong's paired test), and a second tune is version 3.
  CliResult both = RunCli(
      absl::StrCat("backtest --format json --model rules/default --candidate ",
                   models.string(), common));
  ASSERT_EQ(both.exit_code, 0) << both.err;
  EXPECT_GT(JsonNumber(both.out, "\"paired\":", "difference"), 0.05);
  CliResult again = RunCli(absl::StrCat("tune --model rules/default", common,
                                        " --output ", models.string()));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("wrote " + (models / "3").string()));

  // With the linear normalisations' thresholds too, the held-out ranking
  // is better still, and the file is valid.
  const fs::path with_thresholds = TempPath("tuned_thresholds");
  fs::remove_all(with_thresholds);
  CliResult thresholds =
      RunCli(absl::StrCat("tune --format json --fit weights,thresholds "
                          "--model rules/default",
                          common, " --output ", with_thresholds.string()));
  ASSERT_EQ(thresholds.exit_code, 0) << thresholds.err;
  EXPECT_GT(JsonNumber(thresholds.out, "\"held_out\":", "tuned_auc"), after);
  EXPECT_EQ(RunCli(absl::StrCat("validate ", (with_thresholds / "2").string()))
                .exit_code,
            0);
  // Its report: the backtest of both models on held-out scores.
  const fs::path tune_report = TempPath("tune.html");
  CliResult reported =
      RunCli(absl::StrCat("tune --fit weights,thresholds --model rules/default",
                          common, " --output ", with_thresholds.string(),
                          " --report ", tune_report.string()));
  ASSERT_EQ(reported.exit_code, 0) << reported.err;
  const std::string tune_html = engine::common::testing::ReadFile(tune_report);
  EXPECT_THAT(tune_html, HasSubstr("scores are held out"));
  EXPECT_THAT(tune_html, HasSubstr("data-chart=\"roc\""));
  EXPECT_THAT(
      engine::common::testing::ReadFile(with_thresholds / "2" / "model.yaml"),
      HasSubstr(", linear normalisation thresholds"));

  // With the tier cut-offs: each tier keeps its share of accounts, the
  // file says so, and the model is valid.
  const fs::path with_tiers = TempPath("tuned_tiers");
  fs::remove_all(with_tiers);
  CliResult tiers =
      RunCli(absl::StrCat("tune --fit weights,tiers --model rules/default",
                          common, " --output ", with_tiers.string()));
  ASSERT_EQ(tiers.exit_code, 0) << tiers.err;
  EXPECT_THAT(tiers.out, HasSubstr("tier cut-offs (held-out churn): green "));
  const std::string tiered =
      engine::common::testing::ReadFile(with_tiers / "2" / "model.yaml");
  EXPECT_THAT(tiered, HasSubstr("and tier cut-offs (each tier keeping its "
                                "share of accounts"));
  EXPECT_EQ(tiered.find("min: 80\n"), std::string::npos);  // green moved
  CliResult tiered_valid =
      RunCli(absl::StrCat("validate ", (with_tiers / "2").string()));
  EXPECT_EQ(tiered_valid.exit_code, 0) << tiered_valid.out;
}

TEST(CliOutcomesTest, AHorizonLabelsByDateAndCountsWhatItLeavesOut) {
  const fs::path dir = TempPath("horizon");
  fs::create_directories(dir);
  {
    std::ofstream s(dir / "snapshots.jsonl");
    // a churns 30 days after its first snapshot; its second is after the
    // churn. b never churns; c has no outcome.
    s << R"({"id":"a","as_of":"2025-01-01","metrics":{"dau_mau":0.1}})"
         "\n"
      << R"({"id":"a","as_of":"2025-03-01","metrics":{"dau_mau":0.1}})"
         "\n"
      << R"({"id":"b","as_of":"2025-01-01","metrics":{"dau_mau":0.8}})"
         "\n"
      << R"({"id":"b2","as_of":"2025-01-01","metrics":{"dau_mau":0.7}})"
         "\n"
      << R"({"id":"c","as_of":"2025-01-01","metrics":{"dau_mau":0.5}})"
         "\n";
    std::ofstream o(dir / "outcomes.csv");
    o << "id,churned,churn_date\na,true,2025-01-31\nb,false,\nb2,false,\n";
  }
  CliResult r = RunCli(absl::StrCat(
      "backtest --format json --horizon 90d --model rules/default --input ",
      (dir / "snapshots.jsonl").string(), " --outcomes ",
      (dir / "outcomes.csv").string()));
  // One churned and two retained snapshots are too few for DeLong's
  // interval (two of each): the command says so and how the join went.
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err,
              HasSubstr("5 snapshots: 1 churned, 2 retained, 2 excluded"));
  EXPECT_THAT(r.err, HasSubstr("after_churn"));
  EXPECT_THAT(r.err, HasSubstr("no_outcome"));

  CliResult months = RunCli(
      absl::StrCat("backtest --horizon 3m --model rules/default --input ",
                   (dir / "snapshots.jsonl").string(), " --outcomes ",
                   (dir / "outcomes.csv").string()));
  EXPECT_EQ(months.exit_code, 2);
  EXPECT_THAT(months.err, HasSubstr("--horizon"));

  {
    std::ofstream o(dir / "bad.csv");
    o << "id,Churn\na,Yes\n";
  }
  CliResult columns =
      RunCli(absl::StrCat("backtest --model rules/default --input ",
                          (dir / "snapshots.jsonl").string(), " --outcomes ",
                          (dir / "bad.csv").string()));
  EXPECT_EQ(columns.exit_code, 1);
  EXPECT_THAT(columns.err, HasSubstr("churned"));

  CliResult stdin_twice = RunCli(
      "backtest --model rules/default --input - --outcomes - < /dev/null");
  EXPECT_EQ(stdin_twice.exit_code, 2);
  EXPECT_THAT(stdin_twice.err, HasSubstr("cannot both be standard input"));

  CliResult fit = RunCli(absl::StrCat(
      "tune --fit weights,colours --model rules/default --input ",
      (dir / "snapshots.jsonl").string(), " --outcomes ",
      (dir / "outcomes.csv").string(), " --output ", (dir / "m").string()));
  EXPECT_EQ(fit.exit_code, 2);
  EXPECT_THAT(fit.err,
              HasSubstr("--fit colours: give weights, thresholds and tiers"));
}

}  // namespace
}  // namespace healthscore::testing
