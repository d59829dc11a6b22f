// The decision log against the real server (docs/operations.md, "Decision
// log"): masked values never reach the file, sampling picks the same
// accounts every time at about the rate asked, the file rotates at its
// size, and a sink that takes no writes (a FIFO nobody reads) never holds
// scoring up: calls keep answering and the dropped counter rises.

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/common/testing/temp_dir.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/decision_log.h"
#include "server/testing/http_client.h"
#include "server/testing/server_process.h"
#include "server/testing/test_server.h"
#include "simdjson.h"

namespace healthscore::server {
namespace {

namespace fs = std::filesystem;
using ::healthscore::engine::common::testing::ScratchDir;
using ::testing::HasSubstr;
using ::testing::Not;
using namespace ::healthscore::server::testing;  // NOLINT

// The complete lines of `text`. The file is read while the server writes
// it: what follows the last newline may be a line half written.
std::vector<std::string> Lines(const std::string& text) {
  return absl::StrSplit(text.substr(0, text.rfind('\n') + 1), '\n',
                        absl::SkipEmpty());
}

// Samples by series ("name" or "name{labels}") -> value.
std::map<std::string, double> Scrape(int port) {
  absl::StatusOr<HttpResponse> r = HttpGet(port, "/metrics");
  EXPECT_OK(r.status());
  if (!r.ok()) return {};
  absl::StatusOr<std::map<std::string, double>> samples =
      ParseMetricSamples(r->body);
  EXPECT_OK(samples.status());
  return samples.ok() ? *samples : std::map<std::string, double>();
}

class DecisionLogTest : public ::testing::Test {
 protected:
  void Start(const ServerOptions& options) {
    ASSERT_OK_AND_ASSIGN(ts_, StartTestServer(options));
  }
  void TearDown() override {
    if (ts_ != nullptr) {
      ts_->server->Shutdown(absl::ZeroDuration(), absl::Seconds(30));
    }
  }

  ServerOptions Options(const std::string& path) {
    ServerOptions o = TestOptions();
    o.decision_log = path;
    o.metrics_port = 0;
    return o;
  }

  // Scores `request`, with x-request-id metadata when not empty.
  v1::ScoreResponse Score(const v1::ScoreRequest& request,
                          const std::string& request_id = "") {
    v1::ScoreResponse response;
    auto ctx = Context();
    if (!request_id.empty()) ctx->AddMetadata("x-request-id", request_id);
    grpc::Status s = ts_->scoring->Score(ctx.get(), request, &response);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  // Waits (a hang guard, not a timing assertion) until the file holds
  // `n` lines; returns them.
  std::vector<std::string> WaitForLines(const std::string& path, size_t n) {
    std::vector<std::string> lines;
    WaitFor([&] {
      lines = Lines(ReadFile(path));
      return lines.size() >= n;
    });
    EXPECT_EQ(lines.size(), n);
    return lines;
  }

  std::unique_ptr<TestServer> ts_;
};

TEST_F(DecisionLogTest, MaskedValuesNeverReachTheFile) {
  const std::string path = ScratchDir("decisions_mask") + "/decisions.jsonl";
  ServerOptions options = Options(path);
  options.decision_log_mask = "csat, segment,previous_score";
  Start(options);

  // Values that appear nowhere else (not in the model, ids or hashes).
  std::vector<Account> accounts;
  for (int i = 0; i < 40; ++i) {
    Account a;
    a.id = absl::StrCat("masked-", i);
    a.metrics["csat"] = 1.234567 + i * 0.000001;
    a.metrics["dau_mau"] = 0.5;
    a.metrics["tickets"] = 3;
    a.attributes["segment"] = i % 2 ? "enterprise" : "smb";
    a.previous_score = 77.7123;
    a.previous_tier = "green";
    accounts.push_back(a);
  }
  // csat out of range, and sent as text: warnings naming the field.
  accounts[0].metrics["csat"] = 98765.4321;
  accounts[1].metrics.erase("csat");
  accounts[1].attributes["csat"] = "secret-csat-text";
  // Strict mode would fail the row with the value in its error; the map
  // form's own errors name the field the same way.
  v1::ScoreRequest map = MapRequest(accounts);
  v1::ScoreRequest columnar = ColumnarRequest(accounts);
  columnar.set_request_id("columnar-7");
  Score(map, "req-from-header");
  Score(columnar);
  const std::vector<std::string> lines = WaitForLines(path, 80);

  const std::string text = ReadFile(path);
  for (const char* secret : {"1.2345", "98765", "secret-csat-text", "smb",
                             "enterprise", "77.7"}) {
    EXPECT_THAT(text, Not(HasSubstr(secret))) << secret;
  }
  simdjson::dom::parser parser;
  std::set<std::string> request_ids;
  size_t masked_csat = 0;
  for (const std::string& line : lines) {
    simdjson::dom::element doc;
    ASSERT_FALSE(parser.parse(line).get(doc)) << line;
    request_ids.insert(std::string(doc["request_id"].get_string().value()));
    EXPECT_FALSE(doc["time"].get_string().value().empty());
    EXPECT_EQ(doc["model"]["name"].get_string().value(), "default");
    EXPECT_FALSE(doc["model"]["hash"].get_string().value().empty());
    simdjson::dom::element inputs = doc["inputs"].value();
    EXPECT_EQ(inputs["attributes"]["segment"].get_string().value(),
              "[masked]");
    EXPECT_EQ(inputs["previous_score"].get_string().value(), "[masked]");
    EXPECT_EQ(inputs["previous_tier"].get_string().value(), "green");
    EXPECT_EQ(inputs["metrics"]["dau_mau"].get_double().value(), 0.5);
    std::string_view csat;
    if (!inputs["metrics"]["csat"].get_string().get(csat)) {
      EXPECT_EQ(csat, "[masked]");
      ++masked_csat;
    }
    EXPECT_TRUE(doc["delta"].error()) << "delta gives previous_score away";
  }
  EXPECT_EQ(masked_csat, 78u);  // account 1's csat did not fit: missing
  EXPECT_EQ(request_ids,
            (std::set<std::string>{"req-from-header", "columnar-7"}));
  EXPECT_THAT(text, HasSubstr("csat = [masked] is outside the expected"));
  EXPECT_THAT(text, HasSubstr("csat: [masked] does not fit its input"));
}

TEST_F(DecisionLogTest, RequestIdIsMadeUpWhenTheClientGivesNone) {
  const std::string path = ScratchDir("decisions_id") + "/decisions.jsonl";
  Start(Options(path));
  Score(MapRequest(RandomAccounts(3, 1, /*with_bad=*/false)));
  Score(MapRequest(RandomAccounts(3, 2, /*with_bad=*/false)));
  std::set<std::string> ids;
  simdjson::dom::parser parser;
  for (const std::string& line : WaitForLines(path, 6)) {
    simdjson::dom::element doc;
    ASSERT_FALSE(parser.parse(line).get(doc)) << line;
    const std::string id(doc["request_id"].get_string().value());
    EXPECT_THAT(id, ::testing::MatchesRegex("hs-[0-9a-f]{32}"));
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 2u);  // one per request, shared by its accounts
}

TEST_F(DecisionLogTest, StreamBatchesShareTheCallsHeader) {
  const std::string path = ScratchDir("decisions_stream") + "/decisions.jsonl";
  Start(Options(path));
  auto ctx = Context();
  ctx->AddMetadata("x-request-id", "stream-call-1");
  auto stream = ts_->scoring->ScoreStream(ctx.get());
  v1::ScoreRequest own = MapRequest(RandomAccounts(2, 11, false));
  own.set_request_id("batch-own");
  ASSERT_TRUE(stream->Write(own));
  ASSERT_TRUE(stream->Write(MapRequest(RandomAccounts(3, 12, false))));
  ASSERT_TRUE(stream->WritesDone());
  v1::ScoreResponse response;
  int responses = 0;
  while (stream->Read(&response)) ++responses;
  ASSERT_TRUE(stream->Finish().ok());
  EXPECT_EQ(responses, 2);
  std::multiset<std::string> ids;
  simdjson::dom::parser parser;
  for (const std::string& line : WaitForLines(path, 5)) {
    simdjson::dom::element doc;
    ASSERT_FALSE(parser.parse(line).get(doc)) << line;
    ids.insert(std::string(doc["request_id"].get_string().value()));
  }
  EXPECT_EQ(ids, (std::multiset<std::string>{"batch-own", "batch-own",
                                             "stream-call-1", "stream-call-1",
                                             "stream-call-1"}));
}

TEST_F(DecisionLogTest, RoutedAccountsNameTheModelTheyWereRoutedTo) {
  // server/testdata/routing over the test models: `default` routes
  // enterprise accounts to the `enterprise` model.
  const std::string dir = ScratchDir("decisions_routes") + "/rules";
  fs::copy(TestModelsDir(), dir, fs::copy_options::recursive);
  fs::copy(SourcePath("server/testdata/routing"), dir,
           fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  const std::string path = dir + "/../decisions.jsonl";
  ServerOptions options = Options(path);
  options.models_dir = dir;
  Start(options);
  std::vector<Account> accounts = RandomAccounts(60, 5, /*with_bad=*/false);
  std::map<std::string, std::string> segment;
  for (Account& a : accounts) {
    a.attributes["segment"] = a.id.back() % 2 ? "enterprise" : "smb";
    segment[a.id] = a.attributes["segment"];
  }
  v1::ScoreResponse response = Score(MapRequest(accounts));
  ASSERT_EQ(response.models_size(), 2);
  simdjson::dom::parser parser;
  for (const std::string& line : WaitForLines(path, 60)) {
    simdjson::dom::element doc;
    ASSERT_FALSE(parser.parse(line).get(doc)) << line;
    const std::string id(doc["id"].get_string().value());
    const std::string model(doc["model"]["name"].get_string().value());
    EXPECT_EQ(model, segment[id] == "enterprise" ? "enterprise" : "default")
        << line;
    EXPECT_GT(doc["model"]["repository_version"].get_int64().value(), 0);
  }
}

TEST_F(DecisionLogTest, SamplingIsDeterministicAndRoughlyTheRate) {
  const std::string path = ScratchDir("decisions_sample") + "/decisions.jsonl";
  ServerOptions options = Options(path);
  options.decision_log_sample = 0.05;
  Start(options);
  const std::vector<Account> accounts = RandomAccounts(4000, 7);
  std::set<std::string> expected;
  for (const Account& a : accounts) {
    if (SampleKey(a.id) < 0.05) expected.insert(a.id);
  }
  // 200 expected; the bounds are over 4 standard deviations.
  EXPECT_GT(expected.size(), 145u);
  EXPECT_LT(expected.size(), 255u);

  auto logged = [&](size_t from, size_t n) {
    std::multiset<std::string> ids;
    simdjson::dom::parser parser;
    std::vector<std::string> lines = WaitForLines(path, from + n);
    for (size_t i = from; i < lines.size(); ++i) {
      simdjson::dom::element doc;
      EXPECT_FALSE(parser.parse(lines[i]).get(doc)) << lines[i];
      ids.insert(std::string(doc["id"].get_string().value()));
    }
    return ids;
  };
  Score(MapRequest(accounts));
  const std::multiset<std::string> first = logged(0, expected.size());
  EXPECT_EQ(std::set<std::string>(first.begin(), first.end()), expected);
  // A rerun, in the other form, logs the very same accounts.
  Score(ColumnarRequest(accounts));
  const std::multiset<std::string> second =
      logged(expected.size(), expected.size());
  EXPECT_EQ(second, first);
}

TEST_F(DecisionLogTest, RotatesAtTheSizeAndKeepsMaxFiles) {
  const std::string path = ScratchDir("decisions_rotate") + "/decisions.jsonl";
  ServerOptions options = Options(path);
  options.decision_log_max_bytes = 16 << 10;
  options.decision_log_max_files = 3;
  Start(options);
  const int port = ts_->server->metrics_port();
  // About 600 bytes a record: 2,000 records are some 70 files' worth.
  for (int i = 0; i < 4; ++i) {
    Score(MapRequest(RandomAccounts(500, 100 + i, /*with_bad=*/false)));
  }
  ASSERT_TRUE(WaitFor([&] {
    return Scrape(port)["healthscore_decision_log_written_total"] == 2000;
  }));
  const std::map<std::string, double> m = Scrape(port);
  EXPECT_GT(m.at("healthscore_decision_log_rotations_total"), 10);
  EXPECT_EQ(m.at("healthscore_decision_log_dropped_total{reason=\"buffer_full\"}"), 0);
  size_t lines = 0;
  for (const std::string& file :
       {path, path + ".1", path + ".2", path + ".3"}) {
    ASSERT_TRUE(fs::exists(file)) << file;
    EXPECT_LE(fs::file_size(file), 16u << 10) << file;
    const std::string text = ReadFile(file);
    ASSERT_FALSE(text.empty()) << file;
    EXPECT_EQ(text.back(), '\n') << "a record split across files: " << file;
    lines += Lines(text).size();
  }
  EXPECT_FALSE(fs::exists(path + ".4"));
  // The rotated files are full: a record more would have passed the size.
  EXPECT_GT(fs::file_size(path + ".1"), (16u << 10) - 2000);
  EXPECT_LT(lines, 2000u);
}

// The writer blocks on a FIFO that nobody reads (opened here for reading so
// that the server can open it, and never read). Scoring must go on, every
// call answering, while the buffer fills and records are dropped.
TEST_F(DecisionLogTest, BlockedSinkNeverHoldsScoringUp) {
  const std::string fifo = ScratchDir("decisions_fifo") + "/decisions.fifo";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
  ASSERT_GE(reader, 0);
  ServerOptions options = Options(fifo);
  options.decision_log_buffer = 64 << 10;
  Start(options);
  const int port = ts_->server->metrics_port();

  // 20,000 records of some 600 bytes: far more than the pipe (64 KiB)
  // and the buffer (64 KiB) hold.
  uint64_t scored = 0;
  for (int i = 0; i < 20; ++i) {
    v1::ScoreResponse r = Score(
        MapRequest(RandomAccounts(1000, 200 + i, /*with_bad=*/false)),
        absl::StrCat("blocked-", i));
    scored += r.results_size();
  }
  EXPECT_EQ(scored, 20000u);
  std::map<std::string, double> m = Scrape(port);
  const double dropped =
      m.at("healthscore_decision_log_dropped_total{reason=\"buffer_full\"}");
  EXPECT_GT(dropped, 10000);
  EXPECT_LT(m.at("healthscore_decision_log_written_total") + dropped, 20000.5);
  EXPECT_LE(m.at("healthscore_decision_log_buffered_bytes"), 64 << 10);

  // Still answering while the sink stays blocked.
  EXPECT_EQ(Score(MapRequest(RandomAccounts(10, 999, false))).results_size(),
            10);
  EXPECT_GT(Scrape(port)
                .at("healthscore_decision_log_dropped_total{reason=\"buffer_full\"}"),
            dropped);

  // Let the writer finish: read the FIFO until the server closes it.
  ASSERT_EQ(::fcntl(reader, F_SETFL, 0), 0);
  std::thread drain([reader] {
    char buffer[65536];
    while (::read(reader, buffer, sizeof buffer) > 0) {
    }
  });
  ts_->server->Shutdown(absl::ZeroDuration(), absl::Seconds(30));
  ts_.reset();  // closes the decision log
  drain.join();
  ::close(reader);
}

// The real program, logging to standard output ("-"): the records are the
// only thing on stdout (the server's own log is on stderr), and SIGTERM
// writes what is queued before the process exits 0.
TEST(DecisionLogProcessTest, StandardOutputHoldsOnlyTheRecords) {
  const std::string dir = ScratchDir("decisions_stdout");
  ServerProcess process;
  ASSERT_TRUE(process.Spawn(
      dir, {"--listen", "127.0.0.1:0", "--models", TestModelsDir(),
            "--port-file", dir + "/port", "--decision-log", "-",
            "--decision-log-mask", "csat"}));
  const int port = process.WaitForPort(dir + "/port");
  ASSERT_GT(port, 0) << process.err();
  auto channel = MakeChannel(absl::StrCat("127.0.0.1:", port));
  auto stub = v1::ScoringService::NewStub(channel);
  v1::ScoreResponse response;
  auto ctx = Context();
  ASSERT_TRUE(stub->Score(ctx.get(),
                          MapRequest(RandomAccounts(25, 3, /*with_bad=*/false)),
                          &response)
                  .ok());
  process.Signal(SIGTERM);
  ASSERT_TRUE(process.WaitForExit());
  EXPECT_EQ(process.Wait(), 0);
  EXPECT_THAT(process.err(),
              HasSubstr("decision log to standard output: sample 1, masked "
                        "csat"));
  const std::vector<std::string> lines = Lines(process.out());
  ASSERT_EQ(lines.size(), 25u) << process.out();
  simdjson::dom::parser parser;
  for (const std::string& line : lines) {
    simdjson::dom::element doc;
    ASSERT_FALSE(parser.parse(line).get(doc)) << line;
    EXPECT_THAT(std::string(doc["request_id"].get_string().value()),
                ::testing::StartsWith("hs-"));
  }
}

}  // namespace
}  // namespace healthscore::server
