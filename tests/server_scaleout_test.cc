// Scale-out on loopback (issue 15, docs/scaling.md): three replicas of the
// real healthscore-server, each its own process, behind the two balancers
// an operator deploys: gRPC's client-side round_robin with the documented
// service config (deploy/grpc/service_config.json, read here so the
// document cannot drift), and Debian's nginx with grpc_pass
// (deploy/nginx/healthscore.conf, read here too). Steady load of
// 1,024-account batches from client threads; which replica answered is
// counted from each replica's own /metrics.
//
// A fourth replica behind an L4 (TCP) balancer, which is what a Kubernetes
// ClusterIP Service is, receives traffic only because --max-connection-age
// makes long-lived clients reconnect.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "engine/common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "healthscore/v1/model.grpc.pb.h"
#include "healthscore/v1/scoring.grpc.pb.h"
#include "server/testing/http_client.h"
#include "server/testing/server_process.h"
#include "server/testing/test_server.h"
#include "tests/cli_runner.h"

namespace healthscore::server {
namespace {

using ::healthscore::engine::common::testing::ScratchDir;
using testing::HttpGet;
using testing::ReadFile;
using testing::ServerProcess;
using testing::SourcePath;
using testing::WaitFor;

constexpr int kBatch = 1024;
constexpr int kClientThreads = 4;
constexpr char kNginx[] = "/usr/sbin/nginx";

// One replica: the server binary on 127.0.0.1, with its metrics endpoint.
struct Replica {
  std::unique_ptr<ServerProcess> process;
  int port = 0;
  int metrics_port = 0;
};

// A fresh directory for the running test.
std::string TestDir() {
  const ::testing::TestInfo* info =
      ::testing::UnitTest::GetInstance()->current_test_info();
  return ScratchDir(absl::StrReplaceAll(
      absl::StrCat("scaleout_", info->test_suite_name(), "_", info->name()),
      {{"/", "_"}}));
}

// Starts a replica in a fresh directory under `root`; `port` 0 picks one
// (a restart passes the port it had, as a pod keeps its address).
bool StartReplica(const std::string& root, int port,
                  const std::vector<std::string>& extra, Replica* r) {
  static std::atomic<int> serial{0};
  const std::string dir = absl::StrCat(root, "/replica-", serial++);
  std::filesystem::create_directories(dir);
  std::vector<std::string> args = {
      "--listen", absl::StrCat("127.0.0.1:", port), "--models",
      testing::TestModelsDir(), "--threads", "1", "--port-file",
      dir + "/port", "--metrics-port", "0", "--metrics-port-file",
      dir + "/metrics-port",
      // Long enough for a client's health watch to see NOT_SERVING before
      // new calls are refused.
      "--shutdown-wait", "1s", "--shutdown-grace", "20s"};
  args.insert(args.end(), extra.begin(), extra.end());
  r->process = std::make_unique<ServerProcess>();
  if (!r->process->Spawn(dir, args)) return false;
  r->port = r->process->WaitForPort(dir + "/port");
  r->metrics_port = std::atoi(ReadFile(dir + "/metrics-port").c_str());
  return r->port > 0 && r->metrics_port > 0;
}

// The value of the sample `series` (name and labels, as rendered) of a
// replica's /metrics; 0 when absent, -1 when the page cannot be read.
int64_t Metric(const Replica& r, absl::string_view series) {
  absl::StatusOr<testing::HttpResponse> page =
      HttpGet(r.metrics_port, "/metrics");
  if (!page.ok() || page->status != 200) return -1;
  const std::string prefix = absl::StrCat(series, " ");
  for (absl::string_view line : absl::StrSplit(page->body, '\n')) {
    if (absl::ConsumePrefix(&line, prefix)) {
      int64_t n = 0;
      return absl::SimpleAtoi(line, &n) ? n : -1;
    }
  }
  return 0;
}

// Score calls a replica answered OK.
int64_t ScoreCalls(const Replica& r) {
  return Metric(r,
                "healthscore_grpc_requests_total{method=\"healthscore.v1."
                "ScoringService/Score\",code=\"OK\"}");
}

// The hash of the default model a replica serves, from ListModels.
std::string ServedHash(int port, const std::string& model = "default") {
  auto channel = testing::MakeChannel(absl::StrCat("127.0.0.1:", port));
  auto stub = v1::ModelService::NewStub(channel);
  v1::ListModelsResponse response;
  grpc::Status s = stub->ListModels(testing::Context(absl::Seconds(10)).get(),
                                    v1::ListModelsRequest(), &response);
  if (!s.ok()) return "";
  for (const v1::ModelStatus& m : response.models()) {
    if (m.name() != model) continue;
    for (const v1::ModelVersionStatus& v : m.versions()) {
      if (v.version() == m.serving_version()) return v.hash();
    }
  }
  return "";
}

std::shared_ptr<grpc::Channel> BalancedChannel(
    const std::string& target, const std::string& service_config_file) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  args.SetServiceConfigJSON(ReadFile(SourcePath(service_config_file)));
  // As docs/scaling.md says: gRPC retries only calls whose request it kept,
  // 256 KiB by default, and a columnar batch of 1,024 accounts can exceed
  // that.
  args.SetInt(GRPC_ARG_PER_RPC_RETRY_BUFFER_SIZE, 64 << 20);
  args.SetInt("grpc.use_local_subchannel_pool", 1);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(),
                                   args);
}

// Steady load: client threads each sending one 1,024-account Score call
// after another over `channels` (round robin over them), until Stop.
class Load {
 public:
  Load(std::vector<std::shared_ptr<grpc::Channel>> channels,
       v1::ScoreRequest request)
      : channels_(std::move(channels)), request_(std::move(request)) {}
  ~Load() { Stop(); }

  void Start() {
    stop_ = false;
    for (int t = 0; t < kClientThreads; ++t) {
      threads_.emplace_back([this, t] { Run(t); });
    }
  }
  void Stop() {
    stop_ = true;
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }
  int64_t ok() const { return ok_.load(); }
  // Waits until `n` more calls succeeded than at `from`; false after a
  // minute (a hang) or once a call failed.
  bool WaitForMore(int64_t from, int64_t n) {
    return WaitFor([&] { return ok() >= from + n || failed_.load() > 0; }) &&
           failed_.load() == 0;
  }
  std::vector<std::string> failures() const {
    std::lock_guard<std::mutex> lock(mu_);
    return failures_;
  }
  std::map<std::string, int64_t> hashes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return hashes_;
  }

 private:
  void Run(int thread) {
    auto stub = v1::ScoringService::NewStub(
        channels_[static_cast<size_t>(thread) % channels_.size()]);
    while (!stop_.load()) {
      v1::ScoreResponse response;
      // Above the service config's 30 s: the policy's own timeout applies.
      grpc::Status s = stub->Score(testing::Context(absl::Seconds(40)).get(),
                                   request_, &response);
      std::lock_guard<std::mutex> lock(mu_);
      if (!s.ok()) {
        ++failed_;
        failures_.push_back(absl::StrCat(s.error_code(), ": ",
                                         s.error_message()));
      } else if (response.columns().score_size() != kBatch) {
        ++failed_;
        failures_.push_back(absl::StrCat("answered ",
                                         response.columns().score_size(),
                                         " accounts of ", kBatch));
      } else {
        ++hashes_[response.model_hash()];
        ++ok_;
      }
    }
  }

  const std::vector<std::shared_ptr<grpc::Channel>> channels_;
  const v1::ScoreRequest request_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> ok_{0};
  std::atomic<int64_t> failed_{0};
  mutable std::mutex mu_;
  std::vector<std::string> failures_;
  std::map<std::string, int64_t> hashes_;
};

v1::ScoreRequest BatchRequest() {
  return testing::ColumnarRequest(testing::RandomAccounts(kBatch, 15, false));
}

// nginx as a child: deploy/nginx/healthscore.conf with the replicas' ports,
// its own listening port, and every file it writes in `dir`.
class Nginx {
 public:
  ~Nginx() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  // Empty on success, else what went wrong (with nginx's error log).
  std::string Start(const std::string& dir, const std::vector<int>& ports) {
    const std::string example = ReadFile(SourcePath(
        "deploy/nginx/healthscore.conf"));
    if (example.empty()) return "cannot read deploy/nginx/healthscore.conf";
    // The example's upstream is 127.0.0.1:50051-50053 and it listens on
    // 127.0.0.1:8080; give it ours.
    port_ = FreePort();
    std::vector<std::pair<std::string, std::string>> edits = {
        {"listen 127.0.0.1:8080", absl::StrCat("listen 127.0.0.1:", port_)},
        {"/run/nginx-healthscore.pid", dir + "/nginx.pid"},
        {"/var/log/nginx/healthscore-error.log", dir + "/error.log"},
        {"/var/log/nginx/healthscore-access.log", dir + "/access.log"},
        {"http {", absl::StrCat("http {\n  client_body_temp_path ", dir,
                                "/body;\n  proxy_temp_path ", dir,
                                "/proxy;\n  fastcgi_temp_path ", dir,
                                "/fastcgi;\n  uwsgi_temp_path ", dir,
                                "/uwsgi;\n  scgi_temp_path ", dir, "/scgi;")}};
    for (size_t i = 0; i < ports.size(); ++i) {
      edits.push_back({absl::StrCat("127.0.0.1:", 50051 + i),
                       absl::StrCat("127.0.0.1:", ports[i])});
    }
    std::string config = example;
    for (const auto& [from, to] : edits) {
      if (!absl::StrContains(config, from)) {
        return absl::StrCat("the example no longer holds '", from, "'");
      }
      absl::StrReplaceAll({{from, to}}, &config);
    }
    testing::WriteFile(dir + "/nginx.conf", config);
    process_dir_ = dir;
    // One process (no master/worker split), so that running as root does
    // not switch the workers to another user who cannot write `dir`.
    std::vector<std::string> argv = {
        kNginx, "-p", dir, "-e", dir + "/error.log", "-c",
        dir + "/nginx.conf", "-g", "daemon off; master_process off;"};
    std::vector<char*> args;
    for (std::string& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    if (posix_spawn(&pid_, kNginx, nullptr, nullptr, args.data(), environ) !=
        0) {
      return "cannot start nginx";
    }
    // Ready once it accepts connections.
    const bool up = WaitFor([&] {
      absl::StatusOr<int> fd = testing::ConnectLoopback(port_, absl::Seconds(1));
      if (!fd.ok()) return Exited();
      ::close(*fd);
      return true;
    });
    if (!up || Exited()) {
      return absl::StrCat("nginx did not start: ", ReadFile(dir + "/error.log"));
    }
    return "";
  }
  int port() const { return port_; }
  std::string error_log() const {
    return ReadFile(process_dir_ + "/error.log");
  }

 private:
  bool Exited() {
    int status = 0;
    if (pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return true;
    }
    return pid_ <= 0;
  }
  static int FreePort() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
  }

  pid_t pid_ = -1;
  int port_ = 0;
  std::string process_dir_;
};

enum class Balancer { kRoundRobin, kNginx };

std::string BalancerName(const ::testing::TestParamInfo<Balancer>& info) {
  return info.param == Balancer::kRoundRobin ? "RoundRobin" : "Nginx";
}

// Three replicas and a channel through the balancer under test.
class ScaleOutTest : public ::testing::TestWithParam<Balancer> {
 protected:
  void SetUp() override {
    dir_ = TestDir();
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(StartReplica(dir_, 0, {}, &replicas_[i]))
          << replicas_[i].process->err();
      ports_.push_back(replicas_[i].port);
    }
    if (GetParam() == Balancer::kRoundRobin) {
      // What a headless Service's DNS name resolves to: every replica.
      channel_ = BalancedChannel(
          absl::StrCat("ipv4:", absl::StrJoin(
                                    ports_, ",",
                                    [](std::string* out, int port) {
                                      absl::StrAppend(out, "127.0.0.1:", port);
                                    })),
          "deploy/grpc/service_config.json");
    } else {
      // install-deps.sh installs nginx: its absence is a failure.
      ASSERT_EQ(::access(kNginx, X_OK), 0)
          << kNginx << " is missing: run scripts/install-deps.sh";
      const std::string nginx_dir = dir_ + "/nginx";
      std::filesystem::create_directories(nginx_dir);
      const std::string error = nginx_.Start(nginx_dir, ports_);
      ASSERT_EQ(error, "");
      channel_ = BalancedChannel(absl::StrCat("127.0.0.1:", nginx_.port()),
                                 "deploy/grpc/proxy_service_config.json");
    }
    live_hash_ = ServedHash(ports_[0]);
    ASSERT_NE(live_hash_, "");
  }

  // Restarts replica i on its port after it exited.
  void Restart(int i) {
    ASSERT_TRUE(StartReplica(dir_, ports_[static_cast<size_t>(i)], {},
                             &replicas_[i]))
        << replicas_[i].process->err();
  }

  std::string Diagnostics() {
    return GetParam() == Balancer::kNginx
               ? absl::StrCat("nginx error log:\n", nginx_.error_log())
               : std::string();
  }

  std::string dir_;
  Replica replicas_[3];
  std::vector<int> ports_;
  Nginx nginx_;
  std::shared_ptr<grpc::Channel> channel_;
  std::string live_hash_;
};

// Every replica gets its share: within 10% of an even split.
TEST_P(ScaleOutTest, SpreadsEvenlyAndEveryReplicaServesTheSameModel) {
  // Warm-up: until every replica has answered (the client's connections
  // open one by one), then count from there.
  Load warm_up({channel_}, BatchRequest());
  warm_up.Start();
  ASSERT_TRUE(WaitFor([&] {
    for (const Replica& r : replicas_) {
      if (ScoreCalls(r) <= 0) return false;
    }
    return true;
  })) << absl::StrJoin(warm_up.failures(), "\n") << Diagnostics();
  warm_up.Stop();
  EXPECT_THAT(warm_up.failures(), ::testing::IsEmpty()) << Diagnostics();
  std::vector<int64_t> before;
  for (const Replica& r : replicas_) before.push_back(ScoreCalls(r));

  Load load({channel_}, BatchRequest());
  load.Start();
  ASSERT_TRUE(load.WaitForMore(0, 300))
      << absl::StrJoin(load.failures(), "\n") << Diagnostics();
  load.Stop();
  EXPECT_THAT(load.failures(), ::testing::IsEmpty()) << Diagnostics();
  int64_t total = 0;
  std::vector<int64_t> calls;
  for (size_t i = 0; i < 3; ++i) {
    calls.push_back(ScoreCalls(replicas_[i]) - before[i]);
    total += calls.back();
  }
  EXPECT_EQ(total, load.ok());
  for (size_t i = 0; i < calls.size(); ++i) {
    EXPECT_NEAR(static_cast<double>(calls[i]), total / 3.0, total / 30.0)
        << "replica " << i << " answered " << calls[i] << " of " << total
        << " calls: " << absl::StrJoin(calls, ", ");
  }
  // The same repository gives the same content hash on every replica, and
  // every response names it.
  for (int port : ports_) EXPECT_EQ(ServedHash(port), live_hash_);
  EXPECT_THAT(load.hashes(),
              ::testing::ElementsAre(::testing::Pair(live_hash_, load.ok())));
}

// kill -9 of a replica mid-load: the calls it held and those sent to it
// before anyone noticed are retried on the others; none is lost.
TEST_P(ScaleOutTest, KillNineOfOneReplicaLosesNoRequest) {
  Load load({channel_}, BatchRequest());
  load.Start();
  ASSERT_TRUE(load.WaitForMore(0, 60)) << absl::StrJoin(load.failures(), "\n");
  // Killed with calls in flight, which must be retried elsewhere.
  ASSERT_TRUE(WaitFor([&] {
    return Metric(replicas_[1], "healthscore_requests_in_progress") > 0;
  }));
  const int64_t before = load.ok();
  replicas_[1].process->Signal(SIGKILL);
  ASSERT_TRUE(replicas_[1].process->WaitForExit());
  ASSERT_TRUE(load.WaitForMore(before, 150))
      << absl::StrJoin(load.failures(), "\n") << Diagnostics();
  load.Stop();
  EXPECT_THAT(load.failures(), ::testing::IsEmpty()) << Diagnostics();
  EXPECT_EQ(replicas_[1].process->Wait(), -SIGKILL);
}

// A rolling restart, one replica after the other: SIGTERM, drain, exit 0,
// start again on the same address. No call is lost, and every response
// names the model hash that was live.
TEST_P(ScaleOutTest, RollingRestartLosesNoRequest) {
  Load load({channel_}, BatchRequest());
  load.Start();
  ASSERT_TRUE(load.WaitForMore(0, 30)) << absl::StrJoin(load.failures(), "\n");
  for (int i = 0; i < 3; ++i) {
    replicas_[i].process->Signal(SIGTERM);
    ASSERT_TRUE(replicas_[i].process->WaitForExit())
        << replicas_[i].process->err();
    EXPECT_EQ(replicas_[i].process->Wait(), 0) << replicas_[i].process->err();
    Restart(i);
    // The next replica restarts once this one is back in the balancer's
    // rotation, as an orchestrator waits for readiness (for nginx, which
    // checks no health, after the upstream's fail_timeout). Restarting
    // faster takes every replica out at once.
    ASSERT_TRUE(WaitFor([&] { return ScoreCalls(replicas_[i]) > 0; }))
        << "replica " << i << " gets no traffic after its restart; "
        << absl::StrJoin(load.failures(), "\n") << Diagnostics();
    ASSERT_TRUE(load.WaitForMore(load.ok(), 30))
        << "after restarting replica " << i << ": "
        << absl::StrJoin(load.failures(), "\n") << Diagnostics();
  }
  load.Stop();
  EXPECT_THAT(load.failures(), ::testing::IsEmpty()) << Diagnostics();
  for (const auto& [hash, count] : load.hashes()) {
    EXPECT_EQ(hash, live_hash_) << count << " responses";
  }
  EXPECT_GT(load.ok(), 0);
}

INSTANTIATE_TEST_SUITE_P(Balancers, ScaleOutTest,
                         ::testing::Values(Balancer::kRoundRobin,
                                           Balancer::kNginx),
                         BalancerName);

// An L4 (TCP) balancer, as kube-proxy is for a ClusterIP Service: each new
// connection goes to the next backend, and stays there.
class TcpBalancer {
 public:
  TcpBalancer() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr = {};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listen_fd_, 64);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { Accept(); });
  }
  ~TcpBalancer() {
    stop_ = true;
    acceptor_.join();
    ::close(listen_fd_);
    std::lock_guard<std::mutex> lock(mu_);
    for (std::thread& t : pumps_) t.join();
  }
  void AddBackend(int port) {
    std::lock_guard<std::mutex> lock(mu_);
    backends_.push_back(port);
  }
  int port() const { return port_; }

 private:
  void Accept() {
    while (!stop_) {
      pollfd p = {listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      const int client = ::accept(listen_fd_, nullptr, nullptr);
      if (client < 0) continue;
      std::lock_guard<std::mutex> lock(mu_);
      const int backend_port = backends_[next_++ % backends_.size()];
      absl::StatusOr<int> backend =
          testing::ConnectLoopback(backend_port, absl::Seconds(5));
      if (!backend.ok()) {
        ::close(client);
        continue;
      }
      pumps_.emplace_back([this, client, fd = *backend] { Pump(client, fd); });
    }
  }
  // Copies bytes both ways until either side closes or the balancer stops.
  void Pump(int a, int b) {
    char buffer[1 << 16];
    pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
    while (!stop_) {
      if (::poll(fds, 2, 50) <= 0) continue;
      bool closed = false;
      for (int i = 0; i < 2 && !closed; ++i) {
        if ((fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
        const ssize_t n = ::recv(fds[i].fd, buffer, sizeof buffer, 0);
        if (n <= 0) {
          closed = true;
          break;
        }
        for (ssize_t sent = 0; sent < n;) {
          const ssize_t w =
              ::send(fds[1 - i].fd, buffer + sent,
                     static_cast<size_t>(n - sent), MSG_NOSIGNAL);
          if (w <= 0) {
            closed = true;
            break;
          }
          sent += w;
        }
      }
      if (closed) break;
    }
    ::close(a);
    ::close(b);
  }

  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<int> backends_;
  size_t next_ = 0;
  std::vector<std::thread> pumps_;
};

// Long-lived clients behind an L4 balancer: a replica started after them
// gets traffic only when connections are renewed. With
// --max-connection-age the servers send GOAWAY, the clients reconnect, and
// the fourth replica receives calls, with no call lost.
std::vector<std::shared_ptr<grpc::Channel>> L4Clients(int port) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < kClientThreads; ++i) {
    channels.push_back(
        BalancedChannel(absl::StrCat("127.0.0.1:", port),
                        "deploy/grpc/proxy_service_config.json"));
  }
  return channels;
}

TEST(ScaleOutL4Test, FourthReplicaGetsTrafficThanksToMaxConnectionAge) {
  const std::string dir = TestDir();
  const std::vector<std::string> age = {"--max-connection-age", "1s",
                                        "--max-connection-age-grace", "10s"};
  Replica replicas[4];
  TcpBalancer balancer;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(StartReplica(dir, 0, age, &replicas[i]))
        << replicas[i].process->err();
    balancer.AddBackend(replicas[i].port);
  }
  Load load(L4Clients(balancer.port()), BatchRequest());
  load.Start();
  ASSERT_TRUE(load.WaitForMore(0, 20)) << absl::StrJoin(load.failures(), "\n");
  ASSERT_TRUE(StartReplica(dir, 0, age, &replicas[3]))
      << replicas[3].process->err();
  balancer.AddBackend(replicas[3].port);
  // A generous bound that detects "never": connections are renewed every
  // second or so.
  EXPECT_TRUE(WaitFor([&] { return ScoreCalls(replicas[3]) > 0; },
                      absl::Seconds(30)));
  const int64_t after = load.ok();
  ASSERT_TRUE(load.WaitForMore(after, 20))
      << absl::StrJoin(load.failures(), "\n");
  load.Stop();
  EXPECT_THAT(load.failures(), ::testing::IsEmpty());
}

// The same without --max-connection-age: the clients' connections never
// end, so the fourth replica gets nothing (why a ClusterIP Service does
// not balance gRPC).
TEST(ScaleOutL4Test, WithoutMaxConnectionAgeTheFourthReplicaGetsNothing) {
  const std::string dir = TestDir();
  Replica replicas[4];
  TcpBalancer balancer;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(StartReplica(dir, 0, {}, &replicas[i]))
        << replicas[i].process->err();
    balancer.AddBackend(replicas[i].port);
  }
  Load load(L4Clients(balancer.port()), BatchRequest());
  load.Start();
  ASSERT_TRUE(load.WaitForMore(0, 20)) << absl::StrJoin(load.failures(), "\n");
  ASSERT_TRUE(StartReplica(dir, 0, {}, &replicas[3]))
      << replicas[3].process->err();
  balancer.AddBackend(replicas[3].port);
  ASSERT_TRUE(load.WaitForMore(load.ok(), 100))
      << absl::StrJoin(load.failures(), "\n");
  load.Stop();
  EXPECT_EQ(ScoreCalls(replicas[3]), 0);
  EXPECT_THAT(load.failures(), ::testing::IsEmpty());
}

// `healthscore fleet` against a consistent fleet, then one whose third
// replica serves another version of the default model, then one with a
// replica down. (The test models' default/3 fails to load everywhere:
// version 2 serves.)
TEST(FleetTest, ReportsConsistentAndInconsistentFleets) {
  const std::string dir = TestDir();
  // The odd replica's repository lacks the default model's version 2, so
  // it serves version 1.
  const std::string older = dir + "/older-rules";
  std::filesystem::copy(testing::TestModelsDir(), older,
                        std::filesystem::copy_options::recursive);
  std::filesystem::remove_all(older + "/default/2");
  Replica replicas[3];
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(StartReplica(dir, 0, {}, &replicas[i]))
        << replicas[i].process->err();
  }
  Replica other;
  ASSERT_TRUE(StartReplica(dir, 0, {"--models", older}, &other))
      << other.process->err();
  auto target = [](const Replica& r) {
    return absl::StrCat("127.0.0.1:", r.port);
  };
  const std::string hash = ServedHash(replicas[0].port);
  const std::string consistent =
      absl::StrCat(target(replicas[0]), ",", target(replicas[1]), ",",
                   target(replicas[2]));

  ::healthscore::testing::CliResult ok = ::healthscore::testing::RunCli("fleet --targets " + consistent);
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_THAT(ok.out, ::testing::HasSubstr(
                          "fleet: consistent: 3 replicas SERVING the same"));
  EXPECT_THAT(ok.out, ::testing::HasSubstr(hash.substr(0, 16)));
  EXPECT_THAT(ok.out, ::testing::HasSubstr(absl::StrCat(
                          target(replicas[2]), " ")));

  ::healthscore::testing::CliResult bad = ::healthscore::testing::RunCli(absl::StrCat(
      "fleet --targets ", target(replicas[0]), ",", target(replicas[1]), ",",
      target(other)));
  EXPECT_EQ(bad.exit_code, 1) << bad.out << bad.err;
  EXPECT_THAT(bad.out, ::testing::HasSubstr(
                           "problem: model default differs: version 1 hash "));
  EXPECT_THAT(bad.out, ::testing::HasSubstr(absl::StrCat(
                           ", 1 failed version on ", target(other),
                           "; version 2 hash ", hash.substr(0, 16),
                           ", 1 failed version on ", target(replicas[0]),
                           ", ", target(replicas[1]), "\n")));
  EXPECT_THAT(bad.out, ::testing::HasSubstr("fleet: INCONSISTENT: 1 problem "
                                            "over 3 replicas"));

  replicas[2].process->Signal(SIGKILL);
  ASSERT_TRUE(replicas[2].process->WaitForExit());
  ::healthscore::testing::CliResult down = ::healthscore::testing::RunCli(
      "fleet --timeout 2s --targets " + consistent);
  EXPECT_EQ(down.exit_code, 1) << down.out << down.err;
  EXPECT_THAT(down.out, ::testing::HasSubstr(absl::StrCat(
                            "problem: ", target(replicas[2]),
                            " could not be asked: health check: ")));

  // Replicas that want a token for ListModels.
  testing::WriteFile(dir + "/tokens", "s3cret\n");
  Replica guarded;
  ASSERT_TRUE(StartReplica(dir, 0, {"--auth-token-file", dir + "/tokens"},
                           &guarded))
      << guarded.process->err();
  ::healthscore::testing::CliResult refused = ::healthscore::testing::RunCli(
      "fleet --targets " + target(guarded));
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_THAT(refused.out, ::testing::HasSubstr(absl::StrCat(
                               "problem: ", target(guarded),
                               " could not be asked: ListModels: ")));
  ::healthscore::testing::CliResult with_token =
      ::healthscore::testing::RunCli(absl::StrCat(
          "fleet --token-file ", dir, "/tokens --targets ", target(guarded)));
  EXPECT_EQ(with_token.exit_code, 0) << with_token.out << with_token.err;

  ::healthscore::testing::CliResult usage = ::healthscore::testing::RunCli("fleet --targets 127.0.0.1:0");
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_THAT(usage.err, ::testing::HasSubstr(
                             "healthscore fleet: --targets: '127.0.0.1:0' has "
                             "port 0; give the replica's port"));
  usage = ::healthscore::testing::RunCli("fleet");
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_THAT(usage.err, ::testing::HasSubstr("--targets is required"));
  usage = ::healthscore::testing::RunCli(
      "fleet --targets 127.0.0.1:1 --token-file /nonexistent/tokens");
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_THAT(usage.err, ::testing::HasSubstr(
                             "--token-file: cannot read a token from "
                             "/nonexistent/tokens"));
}

// `healthscore fleet --tls-ca` against a replica serving TLS (a CA and a
// certificate for 127.0.0.1 made with openssl); plaintext cannot ask it.
TEST(FleetTest, AsksReplicasOverTls) {
  const std::string dir = TestDir();
  const std::string script = absl::StrCat(
      "set -e; cd '", dir,
      "'\n"
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
      "-nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=fleet test ca'\n"
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
      "-keyout server.key -out server.csr -subj '/CN=replica'\n"
      "printf 'subjectAltName=IP:127.0.0.1\\n' > server.ext\n"
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key "
      "-CAcreateserial -days 2 -extfile server.ext -out server.pem\n");
  testing::WriteFile(dir + "/certs.sh", script);
  ASSERT_EQ(std::system(absl::StrCat("bash '", dir, "/certs.sh' > '", dir,
                                     "/openssl.log' 2>&1")
                            .c_str()),
            0)
      << ReadFile(dir + "/openssl.log");
  Replica replica;
  ASSERT_TRUE(StartReplica(dir, 0,
                           {"--tls-cert", dir + "/server.pem", "--tls-key",
                            dir + "/server.key"},
                           &replica))
      << replica.process->err();
  const std::string target = absl::StrCat("127.0.0.1:", replica.port);
  ::healthscore::testing::CliResult tls = ::healthscore::testing::RunCli(
      absl::StrCat("fleet --tls-ca ", dir, "/ca.pem --targets ", target));
  EXPECT_EQ(tls.exit_code, 0) << tls.out << tls.err;
  EXPECT_THAT(tls.out, ::testing::HasSubstr("fleet: consistent: 1 replica SERVING"));
  ::healthscore::testing::CliResult plain = ::healthscore::testing::RunCli(
      "fleet --timeout 2s --targets " + target);
  EXPECT_EQ(plain.exit_code, 1) << plain.out << plain.err;
  EXPECT_THAT(plain.out, ::testing::HasSubstr(absl::StrCat(
                             "problem: ", target, " could not be asked: ")));
  ::healthscore::testing::CliResult usage = ::healthscore::testing::RunCli(
      absl::StrCat("fleet --tls-cert ", dir, "/server.pem --tls-key ", dir,
                   "/server.key --targets ", target));
  EXPECT_EQ(usage.exit_code, 2);
  EXPECT_THAT(usage.err, ::testing::HasSubstr(
                             "--tls-cert and --tls-key need --tls-ca"));
}

}  // namespace
}  // namespace healthscore::server
