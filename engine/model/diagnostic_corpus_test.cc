// Every diagnostic the loader and compiler can give says what is wrong.
//
// Issue 10: comparing a string input without `values` with a literal failed
// with "m.yaml:8:20: error: in derived expression: " and nothing after it.
// DiagnosticList now completes such a message with an "internal error"
// text; this test makes sure no check relies on that, by compiling a broad
// corpus and requiring every message to be a real one: the models of the
// repository (rules/, examples/, every testdata folder, the YAML examples of
// the docs) and models broken on purpose, both by hand (one per error path
// of compiler.cc and checker.cc) and systematically (every value of a valid
// model replaced by hostile ones).

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/common/testing/temp_dir.h"
#include "engine/model/compiler.h"
#include "engine/model/diagnostic.h"
#include "engine/plugin_host/plugin_host.h"
#include "gtest/gtest.h"

namespace healthscore::engine::model {

namespace {

namespace fs = std::filesystem;
using ::healthscore::engine::common::testing::ReadFile;

// Adds a failure for every diagnostic of `r` without a real message.
// Returns how many diagnostics `r` has.
int ExpectRealMessages(const CompileResult& r, const std::string& what) {
  for (const Diagnostic& d : r.diagnostics.items()) {
    const absl::string_view message = absl::StripAsciiWhitespace(d.message);
    EXPECT_FALSE(message.empty()) << what << ": " << d.ToString();
    EXPECT_FALSE(absl::EndsWith(message, ":")) << what << ": " << d.ToString();
    // What DiagnosticList puts in place of a missing reason.
    EXPECT_FALSE(absl::StrContains(d.message, "internal error"))
        << what << ": " << d.ToString();
  }
  return static_cast<int>(r.diagnostics.items().size());
}

// Every regular file under `dir` whose name ends in one of `suffixes`
// (every file when `suffixes` is empty).
std::vector<fs::path> FilesUnder(const fs::path& dir,
                                 const std::vector<std::string>& suffixes) {
  std::vector<fs::path> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const std::string name = e.path().filename().string();
    bool match = suffixes.empty();
    for (const std::string& s : suffixes) {
      match = match || absl::EndsWith(name, s);
    }
    if (match) out.push_back(e.path());
  }
  return out;
}

const fs::path kSource = HEALTHSCORE_SOURCE_DIR;

TEST(DiagnosticCorpusTest, RepositoryModelsAndTestdata) {
  std::vector<fs::path> files;
  for (const char* dir : {"rules", "examples", "server/testdata", "tests"}) {
    for (auto& f : FilesUnder(kSource / dir, {".yaml", ".yml"})) {
      files.push_back(f);
    }
  }
  // Every testdata folder of the engine, whatever the file: fuzz seeds
  // include models without an extension and inputs that are not YAML.
  for (const auto& e : fs::recursive_directory_iterator(kSource / "engine")) {
    if (e.is_directory() && e.path().filename() == "testdata") {
      for (auto& f : FilesUnder(e.path(), {})) files.push_back(f);
    }
  }
  ASSERT_GT(files.size(), 30u) << "the corpus went missing";
  int diagnostics = 0;
  for (const fs::path& f : files) {
    diagnostics += ExpectRealMessages(CompileFile(f.string()), f.string());
  }
  // The broken models of testdata give many; a corpus that gives none
  // tests nothing.
  EXPECT_GT(diagnostics, 50);
}

TEST(DiagnosticCorpusTest, YamlExamplesOfTheDocs) {
  int blocks = 0;
  for (const fs::path& doc : FilesUnder(kSource / "docs", {".md"})) {
    const std::string text = ReadFile(doc);
    size_t at = 0;
    while ((at = text.find("```yaml\n", at)) != std::string::npos) {
      const size_t begin = at + 8;
      const size_t end = text.find("\n```", begin);
      if (end == std::string::npos) break;
      ++blocks;
      ExpectRealMessages(
          CompileString(text.substr(begin, end - begin + 1), "doc.yaml"),
          absl::StrCat(doc.string(), " block at byte ", begin));
      at = end;
    }
  }
  EXPECT_GT(blocks, 10);
}

// A valid model using every kind of section; the tests below break it.
constexpr char kModel[] = R"yaml(name: corpus
version: 1
segment_by: segment
min_coverage: 0.5
hysteresis: 2
inputs:
  - {id: dau_mau, type: number, range: [0, 1]}
  - {id: csat, type: number}
  - {id: segment, type: string, values: [smb, enterprise]}
  - {id: plan, type: string}
  - {id: renewal_date, type: date}
  - {id: wau, type: series}
derived:
  - id: days_to_renewal
    expr: "days_between(as_of, renewal_date)"
  - id: usage_trend
    expr: "pct_change(wau, 2, 2)"
  - id: paid
    expr: 'plan in ["pro", "team"] ? 1 : 0'
  - id: usage_ratio
    expr: "ratio_change(wau, 2, 2)"
groups:
  - id: usage
    weight: 0.6
    signals:
      - id: stickiness
        source: dau_mau
        weight: 1
        normalize: {linear: {bad: 0.1, good: 0.5}}
        overrides:
          enterprise: {weight: 1, normalize: {linear: {bad: 0.2, good: 0.6}}}
      - id: trend
        source: usage_trend
        weight: 1
        normalize: {piecewise: [[-20, 0], [0, 50], [20, 100]]}
      - id: paying
        source: paid
        weight: 1
        normalize: {logistic: {midpoint: 0.5, scale: 0.1}}
  - id: sentiment
    weight: 0.4
    signals:
      - id: satisfaction
        source: csat
        weight: 1
        normalize: {steps: [{below: 3, score: 0}, {below: 4, score: 50}, {score: 100}]}
tiers:
  - {id: green, min: 80}
  - {id: yellow, min: 50, max: 80}
  - {id: red, min: 0, max: 50}
playbooks:
  - id: rescue
    name: Rescue
    owner: csm
    priority: 1
    when: 'tier == "red" && segment == "enterprise" && plan != "free"'
    success: 'score >= 60'
  - id: renew
    name: Renew
    owner: am
    priority: 2
    when: 'days_to_renewal < 90 && groups.usage < 50'
)yaml";

std::string Replace(std::string text, const std::string& from,
                    const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << "test bug: '" << from << "' not found";
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

TEST(DiagnosticCorpusTest, BaseModelIsClean) {
  CompileResult r = CompileString(kModel, "m.yaml");
  ASSERT_NE(r.model, nullptr) << r.diagnostics.ToString();
  EXPECT_TRUE(r.diagnostics.empty()) << r.diagnostics.ToString();
}

// One mistake per error path of the compiler and the expression checker;
// each must give at least one diagnostic, and all of them real messages.
TEST(DiagnosticCorpusTest, HandBrokenModels) {
  const std::vector<std::pair<std::string, std::string>> splices = {
      // Inputs.
      {"{id: csat, type: number}", "{id: dau_mau, type: number}"},
      {"range: [0, 1]", "range: [1, 0]"},
      {"values: [smb, enterprise]", "values: [smb, smb]"},
      {"{id: csat, type: number}", "{id: score, type: number}"},
      {"segment_by: segment", "segment_by: segmnt"},
      {"segment_by: segment", "segment_by: csat"},
      // Derived values.
      {"expr: \"pct_change(wau, 2, 2)\"", "expr: \"\""},
      {"expr: \"pct_change(wau, 2, 2)\"", "expr: \"usage_trend + 1\""},
      {"expr: \"pct_change(wau, 2, 2)\"", "expr: \"(1 +\""},
      {"expr: \"pct_change(wau, 2, 2)\"", "expr: \"csat > 1\""},
      {"expr: \"pct_change(wau, 2, 2)\"", "expr: \"wau\""},
      {"expr: \"pct_change(wau, 2, 2)\"", "expr: \"plan\""},
      {"expr: \"pct_change(wau, 2, 2)\"", "expr: \"pct_change(wau, 0, 2)\""},
      {"expr: \"pct_change(wau, 2, 2)\"", "expr: \"nosuch(wau)\""},
      {"expr: \"pct_change(wau, 2, 2)\"", "expr: \"abs(csat, csat)\""},
      {"expr: \"pct_change(wau, 2, 2)\"",
       "expr: \"segment == \\\"mid\\\" ? 1 : 0\""},
      {"expr: \"pct_change(wau, 2, 2)\"", "expr: \"segment == plan ? 1 : 0\""},
      {"expr: \"pct_change(wau, 2, 2)\"",
       "expr: \"csat in [\\\"a\\\"] ? 1 : 0\""},
      {"expr: \"pct_change(wau, 2, 2)\"", "expr: \"plan + 1\""},
      {"expr: \"pct_change(wau, 2, 2)\"", "expr: \"renewal_date + 1\""},
      {"expr: \"pct_change(wau, 2, 2)\"", "expr: \"csat ? 1 : 2\""},
      {"expr: \"pct_change(wau, 2, 2)\"", "expr: \"!csat\""},
      {"expr: \"pct_change(wau, 2, 2)\"", "expr: \"-plan\""},
      {"expr: \"pct_change(wau, 2, 2)\"", "expr: \"score\""},
      {"expr: \"pct_change(wau, 2, 2)\"", "expr: \"last(csat)\""},
      {"expr: \"pct_change(wau, 2, 2)\"", "expr: \"slope(wau, 1)\""},
      {"expr: \"pct_change(wau, 2, 2)\"", "expr: \"min(csat)\""},
      {"id: usage_trend\n", "id: dau_mau\n"},
      // Signals and groups.
      {"weight: 0.6", "weight: 0"},
      {"weight: 0.6", "weight: -1"},
      {"id: sentiment\n", "id: usage\n"},
      {"id: trend\n", "id: stickiness\n"},
      {"source: dau_mau", "source: dau"},
      {"source: dau_mau", "source: segment"},
      {"source: dau_mau", "source: wau"},
      {"source: csat\n        weight: 1", "source: csat\n        weight: 0"},
      {"enterprise: {weight: 1,", "mid: {weight: 1,"},
      {"enterprise: {weight: 1,", "enterprise: {weight: -1,"},
      {"normalize: {linear: {bad: 0.1, good: 0.5}}",
       "normalize: {linear: {bad: 0.5, good: 0.5}}"},
      {"normalize: {linear: {bad: 0.1, good: 0.5}}", "weight: 2"},
      {"{below: 3, score: 0}, {below: 4, score: 50}, {score: 100}",
       "{below: 3, score: 0}, {score: 50}, {below: 4, score: 100}"},
      {"{below: 3, score: 0}, {below: 4, score: 50}, {score: 100}",
       "{below: 4, score: 0}, {below: 3, score: 50}, {score: 100}"},
      {"{below: 3, score: 0}, {below: 4, score: 50}, {score: 100}",
       "{below: 3, score: 0}, {below: 4, score: 500}, {score: 100}"},
      {"{below: 3, score: 0}, {below: 4, score: 50}, {score: 100}",
       "{below: 3, score: 0}, {below: 4, score: 50}"},
      {"{steps: [{below: 3", "{steps: [], x: [{below: 3"},
      {"[[-20, 0], [0, 50], [20, 100]]", "[[-20, 0]]"},
      {"[[-20, 0], [0, 50], [20, 100]]", "[[0, 0], [0, 50], [20, 100]]"},
      {"[[-20, 0], [0, 50], [20, 100]]", "[[20, 0], [0, 50], [-20, 100]]"},
      {"[[-20, 0], [0, 50], [20, 100]]", "[[-20, 0], [0, 500], [20, 100]]"},
      {"scale: 0.1", "scale: 0"},
      {"groups:\n  - id: usage", "groupz:\n  - id: usage"},
      {"    signals:\n      - id: satisfaction",
       "    signals: []\n    x:\n      - id: satisfaction"},
      // Tiers, coverage and hysteresis.
      {"tiers:", "tierz:"},
      {"{id: yellow, min: 50, max: 80}", "{id: green, min: 50, max: 80}"},
      {"{id: yellow, min: 50, max: 80}",
       "{id: insufficient_data, min: 50, max: 80}"},
      {"{id: yellow, min: 50, max: 80}", "{id: yellow, min: 50, max: 70}"},
      {"{id: yellow, min: 50, max: 80}", "{id: yellow, min: 40, max: 80}"},
      {"{id: yellow, min: 50, max: 80}", "{id: yellow, min: 150, max: 80}"},
      {"{id: red, min: 0, max: 50}", "{id: red, min: 10, max: 50}"},
      {"{id: green, min: 80}", "{id: green, min: 80, max: 90}"},
      {"{id: green, min: 80}", "{id: green, min: -80}"},
      {"min_coverage: 0.5", "min_coverage: 1.5"},
      {"hysteresis: 2", "hysteresis: -2"},
      // Playbooks.
      {"id: renew\n", "id: rescue\n"},
      {"priority: 2", "priority: 0"},
      {"when: 'days_to_renewal < 90 && groups.usage < 50'", "when: ''"},
      {"when: 'days_to_renewal < 90 && groups.usage < 50'",
       "when: 'score > 80 && score < 50'"},
      {"when: 'days_to_renewal < 90 && groups.usage < 50'",
       "when: 'score > 200'"},
      {"when: 'days_to_renewal < 90 && groups.usage < 50'", "when: 'score'"},
      {"when: 'days_to_renewal < 90 && groups.usage < 50'",
       "when: 'tier == \"blue\"'"},
      {"when: 'days_to_renewal < 90 && groups.usage < 50'",
       "when: 'groups.nosuch < 50'"},
      {"when: 'days_to_renewal < 90 && groups.usage < 50'",
       "when: 'signals.nosuch < 50'"},
      {"when: 'days_to_renewal < 90 && groups.usage < 50'",
       "when: 'previous_tier == \"blue\"'"},
      {"when: 'days_to_renewal < 90 && groups.usage < 50'",
       "when: 'segment == \"mid\"'"},
      {"success: 'score >= 60'", "success: 'score'"},
      {"success: 'score >= 60'", "success: 'score >= 60 &&'"},
      {"success: 'score >= 60'", "success: 'tier == \"blue\"'"},
      // Plugins (no plugin host in this test).
      {"inputs:", "plugins:\n  - {id: p, library: nps}\ninputs:"},
      {"inputs:", "plugins:\n  - {id: p, library: ''}\ninputs:"},
      {"inputs:",
       "plugins:\n  - {id: p, library: nps}\n  - {id: p, library: "
       "nps}\ninputs:"},
      {"  - id: usage_trend\n    expr: \"pct_change(wau, 2, 2)\"",
       "  - id: usage_trend\n    plugin: nosuch\n    signal: x\n"
       "    inputs: [wau]"},
      // Top level.
      {"name: corpus", "name: ''"},
      {"version: 1", "version: [1]"},
      {"inputs:", "inputz:"},
  };
  for (const auto& [from, to] : splices) {
    const std::string text = Replace(kModel, from, to);
    const std::string what = absl::StrCat("'", from, "' -> '", to, "'");
    CompileResult r = CompileString(text, "m.yaml");
    EXPECT_GT(ExpectRealMessages(r, what), 0)
        << what << " gave no diagnostic: the splice tests nothing";
  }
}

// The plugin paths of the compiler need a plugin host and real plugins
// (the build's plugins/lib; engine/CMakeLists.txt builds them first).
TEST(DiagnosticCorpusTest, PluginModelBrokenWithAHost) {
  plugin_host::PluginHostOptions host_options;
  host_options.directories = {HEALTHSCORE_BINARY_DIR "/plugins/lib"};
  absl::StatusOr<std::unique_ptr<plugin_host::PluginHost>> host =
      plugin_host::PluginHost::Create(host_options);
  ASSERT_TRUE(host.ok()) << host.status();
  CompileOptions options;
  options.plugins = host->get();
  const std::string model =
      ReadFile(kSource / "rules/plugin_example/1/model.yaml");
  {
    CompileResult r = CompileString(model, "m.yaml", options);
    ASSERT_NE(r.model, nullptr) << r.diagnostics.ToString();
    EXPECT_TRUE(r.diagnostics.empty()) << r.diagnostics.ToString();
  }
  const std::vector<std::pair<std::string, std::string>> splices = {
      {"library: nps", "library: no_such_plugin"},
      {"library: nps", "library: ../nps"},
      {"library: nps", "library: usage_anomaly"},
      {"  - id: anomaly\n", "  - id: survey\n"},
      {"      min_history: 14", "      min_history: -3"},
      {"      cap: 6", "      cap: abc"},
      {"    plugin: survey", "    plugin: surveys"},
      {"    signal: nps", "    signal: nsp"},
      {"    inputs: [nps_answers]", "    inputs: [csat]"},
      {"    inputs: [nps_answers]", "    inputs: [nps_answers, csat]"},
      {"    inputs: [nps_answers]", "    inputs: [no_such_input]"},
      {"    inputs: [nps_answers]", "    inputs: []"},
      {"    params: {window: 20, min_responses: 3}",
       "    params: {window: -20, min_responses: 3}"},
      {"    params: {window: 20, min_responses: 3}",
       "    params: {window: 20, no_such_param: 3}"},
      {"    params: {window: 20, min_responses: 3}",
       "    params: {window: x, min_responses: [3]}"},
      {"    params: {recent: 7, history: 28}", "    params: {recent: 0}"},
      {"        source: nps\n", "        source: nps_answers\n"},
  };
  for (const auto& [from, to] : splices) {
    const std::string what = absl::StrCat("'", from, "' -> '", to, "'");
    CompileResult r =
        CompileString(Replace(model, from, to), "m.yaml", options);
    EXPECT_GT(ExpectRealMessages(r, what), 0)
        << what << " gave no diagnostic: the splice tests nothing";
  }
}

// Every scalar of the base model replaced by each of a set of hostile
// values, one at a time: reaches the checks nobody thought to write a
// model for.
TEST(DiagnosticCorpusTest, EveryValueReplaced) {
  // Scalars of every type, broken YAML, broken and ill-typed expressions.
  std::vector<std::string> hostile = {"''", "0", "-1", "1e400", ".nan"};
  for (const char* more : {"[]", "{}", "x", "~", "'(('", "'\"'", "'a =='"}) {
    hostile.push_back(more);
  }
  for (const char* expr :
       {"'segment == \"zz\"'", "'plan == \"\"'", "'wau'", "'score'",
        "'pct_change(wau, 1, 1)'", "'ratio_change(wau, 0, 1)'", "'has(x)'"}) {
    hostile.push_back(expr);
  }
  const std::vector<std::string> lines = absl::StrSplit(kModel, '\n');
  int models = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    // Block-style values ("key: value") and flow-style ones ("key: v,").
    const std::string& line = lines[i];
    for (size_t colon = line.find(": "); colon != std::string::npos;
         colon = line.find(": ", colon + 1)) {
      const size_t begin = colon + 2;
      if (begin >= line.size()) continue;
      size_t end = line.find_first_of(",}]", begin);
      if (line[begin] == '\'' || line[begin] == '"') {
        end = line.find(line[begin], begin + 1);
        end = end == std::string::npos ? line.size() : end + 1;
      }
      if (line[begin] == '{' || line[begin] == '[') continue;
      if (end == std::string::npos) end = line.size();
      for (const std::string& value : hostile) {
        std::vector<std::string> copy = lines;
        copy[i] = line.substr(0, begin) + value + line.substr(end);
        const std::string text = absl::StrJoin(copy, "\n");
        ++models;
        ExpectRealMessages(CompileString(text, "m.yaml"),
                           absl::StrCat("line ", i + 1, ": ", copy[i]));
      }
    }
  }
  EXPECT_GT(models, 1000);
}

}  // namespace
}  // namespace healthscore::engine::model
