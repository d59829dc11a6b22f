#include "cli/args.h"

#include <string>
#include <vector>

#include "engine/common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::cli {
namespace {

using ::healthscore::testing::StatusIs;
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

}  // namespace
}  // namespace healthscore::cli
