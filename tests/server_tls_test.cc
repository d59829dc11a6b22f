// TLS, mTLS, certificate rotation and credentials, against a real server
// over real channels. The certificates are made at test time with the
// `openssl` command in a scratch directory: two server CAs (the second for
// rotation), a client CA, and a CA nobody trusts.

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/notification.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "server/status.h"
#include "server/testing/http_client.h"
#include "server/testing/server_process.h"
#include "server/testing/test_server.h"
#include "server/tls.h"

namespace healthscore::server {
namespace {

namespace fs = std::filesystem;
using ::healthscore::engine::common::testing::IsOk;
using ::healthscore::engine::common::testing::ScratchDir;
using ::healthscore::engine::common::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace ::healthscore::server::testing;  // NOLINT

// The certificates of one test binary run, made once.
struct Pki {
  std::string dir;
  std::string Path(const std::string& name) const { return dir + "/" + name; }
};

// Runs `openssl` to make: ca (server CA 1) -> server; ca2 (server CA 2) ->
// server2; client-ca -> admin (SAN DNS:admin.example), client (SAN
// DNS:client.example); other-ca -> stranger (SAN DNS:admin.example: the
// name is right, the CA is not).
const Pki& Certificates() {
  static const Pki* pki = [] {
    auto* p = new Pki{ScratchDir("server_tls_test")};
    const std::string script = absl::StrCat(
        "set -e; cd '", p->dir, "'\n", R"(
ca() {
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout $1.key -out $1.pem -days 2 -subj "/CN=healthscore test $1"
}
leaf() {  # name ca san usage
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout $1.key -out $1.csr -subj "/CN=$1"
  printf 'subjectAltName=%s\nextendedKeyUsage=%s\n' "$3" "$4" > $1.ext
  openssl x509 -req -in $1.csr -CA $2.pem -CAkey $2.key -CAcreateserial \
    -days 2 -extfile $1.ext -out $1.pem
}
ca ca; ca ca2; ca client-ca; ca other-ca
leaf server ca 'DNS:localhost,IP:127.0.0.1' serverAuth
leaf server2 ca2 'DNS:localhost,IP:127.0.0.1' serverAuth
leaf admin client-ca 'DNS:admin.example' clientAuth
leaf client client-ca 'DNS:client.example' clientAuth
leaf stranger other-ca 'DNS:admin.example' clientAuth
)");
    const std::string script_file = p->Path("make.sh");
    WriteFile(script_file, script);
    const std::string cmd =
        absl::StrCat("bash '", script_file, "' > '", p->Path("openssl.log"),
                     "' 2>&1");
    if (std::system(cmd.c_str()) != 0) {
      ADD_FAILURE() << "openssl failed: " << ReadFile(p->Path("openssl.log"));
    }
    return p;
  }();
  return *pki;
}

// A TLS channel trusting `ca` (a name in Certificates()), presenting the
// client certificate `client` unless empty; its own connection.
std::shared_ptr<grpc::Channel> TlsChannel(const std::string& target,
                                          const std::string& ca,
                                          const std::string& client = "") {
  const Pki& pki = Certificates();
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = ReadFile(pki.Path(ca + ".pem"));
  if (!client.empty()) {
    ssl.pem_private_key = ReadFile(pki.Path(client + ".key"));
    ssl.pem_cert_chain = ReadFile(pki.Path(client + ".pem"));
  }
  grpc::ChannelArguments args;
  args.SetInt("grpc.use_local_subchannel_pool", 1);
  return grpc::CreateCustomChannel(target, grpc::SslCredentials(ssl), args);
}

ServerOptions TlsOptions(const std::string& client_ca = "") {
  const Pki& pki = Certificates();
  ServerOptions o = TestOptions();
  o.tls_cert = pki.Path("server.pem");
  o.tls_key = pki.Path("server.key");
  if (!client_ca.empty()) o.tls_client_ca = pki.Path(client_ca + ".pem");
  return o;
}

v1::ScoreRequest OneAccount() {
  Account a;
  a.id = "acme";
  a.metrics = {{"logins", 10}};
  return MapRequest({a});
}

// Score over `channel`, with `token` as a bearer token unless empty.
grpc::Status Score(const std::shared_ptr<grpc::Channel>& channel,
                   const std::string& token = "",
                   absl::Duration timeout = absl::Seconds(30)) {
  auto ctx = Context(timeout);
  if (!token.empty()) ctx->AddMetadata("authorization", "Bearer " + token);
  v1::ScoreResponse r;
  return v1::ScoringService::NewStub(channel)->Score(ctx.get(), OneAccount(),
                                                     &r);
}

// A call that needs no scoring thread (they are held in the rotation test).
grpc::Status Ping(const std::shared_ptr<grpc::Channel>& channel,
                  absl::Duration timeout) {
  auto ctx = Context(timeout);
  v1::ListModelsResponse r;
  return v1::ModelService::NewStub(channel)->ListModels(ctx.get(), {}, &r);
}

grpc::Status Reload(const std::shared_ptr<grpc::Channel>& channel,
                    const std::string& authorization = "") {
  auto ctx = Context();
  if (!authorization.empty()) ctx->AddMetadata("authorization", authorization);
  v1::ReloadResponse r;
  return v1::ModelService::NewStub(channel)->Reload(ctx.get(), {}, &r);
}

absl::Status Code(const grpc::Status& s) { return FromGrpcStatus(s); }

TEST(ServerTlsTest, TlsClientScoresAndPlaintextClientIsRefused) {
  auto ts = StartTestServer(TlsOptions());
  ASSERT_THAT(ts.status(), IsOk());
  const std::string target = (*ts)->target();
  EXPECT_THAT(Code(Score(TlsChannel(target, "ca"))), IsOk());
  // A plaintext client cannot speak to a TLS port.
  EXPECT_THAT(Code(Score(MakeChannel(target), "", absl::Seconds(10))),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("")));
  // Nor can a client that does not trust the server's CA.
  EXPECT_THAT(Code(Score(TlsChannel(target, "ca2"), "", absl::Seconds(10))),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("")));
}

TEST(ServerTlsTest, MutualTlsRefusesClientsWithoutACertificateOfItsCa) {
  auto ts = StartTestServer(TlsOptions("client-ca"));
  ASSERT_THAT(ts.status(), IsOk());
  const std::string target = (*ts)->target();
  EXPECT_THAT(Code(Score(TlsChannel(target, "ca", "client"))), IsOk());
  EXPECT_THAT(Code(Score(TlsChannel(target, "ca"), "", absl::Seconds(10))),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("")));
  EXPECT_THAT(
      Code(Score(TlsChannel(target, "ca", "stranger"), "", absl::Seconds(10))),
      StatusIs(absl::StatusCode::kUnavailable, HasSubstr("")));
}

// Options serving copies of the server's certificate and key in `dir` (so
// that a test can rotate them), re-read every second.
ServerOptions RotatableTlsOptions(const std::string& dir) {
  const Pki& pki = Certificates();
  fs::copy_file(pki.Path("server.pem"), dir + "/cert.pem");
  fs::copy_file(pki.Path("server.key"), dir + "/key.pem");
  ServerOptions o = TestOptions();
  o.tls_cert = dir + "/cert.pem";
  o.tls_key = dir + "/key.pem";
  o.tls_refresh_interval = absl::Seconds(1);
  return o;
}

TEST(ServerTlsTest, RotatedCertificateServesNewConnectionsOldOnesFinish) {
  const Pki& pki = Certificates();
  const std::string dir = ScratchDir("server_tls_rotation");
  auto ts = StartTestServer(RotatableTlsOptions(dir));
  ASSERT_THAT(ts.status(), IsOk());
  const std::string target = (*ts)->target();

  // An open connection (made with the first certificate) with a call in
  // flight: its scoring is held until after the rotation.
  auto old_channel = TlsChannel(target, "ca");
  ASSERT_THAT(Code(Score(old_channel)), IsOk());
  (*ts)->server->HoldWorkForTest();
  auto stub = v1::ScoringService::NewStub(old_channel);
  auto ctx = Context(absl::Seconds(180));
  const v1::ScoreRequest request = OneAccount();
  v1::ScoreResponse response;
  grpc::Status in_flight;
  absl::Notification done;
  stub->async()->Score(ctx.get(), &request, &response,
                       [&](grpc::Status s) {
                         in_flight = std::move(s);
                         done.Notify();
                       });
  ASSERT_TRUE(WaitFor([&] { return (*ts)->server->HeldTasksForTest() > 0; }));

  // Rotate: key first, then certificate, each renamed into place. gRPC
  // keeps the old pair while the two do not match.
  fs::copy_file(pki.Path("server2.key"), dir + "/key.new");
  fs::copy_file(pki.Path("server2.pem"), dir + "/cert.new");
  fs::rename(dir + "/key.new", dir + "/key.pem");
  fs::rename(dir + "/cert.new", dir + "/cert.pem");

  // New connections get the new certificate: a client trusting only the
  // new CA gets through (within the watcher's refresh)...
  EXPECT_TRUE(WaitFor(
      [&] {
        return Ping(TlsChannel(target, "ca2"), absl::Seconds(5)).ok();
      },
      absl::Seconds(60)));
  // ...and one trusting only the old CA no longer does.
  EXPECT_THAT(Code(Ping(TlsChannel(target, "ca"), absl::Seconds(10))),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("")));
  // The old connection still finishes its call, and takes new ones.
  (*ts)->server->ReleaseWorkForTest();
  ASSERT_TRUE(done.WaitForNotificationWithTimeout(absl::Seconds(60)));
  EXPECT_THAT(Code(in_flight), IsOk());
  EXPECT_EQ(response.results_size(), 1);
  EXPECT_THAT(Code(Score(old_channel)), IsOk());
}

TEST(ServerTlsTest, StartRefusesUnusableTlsFiles) {
  const Pki& pki = Certificates();
  ServerOptions o = TlsOptions();
  o.tls_key = pki.Path("server2.key");
  EXPECT_THAT(Server::Start(o).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("is not the private key of the certificate "
                                 "in " +
                                 pki.Path("server.pem"))));
  o = TlsOptions();
  o.tls_cert = pki.Path("server.key");
  EXPECT_THAT(Server::Start(o).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--tls-cert: " + pki.Path("server.key") +
                                 " holds no PEM certificate")));
  o = TlsOptions("nonexistent");
  EXPECT_THAT(Server::Start(o).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--tls-client-ca: cannot read")));
  o = TlsOptions();
  o.tls_key.clear();
  EXPECT_THAT(Server::Start(o).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--tls-cert and --tls-key go together")));
  // HTTPS metrics serve the gRPC port's certificate.
  o = TestOptions();
  o.metrics_port = 0;
  o.metrics_tls = true;
  EXPECT_THAT(Server::Start(o).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--metrics-tls needs --tls-cert and "
                                 "--tls-key")));
  o = TlsOptions();
  o.admin_allow_san = "admin.example";
  EXPECT_THAT(Server::Start(o).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--admin-allow-san needs --tls-client-ca")));
}

// Expects the server's healthscore_auth_failures_total to count these
// refusals of admin calls and `scoring_unauthenticated` of scoring calls.
void ExpectAuthFailures(const TestServer& ts, int admin_unauthenticated,
                        int admin_denied, int scoring_unauthenticated) {
  absl::StatusOr<HttpResponse> metrics =
      HttpGet(ts.server->metrics_port(), "/metrics");
  ASSERT_THAT(metrics.status(), IsOk());
  auto line = [](const std::string& scope, const std::string& code, int n) {
    return absl::StrCat("healthscore_auth_failures_total{scope=\"", scope,
                        "\",code=\"", code, "\"} ", n, "\n");
  };
  EXPECT_THAT(metrics->body, HasSubstr(line("admin", "UNAUTHENTICATED",
                                            admin_unauthenticated)));
  EXPECT_THAT(metrics->body,
              HasSubstr(line("admin", "PERMISSION_DENIED", admin_denied)));
  EXPECT_THAT(metrics->body, HasSubstr(line("scoring", "UNAUTHENTICATED",
                                            scoring_unauthenticated)));
}

// GET https://127.0.0.1:`port`/metrics with curl, trusting the CA `ca` (a
// name in Certificates()) and presenting the client certificate `client`
// unless empty: the body, or Unavailable with curl's message.
absl::StatusOr<std::string> CurlMetrics(int port, const std::string& ca,
                                        const std::string& client = "") {
  const Pki& pki = Certificates();
  std::string cmd = absl::StrCat("curl -sS --max-time 20 --cacert '",
                                 pki.Path(ca + ".pem"), "'");
  if (!client.empty()) {
    absl::StrAppend(&cmd, " --cert '", pki.Path(client + ".pem"), "' --key '",
                    pki.Path(client + ".key"), "'");
  }
  absl::StrAppend(&cmd, " https://127.0.0.1:", port, "/metrics 2>&1");
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return absl::InternalError("cannot run curl");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  const int rc = pclose(pipe);
  if (rc != 0) return absl::UnavailableError(out);
  return out;
}

TEST(MetricsTlsTest, MetricsAreServedOverHttpsOnly) {
  ServerOptions o = TlsOptions();
  o.metrics_port = 0;
  o.metrics_tls = true;
  auto ts = StartTestServer(o);
  ASSERT_THAT(ts.status(), IsOk());
  const int port = (*ts)->server->metrics_port();
  absl::StatusOr<std::string> body = CurlMetrics(port, "ca");
  ASSERT_THAT(body.status(), IsOk());
  EXPECT_THAT(*body, HasSubstr("healthscore_build_info{version="));
  // A client that does not trust the server's CA fails its handshake.
  EXPECT_THAT(CurlMetrics(port, "ca2").status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("SSL")));
  // Plain HTTP gets no metrics.
  absl::StatusOr<HttpResponse> plain = HttpGet(port, "/metrics");
  EXPECT_FALSE(plain.ok() && plain->status == 200);
  // gRPC is unaffected.
  EXPECT_THAT(Code(Score(TlsChannel((*ts)->target(), "ca"))), IsOk());
}

TEST(MetricsTlsTest, WithAClientCaScrapersNeedACertificateOfIt) {
  ServerOptions o = TlsOptions("client-ca");
  o.metrics_port = 0;
  o.metrics_tls = true;
  auto ts = StartTestServer(o);
  ASSERT_THAT(ts.status(), IsOk());
  const int port = (*ts)->server->metrics_port();
  EXPECT_THAT(CurlMetrics(port, "ca").status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("")));
  EXPECT_THAT(CurlMetrics(port, "ca", "stranger").status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("")));
  absl::StatusOr<std::string> body = CurlMetrics(port, "ca", "client");
  ASSERT_THAT(body.status(), IsOk());
  EXPECT_THAT(*body, HasSubstr("healthscore_build_info{version="));
}

TEST(MetricsTlsTest, RotatedCertificateIsServedToNewScrapes) {
  const Pki& pki = Certificates();
  const std::string dir = ScratchDir("metrics_tls_rotation");
  ServerOptions o = RotatableTlsOptions(dir);
  o.metrics_port = 0;
  o.metrics_tls = true;
  auto ts = StartTestServer(o);
  ASSERT_THAT(ts.status(), IsOk());
  const int port = (*ts)->server->metrics_port();
  ASSERT_THAT(CurlMetrics(port, "ca").status(), IsOk());

  // A half-done rotation (a new key beside the old certificate) keeps the
  // old pair serving.
  fs::copy_file(pki.Path("server2.key"), dir + "/key.new");
  fs::rename(dir + "/key.new", dir + "/key.pem");
  absl::SleepFor(absl::Milliseconds(1100));  // past the refresh interval
  EXPECT_THAT(CurlMetrics(port, "ca").status(), IsOk());
  fs::copy_file(pki.Path("server2.pem"), dir + "/cert.new");
  fs::rename(dir + "/cert.new", dir + "/cert.pem");
  EXPECT_TRUE(WaitFor([&] { return CurlMetrics(port, "ca2").ok(); },
                      absl::Seconds(60)));
  EXPECT_THAT(CurlMetrics(port, "ca").status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("")));
}

class ServerAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ScratchDir("server_auth_test");
    WriteFile(dir_ + "/admin-token", "admin-1\n");
    WriteFile(dir_ + "/scoring-token", "# the CRM's token\nscore-1\n");
  }
  std::string dir_;
};

TEST_F(ServerAuthTest, AdminCallsNeedTheAdminTokenAndRefusalsAreCounted) {
  ServerOptions o = TestOptions();
  o.admin_token_file = dir_ + "/admin-token";
  o.metrics_port = 0;
  auto ts = StartTestServer(o);
  ASSERT_THAT(ts.status(), IsOk());
  auto channel = (*ts)->channel;

  EXPECT_THAT(Code(Reload(channel)),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("admin calls (Reload, ValidateModel) need a "
                                 "credential")));
  EXPECT_THAT(Code(Reload(channel, "Bearer admin-2")),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("bearer token is not accepted")));
  EXPECT_THAT(Code(Reload(channel, "Basic YWRtaW4=")),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("is not 'Bearer TOKEN'")));
  EXPECT_THAT(Code(Reload(channel, "Bearer admin-1")), IsOk());

  v1::ValidateModelRequest validate;
  validate.set_yaml("name: x\n");
  v1::ValidateModelResponse v;
  {
    auto ctx = Context();
    EXPECT_THAT(Code((*ts)->models->ValidateModel(ctx.get(), validate, &v)),
                StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("")));
  }
  {
    auto ctx = Context();
    ctx->AddMetadata("authorization", "Bearer admin-1");
    EXPECT_THAT(Code((*ts)->models->ValidateModel(ctx.get(), validate, &v)),
                IsOk());
  }
  // Scoring stays open without --auth-token-file.
  EXPECT_THAT(Code(Score(channel)), IsOk());

  ServerStats st = (*ts)->server->stats();
  EXPECT_EQ(st.auth_admin.unauthenticated, 2u);
  EXPECT_EQ(st.auth_admin.permission_denied, 2u);
  ExpectAuthFailures(**ts, 2, 2, 0);
}

TEST_F(ServerAuthTest, AdminCallsAreRefusedWithoutAConfiguredCredential) {
  ServerOptions o = TestOptions();
  o.allow_unauthenticated_admin = false;  // the default of a real server
  o.metrics_port = 0;
  auto ts = StartTestServer(o);
  ASSERT_THAT(ts.status(), IsOk());
  auto channel = (*ts)->channel;

  const std::string why =
      "admin calls (Reload, ValidateModel) are refused: this server has no "
      "admin credential configured; start it with --admin-token-file";
  EXPECT_THAT(Code(Reload(channel)),
              StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr(why)));
  EXPECT_THAT(Code(Reload(channel, "Bearer guess")),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr(why)));
  v1::ValidateModelRequest validate;
  validate.set_yaml("name: x\n");
  v1::ValidateModelResponse v;
  {
    auto ctx = Context();
    EXPECT_THAT(Code((*ts)->models->ValidateModel(ctx.get(), validate, &v)),
                StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr(why)));
  }
  // Scoring and model listing stay open.
  EXPECT_THAT(Code(Score(channel)), IsOk());
  ExpectAuthFailures(**ts, 2, 1, 0);

  // The development flag opens them.
  ServerOptions dev = TestOptions();
  dev.allow_unauthenticated_admin = true;
  auto open = StartTestServer(dev);
  ASSERT_THAT(open.status(), IsOk());
  EXPECT_THAT(Code(Reload((*open)->channel)), IsOk());
}

TEST_F(ServerAuthTest, ScoringCallsNeedAScoringOrAdminToken) {
  ServerOptions o = TestOptions();
  o.admin_token_file = dir_ + "/admin-token";
  o.auth_token_file = dir_ + "/scoring-token";
  auto ts = StartTestServer(o);
  ASSERT_THAT(ts.status(), IsOk());
  auto channel = (*ts)->channel;

  EXPECT_THAT(Code(Score(channel)),
              StatusIs(absl::StatusCode::kUnauthenticated,
                       HasSubstr("scoring calls (Score, ScoreStream, "
                                 "ListModels, GetModel) need a credential")));
  EXPECT_THAT(Code(Score(channel, "score-2")),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("")));
  EXPECT_THAT(Code(Score(channel, "score-1")), IsOk());
  EXPECT_THAT(Code(Score(channel, "admin-1")), IsOk());
  // A scoring token is no admin credential.
  EXPECT_THAT(Code(Reload(channel, "Bearer score-1")),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("")));
  {
    auto ctx = Context();
    v1::ListModelsResponse r;
    EXPECT_THAT(Code((*ts)->models->ListModels(ctx.get(), {}, &r)),
                StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("")));
  }
  {
    auto ctx = Context();
    auto stream = (*ts)->scoring->ScoreStream(ctx.get());
    stream->WritesDone();
    EXPECT_THAT(Code(stream->Finish()),
                StatusIs(absl::StatusCode::kUnauthenticated, HasSubstr("")));
  }
  {
    auto ctx = Context();
    ctx->AddMetadata("authorization", "Bearer score-1");
    auto stream = (*ts)->scoring->ScoreStream(ctx.get());
    ASSERT_TRUE(stream->Write(OneAccount()));
    stream->WritesDone();
    v1::ScoreResponse r;
    EXPECT_TRUE(stream->Read(&r));
    EXPECT_THAT(Code(stream->Finish()), IsOk());
  }
  // Health stays open for probes.
  {
    auto ctx = Context();
    grpc::health::v1::HealthCheckResponse r;
    EXPECT_THAT(Code((*ts)->health->Check(ctx.get(), {}, &r)), IsOk());
  }
  ServerStats st = (*ts)->server->stats();
  EXPECT_EQ(st.auth_scoring.unauthenticated, 3u);
  EXPECT_EQ(st.auth_scoring.permission_denied, 1u);
  EXPECT_EQ(st.auth_admin.permission_denied, 1u);
}

TEST_F(ServerAuthTest, TokenFilesAreReReadOnReload) {
  ServerOptions o = TestOptions();
  o.admin_token_file = dir_ + "/admin-token";
  auto ts = StartTestServer(o);
  ASSERT_THAT(ts.status(), IsOk());
  WriteFile(dir_ + "/admin-token", "admin-new\n");
  // SIGHUP runs the same reload (Server::RequestReload).
  (*ts)->server->ReloadModels();
  EXPECT_THAT(Code(Reload((*ts)->channel, "Bearer admin-1")),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("")));
  EXPECT_THAT(Code(Reload((*ts)->channel, "Bearer admin-new")), IsOk());
  // A file that breaks keeps the tokens in force.
  WriteFile(dir_ + "/admin-token", "\n");
  EXPECT_THAT(Code(Reload((*ts)->channel, "Bearer admin-new")), IsOk());
  EXPECT_THAT(Code(Reload((*ts)->channel, "Bearer admin-new")), IsOk());
}

// The binary: TLS, an admin token re-read on SIGHUP, and a clean SIGTERM.
TEST(ServerBinaryTlsTest, SighupRereadsTokensAndSigtermStopsCleanly) {
  const Pki& pki = Certificates();
  const std::string dir = ScratchDir("server_tls_binary");
  WriteFile(dir + "/admin-token", "admin-1\n");
  ServerProcess p;
  ASSERT_TRUE(p.Spawn(
      dir, {"--listen", "127.0.0.1:0", "--port-file", dir + "/port",
            "--models", TestModelsDir(), "--threads", "2", "--tls-cert",
            pki.Path("server.pem"), "--tls-key", pki.Path("server.key"),
            "--admin-token-file", dir + "/admin-token"}));
  const int port = p.WaitForPort(dir + "/port");
  ASSERT_GT(port, 0) << p.err();
  auto channel = TlsChannel(absl::StrCat("127.0.0.1:", port), "ca");
  EXPECT_THAT(Code(Reload(channel, "Bearer admin-1")), IsOk());
  EXPECT_THAT(Code(Reload(MakeChannel(absl::StrCat("127.0.0.1:", port)),
                          "Bearer admin-1")),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("")));

  WriteFile(dir + "/admin-token", "admin-2\n");
  p.Signal(SIGHUP);
  EXPECT_TRUE(WaitFor([&] {
    return Reload(channel, "Bearer admin-2").ok();
  })) << p.err();
  EXPECT_THAT(Code(Reload(channel, "Bearer admin-1")),
              StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("")));

  p.Signal(SIGTERM);
  ASSERT_TRUE(p.WaitForExit());
  EXPECT_EQ(p.Wait(), 0) << p.err();
}

// With TLS gRPC binds the port, but a busy port is still reported by one
// error line of ours, with no gRPC library line before it.
TEST(ServerBinaryTlsTest, BusyPortIsOneErrorOfOurs) {
  const Pki& pki = Certificates();
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestServer> first, StartTestServer());
  const std::string taken = first->target();
  const std::string dir = ScratchDir("server_tls_busy");
  ServerProcess p;
  ASSERT_TRUE(p.Spawn(dir, {"--listen", taken, "--models", TestModelsDir(),
                            "--tls-cert", pki.Path("server.pem"),
                            "--tls-key", pki.Path("server.key")}));
  ASSERT_TRUE(p.WaitForExit());
  EXPECT_EQ(p.Wait(), 1);
  const std::string err = p.err();
  EXPECT_THAT(err, Not(HasSubstr("grpc:")));
  EXPECT_THAT(err, Not(HasSubstr("chttp2")));
  const std::vector<std::string> errors = p.ErrorLines();
  ASSERT_EQ(errors.size(), 1u) << err;
  EXPECT_THAT(errors[0], HasSubstr(absl::StrCat("E cannot start: cannot listen "
                                                "on ",
                                                taken, ": ")));
  EXPECT_THAT(errors[0], HasSubstr("Address already in use"));
}

TEST(ServerSanTest, AdminCallsAcceptAllowListedClientCertificates) {
  ServerOptions o = TlsOptions("client-ca");
  o.admin_allow_san = "ops.example, admin.example";
  auto ts = StartTestServer(o);
  ASSERT_THAT(ts.status(), IsOk());
  const std::string target = (*ts)->target();
  auto admin = TlsChannel(target, "ca", "admin");
  auto client = TlsChannel(target, "ca", "client");
  EXPECT_THAT(Code(Reload(admin)), IsOk());
  EXPECT_THAT(Code(Reload(client)),
              StatusIs(absl::StatusCode::kPermissionDenied,
                       HasSubstr("the client certificate (subject alternative "
                                 "names: client.example) is not in "
                                 "--admin-allow-san")));
  // Scoring is open to every client the handshake let in.
  EXPECT_THAT(Code(Score(client)), IsOk());
}

TEST(ServerValidatePluginsTest, ClientModelsLoadNoPluginUnlessAllowed) {
  ServerOptions o = TestOptions();
  o.plugins_dir = BrokenPluginDir();
  o.plugins_dir_explicit = true;
  v1::ValidateModelRequest request;
  // The faulty plugin, told by the client's configuration to do nothing
  // unusual: with the flag it loads, without it it is never opened.
  request.set_yaml(StallingModel("client", "client"));
  absl::StrReplaceAll({{"stall_in_init_ms: 600000", "stall_in_init_ms: 0"}},
                      request.mutable_yaml());
  request.set_file_name("client.yaml");
  {
    auto ts = StartTestServer(o);
    ASSERT_THAT(ts.status(), IsOk());
    auto ctx = Context();
    v1::ValidateModelResponse r;
    ASSERT_THAT(
        Code((*ts)->models->ValidateModel(ctx.get(), request, &r)), IsOk());
    EXPECT_FALSE(r.valid());
    ASSERT_GT(r.diagnostics_size(), 0);
    EXPECT_THAT(r.diagnostics(0).message(),
                HasSubstr("plugin 'faulty' needs library 'faulty', but "
                          "ValidateModel loads no plugin for a client's "
                          "model"));
    EXPECT_THAT(r.diagnostics(0).hint(),
                HasSubstr("--validate-allow-plugins=true"));
  }
  o.validate_allow_plugins = true;
  auto ts = StartTestServer(o);
  ASSERT_THAT(ts.status(), IsOk());
  auto ctx = Context();
  v1::ValidateModelResponse r;
  ASSERT_THAT(Code((*ts)->models->ValidateModel(ctx.get(), request, &r)),
              IsOk());
  for (const auto& d : r.diagnostics()) {
    EXPECT_THAT(d.message(), Not(HasSubstr("loads no plugin")));
  }
  EXPECT_TRUE(r.valid()) << r.DebugString();
}

}  // namespace
}  // namespace healthscore::server
