#include "server/request_parsing.h"

#include <sys/resource.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "engine/common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "grpcpp/support/slice.h"
#include "gtest/gtest.h"
#include "healthscore/v1/model.pb.h"
#include "healthscore/v1/scoring.pb.h"
#include "server/log.h"

namespace healthscore::server {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

grpc::ByteBuffer Buffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string Describe(const std::string& bytes) {
  return DescribeWireFormatError(*v1::ScoreRequest::descriptor(), bytes);
}

// A valid request with two accounts, the second with a metric.
std::string ValidRequest() {
  v1::ScoreRequest r;
  r.set_model("default");
  r.add_accounts()->set_id("a");
  v1::AccountSnapshot* b = r.add_accounts();
  b->set_id("b");
  (*b->mutable_metrics())["dau_mau"] = 0.5;
  return r.SerializeAsString();
}

// Field `number` (< 16) of wire type 2 holding `payload`.
std::string LengthDelimited(int number, const std::string& payload) {
  std::string out(1, static_cast<char>(number << 3 | 2));
  for (size_t n = payload.size();; n >>= 7) {
    if (n < 0x80) {
      out += static_cast<char>(n);
      break;
    }
    out += static_cast<char>(0x80 | (n & 0x7f));
  }
  return out + payload;
}

TEST(DescribeWireFormatErrorTest, ValidMessagesHaveNoProblem) {
  EXPECT_THAT(Describe(""), IsEmpty());
  EXPECT_THAT(Describe(ValidRequest()), IsEmpty());
  // Unknown fields are skipped, as the parser skips them.
  EXPECT_THAT(Describe(std::string("\xa0\x06\x01", 3)), IsEmpty());
}

TEST(DescribeWireFormatErrorTest, NamesTheFieldAndTheOffset) {
  // Truncated varint: field 15 (unknown), varint with its continuation bit
  // set and nothing after it.
  EXPECT_EQ(Describe("\x78\xff"),
            "(field 15) at byte 0: varint cut short or over 10 bytes");
  // Invalid wire type 7 for field 1.
  EXPECT_EQ(Describe("\x0f"), "model at byte 0: invalid wire type 7");
  EXPECT_EQ(Describe("\x0c"), "model at byte 0: end-group tag without a group");
  // A length prefix of 2^31 - 1 with 3 bytes after it.
  EXPECT_EQ(Describe("\x0a\xff\xff\xff\xff\x07"
                     "abc"),
            "model at byte 0: length prefix 2147483647 exceeds the 3 bytes "
            "left");
  EXPECT_EQ(Describe(std::string("\x00", 1)),
            "at byte 0: invalid field tag (a field number 0, or a varint cut "
            "short)");
}

TEST(DescribeWireFormatErrorTest, FollowsNestedMessages) {
  const std::string valid = ValidRequest();
  // The second account's id is not UTF-8.
  const std::string bad_account = LengthDelimited(1, "\xff\xfe");
  EXPECT_EQ(Describe(valid + LengthDelimited(4, bad_account)),
            absl::StrCat("accounts[2].id at byte ", valid.size() + 2,
                         ": invalid UTF-8 in a string field (send binary "
                         "data as text, e.g. base64)"));
  // A map entry's key (metrics is field 3 of AccountSnapshot).
  const std::string bad_key = LengthDelimited(3, LengthDelimited(1, "\xc3"));
  EXPECT_THAT(Describe(LengthDelimited(4, bad_key)),
              HasSubstr("accounts[0].metrics.key at byte 4: invalid UTF-8"));
  // A length that runs past its enclosing message, not only the input.
  const std::string overrun = std::string("\x22\x02\x0a\x05", 4) + "abcde";
  EXPECT_EQ(Describe(overrun),
            "accounts[0].id at byte 2: length prefix 5 exceeds the 0 bytes "
            "left");
}

TEST(DescribeWireFormatErrorTest, BoundsNestingAndPathLength) {
  // google.protobuf.Value nests through list_value (6) -> values (1).
  std::string bytes;
  for (int i = 0; i < 150; ++i) {
    bytes = LengthDelimited(6, LengthDelimited(1, bytes));
  }
  const std::string problem =
      DescribeWireFormatError(*google::protobuf::Value::descriptor(), bytes);
  EXPECT_THAT(problem, HasSubstr(": messages nested deeper than 100"));
  // The path is shown by its end only.
  EXPECT_THAT(problem, StartsWith("…"));
  EXPECT_THAT(problem, HasSubstr("list_value.values[0].list_value at byte"));
  EXPECT_LT(problem.size(), 300u);
}

TEST(ParseRequestBodyTest, ParsesValidBodies) {
  v1::ScoreRequest request;
  ASSERT_OK(ParseRequestBody(Buffer(ValidRequest()), &request));
  EXPECT_EQ(request.model(), "default");
  EXPECT_EQ(request.accounts_size(), 2);
}

TEST(ParseRequestBodyTest, NamesTheMessageTypeAndTheProblem) {
  RouteLibraryLogs();  // libprotobuf's own complaint must not be logged
  v1::ScoreRequest request;
  EXPECT_THAT(
      ParseRequestBody(Buffer(LengthDelimited(1, "\xff")), &request),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "request body is not a valid healthscore.v1.ScoreRequest: "
               "model at byte 0: invalid UTF-8 in a string field (send "
               "binary data as text, e.g. base64)"));
  v1::ValidateModelRequest validate;
  EXPECT_THAT(
      ParseRequestBody(Buffer("\x12\x7f"), &validate),
      StatusIs(absl::StatusCode::kInvalidArgument,
               "request body is not a valid "
               "healthscore.v1.ValidateModelRequest: file_name at byte 0: "
               "length prefix 127 exceeds the 0 bytes left"));
  EXPECT_THAT(ParseRequestBody(grpc::ByteBuffer(), &validate),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       "the call carried no "
                       "healthscore.v1.ValidateModelRequest message"));
}

long ResidentKb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) != 0) continue;
    std::vector<std::string> parts =
        absl::StrSplit(line, ' ', absl::SkipEmpty());
    long kb = 0;
    if (parts.size() >= 2 && absl::SimpleAtoi(parts[1], &kb)) return kb;
  }
  return -1;
}

#if defined(__GLIBC__) && !defined(__SANITIZE_ADDRESS__)
// Calls below 16 MiB are trimmed in the background, once for a burst of
// them: memory freed in the middle of a heap (a live block above it, which
// glibc's free alone never returns) goes back to the system shortly after.
TEST(ReturnMemoryAfterLargeWorkTest, SmallCallsAreTrimmedInTheBackground) {
  constexpr int kBlocks = 1024;
  constexpr size_t kBlock = 48 << 10;  // below glibc's mmap threshold
  std::vector<void*> blocks;
  void* top = nullptr;
  // A thread of its own: its arena holds only these blocks.
  std::thread([&] {
    for (int i = 0; i < kBlocks; ++i) {
      char* b = static_cast<char*>(std::malloc(kBlock));
      for (size_t j = 0; j < kBlock; j += 4096) b[j] = 1;
      blocks.push_back(b);
    }
    top = std::malloc(64);  // keeps the freed blocks off the heap's top
    for (void* b : blocks) std::free(b);
  }).join();
  const long held_kb = ResidentKb();
  // Forty 1 MiB calls, each below the size trimmed at once.
  for (int i = 0; i < 40; ++i) ReturnMemoryAfterLargeWork(1 << 20);
  long now_kb = ResidentKb();
  for (int i = 0; i < 100 && now_kb > held_kb - 16 * 1024; ++i) {
    absl::SleepFor(absl::Milliseconds(50));
    now_kb = ResidentKb();
  }
  EXPECT_LE(now_kb, held_kb - 16 * 1024)
      << "held " << held_kb << " kB, now " << now_kb << " kB";
  std::free(top);
}
#endif

long MinorFaults() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// The blocks of one call's arena serve the next call: the pages are not
// handed back and faulted in again on every call.
TEST(CallArenaOptionsTest, TheNextCallReusesTheBlocks) {
  constexpr size_t kArray = 512 << 10;  // one 1 MiB block each
  constexpr int kArrays = 24;
  auto call = [] {
    google::protobuf::Arena arena(CallArenaOptions());
    for (int i = 0; i < kArrays; ++i) {
      char* p = google::protobuf::Arena::CreateArray<char>(&arena, kArray);
      std::memset(p, 1, kArray);
    }
  };
  call();
  const long before = MinorFaults();
  call();
  const long faults = MinorFaults() - before;
  // Fresh pages would be kArrays * kArray / 4096 = 3,072 faults.
  EXPECT_LT(faults, 300);
}

}  // namespace
}  // namespace healthscore::server
