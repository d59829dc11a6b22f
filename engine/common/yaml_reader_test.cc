#include "engine/common/yaml_reader.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/common/testing/temp_dir.h"
#include "engine/common/testing/yaml_bombs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::common {
namespace {

using ::healthscore::engine::common::testing::AliasBomb;
using ::healthscore::engine::common::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(ReadYamlTest, ReadsTheFirstDocumentAndCountsExpandedNodes) {
  // map, key a, list, 1, 2, key b, alias (3 nodes): 9.
  YamlDocument doc = ReadYaml("a: &x [1, 2]\nb: *x\n");
  ASSERT_FALSE(doc.problem.has_value()) << doc.problem->message;
  EXPECT_EQ(doc.documents, 1);
  EXPECT_EQ(doc.nodes, 9u);
  EXPECT_EQ(doc.root["b"][1].as<int>(), 2);
}

TEST(ReadYamlTest, EmptyTextHasNoDocument) {
  for (const std::string text : {"", "\n", "# only a comment\n"}) {
    YamlDocument doc = ReadYaml(text);
    EXPECT_FALSE(doc.problem.has_value()) << text;
    EXPECT_EQ(doc.documents, 0) << text;
    EXPECT_TRUE(doc.root.IsNull()) << text;
  }
}

TEST(ReadYamlTest, CountsDocuments) {
  YamlDocument doc = ReadYaml("a: 1\n---\nb: 2\n---\nc: 3\n");
  ASSERT_FALSE(doc.problem.has_value());
  EXPECT_EQ(doc.documents, 3);
  EXPECT_EQ(doc.second_start.line, 1);  // 0-based, as yaml-cpp marks
  EXPECT_EQ(doc.root["a"].as<int>(), 1);
}

TEST(ReadYamlTest, SyntaxErrorIsLocated) {
  YamlDocument doc = ReadYaml("a: [1, 2\nb: 3\n");
  ASSERT_TRUE(doc.problem.has_value());
  EXPECT_EQ(doc.problem->code, absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(doc.problem->ToString("f.yaml"),
            "f.yaml:2:2: invalid YAML: end of sequence flow not found");
  EXPECT_TRUE(doc.root.IsNull());
}

TEST(ReadYamlTest, StrayTokenDoesNotLoopForever) {
  YamlDocument doc = ReadYaml(", a: 1\n");
  ASSERT_TRUE(doc.problem.has_value());
  EXPECT_EQ(doc.problem->ToString("f.yaml"),
            "f.yaml:1:1: invalid YAML: unexpected ','");
}

TEST(ReadYamlTest, OversizeTextIsRefusedBeforeParsing) {
  YamlLimits limits;
  limits.max_bytes = 10;
  YamlDocument doc = ReadYaml("a: [1, 2, 3]\n", limits);
  ASSERT_TRUE(doc.problem.has_value());
  EXPECT_EQ(doc.problem->code, absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(doc.problem->ToString("f.yaml"),
            "f.yaml: the YAML is 13 bytes (0.0 MiB), over the limit of 10 "
            "bytes (0.0 MiB) (hint: split it into smaller files, or raise "
            "the limit with --max-model-bytes)");
  EXPECT_EQ(doc.documents, 0);
}

TEST(ReadYamlTest, DefaultByteLimitIsFourMiB) {
  const std::string text(YamlLimits::kDefaultMaxBytes + 1, '#');
  YamlDocument doc = ReadYaml(text);
  ASSERT_TRUE(doc.problem.has_value());
  EXPECT_THAT(doc.problem->message,
              HasSubstr("over the limit of 4194304 bytes (4.0 MiB)"));
}

TEST(ReadYamlTest, AliasBombIsRefused) {
  // Nodes before line 7: the root mapping, then per line a key, a list and
  // its items: 1 + 11 + 92 + 821 + 7382 + 66431 + 597872 = 672610. Line 7
  // adds its key and list (672612), and its first alias (*a5, 597871
  // nodes) crosses 1,000,000.
  const std::string bomb = AliasBomb();
  ASSERT_LT(bomb.size(), 700u);
  YamlDocument doc = ReadYaml(bomb);
  ASSERT_TRUE(doc.problem.has_value());
  EXPECT_EQ(doc.problem->code, absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(doc.problem->ToString("f.yaml"),
            "f.yaml:7:10: alias '*a5' expands the YAML to more than 1000000 "
            "nodes, the limit once aliases are expanded (hint: an alias "
            "repeats its whole anchored node; write the values out, or "
            "raise the limit with --max-yaml-nodes)");
  EXPECT_TRUE(doc.root.IsNull());
}

TEST(ReadYamlTest, NodeLimitIsConfigurable) {
  YamlLimits limits;
  limits.max_nodes = 5;
  YamlDocument doc = ReadYaml("[1, 2, 3, 4, 5]\n", limits);
  ASSERT_TRUE(doc.problem.has_value());
  EXPECT_EQ(doc.problem->ToString("f.yaml"),
            "f.yaml:1:14: the YAML holds more than 5 nodes, the limit (hint: "
            "split the file, or raise the limit with --max-yaml-nodes)");
  limits.max_nodes = 6;
  EXPECT_FALSE(ReadYaml("[1, 2, 3, 4, 5]\n", limits).problem.has_value());
}

TEST(ReadYamlTest, RecursiveAliasIsRefused) {
  YamlDocument doc = ReadYaml("config: &c {k: *c}\n");
  ASSERT_TRUE(doc.problem.has_value());
  EXPECT_EQ(doc.problem->code, absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(doc.problem->ToString("f.yaml"),
            "f.yaml:1:16: invalid YAML: alias '*c' is inside the node it "
            "refers to ('&c' at line 1, column 9): a recursive alias (hint: "
            "an alias may only repeat a node that ends before it; write the "
            "value out instead)");
}

TEST(ReadYamlTest, RecursiveAliasDeepInsideAndInBlockStyle) {
  YamlDocument doc = ReadYaml("top: &t\n  a:\n    - b: 1\n    - c: [1, *t]\n");
  ASSERT_TRUE(doc.problem.has_value());
  EXPECT_THAT(doc.problem->ToString("f.yaml"),
              HasSubstr("f.yaml:4:14: invalid YAML: alias '*t' is inside"));
}

TEST(ReadYamlTest, AliasToAClosedAnchorAndRedefinedAnchorsAreFine) {
  YamlDocument doc =
      ReadYaml("a: &x {k: 1}\nb: [*x, *x]\nc: &x [2]\nd: [*x, *x]\n");
  ASSERT_FALSE(doc.problem.has_value()) << doc.problem->message;
  EXPECT_EQ(doc.root["b"][1]["k"].as<int>(), 1);
  EXPECT_EQ(doc.root["d"][1][0].as<int>(), 2);
}

TEST(ReadYamlTest, DeepNestingIsLocated) {
  std::string flow = "a: ";
  for (int i = 0; i < 100; ++i) flow += "[";
  flow += "1";
  for (int i = 0; i < 100; ++i) flow += "]";
  // The root mapping and 63 lists fit; the 64th '[' (column 67) does not.
  YamlDocument doc = ReadYaml(flow);
  ASSERT_TRUE(doc.problem.has_value());
  EXPECT_EQ(doc.problem->ToString("f.yaml"),
            "f.yaml:1:67: invalid YAML: lists and mappings nest more than 64 "
            "levels deep (hint: flatten the structure; a model nests a few "
            "levels only)");

  std::string block;
  for (int i = 0; i < 80; ++i) {
    block += std::string(static_cast<size_t>(i) * 2, ' ') + "k:\n";
  }
  block += std::string(160, ' ') + "v\n";
  // Line n opens the n-th mapping: line 65 is one too many.
  doc = ReadYaml(block);
  ASSERT_TRUE(doc.problem.has_value());
  EXPECT_THAT(doc.problem->ToString("f.yaml"),
              HasSubstr("f.yaml:65:129: invalid YAML: lists and mappings nest "
                        "more than 64 levels deep"));
}

TEST(ReadYamlTest, NestingBeyondYamlCppsOwnGuardIsAnErrorNotACrash) {
  YamlLimits limits;
  limits.max_depth = 100000;
  std::string flow(20000, '[');
  YamlDocument doc = ReadYaml(flow, limits);
  ASSERT_TRUE(doc.problem.has_value());
  EXPECT_EQ(doc.problem->code, absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(doc.problem->message, HasSubstr("invalid YAML"));
  EXPECT_GT(doc.problem->line, 0);
}

TEST(ReadYamlTest, CancelledBudgetStopsTheRead) {
  std::atomic<bool> cancelled{true};
  LoadBudget budget;
  budget.cancelled = &cancelled;
  YamlDocument doc = ReadYaml("a: 1\n", {}, budget);
  ASSERT_TRUE(doc.problem.has_value());
  EXPECT_EQ(doc.problem->code, absl::StatusCode::kCancelled);
  EXPECT_EQ(doc.problem->message, "the model load was cancelled");
}

TEST(ReadYamlTest, PassedDeadlineStopsTheRead) {
  LoadBudget budget;
  budget.deadline = absl::Now() - absl::Seconds(1);
  YamlDocument doc = ReadYaml("a: 1\n", {}, budget);
  ASSERT_TRUE(doc.problem.has_value());
  EXPECT_EQ(doc.problem->code, absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(doc.problem->message,
            "the model load ran past its deadline and was abandoned");
}

TEST(LoadYamlTest, ProblemsAreStatusesNamingTheFile) {
  EXPECT_THAT(LoadYaml("a: &c [*c]\n", "cfg.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cfg.yaml:1:8: invalid YAML: alias '*c'")));
  EXPECT_THAT(LoadYaml("a: 1\n---\nb: 2\n", "cfg.yaml"),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("cfg.yaml:2:1: expected one YAML document, "
                                 "found 2")));
  EXPECT_THAT(LoadYaml(AliasBomb(), "cfg.yaml"),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("more than 1000000 nodes")));
  absl::StatusOr<YAML::Node> ok = LoadYaml("a: 1\n", "cfg.yaml");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ((*ok)["a"].as<int>(), 1);
}

class ReadYamlFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        ::healthscore::engine::common::testing::ScratchDir("yaml_reader_test");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }
  std::filesystem::path dir_;
};

TEST_F(ReadYamlFileTest, ReadsAFileWithinTheLimit) {
  const std::string path = Write("a.yaml", "a: 1\n");
  absl::StatusOr<std::string> text = ReadYamlFile(path);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "a: 1\n");
}

TEST_F(ReadYamlFileTest, RefusesAFileOverTheLimit) {
  const std::string path = Write("big.yaml", std::string(100, '#'));
  YamlLimits limits;
  limits.max_bytes = 99;
  EXPECT_THAT(ReadYamlFile(path, limits),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       AllOf(HasSubstr(path + ": the YAML is 100 bytes"),
                             HasSubstr("over the limit of 99 bytes"),
                             HasSubstr("--max-model-bytes"))));
}

TEST_F(ReadYamlFileTest, DirectoryAndMissingFileAreNotFound) {
  EXPECT_THAT(ReadYamlFile(dir_.string()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("directory")));
  EXPECT_THAT(ReadYamlFile((dir_ / "none.yaml").string()),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("none.yaml")));
}

}  // namespace
}  // namespace healthscore::engine::common
