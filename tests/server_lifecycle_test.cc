// Server lifecycle: graceful shutdown with requests in flight (in-process),
// and the real healthscore-server binary on an ephemeral port: flags,
// config file, errors at start, SIGTERM/SIGINT with work in flight, exit
// codes and log lines.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel_posix.h"
#include "gtest/gtest.h"
#include "server/log.h"
#include "server/status.h"
#include "server/testing/server_process.h"
#include "server/testing/test_server.h"

namespace healthscore::server {
namespace {

using ::healthscore::engine::common::testing::ScratchDir;
using ::healthscore::engine::common::testing::StatusIs;
using ::testing::HasSubstr;
using namespace ::healthscore::server::testing;  // NOLINT
using HealthResponse = grpc::health::v1::HealthCheckResponse;

// Graceful shutdown, in process: health turns NOT_SERVING first, the
// requests in flight finish with their results, then the server stops.
TEST(LifecycleTest, ShutdownFinishesRequestsInFlight) {
  auto started = StartTestServer();
  ASSERT_OK(started.status());
  TestServer& ts = **started;

  grpc::ClientContext watch_ctx;
  grpc::health::v1::HealthCheckRequest watch_request;
  auto watch = ts.health->Watch(&watch_ctx, watch_request);
  HealthResponse health;
  ASSERT_TRUE(watch->Read(&health));
  EXPECT_EQ(health.status(), HealthResponse::SERVING);

  ts.server->HoldWorkForTest();
  constexpr int kCalls = 3;
  std::vector<v1::ScoreRequest> requests(kCalls);
  std::vector<v1::ScoreResponse> responses(kCalls);
  std::vector<grpc::Status> statuses(kCalls);
  std::vector<std::unique_ptr<grpc::ClientContext>> contexts;
  std::atomic<int> done{0};
  for (int i = 0; i < kCalls; ++i) {
    requests[i] = MapRequest(RandomAccounts(100, i, false));
    contexts.push_back(Context());
    ts.scoring->async()->Score(contexts[i].get(), &requests[i], &responses[i],
                               [&, i](grpc::Status s) {
                                 statuses[i] = s;
                                 ++done;
                               });
  }
  ASSERT_TRUE(WaitFor([&] {
    return ts.server->stats().requests_in_progress == kCalls;
  }));

  std::thread shutdown([&] {
    ts.server->Shutdown(absl::ZeroDuration(), absl::Seconds(60));
  });
  ASSERT_TRUE(watch->Read(&health));
  EXPECT_EQ(health.status(), HealthResponse::NOT_SERVING);
  watch_ctx.TryCancel();
  watch->Finish();

  EXPECT_EQ(done.load(), 0);  // still held: nothing was cut off
  ts.server->ReleaseWorkForTest();
  shutdown.join();
  // The server has sent every response; the client runs its callbacks on
  // its own threads, possibly just after.
  ASSERT_TRUE(WaitFor([&] { return done.load() == kCalls; }));
  for (int i = 0; i < kCalls; ++i) {
    EXPECT_TRUE(statuses[i].ok()) << statuses[i].error_message();
    EXPECT_EQ(responses[i].results_size(), 100);
  }
  // Stopped: new calls cannot get through.
  v1::ScoreResponse r;
  auto ctx = Context(absl::Seconds(5));
  EXPECT_EQ(ts.scoring->Score(ctx.get(), requests[0], &r).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

// Calls still running when the grace period ends are cancelled and their
// work dropped.
TEST(LifecycleTest, GracePeriodBoundsShutdown) {
  auto started = StartTestServer();
  ASSERT_OK(started.status());
  TestServer& ts = **started;
  ts.server->HoldWorkForTest();
  v1::ScoreRequest request = MapRequest(RandomAccounts(50, 1, false));
  v1::ScoreResponse response;
  grpc::Status status;
  std::atomic<bool> done{false};
  auto ctx = Context();
  ts.scoring->async()->Score(ctx.get(), &request, &response,
                             [&](grpc::Status s) {
                               status = s;
                               done = true;
                             });
  ASSERT_TRUE(WaitFor([&] {
    return ts.server->stats().requests_in_progress == 1;
  }));
  std::thread shutdown([&] {
    ts.server->Shutdown(absl::ZeroDuration(), absl::Milliseconds(200));
  });
  ASSERT_TRUE(WaitFor([&] { return done.load(); }));
  // gRPC cancels the calls left at the deadline; the client sees
  // UNAVAILABLE (retryable on another replica).
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
  ts.server->ReleaseWorkForTest();
  shutdown.join();
  EXPECT_EQ(ts.server->stats().dropped, 1u);
  EXPECT_EQ(ts.server->stats().accounts_scored, 0u);
}

TEST(ServerBinaryTest, HelpDocumentsEveryFlag) {
  ServerProcess p;
  ASSERT_TRUE(p.Spawn(ScratchDir("help"), {"--help"}));
  EXPECT_EQ(p.Wait(), 0);
  std::string out = p.out();
  for (const char* flag :
       {"--config FILE", "--listen HOST:PORT", "--models DIR",
        "--default-model NAME", "--plugins DIR", "--threads N",
        "--max-accounts-per-request N", "--max-message-bytes BYTES",
        "--max-concurrent-requests N", "--max-pending-accounts N",
        "--max-bytes-in-flight BYTES",
        "--max-stream-batches-in-flight N", "--max-concurrent-streams N",
        "--rows-per-task N", "--inline-accounts N",
        "--shutdown-wait DURATION",
        "--shutdown-grace DURATION", "--port-file FILE",
        "--metrics-port PORT", "--metrics-address IP",
        "--metrics-port-file FILE", "--max-concurrent-validations N",
        "--validation-timeout DURATION", "--max-model-bytes BYTES",
        "--max-yaml-nodes N"}) {
    EXPECT_THAT(out, HasSubstr(flag));
  }
  EXPECT_THAT(out, HasSubstr("[default: 127.0.0.1:50051]"));
  EXPECT_THAT(out, HasSubstr("[default: rules]"));
  EXPECT_THAT(out, HasSubstr("[default: 100000]"));
  EXPECT_THAT(out, HasSubstr("[default: 4MiB]"));
  EXPECT_THAT(out, HasSubstr("[default: 10s]"));
}

TEST(ServerBinaryTest, BadFlagsExitTwo) {
  ServerProcess p;
  ASSERT_TRUE(p.Spawn(ScratchDir("badflag"), {"--listn", "127.0.0.1:0"}));
  EXPECT_EQ(p.Wait(), 2);
  EXPECT_THAT(p.err(),
              HasSubstr("unknown flag --listn (did you mean 'listen'?)"));

  ServerProcess q;
  ASSERT_TRUE(q.Spawn(ScratchDir("badvalue"), {"--threads", "many"}));
  EXPECT_EQ(q.Wait(), 2);
  EXPECT_THAT(q.err(), HasSubstr("--threads: expected a non-negative "
                                 "integer, got 'many'"));
}

TEST(ServerBinaryTest, MissingModelDirectoryExitsOne) {
  ServerProcess p;
  ASSERT_TRUE(p.Spawn(ScratchDir("nomodels"),
                      {"--listen", "127.0.0.1:0", "--models",
                       "/nonexistent/rules"}));
  EXPECT_EQ(p.Wait(), 1);
  EXPECT_THAT(p.err(), HasSubstr("model directory /nonexistent/rules does "
                                 "not exist"));
}

TEST(ServerBinaryTest, AddressInUseExitsOne) {
  auto other = StartTestServer();
  ASSERT_OK(other.status());
  ServerProcess p;
  ASSERT_TRUE(p.Spawn(ScratchDir("inuse"),
                      {"--listen", (*other)->target(), "--models",
                       TestModelsDir()}));
  EXPECT_EQ(p.Wait(), 1);
  EXPECT_THAT(p.err(), HasSubstr("cannot listen on " + (*other)->target()));
}

// The real binary: serves, then on SIGTERM finishes the stream in flight
// and exits 0, logging each step.
TEST(ServerBinaryTest, SigtermFinishesWorkInFlightAndExitsZero) {
  const std::string dir = ScratchDir("sigterm");
  const std::string port_file = dir + "/port";
  std::remove(port_file.c_str());
  ServerProcess p;
  ASSERT_TRUE(p.Spawn(dir, {"--listen", "127.0.0.1:0", "--port-file",
                            port_file, "--models", TestModelsDir(),
                            "--threads", "2"}));
  const int port = p.WaitForPort(port_file);
  ASSERT_GT(port, 0) << p.err();
  auto channel = MakeChannel(absl::StrCat("127.0.0.1:", port));
  auto scoring = v1::ScoringService::NewStub(channel);
  auto health = grpc::health::v1::Health::NewStub(channel);

  HealthResponse h;
  auto hctx = Context();
  ASSERT_TRUE(
      health->Check(hctx.get(), grpc::health::v1::HealthCheckRequest(), &h)
          .ok());
  EXPECT_EQ(h.status(), HealthResponse::SERVING);

  auto ctx = Context();
  auto stream = scoring->ScoreStream(ctx.get());
  v1::ScoreRequest batch = ColumnarRequest(RandomAccounts(1000, 9, false));
  ASSERT_TRUE(stream->Write(batch));
  v1::ScoreResponse response;
  ASSERT_TRUE(stream->Read(&response));  // the stream is live

  p.Signal(SIGTERM);
  int read = 1;
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(stream->Write(batch));
  }
  stream->WritesDone();
  while (stream->Read(&response)) {
    EXPECT_EQ(response.columns().score_size(), 1000);
    ++read;
  }
  EXPECT_OK(FromGrpcStatus(stream->Finish()));
  EXPECT_EQ(read, 5);

  EXPECT_EQ(p.Wait(), 0);
  std::string log = p.err();
  EXPECT_THAT(log, HasSubstr("healthscore server 0.1.0 starting"));
  EXPECT_THAT(log, HasSubstr("loaded model default version 2"));
  EXPECT_THAT(log, HasSubstr("failed to load model default version 3"));
  EXPECT_THAT(log, HasSubstr(absl::StrCat("serving on 127.0.0.1:", port)));
  EXPECT_THAT(log, HasSubstr("received SIGTERM"));
  EXPECT_THAT(log, HasSubstr("shutting down: health NOT_SERVING"));
  EXPECT_THAT(log, HasSubstr("shutdown complete"));
  EXPECT_THAT(log, HasSubstr("5000 accounts scored"));
  EXPECT_EQ(ReadFile(port_file), "");  // removed on exit
}

// Starts the server binary in `dir` on a free port of 127.0.0.1 with the
// test models and `extra` flags; its port, or 0 when it did not start.
int SpawnOnAFreePort(ServerProcess* p, const std::string& dir,
                     const std::vector<std::string>& extra) {
  const std::string port_file = dir + "/port";
  std::remove(port_file.c_str());
  std::vector<std::string> args = {"--listen", "127.0.0.1:0", "--port-file",
                                   port_file, "--models", TestModelsDir()};
  args.insert(args.end(), extra.begin(), extra.end());
  if (!p->Spawn(dir, args)) return 0;
  return p->WaitForPort(port_file);
}

// A channel over a connection to 127.0.0.1:`port` whose receive buffer
// is a few KiB and whose flow-control window stays at gRPC's initial
// 64 KiB, so that what the server sends waits in its own kernel while the
// client reads; null when the socket cannot be made.
std::shared_ptr<grpc::Channel> SmallWindowChannel(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return nullptr;
  const int rcvbuf = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return nullptr;
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(256 << 20);
  // No bandwidth probing, which could widen the client's flow-control
  // window far enough for gRPC to take every response in on its own (its
  // backup poller reads the socket now and then, whoever calls Read).
  args.SetInt("grpc.http2.bdp_probe", 0);
  return grpc::CreateCustomInsecureChannelFromFd(
      absl::StrCat("127.0.0.1:", port), fd, args);
}

// A client that reads its responses slowly still gets every one of them
// when the server stops. The server's call is done once its last response
// is handed to the kernel, but those bytes may still wait there for the
// client to make room. A connection closed then is reset by the next frame
// the client sends (here a second call; a flow-control update does the
// same), and the bytes still queued are lost: the client saw UNAVAILABLE
// ("Connection reset by peer") after its first response. The server waits
// for its connections to send what they hold first.
TEST(ServerBinaryTest, SigtermDeliversEveryResponseToASlowReader) {
  ServerProcess p;
  const int port = SpawnOnAFreePort(&p, ScratchDir("sigterm-slow-reader"),
                                    {"--threads", "2"});
  ASSERT_GT(port, 0) << p.err();
  auto channel = SmallWindowChannel(port);
  ASSERT_NE(channel, nullptr) << strerror(errno);
  auto scoring = v1::ScoringService::NewStub(channel);
  auto health = grpc::health::v1::Health::NewStub(channel);

  // Six responses of about 17 KB: more than the client's receive buffer
  // holds, few enough for the server's kernel to take them all, so the call
  // is done while most of them wait there.
  constexpr int kBatches = 6;
  constexpr int kAccounts = 100;
  auto ctx = Context();
  auto stream = scoring->ScoreStream(ctx.get());
  const v1::ScoreRequest batch =
      ColumnarRequest(RandomAccounts(kAccounts, 11, false));
  for (int i = 0; i < kBatches; ++i) ASSERT_TRUE(stream->Write(batch));
  stream->WritesDone();
  v1::ScoreResponse response;
  ASSERT_TRUE(stream->Read(&response));  // the server is at work
  p.Signal(SIGTERM);
  // Time for the server to finish the call and reach its connections;
  // then a frame from the client, whatever the server answers the call.
  absl::SleepFor(absl::Milliseconds(300));
  HealthResponse h;
  auto hctx = Context();
  health->Check(hctx.get(), grpc::health::v1::HealthCheckRequest(), &h)
      .IgnoreError();
  int read = 1;
  while (stream->Read(&response)) {
    EXPECT_EQ(response.columns().score_size(), kAccounts);
    ++read;
  }
  EXPECT_OK(FromGrpcStatus(stream->Finish()));
  EXPECT_EQ(read, kBatches);
  EXPECT_EQ(p.Wait(), 0);
  EXPECT_THAT(p.err(), HasSubstr(absl::StrCat(kBatches * kAccounts,
                                              " accounts scored")));
}

// A client that stops reading holds the stop only to the end of the grace
// period: then its connection is closed, and the log says so. About 1 MB
// of responses, far more than the client's window and socket take: the
// rest waits in the server, whose send queue never empties.
TEST(ServerBinaryTest, AClientThatStopsReadingHoldsTheStopOnlyForTheGrace) {
  ServerProcess p;
  const int port = SpawnOnAFreePort(&p, ScratchDir("sigterm-stalled-reader"),
                                    {"--shutdown-grace", "1s"});
  ASSERT_GT(port, 0) << p.err();
  auto channel = SmallWindowChannel(port);
  ASSERT_NE(channel, nullptr) << strerror(errno);
  auto scoring = v1::ScoringService::NewStub(channel);
  auto ctx = Context();
  auto stream = scoring->ScoreStream(ctx.get());
  const v1::ScoreRequest batch =
      ColumnarRequest(RandomAccounts(1000, 12, false));
  for (int i = 0; i < 6; ++i) ASSERT_TRUE(stream->Write(batch));
  stream->WritesDone();
  v1::ScoreResponse response;
  ASSERT_TRUE(stream->Read(&response));
  p.Signal(SIGTERM);  // and never read again
  EXPECT_EQ(p.Wait(), 0);
  EXPECT_THAT(p.err(),
              HasSubstr("1 of 1 connections still held responses their "
                        "clients had not read at the end of the grace period "
                        "of 1s; closed"));
  EXPECT_THAT(p.err(), HasSubstr("shutdown complete"));
}

TEST(ServerBinaryTest, SigintExitsZero) {
  const std::string dir = ScratchDir("sigint");
  const std::string port_file = dir + "/port";
  std::remove(port_file.c_str());
  ServerProcess p;
  ASSERT_TRUE(p.Spawn(dir, {"--listen", "127.0.0.1:0", "--port-file",
                            port_file, "--models", TestModelsDir()}));
  ASSERT_GT(p.WaitForPort(port_file), 0) << p.err();
  p.Signal(SIGINT);
  EXPECT_EQ(p.Wait(), 0);
  EXPECT_THAT(p.err(), HasSubstr("received SIGINT"));
}

// Settings from a YAML file (paths relative to it); flags override it.
TEST(ServerBinaryTest, ConfigFileAndFlagOverride) {
  const std::string dir = ScratchDir("config");
  {
    std::ofstream config(dir + "/server.yaml");
    config << "listen: 127.0.0.1:0\n"
           << "models: " << TestModelsDir() << "\n"
           << "max_accounts_per_request: 5\n"
           << "port_file: port\n";  // relative to the file: dir/port
  }
  for (bool override_flag : {false, true}) {
    SCOPED_TRACE(override_flag ? "with flag" : "file only");
    std::remove((dir + "/port").c_str());
    std::vector<std::string> args = {"--config", dir + "/server.yaml"};
    if (override_flag) {
      args.push_back("--max-accounts-per-request=6");
    }
    ServerProcess p;
    ASSERT_TRUE(p.Spawn(dir, args));
    const int port = p.WaitForPort(dir + "/port");
    ASSERT_GT(port, 0) << p.err();
    auto scoring = v1::ScoringService::NewStub(
        MakeChannel(absl::StrCat("127.0.0.1:", port)));
    v1::ScoreResponse r;
    auto ctx = Context();
    absl::Status s = FromGrpcStatus(scoring->Score(
        ctx.get(), MapRequest(RandomAccounts(6, 1, false)), &r));
    if (override_flag) {
      EXPECT_OK(s);
    } else {
      EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument,
                              HasSubstr("max_accounts_per_request=5")));
    }
    p.Signal(SIGTERM);
    EXPECT_EQ(p.Wait(), 0);
    EXPECT_THAT(p.err(), HasSubstr("config " + dir + "/server.yaml"));
  }
}

TEST(ServerBinaryTest, BadConfigFileExitsTwo) {
  const std::string dir = ScratchDir("badconfig");
  {
    std::ofstream config(dir + "/server.yaml");
    config << "listen: 127.0.0.1:0\nmax_acounts_per_request: 5\n";
  }
  ServerProcess p;
  ASSERT_TRUE(p.Spawn(dir, {"--config", dir + "/server.yaml"}));
  EXPECT_EQ(p.Wait(), 2);
  EXPECT_THAT(p.err(), HasSubstr("server.yaml:2:1: unknown setting "
                                 "'max_acounts_per_request' (did you mean "
                                 "'max_accounts_per_request'?)"));
}

}  // namespace
}  // namespace healthscore::server
