#include "engine/io/line_blocks.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/common/testing/status_matchers.h"
#include "engine/eval/account_table.h"
#include "engine/eval/batch.h"
#include "engine/io/snapshot_reader.h"
#include "engine/io/testing/basic_model.h"
#include "engine/model/compiler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::io {

using eval::AccountTable;
using eval::TableBinder;

namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::shared_ptr<const model::CompiledModel> BasicModel() {
  return testing::BasicModel();
}

// Everything a reader gives for an input: each row as "id|error" or
// "id ! warning ...", the ignored names (the reader's and the binder's) and
// the lines read.
struct Outcome {
  std::vector<std::string> rows;
  std::map<std::string, uint64_t> ignored;
  uint64_t lines = 0;
};

void AddRows(const AccountTable& table, TableBinder* binder, Outcome* out) {
  eval::Batch batch(BasicModel());
  binder->Bind(table, &batch);
  for (size_t r = 0; r < batch.size(); ++r) {
    std::string row(batch.id(r));
    if (!batch.row_ok(r)) row += "|" + batch.row_error(r);
    for (const eval::ValueWarning& w : batch.value_warnings()) {
      if (w.row == r) row += " ! " + w.text;
    }
    out->rows.push_back(row);
  }
}

void AddIgnored(const std::map<std::string, uint64_t>& names, Outcome* out) {
  for (const auto& [name, count] : names) out->ignored[name] += count;
}

// The whole input through JsonLinesReader::ReadTable.
Outcome ReadSequentially(const std::string& text, ReaderOptions options) {
  Outcome out;
  JsonLinesReader reader(StringSource(text), options);
  TableBinder binder(BasicModel());
  AccountTable table;
  for (;;) {
    auto n = reader.ReadTable(&table, 4);
    EXPECT_OK(n.status());
    if (!n.ok() || *n == 0) break;
    AddRows(table, &binder, &out);
  }
  AddIgnored(reader.ignored_names(), &out);
  AddIgnored(binder.ignored_names(), &out);
  out.lines = reader.lines_read();
  return out;
}

// Cuts the input into blocks, then parses them with two readers taking
// turns, the later blocks first, and puts the rows back in input order.
Outcome ReadInBlocks(const std::string& text, ReaderOptions options,
                     size_t max_lines, std::vector<LineBlock>* blocks_out) {
  LineSplitter splitter(StringSource(text), options, max_lines);
  std::vector<LineBlock> blocks;
  for (;;) {
    LineBlock block;
    auto more = splitter.Next(&block);
    EXPECT_OK(more.status());
    if (!more.ok() || !*more) break;
    blocks.push_back(std::move(block));
  }
  Outcome out;
  JsonLinesReader readers[2] = {JsonLinesReader(options),
                                JsonLinesReader(options)};
  TableBinder binders[2] = {TableBinder(BasicModel()),
                            TableBinder(BasicModel())};
  std::vector<Outcome> parts(blocks.size());
  for (size_t i = blocks.size(); i > 0; --i) {
    AccountTable table;
    const size_t k = i % 2;
    readers[k].ParseBlock(blocks[i - 1], &table);
    EXPECT_EQ(readers[k].lines_read(),
              blocks[i - 1].first_line + blocks[i - 1].lines - 1);
    AddRows(table, &binders[k], &parts[i - 1]);
  }
  for (const Outcome& part : parts) {
    out.rows.insert(out.rows.end(), part.rows.begin(), part.rows.end());
  }
  for (int k = 0; k < 2; ++k) {
    AddIgnored(readers[k].ignored_names(), &out);
    AddIgnored(binders[k].ignored_names(), &out);
  }
  out.lines = splitter.lines_read();
  if (blocks_out != nullptr) *blocks_out = std::move(blocks);
  return out;
}

// Good and bad lines of every kind the reader distinguishes.
std::string MixedInput() {
  std::string text = "\xEF\xBB\xBF";
  for (int i = 0; i < 40; ++i) {
    const std::string id = "acct" + std::to_string(i);
    switch (i % 10) {
      case 1:
        text += R"({"id": ")" + id + R"(", "metrics": {"csat": "bad"}})";
        break;
      case 2:
        text += R"({"id": ")" + id + R"(", "metrics": {)";  // broken JSON
        break;
      case 3:
        text += "\r";  // a blank line (CRLF)
        break;
      case 4:
        text += R"({"metrics": {"dau_mau": 0.5}})";  // no id
        break;
      case 5:  // over the 80-byte limit below
        text += R"({"id": ")" + id + R"(", "crm": ")" +
                std::string(40 + i, 'x') + "\"}";
        break;
      case 6:  // far over any block the tests use
        text += R"({"id": ")" + std::string(1000, 'y') + "\"}";
        break;
      case 7:
        text += "[1, 2]";
        break;
      default:
        text += R"({"id": ")" + id + R"(", "account_id": 7, "metrics": )" +
                R"({"dau_mau": 0.)" + std::to_string(i % 10) +
                R"(}, "series": {"weekly_active_users": [1, 2, )" +
                std::to_string(i) + "]}, \"extra\": {\"x\": 1}}";
        break;
    }
    text += "\n";
  }
  // The last line has no line break.
  text += R"({"id": "last"})";
  return text;
}

// The property the parallel `healthscore score` rests on: any way of
// cutting the input gives the rows, errors, line numbers, warnings and
// ignored names of the sequential reader, including for lines longer than
// a block and lines longer than --max-line-bytes (kept or skipped).
TEST(LineBlocksTest, BlocksParseExactlyAsTheSequentialReader) {
  const std::string text = MixedInput();
  for (size_t max_line_bytes : {size_t{80}, size_t{1} << 20}) {
    ReaderOptions sequential;
    sequential.max_line_bytes = max_line_bytes;
    const Outcome expected = ReadSequentially(text, sequential);
    ASSERT_EQ(expected.lines, 41u);
    for (size_t block : {size_t{1}, size_t{2}, size_t{3}, size_t{7},
                         size_t{64}, size_t{80}, size_t{81}, size_t{500},
                         size_t{1} << 20}) {
      for (size_t max_lines : {size_t{1}, size_t{3}, size_t{1000}}) {
        SCOPED_TRACE(::testing::Message()
                     << "max_line_bytes " << max_line_bytes << " block "
                     << block << " max_lines " << max_lines);
        ReaderOptions options = sequential;
        options.block_size = block;
        std::vector<LineBlock> blocks;
        const Outcome got = ReadInBlocks(text, options, max_lines, &blocks);
        EXPECT_EQ(got.rows, expected.rows);
        EXPECT_EQ(got.ignored, expected.ignored);
        EXPECT_EQ(got.lines, expected.lines);
        // The blocks follow each other line by line.
        uint64_t next = 1;
        for (const LineBlock& b : blocks) {
          EXPECT_EQ(b.first_line, next);
          EXPECT_LE(b.lines, max_lines);
          next += b.lines;
        }
        EXPECT_EQ(next, 42u);
      }
    }
  }
}

TEST(LineBlocksTest, ErrorsNameTheirLineInEveryBlock) {
  const std::string text = R"({"id": "a"})"
                           "\n\n"
                           R"({"id": "b", )"
                           "\n"
                           R"({"id": ")" +
                           std::string(200, 'x') +
                           "\"}\n"
                           "7\n";
  ReaderOptions options;
  options.block_size = 4;
  options.max_line_bytes = 100;
  const Outcome got = ReadInBlocks(text, options, 1, nullptr);
  EXPECT_THAT(
      got.rows,
      ElementsAre("a", HasSubstr("|line 3: invalid JSON"),
                  "|line 4: the line is 210 bytes long, more than the limit "
                  "of 100 bytes for one record (--max-line-bytes); it was "
                  "skipped. JSON Lines needs one account object per line",
                  "|line 5: expected a JSON object, got number"));
  EXPECT_EQ(got.lines, 5u);
}

// Serves `prefix`, `filler` bytes of 'x', then `suffix`, and records the
// largest read asked for.
class GeneratedSource : public ByteSource {
 public:
  GeneratedSource(std::string text, uint64_t filler, size_t at,
                  size_t* largest_read)
      : text_(std::move(text)),
        filler_(filler),
        at_(at),
        largest_read_(largest_read) {}

  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    *largest_read_ = std::max(*largest_read_, n);
    size_t done = 0;
    while (done < n && pos_ < text_.size() + filler_) {
      if (pos_ >= at_ && pos_ < at_ + filler_) {
        const size_t take = static_cast<size_t>(
            std::min<uint64_t>(at_ + filler_ - pos_, n - done));
        std::memset(buf + done, 'x', take);
        done += take;
        pos_ += take;
      } else {
        buf[done++] = text_[pos_ < at_ ? pos_ : pos_ - filler_];
        ++pos_;
      }
    }
    return done;
  }

 private:
  std::string text_;
  uint64_t filler_;
  size_t at_;
  size_t* largest_read_;
  uint64_t pos_ = 0;
};

// A line far longer than --max-line-bytes is skipped while it is read: no
// block grows past max_line_bytes + block_size.
TEST(LineBlocksTest, OverlongLineIsSkippedInBoundedMemory) {
  const std::string head = "{\"id\": \"a\"}\n{\"id\": \"";
  const std::string text = head + "\"}\n{\"id\": \"b\"}\n";
  size_t largest_read = 0;
  ReaderOptions options;
  options.block_size = 4096;
  options.max_line_bytes = 1024;
  LineSplitter splitter(std::make_unique<GeneratedSource>(
                            text, uint64_t{20} << 20, head.size(),
                            &largest_read),
                        options, 1000);
  std::vector<std::string> rows;
  LineBlock block;
  JsonLinesReader reader(options);
  for (;;) {
    auto more = splitter.Next(&block);
    ASSERT_OK(more.status());
    if (!*more) break;
    EXPECT_LE(block.capacity, options.max_line_bytes + options.block_size);
    AccountTable table;
    reader.ParseBlock(block, &table);
    eval::Batch batch(BasicModel());
    TableBinder(BasicModel()).Bind(table, &batch);
    for (size_t r = 0; r < batch.size(); ++r) {
      rows.push_back(std::string(batch.id(r)) + "|" +
                     (batch.row_ok(r) ? "" : batch.row_error(r)));
    }
  }
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0], "a|");
  EXPECT_THAT(rows[1], HasSubstr("|line 2: the line is 20971530 bytes long"));
  EXPECT_EQ(rows[2], "b|");
  EXPECT_LE(largest_read, options.max_line_bytes + options.block_size);
}

// A line longer than a block (but within --max-line-bytes) grows its
// block geometrically: read 7 bytes at a time, a 1 MiB line growing by one
// read per step would reallocate and copy 150,000 times (quadratic; the
// fuzzer timed out on it).
TEST(LineBlocksTest, LongLinesGrowTheirBlockGeometrically) {
  const std::string line =
      "{\"id\": \"a\", \"note\": \"" + std::string(1 << 20, 'x') + "\"}";
  ReaderOptions options;
  options.block_size = 7;
  options.max_line_bytes = 2 << 20;
  LineSplitter splitter(StringSource(line + "\n{\"id\": \"b\"}\n"), options,
                        1000);
  LineBlock block;
  std::vector<size_t> lines;
  for (;;) {
    auto more = splitter.Next(&block);
    ASSERT_OK(more.status());
    if (!*more) break;
    lines.push_back(block.lines);
    EXPECT_LE(block.capacity, options.max_line_bytes + options.block_size);
  }
  EXPECT_EQ(splitter.lines_read(), 2u);
  EXPECT_LE(splitter.allocations(), 64u);
}

TEST(LineBlocksTest, EmptyInputsHaveNoBlocks) {
  for (const char* text : {"", "\xEF\xBB\xBF"}) {
    LineSplitter splitter(StringSource(text), ReaderOptions(), 10);
    LineBlock block;
    auto more = splitter.Next(&block);
    ASSERT_OK(more.status());
    EXPECT_FALSE(*more);
    EXPECT_EQ(block.size, 0u);
  }
}

class FailingSource : public ByteSource {
 public:
  absl::StatusOr<size_t> Read(char* buf, size_t n) override {
    if (served_) return absl::DataLossError("cannot read in.jsonl: EIO");
    served_ = true;
    const std::string text = "{\"id\": \"a\"}\n{\"id\"";
    std::memcpy(buf, text.data(), std::min(n, text.size()));
    return std::min(n, text.size());
  }

 private:
  bool served_ = false;
};

TEST(LineBlocksTest, ReadErrorsAreReturned) {
  ReaderOptions options;
  options.block_size = 64;
  LineSplitter splitter(std::make_unique<FailingSource>(), options, 10);
  LineBlock block;
  EXPECT_THAT(splitter.Next(&block).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("in.jsonl")));
}

}  // namespace
}  // namespace healthscore::engine::io
