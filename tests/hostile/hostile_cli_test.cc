// The hostile suite against the real `healthscore` binary: every hostile
// model (hostile_cases.h) through `validate` and `lint`, and hostile account
// files through `score`. What must hold for all of them: the process ends by
// itself with an exit code (never a signal, never a hang), a model's errors
// name the file, and every record of an input file is accounted for in the
// output (a good record scored, a bad one reported), never dropped.

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "engine/common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/hostile/hostile_cases.h"

namespace healthscore::hostile {
namespace {

namespace fs = std::filesystem;

struct CliRun {
  int exit_code = -1;  // -1: killed by a signal or by the time limit
  bool timed_out = false;
  std::string out, err;
};

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

fs::path Scratch(const std::string& name) {
  static const std::string* dir = new std::string(
      ::healthscore::engine::common::testing::ScratchDir("hostile_cli"));
  return fs::path(*dir) / name;
}

// Runs `healthscore ARGS` with a time limit far above any honest run (the
// sanitizer build included): exceeding it means the command hung.
CliRun Healthscore(const std::string& args, int limit_seconds = 120) {
  static int counter = 0;
  ++counter;
  const fs::path out = Scratch(absl::StrCat("out", counter));
  const fs::path err = Scratch(absl::StrCat("err", counter));
  const std::string command = absl::StrCat(
      "cd '", HEALTHSCORE_SOURCE_DIR, "' && timeout -s KILL ", limit_seconds,
      " '", HEALTHSCORE_BINARY_DIR,
      "/cli/healthscore' ", args, " >'", out.string(), "' 2>'", err.string(),
      "'");
  const int status = std::system(command.c_str());
  CliRun r;
  r.out = Slurp(out);
  r.err = Slurp(err);
  if (WIFEXITED(status)) {
    const int code = WEXITSTATUS(status);
    // timeout(1) reports a KILLed command as 128 + 9; a command that died
    // of a signal of its own shows as 128 + N through the shell too.
    if (code == 137) r.timed_out = true;
    r.exit_code = code >= 128 ? -1 : code;
  }
  return r;
}

std::string Plugins() {
  return absl::StrCat("--plugins '", HEALTHSCORE_BINARY_DIR, "/plugins/lib'");
}

class HostileModelTest : public ::testing::TestWithParam<HostileModel> {};

TEST_P(HostileModelTest, ValidateAndLintEndWithAnExitCode) {
  const HostileModel& c = GetParam();
  const fs::path file = Scratch(c.name + ".yaml");
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << c.yaml;
  }
  for (const std::string command : {"validate", "lint"}) {
    CliRun r = Healthscore(
        absl::StrCat(command, " ", Plugins(), " '", file.string(), "'"));
    EXPECT_FALSE(r.timed_out) << command << " hung on " << c.name;
    ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1)
        << command << " on " << c.name << " died (exit " << r.exit_code
        << ")\n"
        << r.err.substr(0, 2000);
    const std::string all = r.out + r.err;
    if (r.exit_code == 1) {
      // Every error is located in the file it came from.
      EXPECT_THAT(all, ::testing::HasSubstr(file.filename().string()))
          << command << " on " << c.name;
    }
    // Nothing echoes the input back whole (the largest cases are MBs).
    EXPECT_LT(all.size(), 256u << 10) << command << " on " << c.name;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, HostileModelTest, ::testing::ValuesIn(HostileModels()),
    [](const ::testing::TestParamInfo<HostileModel>& info) {
      return info.param.name;
    });

// Lines of one JSON Lines file: each a record the run must account for.
std::vector<std::string> HostileJsonLines() {
  const std::string good =
      R"({"id":"good-%d","as_of":"2026-11-01","metrics":{"csat":4.5}})";
  auto good_line = [&](int i) {
    return absl::StrReplaceAll(good, {{"%d", absl::StrCat(i)}});
  };
  std::vector<std::string> lines;
  lines.push_back(good_line(1));
  lines.push_back(std::string(70 << 20, ' ') + "{}");  // 70 MB line
  lines.push_back(good_line(2));
  lines.push_back(Repeat("[", 100000) + Repeat("]", 100000));
  lines.push_back(good_line(3));
  lines.push_back(R"({"id":"dup","id":"dup2","metrics":{"csat":1}})");
  lines.push_back(good_line(4));
  lines.push_back("{\"id\":\"\xff\xfe\",\"metrics\":{}}");
  lines.push_back(good_line(5));
  lines.push_back(R"({"id":"bad-date","as_of":"2026-11-01T25:99"})");
  lines.push_back(good_line(6));
  lines.push_back(absl::StrCat(R"({"id":")", Repeat("x", 1 << 20), R"("})"));
  lines.push_back(good_line(7));
  std::string wide = R"({"id":"wide","metrics":{)";
  for (int i = 0; i < 100000; ++i) absl::StrAppend(&wide, i ? "," : "", "\"m", i, "\":1");
  lines.push_back(wide + "}}");
  lines.push_back(good_line(8));
  lines.push_back(R"({"id":"truncated","metrics":{"csat":)");
  lines.push_back(good_line(9));
  return lines;
}

TEST(HostileDataTest, ScoreAccountsForEveryJsonLinesRecord) {
  const std::vector<std::string> lines = HostileJsonLines();
  const fs::path input = Scratch("hostile.jsonl");
  {
    std::ofstream out(input, std::ios::binary | std::ios::trunc);
    for (const std::string& line : lines) out << line << "\n";
  }
  CliRun r = Healthscore(absl::StrCat("score --model rules/default/1 --input '",
                                   input.string(), "'"));
  ASSERT_EQ(r.exit_code, 0) << r.err.substr(0, 2000);
  std::vector<std::string> results =
      absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  EXPECT_EQ(results.size(), lines.size()) << r.err;
  for (int i = 1; i <= 9; ++i) {
    EXPECT_THAT(r.out, ::testing::HasSubstr(
                           absl::StrCat("\"id\":\"good-", i, "\",\"status\":\"ok\"")))
        << "good-" << i;
  }
  // Errors never echo a whole hostile line back (a result that scored
  // carries its id, however long).
  for (const std::string& result : results) {
    if (!absl::StrContains(result, "\"status\":\"error\"")) continue;
    EXPECT_LT(result.size(), 4u << 10) << result.substr(0, 200);
  }
}

TEST(HostileDataTest, ScoreAccountsForEveryCsvRecord) {
  const fs::path input = Scratch("hostile.csv");
  int records = 0;
  {
    std::ofstream out(input, std::ios::binary | std::ios::trunc);
    out << "id,csat,nps\n";
    for (int i = 0; i < 10; ++i) {
      if (i == 3) {
        out << "broken,\"4.5,7\n";  // a quote that never ends
      } else if (i == 6) {
        out << "nul," << std::string("4\0.5", 4) << ",7\n";
      } else if (i == 8) {
        out << "long," << Repeat("9", 1 << 20) << ",7\n";
      } else {
        out << "good-" << i << ",4.5,7\n";
      }
      ++records;
    }
  }
  CliRun r = Healthscore(absl::StrCat("score --model rules/default/1 --input '",
                                   input.string(), "'"));
  ASSERT_EQ(r.exit_code, 0) << r.err.substr(0, 2000);
  std::vector<std::string> results =
      absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  EXPECT_EQ(static_cast<int>(results.size()), records) << r.out << r.err;
  for (int i : {0, 1, 2, 4, 5, 7, 9}) {
    EXPECT_THAT(r.out, ::testing::HasSubstr(absl::StrCat(
                           "\"id\":\"good-", i, "\",\"status\":\"ok\"")))
        << "good-" << i;
  }
}

// `healthscore portfolio` over a revenue file built to hurt: amounts past
// every range, nested values, 100,000 distinct segments, a 100,000-deep
// nesting, a truncated line. Each costs its value or its record, counted;
// the good accounts are all measured.
TEST(HostileDataTest, PortfolioCountsEveryBadRecordAndKeepsTheGoodOnes) {
  const fs::path input = Scratch("hostile_revenue.jsonl");
  {
    std::ofstream out(input, std::ios::binary | std::ios::trunc);
    for (int i = 1; i <= 5; ++i) {
      out << R"({"id":"good-)" << i
          << R"(","start_arr":100.10,"end_arr":110.10,"segment":"good"})"
          << "\n";
    }
    out << R"({"id":"huge","start_arr":1e30,"end_arr":1})" << "\n";
    out << R"({"id":"far","start_arr":"1e400","end_arr":1})" << "\n";
    out << R"({"id":"text","start_arr":"12,5","end_arr":1})" << "\n";
    out << R"({"id":"neg","start_arr":-5,"end_arr":1})" << "\n";
    out << R"({"id":"nested","start_arr":{"a":[1]},"end_arr":1})" << "\n";
    out << R"({"id":"deep","segment":)" << Repeat("[", 100000)
        << Repeat("]", 100000) << "}\n";
    out << R"({"id":"truncated","start_arr":)" << "\n";
    for (int i = 0; i < 100000; ++i) {
      out << R"({"id":"s)" << i << R"(","start_arr":1,"end_arr":1,)"
          << R"("segment":"seg-)" << i << "\"}\n";
    }
  }
  CliRun r = Healthscore(absl::StrCat(
      "portfolio --format json --by segment --period 2025-01-01..2025-12-31 "
      "--revenue '",
      input.string(), "'"));
  ASSERT_EQ(r.exit_code, 0) << r.err.substr(0, 2000);
  // 5 good accounts and the 100,000 small ones, and "deep" (its segment is
  // bad, its amounts are missing: no start ARR).
  EXPECT_THAT(r.out, ::testing::HasSubstr(
                         R"("overall":{"name":"all","accounts":100005,)"));
  EXPECT_THAT(r.out, ::testing::HasSubstr(R"("start_arr":100500.5,)"));
  // The segments past the group limit are pooled, not kept one by one.
  EXPECT_THAT(r.out, ::testing::HasSubstr(R"j("name":"(other)")j"));
  EXPECT_LT(r.out.size(), 4u << 20);
  // Every bad value and record is counted.
  EXPECT_THAT(r.out, ::testing::HasSubstr(R"("negative_amount":{"count":1,)"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex(R"("bad_values":[4-9])"));
  EXPECT_THAT(r.out, ::testing::ContainsRegex(R"("bad_records":[1-9])"));

  // Sums past the range of exact amounts (about 1.7e26): a clear error,
  // never a wrong figure.
  const fs::path overflow = Scratch("overflow_revenue.csv");
  {
    std::ofstream out(overflow, std::ios::binary | std::ios::trunc);
    out << "id,start_arr,end_arr\n";
    for (int i = 0; i < 3; ++i) {
      out << "o" << i << ",100000000000000000000000000,1\n";
    }
  }
  CliRun o = Healthscore(absl::StrCat(
      "portfolio --period 2025-01-01..2025-12-31 --revenue '",
      overflow.string(), "'"));
  EXPECT_EQ(o.exit_code, 1) << o.out << o.err;
  EXPECT_THAT(o.err, ::testing::HasSubstr("overflow_revenue.csv"));
}

}  // namespace
}  // namespace healthscore::hostile
