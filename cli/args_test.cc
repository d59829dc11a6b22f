#include "cli/args.h"

#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/commands.h"

#include "engine/common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::cli {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

const std::vector<FlagSpec> kFlags = {
    {"help", false}, {"model", true}, {"explain", false}, {"threads", true}};

TEST(ArgsTest, ParsesFlagsAndPositionals) {
  ASSERT_OK_AND_ASSIGN(Args args,
                       Args::Parse({"a.yaml", "--model", "m", "--threads=4",
                                    "--explain", "b.yaml", "-", "--", "--c"},
                                   kFlags));
  EXPECT_EQ(args.Get("model"), "m");
  EXPECT_TRUE(args.Has("explain"));
  EXPECT_FALSE(args.Has("help"));
  EXPECT_EQ(args.Get("help", "none"), "none");
  EXPECT_EQ(*args.GetInt("threads", 1, 1, 8), 4);
  EXPECT_THAT(args.positional(), ElementsAre("a.yaml", "b.yaml", "-", "--c"));
}

TEST(ArgsTest, ShortHelp) {
  ASSERT_OK_AND_ASSIGN(Args args, Args::Parse({"-h"}, kFlags));
  EXPECT_TRUE(args.Has("help"));
}

TEST(ArgsTest, Mistakes) {
  EXPECT_THAT(Args::Parse({"--mode", "m"}, kFlags),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown option \"--mode\" (did you mean "
                                 "'model'?)")));
  EXPECT_THAT(Args::Parse({"--model"}, kFlags),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("option --model needs a value")));
  EXPECT_THAT(Args::Parse({"--explain=yes"}, kFlags),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("option --explain takes no value")));
  EXPECT_THAT(Args::Parse({"--model", "a", "--model=b"}, kFlags),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("option --model given twice")));
  EXPECT_THAT(Args::Parse({"-x"}, kFlags),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown option \"-x\"")));
}

TEST(ArgsTest, IntegerRange) {
  ASSERT_OK_AND_ASSIGN(Args args, Args::Parse({"--threads", "0"}, kFlags));
  EXPECT_THAT(args.GetInt("threads", 1, 1, 8),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("option --threads must be an integer from 1 "
                                 "to 8, got \"0\"")));
  ASSERT_OK_AND_ASSIGN(args, Args::Parse({"--threads", "two"}, kFlags));
  EXPECT_THAT(
      args.GetInt("threads", 1, 1, 8),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got \"two\"")));
  ASSERT_OK_AND_ASSIGN(args, Args::Parse({}, kFlags));
  EXPECT_EQ(*args.GetInt("threads", 3, 1, 8), 3);
}

// What ParseCommandLine did: its result, exit code and both streams.
struct Parsed {
  std::optional<Args> args;
  int exit_code = -1;
  std::string out, err;
};

Parsed ParseLine(const CommandLineSpec& spec,
                 const std::vector<std::string>& argv) {
  Parsed p;
  std::ostringstream out, err;
  p.args = ParseCommandLine(spec, argv, out, err, &p.exit_code);
  p.out = out.str();
  p.err = err.str();
  return p;
}

const CommandLineSpec kScoreLike = {
    "score", "HELP\n", kFlags, /*takes_paths=*/false, {"model", "threads"}};
const CommandLineSpec kLintLike = {"lint", "HELP\n", kFlags,
                                   /*takes_paths=*/true, {}};

TEST(ParseCommandLineTest, ReturnsTheArguments) {
  Parsed p = ParseLine(kScoreLike, {"--model", "m", "--threads=2"});
  ASSERT_TRUE(p.args.has_value());
  EXPECT_EQ(p.exit_code, kExitOk);
  EXPECT_EQ(p.args->Get("model"), "m");
  EXPECT_EQ(p.out, "");
  EXPECT_EQ(p.err, "");
  p = ParseLine(kLintLike, {"a.yaml", "b.yaml"});
  ASSERT_TRUE(p.args.has_value());
  EXPECT_THAT(p.args->positional(), ElementsAre("a.yaml", "b.yaml"));
}

TEST(ParseCommandLineTest, HelpWinsOverEveryCheck) {
  // No required flag, a positional where none is allowed: help all the same.
  Parsed p = ParseLine(kScoreLike, {"stray", "-h"});
  EXPECT_FALSE(p.args.has_value());
  EXPECT_EQ(p.exit_code, kExitOk);
  EXPECT_EQ(p.out, "HELP\n");
  EXPECT_EQ(p.err, "");
}

TEST(ParseCommandLineTest, UsageErrorsNameTheCommandAndPointToHelp) {
  const std::string tail = "\nrun `healthscore score --help` for usage\n";
  Parsed p = ParseLine(kScoreLike, {"--mode", "m"});
  EXPECT_FALSE(p.args.has_value());
  EXPECT_EQ(p.exit_code, kExitUsage);
  EXPECT_EQ(p.err,
            "healthscore score: unknown option \"--mode\" (did you mean "
            "'model'?)" + tail);
  p = ParseLine(kScoreLike, {"--model", "m", "--threads", "1", "extra"});
  EXPECT_EQ(p.exit_code, kExitUsage);
  EXPECT_EQ(p.err, "healthscore score: unexpected argument \"extra\"" + tail);
  // Required flags are checked in the order the spec lists them.
  p = ParseLine(kScoreLike, {});
  EXPECT_EQ(p.err, "healthscore score: --model is required" + tail);
  p = ParseLine(kScoreLike, {"--model", "m"});
  EXPECT_EQ(p.err, "healthscore score: --threads is required" + tail);
  p = ParseLine(kLintLike, {"--explain"});
  EXPECT_EQ(p.exit_code, kExitUsage);
  EXPECT_EQ(p.err,
            "healthscore lint: no PATH given\n"
            "run `healthscore lint --help` for usage\n");
  EXPECT_EQ(p.out, "");
}

}  // namespace
}  // namespace healthscore::cli
