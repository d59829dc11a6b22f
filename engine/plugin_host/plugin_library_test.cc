// PluginLibrary, PluginInstance and PluginSignal at run time: row statuses
// become validity, failures are absorbed and counted, exceptions stop at the
// C++ helper's boundary, logging reaches the host, and concurrent chunks
// give the same values as sequential ones. All with real plugin files.

#include "engine/plugin_host/plugin_library.h"

#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/plugin_host/plugin_host.h"
#include "engine/plugin_host/testing/signal_harness.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace healthscore::engine::plugin_host {
namespace {

using ::healthscore::engine::common::testing::StatusIs;
using testing::BuildTreeHost;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::MakeSignal;
using testing::NumberColumn;
using testing::Output;
using testing::RunSignal;
using testing::SeriesColumn;

class PluginRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    host_ = BuildTreeHost();
    ASSERT_NE(host_, nullptr);
  }
  PluginStats FaultyStats() {
    for (const PluginStats& s : host_->Stats()) {
      if (s.name == "faulty") return s;
    }
    return {};
  }
  std::unique_ptr<PluginHost> host_;
};

TEST_F(PluginRuntimeTest, RowErrorsAreMissingAndCounted) {
  ASSERT_OK_AND_ASSIGN(auto signal,
                       MakeSignal(host_.get(), "faulty", "row_errors", 1));
  NumberColumn x;
  x.Add(1).Add(-1).AddMissing().Add(4).Add(-3);
  Output out = RunSignal(*signal, {x});
  EXPECT_THAT(out.valid, ElementsAre(1, 0, 0, 1, 0));
  EXPECT_EQ(out.value[0], 1);
  EXPECT_EQ(out.value[3], 4);
  const PluginStats s = FaultyStats();
  EXPECT_EQ(s.calls, 1u);
  EXPECT_EQ(s.row_errors, 2u);  // the missing row is not an error
  EXPECT_EQ(s.failed_calls, 0u);
  EXPECT_EQ(s.nonfinite_rows, 0u);
}

TEST_F(PluginRuntimeTest, NonFiniteOutputsAreMissingAndCounted) {
  ASSERT_OK_AND_ASSIGN(auto signal,
                       MakeSignal(host_.get(), "faulty", "nan_output", 1));
  NumberColumn x;
  x.Add(50).Add(500).Add(5000).Add(100);
  Output out = RunSignal(*signal, {x});
  EXPECT_THAT(out.valid, ElementsAre(1, 0, 0, 1));
  const PluginStats s = FaultyStats();
  EXPECT_EQ(s.nonfinite_rows, 2u);
  EXPECT_EQ(s.row_errors, 0u);
  EXPECT_EQ(s.errors(), 2u);
}

TEST_F(PluginRuntimeTest, AThrowingHelperFailsOnlyItsChunk) {
  ASSERT_OK_AND_ASSIGN(auto signal,
                       MakeSignal(host_.get(), "faulty", "throws", 1));
  NumberColumn x;
  for (int i = 0; i < 10; ++i) x.Add(i == 7 ? 13 : i);
  // Chunks of 4 rows: rows 4-7 hold the 13.
  Output out = RunSignal(*signal, {x}, 4);
  EXPECT_THAT(out.valid, ElementsAre(1, 1, 1, 1, 0, 0, 0, 0, 1, 1));
  EXPECT_EQ(out.value[9], 9);
  const PluginStats s = FaultyStats();
  EXPECT_EQ(s.calls, 3u);
  EXPECT_EQ(s.failed_calls, 1u);
  EXPECT_EQ(s.failed_rows, 4u);
  EXPECT_EQ(s.last_error,
            "signal 'throws': unhandled exception: unlucky 13 (INTERNAL)");
}

TEST_F(PluginRuntimeTest, RowsThePluginLeavesAloneAreErrors) {
  ASSERT_OK_AND_ASSIGN(auto signal,
                       MakeSignal(host_.get(), "faulty", "skips_rows", 1));
  NumberColumn x;
  x.Add(1).Add(2).Add(3).Add(4);
  Output out = RunSignal(*signal, {x});
  EXPECT_THAT(out.valid, ElementsAre(1, 0, 1, 0));
  EXPECT_EQ(FaultyStats().row_errors, 2u);
}

TEST_F(PluginRuntimeTest, HelperTurnsExceptionsIntoLoadErrors) {
  EXPECT_THAT(
      MakeSignal(host_.get(), "faulty", "bad_params", 1, {{"window", "0"}}),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr("could not create signal 'bad_params': "
                         "'window' must be a positive integer "
                         "(INVALID_ARGUMENT)")));
  EXPECT_THAT(
      MakeSignal(host_.get(), "faulty", "bad_params", 1, {{"window", "soon"}}),
      StatusIs(absl::StatusCode::kFailedPrecondition,
               HasSubstr("'window' must be an integer, got 'soon'")));
  EXPECT_THAT(MakeSignal(host_.get(), "faulty", "bad_params", 1),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("missing required key 'window'")));
  EXPECT_OK(
      MakeSignal(host_.get(), "faulty", "bad_params", 1, {{"window", "3"}}));
  EXPECT_THAT(MakeSignal(host_.get(), "faulty", "row_errors", 1, {},
                         {{"throw_in_init", "true"}}),
              StatusIs(absl::StatusCode::kFailedPrecondition,
                       HasSubstr("plugin 'faulty' (" + FaultyStats().path +
                                 ") failed to initialise: unhandled "
                                 "exception: constructor refused: "
                                 "throw_in_init is set (INTERNAL)")));
}

TEST(PluginLogTest, PluginsLogThroughTheHost) {
  struct Line {
    std::string plugin;
    int level;
    std::string message;
  };
  absl::Mutex mu;
  std::vector<Line> lines;
  PluginHostOptions options;
  options.directories = {testing::TestPluginDir()};
  options.log = [&](std::string_view plugin, int level,
                    std::string_view message) {
    absl::MutexLock lock(&mu);
    lines.push_back({std::string(plugin), level, std::string(message)});
  };
  ASSERT_OK_AND_ASSIGN(auto host, PluginHost::Create(std::move(options)));
  ASSERT_OK_AND_ASSIGN(auto lib, host->Load("faulty"));
  ASSERT_OK(lib->Instantiate({{"log", "hello"}}));
  absl::MutexLock lock(&mu);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].plugin, "faulty");
  EXPECT_EQ(lines[0].level, HS_LOG_WARNING);
  EXPECT_EQ(lines[0].message, "config says: hello");
}

// Many threads evaluating one signal state at once get exactly the values
// of a single-threaded run: without locks for a CONCURRENT plugin (nps),
// behind the host's per-signal lock for a PER_SIGNAL one (usage_anomaly,
// whose scratch buffer would otherwise be shared).
TEST_F(PluginRuntimeTest, ConcurrentChunksMatchSequentialOnes) {
  SeriesColumn series;
  for (int i = 0; i < 4096; ++i) {
    std::vector<double> points;
    for (int j = 0; j < 10 + i % 7; ++j) points.push_back((i * 7 + j * 3) % 11);
    series.Add(points);
  }
  for (const auto& [library, signal_name] :
       std::vector<std::pair<std::string, std::string>>{
           {"nps", "nps"}, {"usage_anomaly", "usage_anomaly"}}) {
    ASSERT_OK_AND_ASSIGN(auto signal,
                         MakeSignal(host_.get(), library, signal_name, 1));
    const Output expected = RunSignal(*signal, {series});
    std::vector<Output> got(4);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back(
          [&, t] { got[t] = RunSignal(*signal, {series}, 64 + t); });
    }
    for (auto& th : threads) th.join();
    for (int t = 0; t < 4; ++t) {
      EXPECT_EQ(got[t].valid, expected.valid) << library << " thread " << t;
      for (size_t i = 0; i < expected.value.size(); ++i) {
        if (!expected.valid[i]) continue;
        ASSERT_EQ(got[t].value[i], expected.value[i])
            << library << " thread " << t << " row " << i;
      }
    }
  }
}

}  // namespace
}  // namespace healthscore::engine::plugin_host
