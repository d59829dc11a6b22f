// ScoringService.ScoreStream over a real channel: ordering, a 100,000-account
// bulk job, bounded read-ahead, errors mid-stream, deadlines and
// cancellation.

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/common/testing/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/log.h"
#include "server/status.h"
#include "server/testing/test_server.h"

namespace healthscore::server {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using ::testing::HasSubstr;
using namespace ::healthscore::server::testing;  // NOLINT

using Stream = grpc::ClientReaderWriter<v1::ScoreRequest, v1::ScoreResponse>;

class StreamTest : public ::testing::Test {
 protected:
  void Start(const ServerOptions& options = TestOptions()) {
    auto ts = StartTestServer(options);
    ASSERT_OK(ts.status());
    ts_ = std::move(ts).value();
  }
  std::unique_ptr<TestServer> ts_;
};

TEST_F(StreamTest, ResponsesComeInRequestOrderAndEqualScore) {
  Start();
  auto ctx = Context();
  std::unique_ptr<Stream> stream = ts_->scoring->ScoreStream(ctx.get());
  std::vector<v1::ScoreRequest> requests;
  for (int i = 0; i < 20; ++i) {
    // Sizes vary so that later batches often finish first.
    std::vector<Account> accounts =
        RandomAccounts(static_cast<size_t>((20 - i) * 37 % 300), 100 + i);
    v1::ScoreRequest r = (i % 2 == 0) ? MapRequest(accounts, "default", "1")
                                      : ColumnarRequest(accounts, "default",
                                                        "1");
    r.set_request_id(absl::StrCat("batch-", i));
    requests.push_back(r);
  }
  std::thread writer([&] {
    for (const auto& r : requests) {
      if (!stream->Write(r)) break;
    }
    stream->WritesDone();
  });
  std::vector<v1::ScoreResponse> responses;
  v1::ScoreResponse response;
  while (stream->Read(&response)) responses.push_back(response);
  writer.join();
  ASSERT_OK(FromGrpcStatus(stream->Finish()));
  ASSERT_EQ(responses.size(), requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(responses[i].request_id(), requests[i].request_id());
    v1::ScoreResponse unary;
    auto uctx = Context();
    ASSERT_TRUE(ts_->scoring->Score(uctx.get(), requests[i], &unary).ok());
    std::vector<std::string> ids;
    if (requests[i].has_columns()) {
      ids.assign(requests[i].columns().ids().begin(),
                 requests[i].columns().ids().end());
    }
    EXPECT_EQ(CanonicalResults(responses[i], ids),
              CanonicalResults(unary, ids));
  }
  EXPECT_EQ(ts_->server->stats().stream_batches, 20u);
}

// The nightly-job shape: 100,000 accounts through one stream, as 100
// columnar batches of 1,000 and then as a single batch of 100,000.
TEST_F(StreamTest, HundredThousandAccounts) {
  Start();
  std::vector<Account> accounts = RandomAccounts(100000, 42, false);
  for (int shape = 0; shape < 2; ++shape) {
    SCOPED_TRACE(shape == 0 ? "100 x 1,000" : "1 x 100,000");
    const size_t per_batch = shape == 0 ? 1000 : 100000;
    auto ctx = Context(absl::Minutes(5));
    std::unique_ptr<Stream> stream = ts_->scoring->ScoreStream(ctx.get());
    std::thread writer([&] {
      for (size_t begin = 0; begin < accounts.size(); begin += per_batch) {
        std::vector<Account> batch(accounts.begin() + begin,
                                   accounts.begin() + begin + per_batch);
        v1::ScoreRequest r = ColumnarRequest(batch);
        r.mutable_options()->set_omit_reasons(true);
        r.set_request_id(absl::StrCat(begin));
        if (!stream->Write(r)) break;
      }
      stream->WritesDone();
    });
    size_t scored = 0, batches = 0, tiers = 0;
    v1::ScoreResponse response;
    while (stream->Read(&response)) {
      EXPECT_EQ(response.request_id(), absl::StrCat(batches * per_batch));
      scored += static_cast<size_t>(response.columns().score_size());
      for (const auto& [tier, count] : response.tier_counts()) tiers += count;
      EXPECT_EQ(response.failed_accounts(), 0u);
      ++batches;
    }
    writer.join();
    ASSERT_OK(FromGrpcStatus(stream->Finish()));
    EXPECT_EQ(batches, 100000 / per_batch);
    EXPECT_EQ(scored, 100000u);
    EXPECT_EQ(tiers, 100000u);
  }
  EXPECT_EQ(ts_->server->stats().accounts_scored, 200000u);
}

// With scoring held, the server admits exactly max_stream_batches_in_flight
// batches and stops reading; the rest wait in the client (flow control).
TEST_F(StreamTest, ReadAheadIsBounded) {
  ServerOptions options = TestOptions();
  options.max_stream_batches_in_flight = 3;
  Start(options);
  ts_->server->HoldWorkForTest();
  auto ctx = Context();
  std::unique_ptr<Stream> stream = ts_->scoring->ScoreStream(ctx.get());
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; i < 30; ++i) {
      v1::ScoreRequest r = MapRequest(RandomAccounts(200, i, false));
      r.set_request_id(absl::StrCat(i));
      if (!stream->Write(r)) break;
      ++written;
    }
    stream->WritesDone();
  });
  ASSERT_TRUE(WaitFor([&] { return ts_->server->stats().stream_batches == 3; }));
  // Give a misbehaving server the chance to read further; a correct one
  // cannot, whatever the timing.
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_EQ(ts_->server->stats().stream_batches, 3u);
  EXPECT_EQ(ts_->server->stats().requests_in_progress, 3u);
  EXPECT_EQ(ts_->server->stats().accounts_in_progress, 600u);

  ts_->server->ReleaseWorkForTest();
  int read = 0;
  v1::ScoreResponse response;
  while (stream->Read(&response)) {
    EXPECT_EQ(response.request_id(), absl::StrCat(read));
    ++read;
  }
  writer.join();
  ASSERT_OK(FromGrpcStatus(stream->Finish()));
  EXPECT_EQ(read, 30);
  EXPECT_EQ(written.load(), 30);
}

TEST_F(StreamTest, ErrorEndsTheStreamAfterEarlierResponses) {
  Start();
  SetLogEnabledForTest(false);
  auto ctx = Context();
  std::unique_ptr<Stream> stream = ts_->scoring->ScoreStream(ctx.get());
  v1::ScoreRequest good = MapRequest(RandomAccounts(50, 1));
  v1::ScoreRequest unknown = MapRequest(RandomAccounts(5, 2), "nope");
  good.set_request_id("a");
  ASSERT_TRUE(stream->Write(good));
  good.set_request_id("b");
  ASSERT_TRUE(stream->Write(good));
  stream->Write(unknown);
  good.set_request_id("c");
  stream->Write(good);  // may fail: the server may have finished already
  stream->WritesDone();
  std::vector<std::string> ids;
  v1::ScoreResponse response;
  while (stream->Read(&response)) ids.push_back(response.request_id());
  EXPECT_THAT(ids, ::testing::ElementsAre("a", "b"));
  EXPECT_THAT(FromGrpcStatus(stream->Finish()),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("unknown model 'nope'")));
  SetLogEnabledForTest(true);
}

TEST_F(StreamTest, OversizedBatchEndsTheStream) {
  ServerOptions options = TestOptions();
  options.max_accounts_per_request = 100;
  Start(options);
  SetLogEnabledForTest(false);
  auto ctx = Context();
  std::unique_ptr<Stream> stream = ts_->scoring->ScoreStream(ctx.get());
  stream->Write(ColumnarRequest(RandomAccounts(101, 1)));
  stream->WritesDone();
  v1::ScoreResponse response;
  EXPECT_FALSE(stream->Read(&response));
  EXPECT_THAT(FromGrpcStatus(stream->Finish()),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("batch of 101 accounts exceeds "
                                 "max_accounts_per_request=100")));
  SetLogEnabledForTest(true);
}

TEST_F(StreamTest, OverCapacityEndsTheStreamWithResourceExhausted) {
  ServerOptions options = TestOptions();
  options.max_concurrent_requests = 2;
  Start(options);
  ts_->server->HoldWorkForTest();
  SetLogEnabledForTest(false);
  auto ctx = Context();
  std::unique_ptr<Stream> stream = ts_->scoring->ScoreStream(ctx.get());
  for (int i = 0; i < 3; ++i) stream->Write(MapRequest(RandomAccounts(5, i)));
  ASSERT_TRUE(WaitFor([&] {
    return ts_->server->stats().rejected_capacity == 1;
  }));
  ts_->server->ReleaseWorkForTest();
  stream->WritesDone();
  int read = 0;
  v1::ScoreResponse response;
  while (stream->Read(&response)) ++read;
  EXPECT_EQ(read, 2);
  EXPECT_THAT(FromGrpcStatus(stream->Finish()),
              StatusIs(absl::StatusCode::kResourceExhausted,
                       HasSubstr("max_concurrent_requests=2")));
  SetLogEnabledForTest(true);
}

TEST_F(StreamTest, CancellationDropsQueuedBatches) {
  Start();
  ts_->server->HoldWorkForTest();
  grpc::ClientContext ctx;
  std::unique_ptr<Stream> stream = ts_->scoring->ScoreStream(&ctx);
  ASSERT_TRUE(stream->Write(MapRequest(RandomAccounts(100, 1))));
  ASSERT_TRUE(stream->Write(MapRequest(RandomAccounts(100, 2))));
  ASSERT_TRUE(WaitFor([&] { return ts_->server->stats().stream_batches == 2; }));
  ctx.TryCancel();
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::CANCELLED);
  ASSERT_TRUE(WaitFor([&] { return ts_->server->stats().cancelled == 1; }));
  ts_->server->ReleaseWorkForTest();
  ASSERT_TRUE(WaitFor([&] {
    ServerStats s = ts_->server->stats();
    return s.dropped == 2 && s.requests_in_progress == 0;
  }));
  EXPECT_EQ(ts_->server->stats().accounts_scored, 0u);
}

TEST_F(StreamTest, DeadlineEndsTheStream) {
  Start();
  ts_->server->HoldWorkForTest();
  auto ctx = Context(absl::Milliseconds(300));
  std::unique_ptr<Stream> stream = ts_->scoring->ScoreStream(ctx.get());
  stream->Write(MapRequest(RandomAccounts(100, 1)));
  v1::ScoreResponse response;
  EXPECT_FALSE(stream->Read(&response));
  EXPECT_EQ(stream->Finish().error_code(),
            grpc::StatusCode::DEADLINE_EXCEEDED);
  ASSERT_TRUE(WaitFor([&] { return ts_->server->stats().cancelled == 1; }));
  ts_->server->ReleaseWorkForTest();
  ASSERT_TRUE(WaitFor([&] {
    ServerStats s = ts_->server->stats();
    return s.dropped == 1 && s.requests_in_progress == 0;
  }));
  EXPECT_EQ(ts_->server->stats().accounts_scored, 0u);
}

}  // namespace
}  // namespace healthscore::server
