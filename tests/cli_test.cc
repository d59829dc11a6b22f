// Integration tests of the `healthscore` binary: real process, real files,
// exit codes and output as a user or a CI job sees them.

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "engine/common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli_runner.h"

namespace healthscore {
namespace {

using ::testing::AllOf;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

namespace fs = std::filesystem;

constexpr char kBasic[] = "engine/io/testdata/basic";

using Result = ::healthscore::testing::CliResult;
using ::healthscore::engine::common::testing::ReadFile;
using ::healthscore::testing::Lines;
using ::healthscore::testing::RunCli;
using ::healthscore::testing::TempPath;

// A directory with the basic model and `tests` as its tests.yaml.
std::string TestsDir(const std::string& name, const std::string& tests) {
  const fs::path dir =
      ::healthscore::engine::common::testing::ScratchDir("cli_" + name);
  fs::copy_file(fs::path(HEALTHSCORE_SOURCE_DIR) / kBasic / "model.yaml",
                dir / "model.yaml");
  std::ofstream(dir / "tests.yaml") << tests;
  return dir.string();
}

// ---------------------------------------------------------------------------
// Top level

TEST(CliTest, HelpListsCommands) {
  Result r = RunCli("--help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out,
              AllOf(HasSubstr("usage: healthscore COMMAND"),
                    HasSubstr("\n  validate  "), HasSubstr("\n  test      "),
                    HasSubstr("\n  score     ")));
  for (const char* command : {"validate", "test", "score"}) {
    Result help = RunCli(std::string(command) + " --help");
    EXPECT_EQ(help.exit_code, 0) << command;
    EXPECT_THAT(help.out,
                StartsWith(std::string("usage: healthscore ") + command));
    EXPECT_THAT(help.out, HasSubstr("exit codes:"));
  }
}

TEST(CliTest, UsageErrorsExitTwo) {
  Result none = RunCli("");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_THAT(none.err, HasSubstr("usage: healthscore COMMAND"));

  Result unknown = RunCli("scor");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("unknown command \"scor\" (did you mean "
                                     "'score'?)"));

  Result option = RunCli("validate --strict engine");
  EXPECT_EQ(option.exit_code, 2);
  EXPECT_THAT(option.err, HasSubstr("unknown option \"--strict\""));
}

// ---------------------------------------------------------------------------
// validate

TEST(CliTest, ValidateAcceptsAGoodModel) {
  Result r = RunCli(std::string("validate ") + kBasic + "/model.yaml");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out,
            "ok: engine/io/testdata/basic/model.yaml (model io_basic, "
            "version 1)\n"
            "1 model checked: 1 ok, 0 failed; 0 errors, 0 warnings\n");
}

TEST(CliTest, ValidateSearchesDirectoriesForModelYaml) {
  // invalid_model.yaml is not named model.yaml: only basic/ is found.
  Result r = RunCli("validate engine/io/testdata");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, HasSubstr("ok: engine/io/testdata/basic/model.yaml"));
  EXPECT_THAT(r.out, Not(HasSubstr("invalid_model")));
}

TEST(CliTest, ValidateReportsEveryProblemWithFileLineColumn) {
  Result r = RunCli(
      std::string("validate engine/io/testdata/invalid_model.yaml ") + kBasic);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(
      r.out,
      HasSubstr("engine/io/testdata/invalid_model.yaml:13:17: error: signal "
                "'adoption' reads 'dau_mua', which is neither an input nor a "
                "derived value (hint: did you mean 'dau_mau'?)\n"));
  EXPECT_THAT(r.out, HasSubstr("engine/io/testdata/invalid_model.yaml:24:19: "
                               "error: "));
  EXPECT_THAT(r.out, HasSubstr("FAILED: engine/io/testdata/invalid_model.yaml "
                               "(2 errors, 1 warning)\n"));
  EXPECT_THAT(r.out, HasSubstr("ok: engine/io/testdata/basic/model.yaml"));
  EXPECT_THAT(r.out, EndsWith("2 models checked: 1 ok, 1 failed; 2 errors, "
                              "1 warning\n"));
}

TEST(CliTest, ValidateWarningsAsErrors) {
  // The invalid model's only warning is reported for a model with errors;
  // use a copy of the basic model with an unread input.
  fs::path dir = TempPath("warn");
  fs::create_directories(dir);
  std::string model =
      ReadFile(fs::path(HEALTHSCORE_SOURCE_DIR) / kBasic / "model.yaml");
  model.replace(model.find("inputs:\n"), 8,
                "inputs:\n  - id: unused\n    type: number\n");
  std::ofstream(dir / "model.yaml") << model;
  Result lenient = RunCli("validate " + dir.string());
  EXPECT_EQ(lenient.exit_code, 0) << lenient.out;
  EXPECT_THAT(lenient.out, HasSubstr("warning: input 'unused'"));
  EXPECT_THAT(lenient.out, HasSubstr("(model io_basic, version 1, 1 warning)"));
  Result strict = RunCli("validate --warnings-as-errors " + dir.string());
  EXPECT_EQ(strict.exit_code, 1);
  EXPECT_THAT(strict.out, HasSubstr("FAILED: "));
}

TEST(CliTest, ValidatePathProblems) {
  Result missing = RunCli("validate no/such/dir");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("no/such/dir: no such file or directory"));

  Result tests = RunCli(std::string("validate ") + kBasic + "/tests.yaml");
  EXPECT_EQ(tests.exit_code, 2);
  EXPECT_THAT(tests.err, HasSubstr("is a test file; run `healthscore test"));

  Result empty = RunCli("validate docs");
  EXPECT_EQ(empty.exit_code, 1);
  EXPECT_THAT(empty.err, HasSubstr("no model.yaml found under docs"));
}

TEST(CliTest, ValidateAndLintHostileModels) {
  fs::path dir = TempPath("hostile");
  fs::remove_all(dir);
  fs::create_directories(dir / "recursive");
  fs::create_directories(dir / "syntax");
  // Issue 9, defect 1: crashed validate and lint with SIGSEGV.
  std::ofstream(dir / "recursive" / "model.yaml")
      << "plugins: [{id: p, library: nps, config: &c {k: *c}}]\n";
  // Defect 16: one syntax error printed as 3 errors.
  std::ofstream(dir / "syntax" / "model.yaml") << "name: m\ninputs: [1, 2\n";
  const std::string recursive = (dir / "recursive" / "model.yaml").string();
  const std::string syntax = (dir / "syntax" / "model.yaml").string();
  for (const char* command : {"validate", "lint"}) {
    Result r = RunCli(std::string(command) + " " + recursive + " " + syntax);
    EXPECT_EQ(r.exit_code, 1) << command << r.out << r.err;
    EXPECT_THAT(r.out, HasSubstr(recursive +
                                 ":1:48: error: invalid YAML: alias '*c' is "
                                 "inside the node it refers to"))
        << command;
    EXPECT_THAT(r.out, HasSubstr(syntax + ":3:1: error: invalid YAML: end of "
                                          "sequence flow not found"))
        << command;
    EXPECT_THAT(r.out, HasSubstr("FAILED: " + syntax +
                                 " (1 error, 0 "
                                 "warnings)"))
        << command;
    EXPECT_THAT(r.out, EndsWith(": 0 ok, 2 failed; 2 errors, 0 warnings\n"))
        << command;
  }
}

TEST(CliTest, ModelSizeLimitIsAFlag) {
  const std::string model = std::string(kBasic) + "/model.yaml";
  Result small = RunCli("validate --max-model-bytes 100 " + model);
  EXPECT_EQ(small.exit_code, 1);
  EXPECT_THAT(small.out,
              AllOf(HasSubstr(model + ": error: the YAML is "),
                    HasSubstr("over the limit of 100 bytes"),
                    HasSubstr("raise the limit with --max-model-bytes")));
  Result raised = RunCli("validate --max-model-bytes 1000000 " + model);
  EXPECT_EQ(raised.exit_code, 0) << raised.out << raised.err;
  Result nodes = RunCli("lint --max-yaml-nodes 10 " + model);
  EXPECT_EQ(nodes.exit_code, 1);
  EXPECT_THAT(nodes.out, HasSubstr("nodes, the limit"));
  Result bad = RunCli("test --max-model-bytes lots " + model);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("option --max-model-bytes must be an "
                                 "integer"));
}

// ---------------------------------------------------------------------------
// test

TEST(CliTest, TestRunsBundledCases) {
  Result r = RunCli("test engine/io/testdata");
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_EQ(r.out, "7 passed, 0 failed\n");

  Result verbose =
      RunCli("test --verbose " + std::string(kBasic) + "/tests.yaml");
  EXPECT_EQ(verbose.exit_code, 0);
  EXPECT_THAT(verbose.out,
              HasSubstr("--- PASS: engine/io/testdata/basic/tests.yaml:4:5: "
                        "healthy enterprise account\n"));
  EXPECT_THAT(verbose.out, EndsWith("\n7 passed, 0 failed\n"));
}

TEST(CliTest, TestPrintsFailuresWithDiffs) {
  std::string dir = TestsDir("failing", R"(cases:
  - name: right
    account: {id: a, metrics: {csat: 4.5}}
    expect: {tier: insufficient_data, coverage: 0.24}
  - name: wrong
    account: {id: b, as_of: 2026-11-01, metrics: {dau_mau: 0.3, csat: 3.5, open_tickets: 5}}
    expect:
      tier: green
      playbooks: [rescue]
)");
  Result r = RunCli("test " + dir);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.out, "--- FAIL: " + dir +
                       "/tests.yaml:5:5: wrong\n"
                       "    tier: expected green, got yellow (score "
                       "66.85714285714285, coverage 0.82)\n"
                       "    playbooks: expected [rescue], got []; missing: "
                       "[rescue]\n"
                       "1 passed, 1 failed\n");

  Result filtered = RunCli("test --run '^ri' " + dir);
  EXPECT_EQ(filtered.exit_code, 0);
  EXPECT_EQ(filtered.out, "1 passed, 0 failed\n");
}

TEST(CliTest, TestFailOnEmpty) {
  Result lenient = RunCli("test --run nothing-matches " + std::string(kBasic));
  EXPECT_EQ(lenient.exit_code, 0);
  EXPECT_EQ(lenient.out, "0 passed, 0 failed\n");

  Result strict = RunCli("test --fail-on-empty --run nothing-matches " +
                         std::string(kBasic));
  EXPECT_EQ(strict.exit_code, 1);
  EXPECT_EQ(strict.out, "0 passed, 0 failed\n");
  EXPECT_THAT(strict.err, HasSubstr("no test case ran"));

  Result bad_regex = RunCli("test --run '(' " + std::string(kBasic));
  EXPECT_EQ(bad_regex.exit_code, 2);
  EXPECT_THAT(bad_regex.err, HasSubstr("bad --run expression"));
}

// ---------------------------------------------------------------------------
// score

TEST(CliTest, ScoreJsonLinesToJsonLines) {
  fs::path out = TempPath("scored.jsonl");
  Result r = RunCli(std::string("score --model ") + kBasic + " --input " +
                    kBasic + "/accounts.jsonl --output " + out.string());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  std::vector<std::string> lines = Lines(ReadFile(out));
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_THAT(lines[0], StartsWith(R"({"id":"acme","status":"ok","score":95.2,)"
                                   R"("tier":"green","coverage":1,)"));
  EXPECT_THAT(lines[2],
              StartsWith(R"({"id":"initech","status":"ok",)"
                         R"("score":66.85714285714285,)"));
  // The bad value costs that value: the account scores on the rest (here
  // nothing is left) and says why.
  EXPECT_THAT(lines[4],
              StartsWith(R"({"id":"soylent","status":"ok",)"
                         R"("tier":"insufficient_data","coverage":0,)"
                         R"("groups":{},"playbooks":[],"warnings":[)"
                         R"("metrics.dau_mau: expected a number, got the )"
                         R"(string \"high\"; used as missing"],)"));
  EXPECT_THAT(r.err, HasSubstr("healthscore score: 7 accounts in "));
  EXPECT_THAT(r.err, HasSubstr(": green 2, yellow 2, red 1, "
                               "insufficient_data 2; errors 0\n"
                               "healthscore score: note: 1 value did not fit "
                               "its input and was used as missing; each "
                               "account's warnings name them (--strict fails "
                               "such accounts instead)\n"));
  EXPECT_THAT(r.err, HasSubstr("note: ignored names the model does not "
                               "declare: metrics.nps"));
}

TEST(CliTest, ScoreCsvToCsvOnStandardOutput) {
  Result r =
      RunCli(std::string("score --model ") + kBasic + "/model.yaml --input " +
             kBasic + "/accounts.csv --format csv");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out,
            "id,status,error,score,tier,coverage,usage,support,playbooks,"
            "delta,tier_changed,warnings\n"
            "acme,ok,,95.2,green,1,100,88,expansion,,,\n"
            "globex,ok,,14,red,1,9.999999999999998,20,"
            "rescue;renewal_prep;tier_drop,-46,true,\n"
            "initech,ok,,66.85714285714285,yellow,0.82,71.42857142857142,60,,,"
            ",\n"
            "hooli,ok,,100,insufficient_data,0.24,,100,,,,\n"
            // The bad cell costs its value; the warning says which and why.
            "soylent,ok,,,insufficient_data,0,,,,,,\"dau_mau: \"\"high\"\" is "
            "not a number; used as missing\"\n");
}

TEST(CliTest, ScoreFormatFollowsTheOutputExtension) {
  fs::path out = TempPath("scored.csv");
  Result r =
      RunCli(std::string("score --quiet --model ") + kBasic + " --input " +
             kBasic + "/accounts.jsonl --output " + out.string());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_THAT(ReadFile(out), StartsWith("id,status,error,score,tier,"));
}

TEST(CliTest, ScoreExplain) {
  Result r = RunCli(std::string("score --explain --top-drivers 1 --model ") +
                    kBasic + " --input " + kBasic + "/accounts.jsonl");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 7u);
  EXPECT_THAT(lines[6],
              HasSubstr(R"("explanation":{"signals":[{"id":"adoption",)"
                        R"("raw":1.2,"score":100,"weight":0.7,)"
                        R"("effective_weight":0.6,"points":60,)"
                        R"("points_lost":0,"present":true},)"));
  EXPECT_THAT(lines[6],
              HasSubstr(R"("top_drivers":["satisfaction"],)"
                        R"("missing":["usage_trend"],)"
                        R"("tier_rule":"yellow: 50 <= score < 80"})"));
  // The account whose only value was bad explains that and what is
  // missing.
  EXPECT_THAT(lines[4], HasSubstr(R"("warnings":["metrics.dau_mau: expected )"
                                  R"(a number, got the string \"high\"; )"
                                  R"(used as missing"],"explanation":{)"));
  EXPECT_THAT(lines[4], HasSubstr(R"("missing":["adoption","usage_trend",)"
                                  R"("satisfaction","ticket_load"])"));
}

TEST(CliTest, ScoreIsTheSameWhateverThreadsAndBatchSize) {
  std::string base = std::string("score --quiet --explain --model ") + kBasic +
                     " --input " + kBasic + "/accounts.jsonl";
  Result one = RunCli(base + " --threads 1");
  Result many = RunCli(base + " --threads 3 --batch-size 2");
  EXPECT_EQ(one.exit_code, 0);
  EXPECT_EQ(many.exit_code, 0);
  EXPECT_EQ(one.out, many.out);
  EXPECT_EQ(Lines(one.out).size(), 7u);
}

// The summary lines of a run with its timing ("N accounts in 0.01 s
// (M accounts/s):") taken out.
std::string SummaryWithoutTiming(const std::string& err) {
  std::string out;
  for (const std::string& line : Lines(err)) {
    const size_t in = line.find(" accounts in ");
    const size_t colon = line.find("):", in);
    out += in == std::string::npos || colon == std::string::npos
               ? line
               : line.substr(0, in) + line.substr(colon + 1);
    out += "\n";
  }
  return out;
}

// JSON Lines are cut into blocks that several threads parse, score and
// render; the output and the summary are those of one thread reading the
// file in order, byte for byte, whatever the block size: bad lines keep
// their line numbers, a line longer than a block is read whole, a line
// over --max-line-bytes is skipped, and the counts (tiers, errors, values
// used as missing, ignored names) add up across the threads.
TEST(CliTest, ScoreInParallelBlocksIsTheSequentialRun) {
  std::string text = "\xEF\xBB\xBF";
  const std::vector<std::string> sample =
      Lines(ReadFile(std::string(HEALTHSCORE_SOURCE_DIR) + "/" + kBasic +
                     "/accounts.jsonl"));
  for (int i = 0; i < 120; ++i) {
    const std::string id = "\"acct" + std::to_string(i) + "\"";
    switch (i % 12) {
      case 1:
        text += "{\"id\": " + id + ", \"metrics\": {\"dau_mau\": \"x\"}}";
        break;
      case 2:
        text += "{\"id\": " + id + ", \"metrics\": {";  // broken JSON
        break;
      case 3:
        text += "  \r";  // blank
        break;
      case 4:
        text += "{\"metrics\": {\"dau_mau\": 0.5}, \"account_id\": 3}";
        break;
      case 5:  // over --max-line-bytes
        text += "{\"id\": " + id + ", \"x\": \"" + std::string(400, 'x') +
                "\"}";
        break;
      case 6:
        text += "{\"id\": " + id + ", \"metrics\": {\"nps\": 7}}\r";
        break;
      default: {
        // A sample account under a new id, longer than any tiny block.
        std::string line = sample[static_cast<size_t>(i) % sample.size()];
        const size_t start = line.find("\"id\": \"") + 7;
        line.replace(start, line.find('"', start) - start,
                     "acct" + std::to_string(i));
        text += line;
        break;
      }
    }
    text += "\n";
  }
  text += "{\"id\": \"last\", \"metrics\": {\"csat\": 4}}";  // no '\n'
  const fs::path input = TempPath("parallel.jsonl");
  std::ofstream(input, std::ios::binary) << text;

  for (const char* format : {"jsonl", "csv"}) {
    SCOPED_TRACE(format);
    const std::string base = std::string("score --max-line-bytes 300 ") +
                             "--model " + kBasic + " --input " +
                             input.string() + " --format " + format +
                             " --output ";
    const fs::path one_path = TempPath(std::string("one.") + format);
    Result one = RunCli(base + one_path.string() + " --threads 1");
    ASSERT_EQ(one.exit_code, 0) << one.err;
    const std::string expected = ReadFile(one_path);
    EXPECT_NE(expected.find("line 3: invalid JSON"), std::string::npos);
    EXPECT_NE(expected.find("line 6: the line is 424 bytes long"),
              std::string::npos);
    EXPECT_THAT(one.err, HasSubstr(": green 19, yellow 16, red 8, "
                                   "insufficient_data 38; errors 30\n"));
    EXPECT_THAT(one.err, HasSubstr("note: 18 values did not fit"));
    EXPECT_THAT(one.err,
                HasSubstr("ignored names the model does not declare: "
                          "account_id (10 times, pass --id-field account_id "
                          "if it holds the account id); metrics.nps (19 "
                          "times)"));
    for (const char* blocks :
         {" --threads 4 --read-block-bytes 64",
          " --threads 4 --read-block-bytes 1 --batch-size 3",
          " --threads 2 --read-block-bytes 1000"}) {
      SCOPED_TRACE(blocks);
      const fs::path path = TempPath(std::string("many.") + format);
      Result many = RunCli(base + path.string() + blocks);
      ASSERT_EQ(many.exit_code, 0) << many.err;
      EXPECT_EQ(ReadFile(path), expected);
      EXPECT_EQ(SummaryWithoutTiming(many.err),
                SummaryWithoutTiming(one.err));
    }
  }
}

TEST(CliTest, ScoreReadsStandardInput) {
  Result r =
      RunCli(std::string("score --quiet --model ") + kBasic +
             " --input - --input-format csv < " + kBasic + "/accounts.csv");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Lines(r.out).size(), 5u);
  EXPECT_THAT(r.out, StartsWith(R"({"id":"acme","status":"ok")"));
}

TEST(CliTest, ScoreUsageErrors) {
  Result no_model = RunCli("score --input x.jsonl");
  EXPECT_EQ(no_model.exit_code, 2);
  EXPECT_THAT(no_model.err, HasSubstr("--model is required"));

  Result explain_csv = RunCli(std::string("score --model ") + kBasic +
                              " --input x.jsonl --format csv --explain");
  EXPECT_EQ(explain_csv.exit_code, 2);
  EXPECT_THAT(explain_csv.err, HasSubstr("--explain needs JSON Lines output"));

  Result extension =
      RunCli(std::string("score --model ") + kBasic + " --input accounts.txt");
  EXPECT_EQ(extension.exit_code, 2);
  EXPECT_THAT(extension.err, HasSubstr("pass --input-format jsonl|csv"));

  Result threads = RunCli(std::string("score --model ") + kBasic +
                          " --input x.jsonl --threads 0");
  EXPECT_EQ(threads.exit_code, 2);
  EXPECT_THAT(threads.err, HasSubstr("option --threads must be an integer"));
}

TEST(CliTest, ScoreModelAndInputProblemsExitOne) {
  Result missing_input =
      RunCli(std::string("score --model ") + kBasic + " --input no/such.jsonl");
  EXPECT_EQ(missing_input.exit_code, 1);
  EXPECT_THAT(missing_input.err, HasSubstr("cannot open no/such.jsonl"));

  Result bad_model =
      RunCli(std::string("score --model engine/io/testdata/invalid_model.yaml "
                         "--input ") +
             kBasic + "/accounts.jsonl");
  EXPECT_EQ(bad_model.exit_code, 1);
  EXPECT_THAT(bad_model.err,
              HasSubstr("engine/io/testdata/invalid_model.yaml:13:17: error:"));
  EXPECT_THAT(bad_model.err, HasSubstr("has errors; nothing was scored"));
  EXPECT_EQ(bad_model.out, "");

  fs::path csv = TempPath("noid.csv");
  std::ofstream(csv) << "name,dau_mau\na,1\n";
  Result no_id = RunCli(std::string("score --model ") + kBasic + " --input " +
                        csv.string());
  EXPECT_EQ(no_id.exit_code, 1);
  EXPECT_THAT(no_id.err, HasSubstr("CSV header (line 1) has no \"id\" column"));
}

// A line over the limit is that line's error; the accounts before and
// after it are scored and written. With the default limit (64 MiB) and a
// 70 MB line, the case that used to abort the run with nothing written.
TEST(CliTest, ScoreOverlongJsonLineIsThatLinesError) {
  const fs::path input = TempPath("overlong.jsonl");
  {
    std::ofstream f(input);
    f << R"({"id": "before", "as_of": "2026-11-01", "metrics": {"csat": 4.5}})"
      << "\n"
      << R"({"id": "huge", "note": ")";
    const std::string chunk(1 << 20, 'x');
    for (int i = 0; i < 70; ++i) f << chunk;
    f << "\"}\n"
      << R"({"id": "after", "as_of": "2026-11-01", "metrics": {"csat": 2}})"
      << "\n";
  }
  const fs::path out = TempPath("overlong_scored.jsonl");
  Result r = RunCli(std::string("score --model ") + kBasic + " --input " +
                    input.string() + " --output " + out.string());
  fs::remove(input);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = Lines(ReadFile(out));
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_THAT(lines[0], StartsWith(R"({"id":"before","status":"ok",)"));
  EXPECT_THAT(
      lines[1],
      StartsWith(R"({"id":"","status":"error","error":"line 2: the line is )"
                 R"(73400346 bytes long, more than the limit of 67108864 )"
                 R"(bytes for one record (--max-line-bytes); it was skipped. )"
                 R"(JSON Lines needs one account object per line",)"));
  EXPECT_THAT(lines[2], StartsWith(R"({"id":"after","status":"ok",)"));
  EXPECT_THAT(r.err, HasSubstr("healthscore score: 3 accounts in "));
  EXPECT_THAT(r.err, HasSubstr("; errors 1\n"));

  // --max-line-bytes sets the limit.
  const fs::path small = TempPath("small_limit.jsonl");
  std::ofstream(small)
      << R"({"id": "a", "metrics": {"csat": 4.5}})"
      << "\n"
      << R"({"id": "b", "metrics": {"csat": 4.5}, "note": "long enough"})"
      << "\n"
      << R"({"id": "c", "metrics": {"csat": 4.5}})"
      << "\n";
  Result limited = RunCli(std::string("score --quiet --max-line-bytes 40 ") +
                          "--model " + kBasic + " --input " + small.string());
  EXPECT_EQ(limited.exit_code, 0) << limited.err;
  std::vector<std::string> scored = Lines(limited.out);
  ASSERT_EQ(scored.size(), 3u);
  EXPECT_THAT(scored[0], StartsWith(R"({"id":"a","status":"ok",)"));
  EXPECT_THAT(scored[1], HasSubstr(R"("error":"line 2: the line is 60 bytes )"
                                   R"(long, more than the limit of 40 bytes)"));
  EXPECT_THAT(scored[2], StartsWith(R"({"id":"c","status":"ok",)"));
}

// 10 rows, one with an unterminated quote: 9 scored, 1 error naming the
// lines the bad record consumed (it used to be 3 results for 10 rows).
TEST(CliTest, ScoreCsvUnterminatedQuoteLosesOnlyItsRow) {
  const fs::path input = TempPath("stray_quote.csv");
  {
    std::ofstream f(input);
    f << "id,as_of,csat,segment\n";
    for (int i = 0; i < 10; ++i) {
      f << "acct" << i << ",2026-11-01,4.5," << (i == 2 ? "\"smb" : "smb")
        << "\n";
    }
  }
  Result r = RunCli(std::string("score --format csv --model ") + kBasic +
                    " --input " + input.string());
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 11u);  // the header and 10 results
  for (int i = 0; i < 10; ++i) {
    EXPECT_THAT(lines[i + 1], StartsWith("acct" + std::to_string(i) +
                                         (i == 2 ? ",error," : ",ok,")));
  }
  EXPECT_THAT(lines[3],
              HasSubstr("line 4: unterminated quoted field 4 (\"\"segment\"\") "
                        "(no closing '\"\"' before the end of the input); the "
                        "record spans lines 4-11 (8 lines), so it is skipped "
                        "and lines 5-11 are read again as records"));
  EXPECT_THAT(r.err, HasSubstr("healthscore score: 10 accounts in "));
  EXPECT_THAT(r.err, HasSubstr("; errors 1\n"));
}

TEST(CliTest, ScoreInputLimitsAreChecked) {
  Result zero = RunCli(std::string("score --model ") + kBasic +
                       " --input x.jsonl --max-line-bytes 0");
  EXPECT_EQ(zero.exit_code, 2);
  EXPECT_THAT(zero.err, HasSubstr("option --max-line-bytes must be an "
                                  "integer from 1 to 1073741824, got \"0\""));
  Result lines = RunCli(std::string("score --model ") + kBasic +
                        " --input x.csv --max-record-lines many");
  EXPECT_EQ(lines.exit_code, 2);
  EXPECT_THAT(lines.err, HasSubstr("option --max-record-lines must be an "
                                   "integer from 1 to 1000000"));
}

}  // namespace
}  // namespace healthscore
