#include "server/options.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "engine/common/install_layout.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/common/testing/yaml_bombs.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::server {
namespace {

using ::healthscore::engine::common::testing::AliasBomb;
using ::healthscore::engine::common::testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Lt;
using ::testing::StartsWith;

absl::StatusOr<ServeArgs> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "serve");
  return ParseServeArgs(args);
}

TEST(OptionsTest, Defaults) {
  ASSERT_OK_AND_ASSIGN(ServeArgs args, Parse({}));
  const ServerOptions& o = args.options;
  EXPECT_FALSE(args.help);
  EXPECT_EQ(o.listen, "127.0.0.1:50051");
  // This test runs from the build tree (engine/common/install_layout.h).
  EXPECT_EQ(o.models_dir, "rules");
  EXPECT_EQ(o.default_model, "default");
  EXPECT_EQ(o.plugins_dir, engine::common::DefaultDataDirs().plugins);
  EXPECT_FALSE(o.plugins_dir_explicit);
  EXPECT_EQ(o.threads, 0);
  EXPECT_EQ(o.max_accounts_per_request, 100000u);
  EXPECT_EQ(o.max_message_bytes, 64u << 20);
  EXPECT_EQ(o.max_concurrent_requests, 1024u);
  EXPECT_EQ(o.max_pending_accounts, 1000000u);
  EXPECT_EQ(o.max_bytes_in_flight, 256u << 20);
  EXPECT_EQ(o.max_stream_batches_in_flight, 4);
  EXPECT_EQ(o.shutdown_wait, absl::ZeroDuration());
  EXPECT_EQ(o.shutdown_grace, absl::Seconds(30));
  EXPECT_EQ(o.watch_interval, absl::ZeroDuration());
  EXPECT_EQ(o.metrics_port, -1);  // off
  EXPECT_EQ(o.metrics_address, "127.0.0.1");
  EXPECT_EQ(o.metrics_port_file, "");
  EXPECT_EQ(o.metrics_threads, 16);
  EXPECT_EQ(o.metrics_request_timeout, absl::Seconds(3));
}

TEST(OptionsTest, ListenAddresses) {
  struct Case {
    std::string text;
    std::string host;
    int port;
  };
  const Case valid[] = {
      {"127.0.0.1:50051", "127.0.0.1", 50051},
      {"0.0.0.0:0", "0.0.0.0", 0},
      {"localhost:65535", "localhost", 65535},
      {"scoring-1.internal_net.example:9000", "scoring-1.internal_net.example",
       9000},
      {"[::]:50051", "::", 50051},
      {"[::1]:8", "::1", 8},
      {"[fe80::1%eth0]:1", "fe80::1%eth0", 1},
  };
  for (const Case& c : valid) {
    SCOPED_TRACE(c.text);
    ASSERT_OK_AND_ASSIGN(ListenAddress a, ParseListenAddress(c.text));
    EXPECT_EQ(a.host, c.host);
    EXPECT_EQ(a.port, c.port);
    ASSERT_OK_AND_ASSIGN(ServeArgs args, Parse({"--listen", c.text}));
    EXPECT_EQ(args.options.listen, c.text);
  }
}

TEST(OptionsTest, ListenAddressErrors) {
  struct Case {
    std::string text;
    std::string message;
  };
  const Case cases[] = {
      {"127.0.0.1:99999",
       "port 99999 in '127.0.0.1:99999' is out of range (0-65535; 0 picks a "
       "free port)"},
      {"127.0.0.1:65536", "port 65536 in '127.0.0.1:65536' is out of range"},
      {"127.0.0.1:0000000000000000080", "is out of range"},
      {"garbage",
       "expected HOST:PORT (such as 127.0.0.1:50051, 0.0.0.0:50051, "
       "[::]:50051 or localhost:0), got 'garbage'"},
      {"", "got ''"},
      {"127.0.0.1", "got '127.0.0.1'"},
      {"127.0.0.1:", "no port in '127.0.0.1:'"},
      {"127.0.0.1:http", "port 'http' in '127.0.0.1:http' is not a number"},
      {"127.0.0.1:-1", "port '-1' in '127.0.0.1:-1' is not a number"},
      {"127.0.0.1: 80", "port ' 80' in '127.0.0.1: 80' is not a number"},
      {":50051", "no host in ':50051'"},
      {"::1:50051",
       "an IPv6 address is written in brackets, as "
       "[::1]:50051; got '::1:50051'"},
      {"[::1:50051", "unclosed '[' in '[::1:50051'"},
      {"[::1]50051", "expected HOST:PORT"},
      {"[zz]:1", "'zz' in '[zz]:1' is not an IPv6 address"},
      {"999.1.1.1:80",
       "host '999.1.1.1' in '999.1.1.1:80' is neither an IP address nor a "
       "host name"},
      {"bad host:80", "host 'bad host' in 'bad host:80'"},
      {"-x:80", "host '-x' in '-x:80'"},
      {"unix:/run/healthscore.sock",
       "Unix domain sockets are not supported; listen on a TCP address"},
      {std::string(100000, 'h') + ":1", "…(100002 bytes)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text.substr(0, 64));
    EXPECT_THAT(
        ParseListenAddress(c.text),
        StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr(c.message)));
    // Refused while parsing the flags and the config file (exit code 2).
    EXPECT_THAT(
        Parse({"--listen", c.text}),
        StatusIs(absl::StatusCode::kInvalidArgument,
                 AllOf(StartsWith("--listen: "), HasSubstr(c.message))));
  }
  EXPECT_THAT(Parse({"--listen", "garbage"}).status().message().size(),
              Lt(300u));
  ServerOptions o;
  EXPECT_THAT(ApplyConfigYaml("listen: 10.0.0.1:70000\n", "s.yaml", ".", &o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("s.yaml:1:1: listen: port 70000 in "
                                 "'10.0.0.1:70000' is out of range")));
  // Options built in code are checked by Validate (and Server::Start).
  o.listen = "127.0.0.1:99999";
  EXPECT_THAT(o.Validate(), StatusIs(absl::StatusCode::kInvalidArgument,
                                     HasSubstr("--listen: port 99999")));
  // The server binds TCP addresses only.
  EXPECT_THAT(Parse({"--listen", "unix:/tmp/hs.sock"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--listen: Unix domain sockets are not "
                                 "supported")));
}

TEST(OptionsTest, MetricsThreadsAndTimeout) {
  ASSERT_OK_AND_ASSIGN(ServeArgs args,
                       Parse({"--metrics-port", "0", "--metrics-threads", "4",
                              "--metrics-request-timeout", "1500ms"}));
  EXPECT_EQ(args.options.metrics_threads, 4);
  EXPECT_EQ(args.options.metrics_request_timeout, absl::Milliseconds(1500));
  EXPECT_THAT(Parse({"--metrics-threads", "0"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--metrics-threads: expected a positive "
                                 "integer, got '0'")));
  EXPECT_THAT(Parse({"--metrics-threads", "257"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--metrics-threads must be between 1 and "
                                 "256, got 257")));
  EXPECT_THAT(Parse({"--metrics-request-timeout", "10ms"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--metrics-request-timeout must be between "
                                 "100ms and 1m, got 10ms")));
  ServerOptions o;
  ASSERT_OK(
      ApplyConfigYaml("metrics_threads: 32\n"
                      "metrics_request_timeout: 5s\n",
                      "s.yaml", ".", &o));
  EXPECT_EQ(o.metrics_threads, 32);
  EXPECT_EQ(o.metrics_request_timeout, absl::Seconds(5));
  EXPECT_THAT(ServeUsage("healthscore serve"),
              AllOf(HasSubstr("--metrics-threads N"),
                    HasSubstr("--metrics-request-timeout DURATION"),
                    HasSubstr("[default: 16]"), HasSubstr("[default: 3s]")));
}

TEST(OptionsTest, ValidationFlags) {
  ASSERT_OK_AND_ASSIGN(ServeArgs args, Parse({}));
  EXPECT_EQ(args.options.max_concurrent_validations, 2);
  EXPECT_EQ(args.options.validation_timeout, absl::Seconds(10));
  EXPECT_EQ(args.options.max_model_bytes, size_t{4} << 20);
  ASSERT_OK_AND_ASSIGN(args, Parse({"--max-concurrent-validations", "4",
                                    "--validation-timeout=2500ms",
                                    "--max-model-bytes", "512KiB"}));
  EXPECT_EQ(args.options.max_concurrent_validations, 4);
  EXPECT_EQ(args.options.validation_timeout, absl::Milliseconds(2500));
  EXPECT_EQ(args.options.max_model_bytes, size_t{512} << 10);
  ServerOptions o;
  ASSERT_OK(
      ApplyConfigYaml("max_concurrent_validations: 3\n"
                      "validation_timeout: 30s\n"
                      "max_model_bytes: 8MiB\n",
                      "s.yaml", ".", &o));
  EXPECT_EQ(o.max_concurrent_validations, 3);
  EXPECT_EQ(o.validation_timeout, absl::Seconds(30));
  EXPECT_EQ(o.max_model_bytes, size_t{8} << 20);
  EXPECT_THAT(Parse({"--max-concurrent-validations", "0"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--max-concurrent-validations: expected a "
                                 "positive integer, got '0'")));
  EXPECT_THAT(Parse({"--max-concurrent-validations", "65"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--max-concurrent-validations must be "
                                 "between 1 and 64, got 65")));
  EXPECT_THAT(Parse({"--validation-timeout", "0s"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--validation-timeout must be positive")));
  EXPECT_THAT(Parse({"--max-model-bytes", "0"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--max-model-bytes: size '0' must be "
                                 "between 1 byte and 2GiB")));
}

TEST(OptionsTest, MetricsFlags) {
  ASSERT_OK_AND_ASSIGN(
      ServeArgs args,
      Parse({"--metrics-port", "9464", "--metrics-address=0.0.0.0",
             "--metrics-port-file", "/run/hs/metrics-port"}));
  EXPECT_EQ(args.options.metrics_port, 9464);
  EXPECT_EQ(args.options.metrics_address, "0.0.0.0");
  EXPECT_EQ(args.options.metrics_port_file, "/run/hs/metrics-port");
  ASSERT_OK_AND_ASSIGN(args, Parse({"--metrics-port=0"}));
  EXPECT_EQ(args.options.metrics_port, 0);  // a free port
  ASSERT_OK_AND_ASSIGN(args, Parse({"--metrics-port", "-1"}));
  EXPECT_EQ(args.options.metrics_port, -1);
  ASSERT_OK_AND_ASSIGN(args, Parse({"--metrics-port", "off"}));
  EXPECT_EQ(args.options.metrics_port, -1);
}

TEST(OptionsTest, MetricsFlagErrors) {
  EXPECT_THAT(Parse({"--metrics-port", "65536"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--metrics-port: expected a port between 0 "
                                 "and 65535, or -1 or 'off', got '65536'")));
  EXPECT_THAT(
      Parse({"--metrics-port", "-2"}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got '-2'")));
  EXPECT_THAT(
      Parse({"--metrics-port", "http"}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got 'http'")));
  EXPECT_THAT(
      Parse({"--metrics-port", "9464", "--metrics-address", "localhost"}),
      StatusIs(absl::StatusCode::kInvalidArgument,
               HasSubstr("--metrics-address must be an IPv4 address "
                         "such as 127.0.0.1 or 0.0.0.0, got "
                         "'localhost'")));
  EXPECT_THAT(
      Parse({"--metrics-port", "9464", "--metrics-address", "::1"}),
      StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("got '::1'")));
  EXPECT_THAT(Parse({"--metrics-port-file", "/tmp/p"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--metrics-port-file needs --metrics-port")));
  // The address is only checked when the endpoint is on.
  EXPECT_OK(Parse({"--metrics-address", "localhost"}).status());
  ServerOptions o;
  o.metrics_port = 70000;
  EXPECT_THAT(o.Validate(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--metrics-port must be between 0 and "
                                 "65535, or -1 (off), got 70000")));
}

TEST(OptionsTest, DecisionLogFlags) {
  ServerOptions defaults;
  EXPECT_EQ(defaults.decision_log, "");  // off
  EXPECT_EQ(defaults.decision_log_sample, 1);
  EXPECT_EQ(defaults.decision_log_buffer, size_t{8} << 20);
  EXPECT_EQ(defaults.decision_log_max_bytes, size_t{100} << 20);
  EXPECT_EQ(defaults.decision_log_max_files, 5);
  ASSERT_OK_AND_ASSIGN(
      ServeArgs args,
      Parse({"--decision-log", "/var/log/hs/decisions.jsonl",
             "--decision-log-sample=0.01", "--decision-log-mask", "nps,arr",
             "--decision-log-buffer", "1MiB", "--decision-log-max-bytes",
             "0", "--decision-log-max-files", "10"}));
  EXPECT_EQ(args.options.decision_log, "/var/log/hs/decisions.jsonl");
  EXPECT_EQ(args.options.decision_log_sample, 0.01);
  EXPECT_EQ(args.options.decision_log_mask, "nps,arr");
  EXPECT_EQ(args.options.decision_log_buffer, size_t{1} << 20);
  EXPECT_EQ(args.options.decision_log_max_bytes, 0u);  // never rotates
  EXPECT_EQ(args.options.decision_log_max_files, 10);
  // "-" is standard output, also in a config file (not made relative).
  ServerOptions o;
  ASSERT_OK(ApplyConfigYaml("decision_log: '-'\n", "etc/s.yaml", "etc", &o));
  EXPECT_EQ(o.decision_log, "-");
  ASSERT_OK(ApplyConfigYaml("decision_log: log/d.jsonl\n"
                            "decision_log_max_bytes: 64MiB\n",
                            "etc/s.yaml", "etc", &o));
  EXPECT_EQ(o.decision_log, "etc/log/d.jsonl");
  EXPECT_EQ(o.decision_log_max_bytes, size_t{64} << 20);
  EXPECT_THAT(ServeUsage("healthscore serve"),
              AllOf(HasSubstr("--decision-log FILE|-"),
                    HasSubstr("--decision-log-sample RATE"),
                    HasSubstr("--decision-log-mask IDS"),
                    HasSubstr("--decision-log-max-files N")));
}

TEST(OptionsTest, DecisionLogFlagErrors) {
  for (const char* rate : {"0", "1.5", "-0.1", "often"}) {
    EXPECT_THAT(Parse({"--decision-log-sample", rate}),
                StatusIs(absl::StatusCode::kInvalidArgument,
                         HasSubstr(absl::StrCat(
                             "--decision-log-sample: expected a rate above 0 "
                             "and at most 1 (such as 0.01), got '",
                             rate, "'"))));
  }
  EXPECT_THAT(Parse({"--decision-log-mask", "nps,,arr"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--decision-log-mask: empty name in "
                                 "'nps,,arr'")));
  EXPECT_THAT(Parse({"--decision-log-max-files", "0"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--decision-log-max-files: expected a "
                                 "positive integer")));
  EXPECT_THAT(Parse({"--decision-log-max-files", "1001"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--decision-log-max-files must be between 1 "
                                 "and 1000, got 1001")));
  EXPECT_THAT(Parse({"--decision-log-buffer", "0"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--decision-log-buffer: size '0' must be "
                                 "between 1 byte and 2GiB")));
  EXPECT_THAT(Parse({"--decision-log", ""}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--decision-log: empty value")));
}

TEST(OptionsTest, SecurityFlags) {
  ASSERT_OK_AND_ASSIGN(
      ServeArgs args,
      Parse({"--tls-cert", "/etc/hs/cert.pem", "--tls-key=/etc/hs/key.pem",
             "--tls-client-ca", "/etc/hs/ca.pem", "--tls-refresh-interval",
             "10s", "--admin-token-file", "/etc/hs/admin",
             "--admin-allow-san", "ops.example,spiffe://x/ops",
             "--auth-token-file", "/etc/hs/scoring",
             "--validate-allow-plugins=true"}));
  EXPECT_EQ(args.options.tls_cert, "/etc/hs/cert.pem");
  EXPECT_EQ(args.options.tls_key, "/etc/hs/key.pem");
  EXPECT_EQ(args.options.tls_client_ca, "/etc/hs/ca.pem");
  EXPECT_EQ(args.options.tls_refresh_interval, absl::Seconds(10));
  EXPECT_EQ(args.options.admin_token_file, "/etc/hs/admin");
  EXPECT_EQ(args.options.admin_allow_san, "ops.example,spiffe://x/ops");
  EXPECT_EQ(args.options.auth_token_file, "/etc/hs/scoring");
  EXPECT_TRUE(args.options.validate_allow_plugins);
  ServerOptions defaults;
  EXPECT_FALSE(defaults.validate_allow_plugins);
  EXPECT_EQ(defaults.tls_refresh_interval, absl::Seconds(60));
  ServerOptions o;
  ASSERT_OK(ApplyConfigYaml("tls_cert: tls/cert.pem\ntls_key: tls/key.pem\n"
                            "validate_allow_plugins: false\n",
                            "etc/server.yaml", "etc", &o));
  EXPECT_EQ(o.tls_cert, "etc/tls/cert.pem");  // relative to the file
  EXPECT_OK(o.Validate());
}

TEST(OptionsTest, SecurityFlagErrors) {
  EXPECT_THAT(Parse({"--tls-cert", "c.pem"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--tls-cert and --tls-key go together")));
  EXPECT_THAT(Parse({"--tls-client-ca", "ca.pem"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--tls-client-ca needs --tls-cert")));
  EXPECT_THAT(Parse({"--tls-cert", "c", "--tls-key", "k",
                     "--tls-refresh-interval", "500ms"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--tls-refresh-interval must be at least "
                                 "1s, got 500ms")));
  EXPECT_THAT(Parse({"--tls-cert", "c", "--tls-key", "k",
                     "--admin-allow-san", "ops.example"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--admin-allow-san needs --tls-client-ca")));
  EXPECT_THAT(Parse({"--validate-allow-plugins", "maybe"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--validate-allow-plugins: expected true or "
                                 "false, got 'maybe'")));
  EXPECT_THAT(Parse({"--metrics-port", "0", "--metrics-tls=true"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--metrics-tls needs --tls-cert and "
                                 "--tls-key")));
}

TEST(OptionsTest, MetricsConfigYaml) {
  ServerOptions o;
  ASSERT_OK(
      ApplyConfigYaml("metrics_port: 9464\n"
                      "metrics_address: 10.0.0.5\n"
                      "metrics_port_file: run/metrics-port\n",
                      "etc/server.yaml", "etc", &o));
  EXPECT_EQ(o.metrics_port, 9464);
  EXPECT_EQ(o.metrics_address, "10.0.0.5");
  EXPECT_EQ(o.metrics_port_file, "etc/run/metrics-port");  // relative
  EXPECT_OK(o.Validate());
  EXPECT_THAT(ApplyConfigYaml("metrics_port: 1e3\n", "s.yaml", ".", &o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("s.yaml:1:1: metrics_port: expected a port")));
  EXPECT_THAT(ApplyConfigYaml("metric_port: 1\n", "s.yaml", ".", &o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown setting 'metric_port' (did you "
                                 "mean 'metrics_port'?)")));
}

TEST(OptionsTest, WatchInterval) {
  ASSERT_OK_AND_ASSIGN(ServeArgs args, Parse({"--watch-interval", "5"}));
  EXPECT_EQ(args.options.watch_interval, absl::Seconds(5));
  ASSERT_OK_AND_ASSIGN(args, Parse({"--watch-interval=250ms"}));
  EXPECT_EQ(args.options.watch_interval, absl::Milliseconds(250));
  EXPECT_THAT(Parse({"--watch-interval", "-1"}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("must not be negative")));
}

TEST(OptionsTest, MaxBytesInFlight) {
  ASSERT_OK_AND_ASSIGN(ServeArgs args,
                       Parse({"--max-bytes-in-flight", "1GiB"}));
  EXPECT_EQ(args.options.max_bytes_in_flight, 1u << 30);
  // Exactly the message limit is consistent.
  ASSERT_OK_AND_ASSIGN(args, Parse({"--max-bytes-in-flight=64MiB"}));
  EXPECT_EQ(args.options.max_bytes_in_flight, 64u << 20);
  ServerOptions o;
  ASSERT_OK(ApplyConfigYaml("max_bytes_in_flight: 512MiB\n", "s.yaml", ".",
                            &o));
  EXPECT_EQ(o.max_bytes_in_flight, 512u << 20);
  std::string usage = ServeUsage("healthscore serve");
  EXPECT_THAT(usage, HasSubstr("--max-bytes-in-flight BYTES"));
  EXPECT_THAT(usage, HasSubstr("[default: 256MiB]"));
}

TEST(OptionsTest, FlagsInBothSpellings) {
  ASSERT_OK_AND_ASSIGN(
      ServeArgs args,
      Parse({"--listen", "0.0.0.0:9000", "--models=/srv/rules", "--threads",
             "3", "--max-message-bytes", "8MiB", "--shutdown-grace", "1500ms",
             "--shutdown-wait=2", "--plugins", "/opt/plugins",
             "--max-accounts-per-request=500"}));
  const ServerOptions& o = args.options;
  EXPECT_EQ(o.listen, "0.0.0.0:9000");
  EXPECT_EQ(o.models_dir, "/srv/rules");
  EXPECT_EQ(o.threads, 3);
  EXPECT_EQ(o.max_message_bytes, 8u << 20);
  EXPECT_EQ(o.shutdown_grace, absl::Milliseconds(1500));
  EXPECT_EQ(o.shutdown_wait, absl::Seconds(2));
  EXPECT_EQ(o.plugins_dir, "/opt/plugins");
  EXPECT_TRUE(o.plugins_dir_explicit);
  EXPECT_EQ(o.max_accounts_per_request, 500u);
}

TEST(OptionsTest, Version) {
  ASSERT_OK_AND_ASSIGN(ServeArgs args, Parse({"--version"}));
  EXPECT_TRUE(args.version);
  EXPECT_FALSE(args.help);
  // Like --help, it skips the config file.
  ASSERT_OK_AND_ASSIGN(args,
                       Parse({"--config", "/nonexistent.yaml", "--version"}));
  EXPECT_TRUE(args.version);
  EXPECT_THAT(ServeUsage("healthscore serve"),
              HasSubstr("  --version\n      Print the version, git commit"));
}

TEST(OptionsTest, Help) {
  ASSERT_OK_AND_ASSIGN(ServeArgs args, Parse({"--help"}));
  EXPECT_TRUE(args.help);
  std::string usage = ServeUsage("healthscore serve");
  EXPECT_THAT(usage, HasSubstr("Usage: healthscore serve [flags]"));
  EXPECT_THAT(usage, HasSubstr("--max-pending-accounts N"));
  EXPECT_THAT(usage, HasSubstr("[default: 64MiB]"));
  EXPECT_THAT(usage, HasSubstr("[default: 30s]"));
  EXPECT_THAT(usage, HasSubstr("--metrics-port PORT"));
  EXPECT_THAT(usage, HasSubstr("--metrics-address IP"));
  EXPECT_THAT(usage, HasSubstr("--metrics-port-file FILE"));
  EXPECT_THAT(usage, HasSubstr("[default: off]"));
  EXPECT_THAT(usage, HasSubstr("[default: 127.0.0.1]"));
}

TEST(OptionsTest, FlagErrors) {
  EXPECT_THAT(Parse({"--thread", "2"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown flag --thread (did you mean "
                                 "'threads'?)")));
  EXPECT_THAT(Parse({"--listen"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("flag --listen needs a value")));
  EXPECT_THAT(Parse({"rules"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unexpected argument 'rules'")));
  EXPECT_THAT(Parse({"--max-message-bytes", "12XB"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown size unit 'XB'")));
  EXPECT_THAT(Parse({"--shutdown-grace", "soon"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--shutdown-grace: expected a duration")));
  EXPECT_THAT(Parse({"--max-concurrent-requests", "0"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("expected a positive integer, got '0'")));
  EXPECT_THAT(Parse({"--max-accounts-per-request", "10",
                     "--max-pending-accounts", "5"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--max-accounts-per-request (10) must not "
                                 "exceed --max-pending-accounts (5)")));
  EXPECT_THAT(Parse({"--max-message-bytes", "100MiB",
                     "--max-bytes-in-flight", "64MiB"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--max-message-bytes (104857600) must not "
                                 "exceed --max-bytes-in-flight (67108864): "
                                 "such a request could never be admitted")));
  EXPECT_THAT(Parse({"--config", "/nonexistent/server.yaml"}),
              StatusIs(absl::StatusCode::kNotFound,
                       HasSubstr("cannot read config file "
                                 "/nonexistent/server.yaml")));
}

TEST(OptionsTest, ConfigYaml) {
  ServerOptions o;
  ASSERT_OK(ApplyConfigYaml(
      "listen: 0.0.0.0:7000\n"
      "models: rules\n"
      "plugins: /abs/plugins\n"
      "port_file: run/port\n"
      "threads: 4\n"
      "max_message_bytes: 1GiB\n"
      "shutdown_grace: 5s\n",
      "etc/server.yaml", "etc", &o));
  EXPECT_EQ(o.listen, "0.0.0.0:7000");
  EXPECT_EQ(o.models_dir, "etc/rules");  // relative to the file
  EXPECT_EQ(o.plugins_dir, "/abs/plugins");
  EXPECT_EQ(o.port_file, "etc/run/port");
  EXPECT_EQ(o.threads, 4);
  EXPECT_EQ(o.max_message_bytes, 1u << 30);
  EXPECT_EQ(o.shutdown_grace, absl::Seconds(5));
  ServerOptions empty;
  EXPECT_OK(ApplyConfigYaml("", "e.yaml", ".", &empty));
}

TEST(OptionsTest, ConfigYamlErrors) {
  ServerOptions o;
  EXPECT_THAT(ApplyConfigYaml("listen: a:1\nthread: 2\n", "s.yaml", ".", &o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("s.yaml:2:1: unknown setting 'thread' (did "
                                 "you mean 'threads'?)")));
  EXPECT_THAT(ApplyConfigYaml("max-accounts-per-request: 2\n", "s.yaml", ".",
                              &o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("unknown setting 'max-accounts-per-request' "
                                 "(did you mean 'max_accounts_per_request'?)")));
  EXPECT_THAT(ApplyConfigYaml("threads: [1, 2]\n", "s.yaml", ".", &o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("s.yaml:1:1: 'threads' needs a single "
                                 "value")));
  EXPECT_THAT(ApplyConfigYaml("threads: lots\n", "s.yaml", ".", &o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("s.yaml:1:1: threads: expected a "
                                 "non-negative integer, got 'lots'")));
  EXPECT_THAT(ApplyConfigYaml("listen: [\n", "s.yaml", ".", &o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("s.yaml:2:1:")));
  EXPECT_THAT(ApplyConfigYaml("- a\n- b\n", "s.yaml", ".", &o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("expected a mapping")));
}

// The config file is read through the bounded YAML reader of model files.
TEST(OptionsTest, HostileConfigFilesAreLocatedErrors) {
  ServerOptions o;
  EXPECT_THAT(ApplyConfigYaml("threads: &t [*t]\n", "s.yaml", ".", &o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("s.yaml:1:14: invalid YAML: alias '*t' is "
                                 "inside the node it refers to")));
  const std::string bomb = AliasBomb();
  EXPECT_THAT(ApplyConfigYaml(bomb, "s.yaml", ".", &o),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("s.yaml:7:10: alias '*a5' expands the YAML "
                                 "to more than 1000000 nodes")));
}

// Conventions (issue 14).
TEST(OptionsTest, ReflectionFlag) {
  EXPECT_TRUE(ServerOptions().reflection);
  absl::StatusOr<ServeArgs> off =
      ParseServeArgs({"serve", "--reflection=false"});
  ASSERT_OK(off.status());
  EXPECT_FALSE(off->options.reflection);
  absl::StatusOr<ServeArgs> on = ParseServeArgs({"serve", "--reflection", "true"});
  ASSERT_OK(on.status());
  EXPECT_TRUE(on->options.reflection);
  EXPECT_THAT(ParseServeArgs({"serve", "--reflection=no"}).status(),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--reflection: expected true or false, got "
                                 "'no'")));
  ServerOptions o;
  ASSERT_OK(ApplyConfigYaml("reflection: false\n", "s.yaml", ".", &o));
  EXPECT_FALSE(o.reflection);
  EXPECT_THAT(ServeUsage("healthscore serve"),
              HasSubstr("--reflection true|false"));
}

TEST(OptionsTest, PlaintextListenWarning) {
  ServerOptions o;
  for (const char* loopback : {"127.0.0.1:50051", "127.3.2.1:0",
                               "localhost:50051", "[::1]:50051"}) {
    o.listen = loopback;
    EXPECT_EQ(PlaintextListenWarning(o), "") << loopback;
  }
  for (const char* open : {"0.0.0.0:50051", "[::]:50051", "10.0.0.5:1",
                           "api.example.com:443"}) {
    o.listen = open;
    o.tls_cert.clear();
    o.tls_key.clear();
    EXPECT_THAT(PlaintextListenWarning(o),
                HasSubstr(absl::StrCat("listening on ", open,
                                       " without TLS: any host")))
        << open;
    EXPECT_THAT(PlaintextListenWarning(o), HasSubstr("--tls-cert"));
    // Served over TLS: nothing to warn about.
    o.tls_cert = "server.pem";
    o.tls_key = "server.key";
    EXPECT_EQ(PlaintextListenWarning(o), "");
  }
}

// Scale-out (issue 15).
TEST(OptionsTest, MaxConnectionAge) {
  ASSERT_OK_AND_ASSIGN(ServeArgs defaults, Parse({}));
  EXPECT_EQ(defaults.options.max_connection_age, absl::ZeroDuration());
  EXPECT_EQ(defaults.options.max_connection_age_grace, absl::Seconds(30));
  ASSERT_OK_AND_ASSIGN(ServeArgs args,
                       Parse({"--max-connection-age", "5m",
                              "--max-connection-age-grace=10s"}));
  EXPECT_EQ(args.options.max_connection_age, absl::Minutes(5));
  EXPECT_EQ(args.options.max_connection_age_grace, absl::Seconds(10));
  EXPECT_THAT(Parse({"--max-connection-age", "500ms"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--max-connection-age must be 0 (off) or "
                                 "between 1s and 24d, got 500ms")));
  EXPECT_THAT(Parse({"--max-connection-age", "600h"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--max-connection-age must be 0 (off) or "
                                 "between 1s and 24d, got 600h")));
  EXPECT_THAT(Parse({"--max-connection-age-grace", "600h"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--max-connection-age-grace must be at most "
                                 "24d, got 600h")));
  EXPECT_THAT(Parse({"--max-connection-age", "soon"}),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("--max-connection-age: expected a duration "
                                 "such as 30s, 500ms or 2m, got 'soon'")));
  ServerOptions o;
  ASSERT_OK(ApplyConfigYaml("max_connection_age: 2m\n"
                            "max_connection_age_grace: 5s\n",
                            "s.yaml", ".", &o));
  EXPECT_EQ(o.max_connection_age, absl::Minutes(2));
  EXPECT_EQ(o.max_connection_age_grace, absl::Seconds(5));
  EXPECT_THAT(ServeUsage("healthscore serve"),
              AllOf(HasSubstr("--max-connection-age DURATION"),
                    HasSubstr("--max-connection-age-grace DURATION"),
                    HasSubstr("[default: 30s]")));
}

}  // namespace
}  // namespace healthscore::server
