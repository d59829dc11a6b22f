#include "cli/multi_model_reader.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/common/testing/status_matchers.h"
#include "engine/model/compiler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::cli {
namespace {

using ::healthscore::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;

std::shared_ptr<const engine::CompiledModel> Model(const std::string& name,
                                                   const std::string& input) {
  engine::CompileResult r = engine::CompileString(
      "name: " + name + "\nversion: \"1\"\ninputs:\n  - {id: " + input +
          ", type: number}\ngroups:\n  - id: g\n    weight: 1\n    signals:\n"
          "      - {id: s, source: " +
          input +
          ", weight: 1, normalize: identity}\ntiers:\n  - {id: t, min: 0}\n",
      name + ".yaml");
  EXPECT_NE(r.model, nullptr) << r.diagnostics.ToString();
  return r.model;
}

std::string WriteTemp(const std::string& name, const std::string& text) {
  const std::string path = ::testing::TempDir() + "/multi_model_reader_" + name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(MultiModelReaderTest, EveryModelGetsTheSameAccountsReadItsOwnWay) {
  const std::string path =
      WriteTemp("in.jsonl",
                "{\"id\": \"a\", \"metrics\": {\"x\": 1, \"y\": 2, \"z\": 3}}\n"
                "{\"id\": \"b\", \"metrics\": {\"x\": 4, \"y\": \"bad\"}}\n"
                "{\"id\": \"c\", \"metrics\": {\"z\": 5}}\n");
  auto mx = Model("mx", "x");
  auto my = Model("my", "y");
  auto reader = MultiModelReader::Open(
      path, engine::io::InputFormat::kJsonLines, {mx, my});
  ASSERT_OK(reader.status());
  std::vector<engine::Batch> batches = (*reader)->MakeBatches();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(&batches[1].model(), my.get());

  absl::StatusOr<size_t> n = (*reader)->ReadBatch(&batches, 2);
  ASSERT_OK(n.status());
  EXPECT_EQ(*n, 2u);
  for (const engine::Batch& b : batches) {
    ASSERT_EQ(b.size(), 2u);
    EXPECT_EQ(b.id(0), "a");
    EXPECT_EQ(b.id(1), "b");
  }
  EXPECT_EQ(batches[0].number(0)[1], 4);
  EXPECT_TRUE(batches[0].row_ok(1));
  EXPECT_EQ(batches[0].dropped_values(), 0u);  // mx does not read y
  EXPECT_EQ(batches[1].number(0)[0], 2);
  EXPECT_TRUE(batches[1].row_ok(1));
  EXPECT_FALSE(batches[1].number_valid(0)[1]);
  ASSERT_EQ(batches[1].value_warnings().size(), 1u);
  EXPECT_THAT(batches[1].value_warnings()[0].text, HasSubstr("metrics.y"));

  n = (*reader)->ReadBatch(&batches, 2);
  ASSERT_OK(n.status());
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(batches[1].id(0), "c");
  n = (*reader)->ReadBatch(&batches, 2);
  ASSERT_OK(n.status());
  EXPECT_EQ(*n, 0u);
  // z is declared by neither model; x and y each by one.
  EXPECT_THAT((*reader)->ignored_names(), ElementsAre(Pair("metrics.z", 2)));
}

TEST(MultiModelReaderTest, CsvAndOneModel) {
  const std::string path = WriteTemp("in.csv", "id,x,y\na,1,2\nb,3,4\n");
  auto reader = MultiModelReader::Open(path, engine::io::InputFormat::kCsv,
                                       {Model("mx", "x")});
  ASSERT_OK(reader.status());
  std::vector<engine::Batch> batches = (*reader)->MakeBatches();
  absl::StatusOr<size_t> n = (*reader)->ReadBatch(&batches, 10);
  ASSERT_OK(n.status());
  EXPECT_EQ(*n, 2u);
  EXPECT_EQ(batches[0].number(0)[1], 3);
  EXPECT_THAT((*reader)->ignored_names(), ElementsAre(Pair("y", 1)));
}

TEST(MultiModelReaderTest, Errors) {
  EXPECT_THAT(
      MultiModelReader::Open("/no/such/file.jsonl",
                             engine::io::InputFormat::kJsonLines,
                             {Model("mx", "x")}),
      StatusIs(absl::StatusCode::kNotFound, HasSubstr("/no/such/file.jsonl")));
  EXPECT_THAT(
      MultiModelReader::Open("-", engine::io::InputFormat::kJsonLines, {}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no model")));
}

}  // namespace
}  // namespace healthscore::cli
