// Test runner for tests.yaml files.
//
// yaml-cpp and std::regex report errors by throwing; both are caught here,
// at the edge, and become file errors or an InvalidArgument status.

#include "engine/model_tests/test_runner.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <optional>
#include <regex>
#include <sstream>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "engine/common/number_format.h"
#include "engine/common/status_macros.h"
#include "engine/common/strings.h"
#include "engine/common/yaml_reader.h"
#include "engine/eval/account_table.h"
#include "engine/eval/batch.h"
#include "engine/eval/explain.h"
#include "engine/eval/outcome.h"
#include "engine/eval/result.h"
#include "engine/eval/scorer.h"
#include "engine/io/result_writer.h"
#include "engine/io/yaml_snapshot.h"
#include "engine/model/compiler.h"
#include "yaml-cpp/yaml.h"

namespace healthscore::engine::model_tests {

using common::Cat;
using common::FormatNumber;
using common::ReadYaml;
using common::ReadYamlFile;
using eval::Batch;
using eval::BatchResult;
using eval::MatchedPlaybooks;
using model::CompileFile;
using model::DidYouMean;
using model::SourceLocation;

namespace {

using common::Cat;

constexpr double kScoreTolerance = 0.01;

const std::vector<std::string>& ExpectKeys() {
  static const auto* keys = new std::vector<std::string>{
      "tier",   "score",       "score_between",     "coverage",
      "groups", "playbooks",   "playbooks_include", "playbooks_exclude",
      "error",  "tier_changed"};
  return *keys;
}

const std::vector<std::string>& CaseKeys() {
  static const auto* keys =
      new std::vector<std::string>{"name", "description", "account", "expect"};
  return *keys;
}

SourceLocation Where(const std::string& file, const YAML::Node& node) {
  SourceLocation loc;
  loc.file = file;
  YAML::Mark mark = node.Mark();
  if (!mark.is_null()) {
    loc.line = mark.line + 1;
    loc.column = mark.column + 1;
  }
  return loc;
}

std::string WithHint(std::string message, const std::string& hint) {
  if (!hint.empty()) absl::StrAppend(&message, " (", hint, ")");
  return message;
}

std::string ListText(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.append(", ");
    out.append(items[i]);
  }
  out.push_back(']');
  return out;
}

bool Near(double got, double want) {
  return std::fabs(got - want) <= kScoreTolerance + 1e-9;
}

bool ReadNumber(const YAML::Node& node, double* out) {
  return node.IsScalar() && YAML::convert<double>::decode(node, *out);
}

// A list of scalars, or nullopt.
std::optional<std::vector<std::string>> ReadIdList(const YAML::Node& node) {
  if (node.IsNull()) return std::vector<std::string>{};
  if (!node.IsSequence()) return std::nullopt;
  std::vector<std::string> ids;
  for (const YAML::Node& item : node) {
    if (!item.IsScalar()) return std::nullopt;
    ids.push_back(item.Scalar());
  }
  return ids;
}

struct ParsedCase {
  std::string name;
  YAML::Node node;
  YAML::Node account;
  bool has_account = false;
  YAML::Node expect;  // a null node when the case has none
  int row = -1;
  TestCaseResult result;
};

// Compares one case's expectations with its scored row.
class CaseChecker {
 public:
  CaseChecker(const Batch& batch, const BatchResult& result, ParsedCase* c,
              common::NumberFormat numbers)
      : batch_(batch),
        result_(result),
        model_(result.model()),
        c_(c),
        numbers_(numbers) {}

  void Run() {
    const YAML::Node& expect = c_->expect;
    if (!expect.IsNull() && !expect.IsMap()) {
      Fail("expect: expected a mapping of expectations");
      return;
    }
    bool expects_error = false;
    bool other_keys = false;
    if (expect.IsMap()) {
      for (const auto& kv : expect) {
        const std::string key = kv.first.Scalar();
        if (std::find(ExpectKeys().begin(), ExpectKeys().end(), key) ==
            ExpectKeys().end()) {
          Fail(WithHint(Cat("expect: unknown key \"", key, "\""),
                        DidYouMean(key, ExpectKeys())));
          continue;
        }
        if (key == "error") {
          expects_error = true;
        } else {
          other_keys = true;
        }
      }
    }
    if (c_->row < 0) return;  // the account itself was unusable
    size_t row = static_cast<size_t>(c_->row);
    bool ok = result_.ok(row);
    // The failed row's text, as every output writes it (outcome.h).
    const std::string error(eval::RowErrorText(batch_, row));

    if (expects_error) {
      const YAML::Node& want = expect["error"];
      if (other_keys) {
        Fail(
            "expect: \"error\" cannot be combined with other "
            "expectations (a failed account has no score)");
      }
      if (!want.IsScalar()) {
        Fail("error: expected a message fragment");
      } else if (ok) {
        Fail(Cat("error: expected the account to fail with \"", want.Scalar(),
                 "\", but it scored ", ScoreText(row)));
      } else if (error.find(want.Scalar()) == std::string::npos) {
        Fail(Cat("error: expected a message containing \"", want.Scalar(),
                 "\", got \"", error, "\""));
      }
      return;
    }
    if (!ok) {
      Fail(Cat("the account failed: ", error));
      return;
    }
    if (!expect.IsMap()) return;
    for (const auto& kv : expect) {
      const std::string key = kv.first.Scalar();
      const YAML::Node& want = kv.second;
      if (key == "tier") {
        CheckTier(row, want);
      } else if (key == "score") {
        CheckScore(row, want);
      } else if (key == "score_between") {
        CheckScoreBetween(row, want);
      } else if (key == "coverage") {
        CheckCoverage(row, want);
      } else if (key == "groups") {
        CheckGroups(row, want);
      } else if (key == "playbooks" || key == "playbooks_include" ||
                 key == "playbooks_exclude") {
        CheckPlaybooks(row, key, want);
      } else if (key == "tier_changed") {
        CheckTierChanged(row, want);
      }
    }
  }

 private:
  void Fail(std::string message) {
    c_->result.failures.push_back(std::move(message));
  }

  // A number in a failure message, as TestRunOptions::numbers says.
  std::string FormatScore(double value) const {
    return FormatNumber(value, numbers_);
  }

  std::string ScoreText(size_t row) const {
    std::string tier(model_.TierId(result_.tier(row)));
    if (!result_.has_score(row)) return Cat("no score (", tier, ")");
    return Cat(FormatScore(result_.score(row)), " (", tier, ")");
  }

  void CheckTier(size_t row, const YAML::Node& want) {
    if (!want.IsScalar()) {
      Fail("tier: expected a tier id");
      return;
    }
    const std::string& tier = want.Scalar();
    if (model_.FindTier(tier) == -2) {
      std::vector<std::string> ids;
      for (const model::TierInfo& t : model_.tiers()) ids.push_back(t.id);
      ids.emplace_back(model::kInsufficientDataTierId);
      Fail(WithHint(Cat("tier: the model has no tier \"", tier, "\""),
                    DidYouMean(tier, ids)));
      return;
    }
    std::string got(model_.TierId(result_.tier(row)));
    if (got != tier) {
      std::string score = result_.has_score(row)
                              ? Cat("score ", FormatScore(result_.score(row)))
                              : std::string("no score");
      Fail(Cat("tier: expected ", tier, ", got ", got, " (", score,
               ", coverage ", FormatScore(result_.coverage(row)), ")"));
    }
  }

  void CheckScore(size_t row, const YAML::Node& want) {
    // `score: null` asserts that no signal had data (issue 10, item 6).
    if (want.IsNull()) {
      if (result_.has_score(row)) {
        Fail(Cat("score: expected no score (no signal with data), got ",
                 ScoreText(row)));
      }
      return;
    }
    double expected;
    if (!ReadNumber(want, &expected)) {
      Fail("score: expected a number, or null for no score");
      return;
    }
    if (!result_.has_score(row)) {
      Fail(Cat("score: expected ", FormatScore(expected),
               ", got no score (no signal had data)"));
    } else if (!Near(result_.score(row), expected)) {
      Fail(Cat("score: expected ", FormatScore(expected), " (+/- ",
               FormatScore(kScoreTolerance), "), got ",
               FormatScore(result_.score(row))));
    }
  }

  void CheckScoreBetween(size_t row, const YAML::Node& want) {
    double lo, hi;
    if (!want.IsSequence() || want.size() != 2 || !ReadNumber(want[0], &lo) ||
        !ReadNumber(want[1], &hi) || lo > hi) {
      Fail("score_between: expected [low, high] with low <= high");
      return;
    }
    std::string range = Cat("[", FormatScore(lo), ", ", FormatScore(hi), "]");
    if (!result_.has_score(row)) {
      Fail(Cat("score_between: expected a score in ", range, ", got no score"));
    } else if (result_.score(row) < lo || result_.score(row) > hi) {
      Fail(Cat("score_between: expected a score in ", range, ", got ",
               FormatScore(result_.score(row))));
    }
  }

  void CheckCoverage(size_t row, const YAML::Node& want) {
    double expected;
    if (!ReadNumber(want, &expected)) {
      Fail("coverage: expected a number between 0 and 1");
      return;
    }
    if (!Near(result_.coverage(row), expected)) {
      Fail(Cat("coverage: expected ", FormatScore(expected), " (+/- ",
               FormatScore(kScoreTolerance), "), got ",
               FormatScore(result_.coverage(row))));
    }
  }

  void CheckGroups(size_t row, const YAML::Node& want) {
    if (!want.IsMap()) {
      Fail("groups: expected a mapping of group id to score");
      return;
    }
    std::vector<std::string> ids;
    for (const model::GroupInfo& g : model_.groups()) ids.push_back(g.id);
    for (const auto& kv : want) {
      const std::string id = kv.first.Scalar();
      int group = model_.FindGroup(id);
      if (group < 0) {
        Fail(WithHint(Cat("groups: the model has no group \"", id, "\""),
                      DidYouMean(id, ids)));
        continue;
      }
      double expected;
      if (!ReadNumber(kv.second, &expected)) {
        Fail(Cat("groups.", id, ": expected a number"));
        continue;
      }
      double got = result_.group_score(row, group);
      if (std::isnan(got)) {
        Fail(Cat("groups.", id, ": expected ", FormatScore(expected),
                 ", got no score (no signal of the group had "
                 "data)"));
      } else if (!Near(got, expected)) {
        Fail(Cat("groups.", id, ": expected ", FormatScore(expected), " (+/- ",
                 FormatScore(kScoreTolerance), "), got ", FormatScore(got)));
      }
    }
  }

  void CheckPlaybooks(size_t row, const std::string& key,
                      const YAML::Node& want) {
    std::optional<std::vector<std::string>> expected = ReadIdList(want);
    if (!expected) {
      Fail(Cat(key, ": expected a list of playbook ids"));
      return;
    }
    std::vector<std::string> known;
    for (const model::PlaybookInfo& p : model_.playbooks())
      known.push_back(p.id);
    bool bad_id = false;
    for (const std::string& id : *expected) {
      if (std::find(known.begin(), known.end(), id) == known.end()) {
        Fail(WithHint(Cat(key, ": the model has no playbook \"", id, "\""),
                      DidYouMean(id, known)));
        bad_id = true;
      }
    }
    if (bad_id) return;
    std::vector<std::string> got;
    for (int p : MatchedPlaybooks(result_, row)) {
      got.push_back(model_.playbooks()[p].id);
    }
    auto contains = [](const std::vector<std::string>& v,
                       const std::string& s) {
      return std::find(v.begin(), v.end(), s) != v.end();
    };
    std::vector<std::string> missing, unexpected;
    for (const std::string& id : *expected) {
      if (!contains(got, id)) missing.push_back(id);
    }
    for (const std::string& id : got) {
      if (!contains(*expected, id)) unexpected.push_back(id);
    }
    if (key == "playbooks") {
      if (got == *expected) return;
      std::string line = Cat("playbooks: expected ", ListText(*expected),
                             ", got ", ListText(got));
      if (missing.empty() && unexpected.empty()) {
        line.append(" (same playbooks, different order)");
      } else {
        if (!missing.empty()) {
          absl::StrAppend(&line, "; missing: ", ListText(missing));
        }
        if (!unexpected.empty()) {
          absl::StrAppend(&line, "; unexpected: ", ListText(unexpected));
        }
      }
      Fail(line);
    } else if (key == "playbooks_include") {
      if (!missing.empty()) {
        Fail(Cat("playbooks_include: missing ", ListText(missing), ", got ",
                 ListText(got)));
      }
    } else {
      std::vector<std::string> present;
      for (const std::string& id : *expected) {
        if (contains(got, id)) present.push_back(id);
      }
      if (!present.empty()) {
        Fail(Cat("playbooks_exclude: unexpected ", ListText(present), ", got ",
                 ListText(got)));
      }
    }
  }

  void CheckTierChanged(size_t row, const YAML::Node& want) {
    bool expected;
    if (!want.IsScalar() || !YAML::convert<bool>::decode(want, expected)) {
      Fail("tier_changed: expected true or false");
      return;
    }
    bool got = result_.tier_changed(row);
    if (got != expected) {
      Fail(Cat("tier_changed: expected ", expected ? "true" : "false", ", got ",
               got ? "true" : "false", " (tier ",
               model_.TierId(result_.tier(row)), ")"));
    }
  }

  const Batch& batch_;
  const BatchResult& result_;
  const model::CompiledModel& model_;
  ParsedCase* c_;
  const common::NumberFormat numbers_;
};

std::string Dirname(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

int TestFileResult::passed() const {
  if (!file_errors.empty()) return 0;
  int n = 0;
  for (const TestCaseResult& c : cases) n += c.passed ? 1 : 0;
  return n;
}

int TestFileResult::failed() const {
  if (!file_errors.empty()) return std::max(selected, 1);
  int n = 0;
  for (const TestCaseResult& c : cases) n += c.passed ? 0 : 1;
  return n;
}

absl::StatusOr<TestFileResult> RunTestFile(const std::string& tests_path,
                                           const TestRunOptions& options) {
  std::optional<std::regex> filter;
  if (!options.name_filter.empty()) {
    try {
      filter.emplace(options.name_filter, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return absl::InvalidArgumentError(Cat(
          "bad test name filter \"", options.name_filter, "\": ", e.what()));
    }
  }

  absl::StatusOr<std::string> text = ReadYamlFile(tests_path, options.yaml);
  if (!text.ok() && !absl::IsResourceExhausted(text.status())) {
    return absl::NotFoundError(Cat("cannot read ", tests_path));
  }

  TestFileResult out;
  out.tests_path = tests_path;
  out.model_path = options.model_path.empty()
                       ? Dirname(tests_path) + "/model.yaml"
                       : options.model_path;
  SourceLocation file_loc;
  file_loc.file = tests_path;

  if (!text.ok()) {
    out.file_errors.Error(file_loc, std::string(text.status().message()));
    return out;
  }
  // Bounded like model files: no alias bomb or recursive alias gets past
  // this into the case and account walks below.
  common::YamlDocument doc = ReadYaml(*text, options.yaml, options.budget);
  if (doc.problem) {
    if (doc.problem->code == absl::StatusCode::kDeadlineExceeded ||
        doc.problem->code == absl::StatusCode::kCancelled) {
      return absl::Status(doc.problem->code, doc.problem->message);
    }
    out.file_errors.Error(
        SourceLocation{tests_path, doc.problem->line, doc.problem->column},
        doc.problem->message, doc.problem->hint);
    return out;
  }
  std::vector<ParsedCase> cases;
  try {
    const YAML::Node& root = doc.root;
    if (!root.IsMap() || !root["cases"]) {
      out.file_errors.Error(file_loc,
                            "expected a mapping with a \"cases\" list",
                            "see the end of docs/model-format.md");
      return out;
    }
    for (const auto& kv : root) {
      const std::string key = kv.first.Scalar();
      if (key != "cases") {
        out.file_errors.Error(
            Where(tests_path, kv.first), Cat("unknown key \"", key, "\""),
            DidYouMean(key, std::vector<std::string>{"cases"}));
      }
    }
    const YAML::Node cases_node = root["cases"];
    if (!cases_node.IsSequence()) {
      out.file_errors.Error(Where(tests_path, cases_node),
                            "\"cases\" must be a list of test cases");
    }
    if (!out.file_errors.empty()) return out;
    for (const YAML::Node& node : cases_node) {
      HEALTHSCORE_RETURN_IF_ERROR(options.budget.Check());
      ParsedCase c;
      c.node = node;
      c.result.location = Where(tests_path, node);
      if (!node.IsMap()) {
        c.result.name = Cat("case at line ", c.result.location.line);
        c.result.failures.push_back(
            "a case must be a mapping with name, account and expect");
      } else {
        for (const auto& kv : node) {
          const std::string key = kv.first.Scalar();
          if (std::find(CaseKeys().begin(), CaseKeys().end(), key) ==
              CaseKeys().end()) {
            c.result.failures.push_back(
                WithHint(Cat("unknown key \"", key, "\" in the case"),
                         DidYouMean(key, CaseKeys())));
          }
        }
        if (node["name"] && node["name"].IsScalar()) {
          c.result.name = node["name"].Scalar();
        } else {
          c.result.name = Cat("case at line ", c.result.location.line);
          c.result.failures.push_back("the case has no name");
        }
        // Assigning an absent key's node would throw: rebind only when
        // present.
        if (const YAML::Node account = node["account"]) {
          c.account.reset(account);
          c.has_account = true;
        } else {
          c.result.failures.push_back("the case has no account");
        }
        if (const YAML::Node expect = node["expect"]) c.expect.reset(expect);
      }
      if (filter && !std::regex_search(c.result.name, *filter)) continue;
      cases.push_back(std::move(c));
    }
  } catch (const YAML::Exception& e) {
    SourceLocation loc = file_loc;
    if (!e.mark.is_null()) {
      loc.line = e.mark.line + 1;
      loc.column = e.mark.column + 1;
    }
    out.file_errors.Error(loc, e.msg);
    return out;
  }
  out.selected = static_cast<int>(cases.size());

  model::CompileOptions compile_options;
  compile_options.plugins = options.plugins;
  compile_options.yaml = options.yaml;
  compile_options.budget = options.budget;
  model::CompileResult compiled = CompileFile(out.model_path, compile_options);
  HEALTHSCORE_RETURN_IF_ERROR(compiled.status);
  if (!compiled.model) {
    for (const model::Diagnostic& d : compiled.diagnostics.items()) {
      if (d.severity == model::Severity::kError) out.file_errors.Add(d);
    }
    if (out.file_errors.empty()) {
      out.file_errors.Error(file_loc, Cat("cannot compile ", out.model_path));
    }
    return out;
  }
  const std::shared_ptr<const model::CompiledModel>& model = compiled.model;

  // The accounts are read as every reader reads them, into a table; test
  // cases are written by hand against this model, so binding is strict
  // and a name the model does not declare is a typo that fails the case.
  eval::AccountTable table;
  {
    eval::TableBuilder builder(&table);
    int next_row = 0;
    for (ParsedCase& c : cases) {
      if (!c.has_account) continue;
      HEALTHSCORE_RETURN_IF_ERROR(options.budget.Check());
      const size_t rows = table.size();
      try {
        io::AddYamlSnapshot(c.account, tests_path, &builder);
      } catch (const YAML::Exception& e) {
        // AddYamlSnapshot does not throw; this guards a yaml-cpp surprise.
        if (table.size() == rows) builder.BeginRow("");
        builder.FailRow(e.what());
        builder.EndRow();
      }
      c.row = next_row++;
    }
  }
  Batch batch(model);
  eval::TableBinder binder(model);
  binder.set_strict(true);
  binder.set_unknown_names_fail(true);
  binder.Bind(table, &batch);
  BatchResult result;
  absl::Status scored = eval::Scorer::Score(batch, &result);
  if (!scored.ok()) {
    out.file_errors.Error(file_loc, Cat("scoring failed: ", scored.ToString()));
    return out;
  }

  for (ParsedCase& c : cases) {
    try {
      CaseChecker(batch, result, &c, options.numbers).Run();
    } catch (const YAML::Exception& e) {
      c.result.failures.push_back(Cat("bad expectation: ", e.what()));
    }
    c.result.passed = c.result.failures.empty();
    out.cases.push_back(std::move(c.result));
  }
  return out;
}

std::string FormatTestFileResult(const TestFileResult& result, bool verbose) {
  std::string out;
  if (!result.file_errors.empty()) {
    absl::StrAppend(&out, "--- FAIL: ", result.tests_path);
    if (result.selected > 0) {
      absl::StrAppend(&out, " (", result.selected,
                      result.selected == 1 ? " case" : " cases", " not run)");
    }
    out.push_back('\n');
    for (const model::Diagnostic& d : result.file_errors.items()) {
      absl::StrAppend(&out, "    ", d.ToString(), "\n");
    }
    return out;
  }
  for (const TestCaseResult& c : result.cases) {
    if (c.passed && !verbose) continue;
    absl::StrAppend(&out, c.passed ? "--- PASS: " : "--- FAIL: ",
                    c.location.ToString(), ": ", c.name, "\n");
    for (const std::string& f : c.failures) {
      absl::StrAppend(&out, "    ", f, "\n");
    }
  }
  return out;
}

}  // namespace healthscore::engine::model_tests
