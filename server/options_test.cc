#include "server/options.h"

#include <string>
#include <vector>

#include "engine/common/status_matchers.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::server {
namespace {

using ::healthscore::testing::StatusIs;
using ::testing::HasSubstr;

absl::StatusOr<ServeArgs> Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "serve");
  return ParseServeArgs(args);
}

TEST(OptionsTest, Defaults) {
  ASSERT_OK_AND_ASSIGN(ServeArgs args, Parse({}));
  const ServerOptions& o = args.options;
  EXPECT_FALSE(args.help);
  EXPECT_EQ(o.listen, "127.0.0.1:50051");
  EXPECT_EQ(o.models_dir, "rules");
  EXPECT_EQ(o.default_model, "default");
  EXPECT_EQ(o.plugins_dir, "plugins");
  EXPECT_FALSE(o.plugins_dir_explicit);
  EXPECT_EQ(o.threads, 0);
  EXPECT_EQ(o.max_accounts_per_request, 100000u);
  EXPECT_EQ(o.max_message_bytes, 64u << 20);
  EXPECT_EQ(o.max_concurrent_requests, 1024u);
  EXPECT_EQ(o.max_pending_accounts, 1000000u);
  EXPECT_EQ(o.max_stream_batches_in_flight, 4);
  EXPECT_EQ(o.shutdown_wait, absl::ZeroDuration());
  EXPECT_EQ(o.shutdown_grace, absl::Seconds(30));
  EXPECT_EQ(o.watch_interval, absl::ZeroDuration());
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

TEST(OptionsTest, Help) {
  ASSERT_OK_AND_ASSIGN(ServeArgs args, Parse({"--help"}));
  EXPECT_TRUE(args.help);
  std::string usage = ServeUsage("healthscore serve");
  EXPECT_THAT(usage, HasSubstr("Usage: healthscore serve [flags]"));
  EXPECT_THAT(usage, HasSubstr("--max-pending-accounts N"));
  EXPECT_THAT(usage, HasSubstr("[default: 64MiB]"));
  EXPECT_THAT(usage, HasSubstr("[default: 30s]"));
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
  EXPECT_THAT(ApplyConfigYaml("listen: a\nthread: 2\n", "s.yaml", ".", &o),
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

}  // namespace
}  // namespace healthscore::server
