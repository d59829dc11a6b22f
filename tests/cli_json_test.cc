// Integration tests of `--format json` for `healthscore validate`, `lint`
// and `test`: the one JSON shape of docs/cli.md ("Diagnostics as JSON"),
// parsed as an editor or a CI job would.

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "engine/common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"
#include "tests/cli_runner.h"

namespace healthscore {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

namespace fs = std::filesystem;

constexpr char kBasic[] = "engine/io/testdata/basic";

using Result = ::healthscore::testing::CliResult;
using ::healthscore::engine::common::testing::ReadFile;
using ::healthscore::testing::RunCli;
using ::healthscore::testing::TempPath;

void Write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

// The parsed report: every diagnostic as one comparable line
// "file:line:col severity code: message | hint", the files as
// "file ok|FAILED errors warnings [model version]", and the summary.
struct Report {
  std::string command;
  bool ok = false;
  std::vector<std::string> diagnostics;
  std::vector<std::string> files;
  std::string summary;
};

Report Parse(const Result& r) {
  Report report;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  EXPECT_EQ(parser.parse(r.out).get(doc), simdjson::SUCCESS) << r.out;
  // One object, one line: nothing else on standard output.
  EXPECT_EQ(r.out.find('\n'), r.out.size() - 1) << r.out;
  report.command = std::string(doc["command"].get_string().value());
  report.ok = doc["ok"].get_bool().value();
  for (simdjson::dom::element d : doc["diagnostics"].get_array()) {
    report.diagnostics.push_back(absl::StrCat(
        std::string(d["file"].get_string().value()), ":",
        d["line"].get_int64().value(), ":", d["column"].get_int64().value(),
        " ", std::string(d["severity"].get_string().value()), " ",
        std::string(d["code"].get_string().value()), ": ",
        std::string(d["message"].get_string().value()), " | ",
        std::string(d["hint"].get_string().value())));
  }
  for (simdjson::dom::element f : doc["files"].get_array()) {
    std::string line = absl::StrCat(
        std::string(f["file"].get_string().value()), " ",
        f["ok"].get_bool().value() ? "ok" : "FAILED", " ",
        f["errors"].get_int64().value(), " ",
        f["warnings"].get_int64().value());
    std::string_view model;
    if (f["model"].get_string().get(model) == simdjson::SUCCESS) {
      absl::StrAppend(&line, " ", std::string(model), " ",
                      std::string(f["version"].get_string().value()));
    }
    report.files.push_back(line);
  }
  report.summary = simdjson::minify(doc["summary"]);
  return report;
}

TEST(CliJsonTest, ValidateReportsEveryDiagnosticWithItsFields) {
  Result r = RunCli(std::string("validate --format json "
                                "engine/io/testdata/invalid_model.yaml ") +
                    kBasic);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err, "");
  Report report = Parse(r);
  EXPECT_EQ(report.command, "validate");
  EXPECT_FALSE(report.ok);
  const std::string f = "engine/io/testdata/invalid_model.yaml";
  EXPECT_THAT(
      report.diagnostics,
      ElementsAre(
          f + ":6:9 warning model: input 'dau_mau' is declared but nothing "
              "reads it | remove it, or use it in a derived value, signal or "
              "playbook",
          f + ":13:17 error model: signal 'adoption' reads 'dau_mua', which "
              "is neither an input nor a derived value | did you mean "
              "'dau_mau'?",
          f + ":24:19 error model: in playbook condition: 'redd' is not a "
              "tier of this model, so this comparison can never be true | did "
              "you mean 'red'?"));
  EXPECT_THAT(report.files,
              ElementsAre(f + " FAILED 2 1",
                          std::string(kBasic) +
                              "/model.yaml ok 0 0 io_basic 1"));
  EXPECT_EQ(report.summary,
            R"({"files":2,"failed":1,"errors":2,"warnings":1})");

  Result good = RunCli(std::string("validate --format json ") + kBasic);
  EXPECT_EQ(good.exit_code, 0);
  Report ok = Parse(good);
  EXPECT_TRUE(ok.ok);
  EXPECT_THAT(ok.diagnostics, ElementsAre());
}

TEST(CliJsonTest, FormatIsCheckedAndTextStaysTheDefault) {
  for (const char* command : {"validate", "lint", "test"}) {
    Result bad = RunCli(absl::StrCat(command, " --format yaml ", kBasic));
    EXPECT_EQ(bad.exit_code, 2) << command;
    EXPECT_THAT(bad.err, HasSubstr(absl::StrCat(
                             "healthscore ", command,
                             ": --format must be text or json, got \"yaml\"")));
    Result text = RunCli(absl::StrCat(command, " --format text ", kBasic));
    EXPECT_EQ(text.exit_code, 0) << command << text.err;
    EXPECT_EQ(text.out, RunCli(absl::StrCat(command, " ", kBasic)).out);
    Result help = RunCli(absl::StrCat(command, " --help"));
    EXPECT_THAT(help.out, HasSubstr("--format text|json")) << command;
  }
}

TEST(CliJsonTest, LintNamesTheStageOfEachFinding) {
  const fs::path root = TempPath("json_lint_repo");
  fs::remove_all(root);
  std::string model =
      ReadFile(fs::path(HEALTHSCORE_SOURCE_DIR) / kBasic / "model.yaml");
  model = absl::StrReplaceAll(model, {{"name: io_basic", "name: health"},
                                      {"        weight: 0.3\n",
                                       "        weight: 0.001\n"}});
  Write(root / "health/1/model.yaml", model);
  Write(root / "health/config.yaml",
        "routes:\n  - when: 'segmnt == \"smb\"'\n    model: health\n");
  const std::string h = (root / "health/1/model.yaml").string();
  const std::string c = (root / "health/config.yaml").string();
  Result r = RunCli("lint --format json " + h);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  Report report = Parse(r);
  EXPECT_EQ(report.command, "lint");
  EXPECT_FALSE(report.ok);
  ASSERT_EQ(report.diagnostics.size(), 2u) << r.out;
  EXPECT_THAT(report.diagnostics[0],
              HasSubstr(h + ":56:17 warning lint: signal 'usage_trend' "
                            "carries 0.09% of the score"));
  EXPECT_EQ(report.diagnostics[1],
            c + ":2:12 error config: in route condition: unknown name "
                "'segmnt' | did you mean 'segment'?");
  EXPECT_THAT(report.files, ElementsAre(h + " FAILED 1 1 health 1"));
  EXPECT_EQ(report.summary,
            R"({"files":1,"failed":1,"errors":1,"warnings":1})");
}

TEST(CliJsonTest, TestReportsEachFailedExpectationAtItsCase) {
  const fs::path dir = TempPath("json_tests");
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(fs::path(HEALTHSCORE_SOURCE_DIR) / kBasic / "model.yaml",
                dir / "model.yaml");
  Write(dir / "tests.yaml", R"(cases:
  - name: right
    account: {id: a, metrics: {csat: 4.5}}
    expect: {tier: insufficient_data, coverage: 0.24}
  - name: wrong
    account: {id: b, as_of: 2026-11-01, metrics: {dau_mau: 0.3, csat: 3.5, open_tickets: 5}}
    expect:
      tier: green
      playbooks: [rescue]
)");
  Write(dir / "broken/tests.yaml", "cases: [\n");
  fs::copy_file(dir / "model.yaml", dir / "broken/model.yaml");
  Result r = RunCli("test --format json " + dir.string());
  EXPECT_EQ(r.exit_code, 1);
  Report report = Parse(r);
  EXPECT_EQ(report.command, "test");
  const std::string t = (dir / "tests.yaml").string();
  const std::string b = (dir / "broken/tests.yaml").string();
  ASSERT_EQ(report.diagnostics.size(), 3u) << r.out;
  EXPECT_THAT(report.diagnostics[0], HasSubstr(b + ":"));
  EXPECT_THAT(report.diagnostics[0], HasSubstr(" error test-file: "));
  EXPECT_EQ(report.diagnostics[1],
            t + ":5:5 error test-failed: case 'wrong': tier: expected green, "
                "got yellow (score 66.85714285714285, coverage 0.82) | ");
  EXPECT_EQ(report.diagnostics[2],
            t + ":5:5 error test-failed: case 'wrong': playbooks: expected "
                "[rescue], got []; missing: [rescue] | ");
  EXPECT_THAT(report.files, ElementsAre(b + " FAILED 1 0", t + " FAILED 2 0"));
  EXPECT_EQ(report.summary,
            R"({"files":2,"failed":2,"errors":3,"warnings":0,"passed":1,)"
            R"("failed_cases":2})");

  Result good = RunCli(std::string("test --format json ") + kBasic);
  EXPECT_EQ(good.exit_code, 0);
  Report passed = Parse(good);
  EXPECT_TRUE(passed.ok);
  EXPECT_EQ(passed.summary,
            R"({"files":1,"failed":0,"errors":0,"warnings":0,"passed":7,)"
            R"("failed_cases":0})");
}

}  // namespace
}  // namespace healthscore
