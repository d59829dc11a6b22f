#include "server/decision_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::server {
namespace {

using ::healthscore::engine::common::testing::ReadFile;
using ::healthscore::engine::common::testing::ScratchDir;
using ::healthscore::engine::common::testing::StatusIs;
using ::testing::HasSubstr;

// A record of exactly `size` bytes, its line break included.
std::string Line(int n, size_t size = 30) {
  std::string line = absl::StrCat("{\"n\":", n, ",\"pad\":\"");
  const size_t tail = 3;  // "}\n and the closing quote
  line.append(size - line.size() - tail, 'x');
  line.append("\"}\n");
  return line;
}

std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text, '\n', absl::SkipEmpty());
}

DecisionLogOptions Options(const std::string& path) {
  DecisionLogOptions o;
  o.path = path;
  return o;
}

TEST(SampleKeyTest, IsFixedForEveryRelease) {
  // The sample decides which accounts an operator's log holds: a change
  // of the function would silently change it, so its values are pinned.
  EXPECT_DOUBLE_EQ(SampleKey("acme-corp"), SampleKey("acme-corp"));
  const double a = SampleKey("acme-corp");
  const double b = SampleKey("acme-corq");
  EXPECT_GE(a, 0);
  EXPECT_LT(a, 1);
  EXPECT_NE(a, b);
  // docs/operations.md gives the same function in Python.
  EXPECT_DOUBLE_EQ(SampleKey(""), 0.95767342524205612);
  EXPECT_DOUBLE_EQ(SampleKey("acme-corp"), 0.95046085499814759);
  EXPECT_DOUBLE_EQ(SampleKey("account-1"), 0.60160539511819755);
}

TEST(SampleKeyTest, RateIsRoughlyHonouredAndNested) {
  auto sampled = [](const std::string& name, double rate) {
    DecisionLogOptions o = Options(ScratchDir(name) + "/decisions.jsonl");
    o.sample = rate;
    return DecisionLog::Open(o);
  };
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<DecisionLog> one,
                       sampled("dl_rate1", 0.01));
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<DecisionLog> ten,
                       sampled("dl_rate10", 0.1));
  int in_one = 0, in_ten = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string id = absl::StrCat("account-", i);
    const bool a = one->Sampled(id);
    const bool b = ten->Sampled(id);
    in_one += a;
    in_ten += b;
    // Lowering the rate only removes accounts.
    if (a) {
      EXPECT_TRUE(b) << id;
    }
  }
  // 200 and 2,000 expected; these bounds are over 5 standard deviations.
  EXPECT_GT(in_one, 130);
  EXPECT_LT(in_one, 270);
  EXPECT_GT(in_ten, 1780);
  EXPECT_LT(in_ten, 2220);
}

TEST(DecisionLogTest, WritesRecordsInOrder) {
  const std::string path = ScratchDir("dl_order") + "/decisions.jsonl";
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<DecisionLog> log,
                       DecisionLog::Open(Options(path)));
  log->Submit(Line(1) + Line(2), 2);
  log->Submit(Line(3), 1);
  log->Submit("", 0);
  ASSERT_TRUE(log->FlushForTest(absl::Seconds(60)));
  EXPECT_EQ(ReadFile(path), Line(1) + Line(2) + Line(3));
  const DecisionLogStats stats = log->stats();
  EXPECT_EQ(stats.written, 3u);
  EXPECT_EQ(stats.bytes_written, 90u);
  EXPECT_EQ(stats.dropped_buffer_full, 0u);
  EXPECT_EQ(stats.queued_bytes, 0u);
}

TEST(DecisionLogTest, FullBufferDropsWholeLinesAndCountsThem) {
  const std::string path = ScratchDir("dl_full") + "/decisions.jsonl";
  DecisionLogOptions o = Options(path);
  o.buffer_bytes = 100;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<DecisionLog> log, DecisionLog::Open(o));
  log->PauseWriterForTest();
  // 3 x 30 bytes fit; the fourth line would pass 100.
  log->Submit(Line(1) + Line(2) + Line(3) + Line(4), 4);
  EXPECT_EQ(log->stats().dropped_buffer_full, 1u);
  EXPECT_EQ(log->stats().queued_bytes, 90u);
  // No room for a whole line: all of it is dropped, at once.
  log->Submit(Line(5) + Line(6), 2);
  EXPECT_EQ(log->stats().dropped_buffer_full, 3u);
  log->ResumeWriterForTest();
  ASSERT_TRUE(log->FlushForTest(absl::Seconds(60)));
  EXPECT_EQ(ReadFile(path), Line(1) + Line(2) + Line(3));
  // Written records give their room back.
  log->Submit(Line(7), 1);
  ASSERT_TRUE(log->FlushForTest(absl::Seconds(60)));
  EXPECT_EQ(Lines(ReadFile(path)).size(), 4u);
  EXPECT_EQ(log->stats().written, 4u);
  EXPECT_EQ(log->stats().dropped_buffer_full, 3u);
}

TEST(DecisionLogTest, RotatesBeforeTheSizeAndKeepsMaxFiles) {
  const std::string dir = ScratchDir("dl_rotate");
  const std::string path = dir + "/decisions.jsonl";
  DecisionLogOptions o = Options(path);
  o.max_bytes = 100;  // three 30-byte records a file
  o.max_files = 2;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<DecisionLog> log, DecisionLog::Open(o));
  std::string all;
  for (int i = 1; i <= 10; ++i) all += Line(i);
  log->Submit(all, 10);
  ASSERT_TRUE(log->FlushForTest(absl::Seconds(60)));
  EXPECT_EQ(ReadFile(path), Line(10));
  EXPECT_EQ(ReadFile(path + ".1"), Line(7) + Line(8) + Line(9));
  EXPECT_EQ(ReadFile(path + ".2"), Line(4) + Line(5) + Line(6));
  EXPECT_FALSE(std::filesystem::exists(path + ".3"));
  EXPECT_EQ(log->stats().rotations, 3u);
  EXPECT_EQ(log->stats().written, 10u);
}

TEST(DecisionLogTest, RecordLargerThanMaxBytesGetsAFileOfItsOwn) {
  const std::string path = ScratchDir("dl_large") + "/decisions.jsonl";
  DecisionLogOptions o = Options(path);
  o.max_bytes = 100;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<DecisionLog> log, DecisionLog::Open(o));
  log->Submit(Line(1) + Line(2, 250) + Line(3), 3);
  ASSERT_TRUE(log->FlushForTest(absl::Seconds(60)));
  EXPECT_EQ(ReadFile(path + ".2"), Line(1));
  EXPECT_EQ(ReadFile(path + ".1"), Line(2, 250));
  EXPECT_EQ(ReadFile(path), Line(3));
}

TEST(DecisionLogTest, AppendsToAnExistingFileAndCountsItsSize) {
  const std::string path = ScratchDir("dl_append") + "/decisions.jsonl";
  {
    ASSERT_OK_AND_ASSIGN(std::unique_ptr<DecisionLog> log,
                         DecisionLog::Open(Options(path)));
    log->Submit(Line(1) + Line(2), 2);
  }  // the destructor writes what is queued
  EXPECT_EQ(ReadFile(path), Line(1) + Line(2));
  DecisionLogOptions o = Options(path);
  o.max_bytes = 100;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<DecisionLog> log, DecisionLog::Open(o));
  log->Submit(Line(3) + Line(4), 2);
  ASSERT_TRUE(log->FlushForTest(absl::Seconds(60)));
  EXPECT_EQ(ReadFile(path + ".1"), Line(1) + Line(2) + Line(3));
  EXPECT_EQ(ReadFile(path), Line(4));
}

TEST(DecisionLogTest, OpenErrorsNameTheFlag) {
  const std::string dir = ScratchDir("dl_errors");
  EXPECT_THAT(DecisionLog::Open(Options(dir + "/missing/decisions.jsonl")),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("--decision-log: cannot open ")));
  DecisionLogOptions o = Options(dir + "/d.jsonl");
  o.sample = 0;
  EXPECT_THAT(DecisionLog::Open(o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--decision-log-sample must be above 0")));
  o.sample = 1.5;
  EXPECT_THAT(DecisionLog::Open(o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--decision-log-sample must be above 0")));
  o = Options(dir + "/d.jsonl");
  o.max_files = 0;
  EXPECT_THAT(DecisionLog::Open(o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--decision-log-max-files must be between")));
  o = Options(dir + "/d.jsonl");
  o.mask = {"nps", ""};
  EXPECT_THAT(DecisionLog::Open(o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--decision-log-mask: empty name")));
}

TEST(DecisionLogTest, FifoWithoutReaderIsRefusedAtOpen) {
  const std::string fifo = ScratchDir("dl_fifo") + "/decisions.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_THAT(DecisionLog::Open(Options(fifo)),
              StatusIs(absl::StatusCode::kUnavailable,
                       HasSubstr("a FIFO needs a reader")));
}

TEST(DecisionLogTest, FailedWritesAreCountedAndTheFileReopened) {
  const std::string fifo = ScratchDir("dl_epipe") + "/decisions.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<DecisionLog> log,
                       DecisionLog::Open(Options(fifo)));
  ::close(reader);  // the reader goes away: writes fail (EPIPE)
  log->Submit(Line(1) + Line(2), 2);
  ASSERT_TRUE(log->FlushForTest(absl::Seconds(60)));
  DecisionLogStats stats = log->stats();
  EXPECT_EQ(stats.dropped_write_error, 2u);
  EXPECT_GE(stats.write_errors, 1u);
  EXPECT_EQ(stats.written, 0u);
  // A new reader: the next write reopens the FIFO and gets through.
  reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  log->Submit(Line(3), 1);
  ASSERT_TRUE(log->FlushForTest(absl::Seconds(60)));
  EXPECT_EQ(log->stats().written, 1u);
  char buffer[256];
  const ssize_t n = ::read(reader, buffer, sizeof buffer);
  EXPECT_EQ(std::string(buffer, n > 0 ? static_cast<size_t>(n) : 0), Line(3));
  ::close(reader);
}

}  // namespace
}  // namespace healthscore::server
