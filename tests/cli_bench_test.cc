// Integration tests of `healthscore bench`: it measures every stage on the
// bundled model and sample accounts, in text and JSON, and refuses bad
// flags and inputs with the documented exit codes. No assertion depends on
// how fast anything ran: rates are only checked to be positive.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "tests/cli_runner.h"

namespace healthscore {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

namespace fs = std::filesystem;

using ::healthscore::testing::Lines;
using ::healthscore::testing::RunCli;
using ::healthscore::testing::TempPath;

constexpr char kModel[] = "--model rules/default";
constexpr char kJsonl[] = "--input rules/testdata/sample_accounts.jsonl";
constexpr char kCsv[] = "--input rules/testdata/sample_accounts.csv";

// The stage names of the table's rows (its first column, which may hold
// one space), with each row's accounts/s (its last column) > 0.
std::vector<std::string> StagesWithPositiveRates(const std::string& out) {
  std::vector<std::string> lines = Lines(out);
  EXPECT_GE(lines.size(), 2u);
  if (lines.size() < 2) return {};
  EXPECT_THAT(lines[1], StartsWith("stage "));
  EXPECT_THAT(lines[1], HasSubstr("accounts/s per core"));
  std::vector<std::string> stages;
  for (size_t i = 2; i < lines.size(); ++i) {
    std::vector<std::string> cells =
        absl::StrSplit(lines[i], ' ', absl::SkipEmpty());
    uint64_t rate = 0;
    EXPECT_TRUE(
        absl::SimpleAtoi(absl::StrReplaceAll(cells.back(), {{",", ""}}), &rate))
        << lines[i];
    EXPECT_GT(rate, 0u) << lines[i];
    stages.push_back(cells[0] == "write" ? absl::StrCat(cells[0], " ", cells[1])
                                         : cells[0]);
  }
  return stages;
}

TEST(CliBenchTest, MeasuresEveryStageOfJsonLines) {
  auto r =
      RunCli(absl::StrCat("bench ", kModel, " ", kJsonl, " --repetitions 2"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.err, IsEmpty());
  EXPECT_THAT(r.out, StartsWith("healthscore bench: default version 1 (hash "));
  // The sample holds one line that is not an account: it is counted, and
  // said to have failed, since failing accounts cost less than others.
  EXPECT_THAT(Lines(r.out)[0],
              HasSubstr("), 33 accounts (1 failed to read), 2 repetitions, "
                        "1 thread"));
  EXPECT_THAT(StagesWithPositiveRates(r.out),
              ElementsAre("parse", "bind", "score", "write jsonl", "write csv"));
}

TEST(CliBenchTest, MeasuresCsvInput) {
  auto r =
      RunCli(absl::StrCat("bench ", kModel, " ", kCsv, " --repetitions 1"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(Lines(r.out)[0],
              HasSubstr("), 10 accounts, 1 repetition, 1 thread"));
  EXPECT_THAT(StagesWithPositiveRates(r.out),
              ElementsAre("parse", "bind", "score", "write jsonl", "write csv"));
}

TEST(CliBenchTest, JsonFormatParses) {
  auto r = RunCli(absl::StrCat("bench ", kModel, " ", kJsonl,
                               " --repetitions 3 --format json"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(r.out).get(doc), simdjson::SUCCESS) << r.out;
  EXPECT_EQ(std::string_view(doc["model"]["name"].get_string().value()),
            "default");
  EXPECT_EQ(std::string_view(doc["model"]["version"].get_string().value()),
            "1");
  EXPECT_EQ(std::string_view(doc["model"]["path"].get_string().value()),
            "rules/default/1/model.yaml");
  EXPECT_EQ(doc["model"]["hash"].get_string().value().size(), 64u);
  EXPECT_EQ(doc["accounts"].get_uint64().value(), 33u);
  EXPECT_EQ(doc["failed_accounts"].get_uint64().value(), 1u);
  EXPECT_EQ(doc["repetitions"].get_uint64().value(), 3u);
  EXPECT_EQ(doc["threads"].get_uint64().value(), 1u);
  std::vector<std::string> stages;
  for (simdjson::dom::element s : doc["stages"].get_array()) {
    stages.emplace_back(s["stage"].get_string().value());
    EXPECT_GT(s["median_ns"].get_double().value(), 0) << stages.back();
    EXPECT_GT(s["ns_per_account"].get_double().value(), 0) << stages.back();
    EXPECT_GT(s["accounts_per_second_per_core"].get_double().value(), 0)
        << stages.back();
  }
  EXPECT_THAT(stages,
              ElementsAre("parse", "bind", "score", "write jsonl", "write csv"));
}

TEST(CliBenchTest, InputFlagsReachTheReader) {
  // --id-field is the reader's: the sample has no "account" column.
  auto r = RunCli(absl::StrCat("bench ", kModel, " ", kCsv,
                               " --repetitions 1 --id-field account"));
  ASSERT_EQ(r.exit_code, 1) << r.out;
  EXPECT_THAT(r.err, StartsWith("healthscore bench: "
                                "rules/testdata/sample_accounts.csv: CSV "
                                "header (line 1) has no \"account\" column "
                                "(--id-field)"));
}

TEST(CliBenchTest, HelpNamesTheStagesAndLimits) {
  auto r = RunCli("bench --help");
  ASSERT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, StartsWith("usage: healthscore bench --model MODEL "
                                "--input FILE"));
  for (const char* text :
       {"parse", "bind", "write jsonl", "write csv", "--max-accounts N",
        "--repetitions N", "--id-field NAME", "--plugins",
        "--max-model-bytes"}) {
    EXPECT_THAT(r.out, HasSubstr(text));
  }
  auto top = RunCli("--help");
  EXPECT_THAT(top.out, HasSubstr("  bench     measure what a model costs"));
}

TEST(CliBenchTest, BadFlagsAreUsageErrors) {
  struct Case {
    std::string args;
    std::string message;
  };
  const std::vector<Case> cases = {
      {absl::StrCat(kModel, " ", kJsonl, " --repetition 3"),
       "unknown option \"--repetition\" (did you mean 'repetitions'?)"},
      {absl::StrCat(kModel, " ", kJsonl, " --repetitions 0"),
       "option --repetitions must be an integer from 1 to 1000, got \"0\""},
      {absl::StrCat(kModel, " ", kJsonl, " --max-accounts many"),
       "option --max-accounts must be an integer"},
      {absl::StrCat(kModel, " ", kJsonl, " --format xml"),
       "--format must be text or json, not \"xml\""},
      {absl::StrCat(kModel, " ", kJsonl, " extra"),
       "unexpected argument \"extra\""},
      {kJsonl, "--model is required"},
      {kModel, "--input is required"},
      {absl::StrCat(kModel, " --input accounts.txt"),
       "pass --input-format jsonl|csv"},
  };
  for (const Case& c : cases) {
    auto r = RunCli(absl::StrCat("bench ", c.args));
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.err;
    EXPECT_THAT(r.err, HasSubstr(c.message)) << c.args;
    EXPECT_THAT(r.err, HasSubstr("run `healthscore bench --help` for usage"))
        << c.args;
    EXPECT_THAT(r.out, IsEmpty()) << c.args;
  }
}

TEST(CliBenchTest, UnreadableInputFails) {
  auto r = RunCli(absl::StrCat("bench ", kModel, " --input no/such.jsonl"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, StartsWith("healthscore bench: "));
  EXPECT_THAT(r.err, HasSubstr("no/such.jsonl"));
  EXPECT_THAT(r.out, IsEmpty());

  auto dir = RunCli(
      absl::StrCat("bench ", kModel, " --input rules --input-format jsonl"));
  EXPECT_EQ(dir.exit_code, 1) << dir.err;
  EXPECT_EQ(dir.err,
            "healthscore bench: cannot read rules: it is a directory\n");
}

TEST(CliBenchTest, EmptyInputFails) {
  const fs::path empty = TempPath("empty.jsonl");
  std::ofstream(empty).flush();
  auto r =
      RunCli(absl::StrCat("bench ", kModel, " --input '", empty.string(), "'"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr(": no accounts to measure with"));
}

TEST(CliBenchTest, InputLargerThanTheLimitsIsRefused) {
  auto accounts =
      RunCli(absl::StrCat("bench ", kModel, " ", kJsonl, " --max-accounts 10"));
  EXPECT_EQ(accounts.exit_code, 1);
  EXPECT_THAT(accounts.err,
              HasSubstr("rules/testdata/sample_accounts.jsonl: the input "
                        "holds more than 10 accounts (--max-accounts); pass "
                        "a larger --max-accounts or measure with a sample"));
  EXPECT_THAT(accounts.out, IsEmpty());

  auto bytes = RunCli(
      absl::StrCat("bench ", kModel, " ", kJsonl, " --max-input-bytes 100"));
  EXPECT_EQ(bytes.exit_code, 1);
  EXPECT_THAT(bytes.err, HasSubstr("the input is longer than 100 bytes "
                                   "(--max-input-bytes); pass a larger "
                                   "--max-input-bytes"));
}

TEST(CliBenchTest, ModelWithErrorsFails) {
  const fs::path model = TempPath("bench_bad_model.yaml");
  std::ofstream(model) << "name: broken\nversion: 1\n";
  auto r =
      RunCli(absl::StrCat("bench --model '", model.string(), "' ", kJsonl));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.err, HasSubstr("has errors; nothing was measured"));
}

}  // namespace
}  // namespace healthscore
