// The server's conventions (issue 14): paths shown to clients relative to
// the model and plugin directories, reflection that can be turned off, one
// log line per model load, and start-up errors reported by us alone.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/status.h"
#include "server/testing/reflection_client.h"
#include "server/testing/server_process.h"
#include "server/testing/test_server.h"

namespace healthscore::server {
namespace {

using ::healthscore::engine::common::testing::ScratchDir;
using ::healthscore::engine::common::testing::StatusIs;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using ::testing::Not;
using namespace ::healthscore::server::testing;  // NOLINT

// Where the tests' model and plugin directories are: no client-visible
// text may contain them.
const std::vector<std::string>& HostPaths() {
  static const auto* paths = new std::vector<std::string>{
      HEALTHSCORE_SOURCE_DIR, HEALTHSCORE_BINARY_DIR};
  return *paths;
}

void ExpectNoHostPath(const std::string& text) {
  for (const std::string& p : HostPaths()) {
    EXPECT_THAT(text, Not(HasSubstr(p))) << text;
  }
}

ServerOptions AbsoluteDirOptions() {
  ServerOptions o = TestOptions();  // models_dir is absolute
  o.plugins_dir = BrokenPluginDir();
  o.plugins_dir_explicit = true;
  return o;
}

TEST(RelativePathsTest, ListModelsShowsPathsRelativeToTheModelDirectory) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestServer> ts,
                       StartTestServer(AbsoluteDirOptions()));
  v1::ListModelsResponse r;
  auto ctx = Context();
  ASSERT_OK(FromGrpcStatus(
      ts->models->ListModels(ctx.get(), v1::ListModelsRequest(), &r)));
  ExpectNoHostPath(r.DebugString());
  std::vector<std::string> files;
  for (const v1::ModelStatus& m : r.models()) {
    for (const v1::ModelVersionStatus& v : m.versions()) {
      files.push_back(v.file());
    }
  }
  EXPECT_THAT(files, IsSupersetOf({"broken/1/model.yaml",
                                   "default/1/model.yaml",
                                   "default/3/model.yaml"}));
  ASSERT_GE(r.models_size(), 1);
  EXPECT_EQ(r.models(0).name(), "broken");
  EXPECT_THAT(r.models(0).versions(0).error(),
              HasSubstr("broken/1/model.yaml:5:1: error: invalid YAML"));
  EXPECT_THAT(r.models(0).versions(0).error(),
              Not(HasSubstr("/broken/1/model.yaml")));
}

TEST(RelativePathsTest, ErrorStatusesShowRelativePaths) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestServer> ts,
                       StartTestServer(AbsoluteDirOptions()));
  // A version that failed to load: its error carries the file.
  v1::ScoreResponse score;
  auto ctx = Context();
  Account account;
  account.id = "a";
  const grpc::Status s = ts->scoring->Score(
      ctx.get(), MapRequest({account}, "default", "3"), &score);
  EXPECT_THAT(FromGrpcStatus(s),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("default/3/model.yaml:")));
  ExpectNoHostPath(s.error_message());

  v1::GetModelRequest get;
  get.set_name("default");
  get.set_version("3");
  v1::GetModelResponse model;
  auto ctx2 = Context();
  const grpc::Status g = ts->models->GetModel(ctx2.get(), get, &model);
  EXPECT_EQ(g.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  ExpectNoHostPath(g.error_message());

  v1::ReloadResponse reload;
  auto ctx3 = Context();
  ASSERT_OK(FromGrpcStatus(
      ts->models->Reload(ctx3.get(), v1::ReloadRequest(), &reload)));
  EXPECT_GT(reload.errors_size(), 0);
  ExpectNoHostPath(reload.DebugString());
}

TEST(RelativePathsTest, ValidateModelShowsPluginLibrariesByName) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestServer> ts,
                       StartTestServer(AbsoluteDirOptions()));
  v1::ValidateModelRequest request;
  request.set_file_name("candidate.yaml");
  request.set_yaml(
      "name: p\nversion: 1\n"
      "plugins:\n  - {id: x, library: no_such_library}\n"
      "inputs:\n  - {id: a, type: number}\n"
      "groups:\n  - id: g\n    weight: 1\n    signals:\n"
      "      - {id: s, source: a, weight: 1, normalize: identity}\n"
      "tiers:\n  - {id: green, min: 50}\n  - {id: red, min: 0}\n");
  v1::ValidateModelResponse r;
  auto ctx = Context();
  ASSERT_OK(FromGrpcStatus(ts->models->ValidateModel(ctx.get(), request, &r)));
  EXPECT_FALSE(r.valid());
  std::string messages;
  for (const v1::Diagnostic& d : r.diagnostics()) {
    absl::StrAppend(&messages, d.message(), "\n");
  }
  EXPECT_THAT(messages, HasSubstr("no_such_library")) << messages;
  ExpectNoHostPath(r.DebugString());
}

TEST(ReflectionFlagTest, ReflectionCanBeTurnedOff) {
  ServerOptions options = TestOptions();
  options.reflection = false;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestServer> off,
                       StartTestServer(options));
  for (const char* version : {"v1alpha", "v1"}) {
    ReflectionClient client(off->channel, version);
    EXPECT_THAT(client.ListServices().status(),
                StatusIs(absl::StatusCode::kUnimplemented, ::testing::_))
        << version;
  }
  // Another server in the same process keeps its reflection: the setting
  // is per server.
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestServer> on, StartTestServer());
  ReflectionClient client(on->channel, "v1alpha");
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, client.ListServices());
  EXPECT_THAT(names, Contains("healthscore.v1.ScoringService"));
}

// Lists the services and describes grpc.health.v1.Health over `version` of
// reflection.
void ExpectHealthDescribable(std::shared_ptr<grpc::Channel> channel,
                             const std::string& version) {
  SCOPED_TRACE(version);
  ReflectionClient client(channel, version);
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> names, client.ListServices());
  EXPECT_THAT(names, IsSupersetOf({"healthscore.v1.ScoringService",
                                   "healthscore.v1.ModelService",
                                   "grpc.health.v1.Health",
                                   "grpc.reflection.v1.ServerReflection",
                                   "grpc.reflection.v1alpha.ServerReflection"}));
  ASSERT_OK_AND_ASSIGN(auto files,
                       client.FileContainingSymbol("grpc.health.v1.Health"));
  ASSERT_GE(files.size(), 1u);
  EXPECT_EQ(files[0].name(), "grpc/health/v1/health.proto");
  EXPECT_EQ(files[0].package(), "grpc.health.v1");
  ASSERT_EQ(files[0].service_size(), 1);
  EXPECT_EQ(files[0].service(0).name(), "Health");
  std::vector<std::string> methods;
  for (const auto& m : files[0].service(0).method()) {
    methods.push_back(m.name());
  }
  EXPECT_THAT(methods, ::testing::ElementsAre("Check", "Watch"));

  ASSERT_OK_AND_ASSIGN(
      auto scoring, client.FileContainingSymbol("healthscore.v1.ScoringService"));
  ASSERT_GE(scoring.size(), 1u);
  EXPECT_EQ(scoring[0].name(), "healthscore/v1/scoring.proto");
  ASSERT_OK_AND_ASSIGN(
      auto v1, client.FileContainingSymbol(
                   "grpc.reflection.v1.ServerReflection"));
  ASSERT_GE(v1.size(), 1u);
  EXPECT_EQ(v1[0].name(), "grpc/reflection/v1/reflection.proto");
  // An unknown symbol is an error answer, as v1alpha gives it.
  EXPECT_THAT(client.FileContainingSymbol("no.such.Service").status(),
              StatusIs(absl::StatusCode::kNotFound, ::testing::_));
}

TEST(ReflectionTest, BothVersionsDescribeHealthInProcess) {
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestServer> ts, StartTestServer());
  ExpectHealthDescribable(ts->channel, "v1alpha");
  ExpectHealthDescribable(ts->channel, "v1");
}

// The binary links only what it references: the health descriptors must be
// in its pool, not just in this test's.
TEST(ReflectionTest, BothVersionsDescribeHealthInTheBinary) {
  const std::string dir = ScratchDir("conventions_reflection");
  const std::string port_file = dir + "/port";
  std::remove(port_file.c_str());
  ServerProcess p;
  ASSERT_TRUE(p.Spawn(dir, {"--listen", "127.0.0.1:0", "--port-file",
                            port_file, "--models", TestModelsDir(),
                            "--threads", "2"}));
  const int port = p.WaitForPort(port_file);
  ASSERT_GT(port, 0) << p.err();
  auto channel = MakeChannel(absl::StrCat("127.0.0.1:", port));
  ExpectHealthDescribable(channel, "v1alpha");
  ExpectHealthDescribable(channel, "v1");
  // Several requests on one v1 stream are answered in order.
  p.Signal(SIGTERM);
  ASSERT_TRUE(p.WaitForExit());
  EXPECT_EQ(p.Wait(), 0);
}

// The real binary logs one line per model version loaded or failed.
TEST(ServerLogTest, OneLinePerModelLoad) {
  const std::string dir = ScratchDir("conventions_log");
  const std::string port_file = dir + "/port";
  std::remove(port_file.c_str());
  ServerProcess p;
  ASSERT_TRUE(p.Spawn(dir, {"--listen", "127.0.0.1:0", "--port-file",
                            port_file, "--models", TestModelsDir(),
                            "--threads", "2"}));
  ASSERT_GT(p.WaitForPort(port_file), 0) << p.err();
  p.Signal(SIGTERM);
  ASSERT_TRUE(p.WaitForExit());
  EXPECT_EQ(p.Wait(), 0);
  std::vector<std::string> about_v2;
  std::vector<std::string> about_v3;
  for (absl::string_view line : absl::StrSplit(p.err(), '\n')) {
    // ("models ready ...; default model default version 2" is about the
    // default, not a load.)
    if (absl::StrContains(line, "models ready")) continue;
    if (absl::StrContains(line, "default version 2")) {
      about_v2.emplace_back(line);
    }
    if (absl::StrContains(line, "default version 3")) {
      about_v3.emplace_back(line);
    }
  }
  ASSERT_EQ(about_v2.size(), 1u) << p.err();
  EXPECT_THAT(about_v2[0],
              HasSubstr("I loaded model default version 2 (label "));
  EXPECT_THAT(about_v2[0], HasSubstr(", 0 warnings, "));
  EXPECT_THAT(about_v2[0], HasSubstr(" test cases passed) from " +
                                         TestModelsDir() +
                                         "/default/2/model.yaml in "));
  ASSERT_EQ(about_v3.size(), 1u) << p.err();
  EXPECT_THAT(about_v3[0], HasSubstr("E failed to load model default "
                                     "version 3: "));
  // Loopback: no warning about plaintext.
  EXPECT_THAT(p.err(), Not(HasSubstr("without TLS")));
}

// A metrics port in use: our one error says why; civetweb's own lines do
// not come first.
TEST(ServerLogTest, StartUpErrorIsOursAlone) {
  ServerOptions first_options = TestOptions();
  first_options.metrics_port = 0;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<TestServer> first,
                       StartTestServer(first_options, false));
  const int taken = first->server->metrics_port();
  const std::string dir = ScratchDir("conventions_start_error");
  ServerProcess p;
  ASSERT_TRUE(p.Spawn(dir, {"--listen", "127.0.0.1:0", "--models",
                            TestModelsDir(), "--metrics-port",
                            absl::StrCat(taken)}));
  ASSERT_TRUE(p.WaitForExit());
  EXPECT_EQ(p.Wait(), 1);
  const std::string err = p.err();
  EXPECT_THAT(err, Not(HasSubstr("metrics endpoint:")));
  EXPECT_THAT(err, Not(HasSubstr("Failed to setup server ports")));
  const std::vector<std::string> errors = p.ErrorLines();
  ASSERT_EQ(errors.size(), 1u) << err;
  EXPECT_THAT(errors[0],
              HasSubstr(absl::StrCat("E cannot start: cannot serve metrics on "
                                     "127.0.0.1:",
                                     taken, ": cannot bind to 127.0.0.1:",
                                     taken)));
  EXPECT_THAT(errors[0], HasSubstr("Address already in use"));
}

}  // namespace
}  // namespace healthscore::server
