// `cmake --install` into a temporary prefix, then the installed programs,
// run from a directory outside the repository with no plugin flag or
// variable: --version, validate and test of the installed models (their
// plugins found in the installation), serve answering a health check on an
// ephemeral port with every model (plugin_example included) loaded, and the
// installed systemd unit (its paths, non-root user, `systemd-analyze
// verify`), and the Python package imported from the installation.
// docs/operations.md, "Install", describes the layout.

#include <signal.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/testing/server_process.h"
#include "server/testing/test_server.h"

#ifndef HEALTHSCORE_CMAKE_COMMAND
#error "tests/CMakeLists.txt defines HEALTHSCORE_CMAKE_COMMAND"
#endif

namespace healthscore {
namespace {

namespace fs = std::filesystem;
using ::healthscore::engine::common::testing::ReadFile;
using ::healthscore::engine::common::testing::ScratchDir;
using ::testing::HasSubstr;
using HealthResponse = grpc::health::v1::HealthCheckResponse;

struct Result {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `command` through the shell in `dir`, without
// HEALTHSCORE_PLUGIN_PATH, capturing its output.
Result Shell(const std::string& dir, const std::string& command) {
  static int counter = 0;
  ++counter;
  const std::string out = absl::StrCat(dir, "/out", counter);
  const std::string err = absl::StrCat(dir, "/err", counter);
  const std::string line =
      absl::StrCat("cd '", dir, "' && env -u HEALTHSCORE_PLUGIN_PATH ",
                   command, " >'", out, "' 2>'", err, "'");
  const int status = std::system(line.c_str());
  Result r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = ReadFile(out);
  r.err = ReadFile(err);
  return r;
}

// The project version of the top-level CMakeLists.txt's project().
std::string ProjectVersion() {
  const std::string text =
      ReadFile(fs::path(HEALTHSCORE_SOURCE_DIR) / "CMakeLists.txt");
  std::smatch m;
  if (!std::regex_search(text, m,
                         std::regex(R"(project\(healthscore VERSION ([0-9.]+))"))) {
    return "(no project version)";
  }
  return m[1];
}

class InstallTest : public ::testing::Test {
 protected:
  // One installation for every test of this binary.
  static void SetUpTestSuite() {
    prefix_ = new std::string(ScratchDir("install_prefix"));
    work_ = new std::string(ScratchDir("install_work"));
    install_ = new Result(Shell(
        *work_, absl::StrCat("'", HEALTHSCORE_CMAKE_COMMAND, "' --install '",
                             HEALTHSCORE_BINARY_DIR, "' --prefix '", *prefix_,
                             "'")));
  }
  void SetUp() override {
    ASSERT_EQ(install_->exit_code, 0) << install_->out << install_->err;
  }
  static std::string P(const std::string& relative) {
    return absl::StrCat(*prefix_, "/", relative);
  }
  static std::string* prefix_;
  static std::string* work_;  // the current directory of the commands
  static Result* install_;
};
std::string* InstallTest::prefix_ = nullptr;
std::string* InstallTest::work_ = nullptr;
Result* InstallTest::install_ = nullptr;

TEST_F(InstallTest, LaysOutTheUsualDirectories) {
  for (const char* file :
       {"bin/healthscore", "bin/healthscore-server",
        "lib/healthscore/plugins/libhs_nps.so",
        "lib/healthscore/plugins/libhs_usage_anomaly.so",
        "lib/healthscore/plugins/libhs_weighted_sum.so",
        "lib/healthscore/civetweb-openssl/libssl.so",
        "lib/healthscore/civetweb-openssl/libcrypto.so",
        "share/healthscore/models/default/1/model.yaml",
        "share/healthscore/models/plugin_example/1/tests.yaml",
        "share/healthscore/schema/model.schema.json",
        "share/doc/healthscore/README.md", "share/doc/healthscore/LICENSE",
        "share/doc/healthscore/CHANGELOG.md",
        "share/doc/healthscore/docs/operations.md",
        "lib/systemd/system/healthscore.service",
        "include/healthscore/plugin.h"}) {
    EXPECT_TRUE(fs::is_regular_file(P(file))) << file;
  }
  // Nothing of the tests' deliberately broken plugins.
  EXPECT_FALSE(fs::exists(P("lib/healthscore/plugins/libhs_faulty.so")));
  // The README's links into docs/ resolve in the installed copy.
  const std::string readme = ReadFile(P("share/doc/healthscore/README.md"));
  const std::regex link(R"(\]\((docs/[a-z-]+\.md))");
  int links = 0;
  for (std::sregex_iterator it(readme.begin(), readme.end(), link), end;
       it != end; ++it, ++links) {
    EXPECT_TRUE(fs::is_regular_file(P(absl::StrCat(
        "share/doc/healthscore/", (*it)[1].str()))))
        << (*it)[1];
  }
  EXPECT_GT(links, 0);
}

TEST_F(InstallTest, VersionNamesEveryComponent) {
  const Result cli = Shell(*work_, P("bin/healthscore --version"));
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  const std::vector<std::string> lines = absl::StrSplit(cli.out, '\n');
  ASSERT_EQ(lines.size(), 6u) << cli.out;
  EXPECT_EQ(lines[0], absl::StrCat("healthscore ", ProjectVersion()));
  EXPECT_TRUE(std::regex_match(
      lines[1], std::regex("commit: ([0-9a-f]{12}(-dirty)?|unknown)")))
      << lines[1];
  EXPECT_EQ(lines[2], "plugin ABI: 1.0");
  EXPECT_EQ(lines[3], absl::StrCat("gRPC: ", grpc::Version()));
  EXPECT_TRUE(std::regex_match(lines[4],
                               std::regex("protobuf: [0-9]+\\.[0-9]+\\.[0-9]+")))
      << lines[4];
  EXPECT_EQ(lines[5], "");
  // The server binary and `serve` say the same.
  const Result server = Shell(*work_, P("bin/healthscore-server --version"));
  EXPECT_EQ(server.exit_code, 0);
  EXPECT_EQ(server.out, cli.out);
  const Result serve = Shell(*work_, P("bin/healthscore serve --version"));
  EXPECT_EQ(serve.out, cli.out);
  const Result help = Shell(*work_, P("bin/healthscore serve --help"));
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr(absl::StrCat(
                            "\nVersion: healthscore ", ProjectVersion(),
                            " (commit ")));
}

TEST_F(InstallTest, ValidateAndTestFindTheInstalledPlugins) {
  const std::string models = P("share/healthscore/models");
  const Result validate =
      Shell(*work_, absl::StrCat(P("bin/healthscore"), " validate ", models));
  EXPECT_EQ(validate.exit_code, 0) << validate.out << validate.err;
  EXPECT_THAT(validate.out,
              HasSubstr(absl::StrCat("ok: ", models,
                                     "/plugin_example/1/model.yaml")));
  EXPECT_THAT(validate.out, HasSubstr("3 models checked: 3 ok, 0 failed"));
  const Result test =
      Shell(*work_, absl::StrCat(P("bin/healthscore"), " test ", models));
  EXPECT_EQ(test.exit_code, 0) << test.out << test.err;
  EXPECT_THAT(test.out, HasSubstr(" passed, 0 failed"));
  const Result lint =
      Shell(*work_, absl::StrCat(P("bin/healthscore"), " lint ", models));
  EXPECT_EQ(lint.exit_code, 0) << lint.out << lint.err;
}

#ifdef HEALTHSCORE_PYTHON_SITE
// The Python package (docs/python.md), imported from the installation by
// the interpreter it was built for, from outside the source and build
// trees, scoring with an installed model.
TEST_F(InstallTest, PythonPackageImportsFromTheInstallation) {
  const std::string site = P(HEALTHSCORE_PYTHON_SITE);
  for (const char* file : {"__init__.py", "__init__.pyi", "dask.py",
                           "py.typed"}) {
    EXPECT_TRUE(fs::is_regular_file(absl::StrCat(site, "/healthscore/", file)))
        << file;
  }
  const Result py = Shell(
      *work_,
      absl::StrCat(
          "env PYTHONPATH='", site, "' '", HEALTHSCORE_PYTHON_EXECUTABLE,
          "' -c \"import healthscore, pandas; m = healthscore.load('",
          P("share/healthscore/models/default"),
          "'); print(healthscore.__file__); print(m.score(pandas.read_csv('",
          HEALTHSCORE_SOURCE_DIR,
          "/rules/testdata/sample_accounts.csv'))['tier'].iloc[0])\""));
  ASSERT_EQ(py.exit_code, 0) << py.err;
  EXPECT_THAT(py.out,
              HasSubstr(absl::StrCat(site, "/healthscore/__init__.py\n")));
  EXPECT_THAT(py.out, HasSubstr("\ngreen\n"));
}
#endif

TEST_F(InstallTest, ServeWithoutFlagsServesTheInstalledModels) {
  const std::string port_file = *work_ + "/port";
  std::remove(port_file.c_str());
  server::testing::ServerProcess p;
  // Only an ephemeral port: models and plugins come from the installation
  // (the test's current directory, the repository root, holds rules/ and
  // plugins/, which an installed program must not take).
  ASSERT_TRUE(p.Spawn(*work_,
                      {"serve", "--listen", "127.0.0.1:0", "--port-file",
                       port_file, "--threads", "2"},
                      P("bin/healthscore")));
  const int port = p.WaitForPort(port_file);
  ASSERT_GT(port, 0) << p.err();
  auto channel =
      server::testing::MakeChannel(absl::StrCat("127.0.0.1:", port));
  auto health = grpc::health::v1::Health::NewStub(channel);
  HealthResponse h;
  auto hctx = server::testing::Context();
  ASSERT_TRUE(
      health->Check(hctx.get(), grpc::health::v1::HealthCheckRequest(), &h)
          .ok());
  EXPECT_EQ(h.status(), HealthResponse::SERVING);

  auto models = v1::ModelService::NewStub(channel);
  v1::ListModelsResponse list;
  auto lctx = server::testing::Context();
  ASSERT_TRUE(
      models->ListModels(lctx.get(), v1::ListModelsRequest(), &list).ok());
  std::vector<std::string> serving;
  for (const v1::ModelStatus& m : list.models()) {
    EXPECT_EQ(m.last_error(), "") << m.name();
    if (!m.serving_version().empty()) serving.push_back(m.name());
  }
  EXPECT_THAT(serving, ::testing::UnorderedElementsAre(
                           "adoption_trends", "default", "plugin_example"));

  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(), 0);
  const std::string log = p.err();
  EXPECT_THAT(log, HasSubstr(absl::StrCat(
                       "plugin directory ", P("lib/healthscore/plugins"),
                       ": models load their plugins from it")));
  EXPECT_THAT(log, HasSubstr(absl::StrCat(
                       "models ", P("share/healthscore/models"), " (default")));
  EXPECT_THAT(log, HasSubstr(absl::StrCat("healthscore server ",
                                          ProjectVersion(),
                                          " starting (commit ")));
}

// The installed server finds its OpenSSL 3 adapter for civetweb
// (server/metrics_tls.h) in the installation, not in the build tree.
TEST_F(InstallTest, InstalledServerServesMetricsOverHttps) {
  const std::string dir = ScratchDir("install_metrics_tls");
  const Result openssl = Shell(
      dir, "openssl req -x509 -newkey ec -pkeyopt "
           "ec_paramgen_curve:prime256v1 -nodes -keyout key.pem -out "
           "cert.pem -days 2 -subj /CN=localhost -addext "
           "subjectAltName=IP:127.0.0.1");
  ASSERT_EQ(openssl.exit_code, 0) << openssl.err;
  std::remove((dir + "/port").c_str());
  std::remove((dir + "/metrics-port").c_str());
  server::testing::ServerProcess p;
  ASSERT_TRUE(p.Spawn(
      *work_,
      {"--listen", "127.0.0.1:0", "--port-file", dir + "/port", "--threads",
       "2", "--tls-cert", dir + "/cert.pem", "--tls-key", dir + "/key.pem",
       "--metrics-port", "0", "--metrics-port-file", dir + "/metrics-port",
       "--metrics-tls=true"},
      P("bin/healthscore-server")));
  ASSERT_GT(p.WaitForPort(dir + "/port"), 0) << p.err();
  const int metrics = p.WaitForPort(dir + "/metrics-port");
  ASSERT_GT(metrics, 0) << p.err();
  const Result scrape = Shell(
      dir, absl::StrCat("curl -sS --max-time 20 --cacert cert.pem "
                        "https://127.0.0.1:",
                        metrics, "/metrics"));
  EXPECT_EQ(scrape.exit_code, 0) << scrape.err << p.err();
  EXPECT_THAT(scrape.out, HasSubstr("healthscore_build_info{version="));
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(), 0) << p.err();
  EXPECT_THAT(p.err(), HasSubstr("metrics on https://127.0.0.1:"));
}

TEST_F(InstallTest, SystemdUnitRunsTheInstalledServerAsNonRoot) {
  const std::string unit = P("lib/systemd/system/healthscore.service");
  const std::string text = ReadFile(unit);
  // Every placeholder of deploy/systemd/healthscore.service.in filled in.
  EXPECT_THAT(text, ::testing::Not(HasSubstr("@HEALTHSCORE_")));
  EXPECT_THAT(text, HasSubstr(absl::StrCat(
                        "\nExecStart=", P("bin/healthscore"),
                        " serve --listen 127.0.0.1:50051 --models ",
                        P("share/healthscore/models"), " --plugins ",
                        P("lib/healthscore/plugins"), "\n")));
  for (const char* line :
       {"\nDynamicUser=yes\n", "\nUser=healthscore\n",
        "\nNoNewPrivileges=yes\n", "\nCapabilityBoundingSet=\n",
        "\nProtectSystem=strict\n", "\nProtectHome=yes\n",
        "\nExecReload=/bin/kill -HUP $MAINPID\n",
        "\nKillSignal=SIGTERM\n"}) {
    EXPECT_THAT(text, HasSubstr(line));
  }
  EXPECT_THAT(text, ::testing::Not(HasSubstr("User=root")));
  // systemd's own check: every key known, the executable present. It
  // prints unknown keys as warnings and still succeeds, hence the empty
  // output.
  const Result verify =
      Shell(*work_, absl::StrCat("systemd-analyze verify '", unit, "'"));
  EXPECT_EQ(verify.exit_code, 0) << verify.err;
  EXPECT_EQ(verify.out + verify.err, "");
}

}  // namespace
}  // namespace healthscore
