// Every number the result writers write reads back as the engine's double,
// bit for bit: accounts scored through the engine, written as JSON Lines
// (with explanations) and CSV by the real writer, and each written number
// parsed back with strtod and std::from_chars.

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "engine/common/testing/status_matchers.h"
#include "engine/eval/explain.h"
#include "engine/eval/scorer.h"
#include "engine/io/result_writer.h"
#include "engine/io/snapshot_reader.h"
#include "engine/model/compiler.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "simdjson.h"

namespace healthscore::engine::io {

using eval::Explain;
using model::CompileString;

namespace {

using ::testing::HasSubstr;

// Identity signals pass crafted values straight into the scores; the
// derived sum makes 0.1 + 0.2; the linear signal and the unequal weights
// make fractions with long expansions.
constexpr char kModel[] = R"yaml(name: roundtrip
version: 1
min_coverage: 0.1
inputs:
  - {id: v, type: number, range: [0, 100]}
  - {id: w, type: number}
  - {id: x, type: number}
  - {id: y, type: number}
derived:
  - id: sum
    expr: "x + y"
groups:
  - id: g1
    weight: 0.7
    signals:
      - {id: sv, source: v, weight: 0.1, normalize: identity}
      - {id: ssum, source: sum, weight: 0.4, normalize: identity}
  - id: g2
    weight: 0.3
    signals:
      - id: sw
        source: w
        weight: 0.1
        normalize: {linear: {bad: 0, good: 3}}
tiers:
  - {id: green, min: 80}
  - {id: yellow, min: 50}
  - {id: red, min: 0}
playbooks:
  - id: near_green
    name: Near green
    owner: csm
    priority: 1
    when: "score > 79 && score < 80"
  - id: moved
    name: Moved
    owner: csm
    priority: 2
    when: "score_delta != 0"
)yaml";

uint64_t Bits(double v) {
  uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

// What a reader gets for the engine's `value`: the same double, except
// that zero is written without its sign (number_format.h).
uint64_t ExpectedBits(double value) { return Bits(value == 0 ? 0.0 : value); }

struct Counts {
  int numbers = 0;
  int subnormal = 0;
  int tiny = 0;   // below 1e-200
  int huge = 0;   // above 1e200
};

// Reads `text` back with strtod and std::from_chars; both must give the
// engine's double bit for bit.
void ExpectReadsBack(std::string_view text, double engine,
                     const std::string& where, Counts* counts) {
  SCOPED_TRACE(where);
  ASSERT_FALSE(text.empty());
  const std::string s(text);
  char* end = nullptr;
  const double by_strtod = std::strtod(s.c_str(), &end);
  EXPECT_EQ(end, s.c_str() + s.size()) << s;
  double by_from_chars = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), by_from_chars);
  EXPECT_EQ(r.ec, std::errc()) << s;
  EXPECT_EQ(r.ptr, s.data() + s.size()) << s;
  EXPECT_EQ(Bits(by_strtod), ExpectedBits(engine))
      << s << " read back as " << by_strtod << ", engine has "
      << absl::StrFormat("%.17g", engine);
  EXPECT_EQ(Bits(by_from_chars), ExpectedBits(engine)) << s;
  ++counts->numbers;
  if (std::fpclassify(engine) == FP_SUBNORMAL) ++counts->subnormal;
  if (engine != 0 && std::fabs(engine) < 1e-200) ++counts->tiny;
  if (std::fabs(engine) > 1e200) ++counts->huge;
}

// The raw text of every number in a JSON document, by path
// ("score", "groups.g1", "explanation.signals[0].raw", ...).
void CollectNumbers(simdjson::ondemand::value value, const std::string& path,
                    std::map<std::string, std::string>* out) {
  switch (value.type().value()) {
    case simdjson::ondemand::json_type::object:
      for (auto field : value.get_object()) {
        const std::string key(field.unescaped_key().value());
        CollectNumbers(field.value().value(),
                       path.empty() ? key : absl::StrCat(path, ".", key), out);
      }
      break;
    case simdjson::ondemand::json_type::array: {
      size_t i = 0;
      for (auto item : value.get_array()) {
        CollectNumbers(item.value(), absl::StrCat(path, "[", i++, "]"), out);
      }
      break;
    }
    case simdjson::ondemand::json_type::number: {
      std::string_view raw = value.raw_json_token();
      while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n')) {
        raw.remove_suffix(1);
      }
      (*out)[path] = std::string(raw);
      break;
    }
    case simdjson::ondemand::json_type::string:
      value.get_string().value();
      break;
    case simdjson::ondemand::json_type::boolean:
      value.get_bool().value();
      break;
    case simdjson::ondemand::json_type::null:
      ADD_FAILURE() << "null at " << path;
      break;
  }
}

// The text after `name=` in a playbook reason, up to ',' or ']'.
std::string ReasonValue(const std::string& reason, const std::string& name) {
  const size_t at = reason.find("[" + name + "=") != std::string::npos
                        ? reason.find("[" + name + "=") + 1
                        : reason.find(" " + name + "=") + 1;
  const size_t start = at + name.size() + 1;
  return reason.substr(start, reason.find_first_of(",]", start) - start);
}

std::string Num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// The accounts: crafted values, then many random ones. Inputs are written
// with 17 digits, so the engine reads exactly these doubles.
std::string Accounts() {
  const double kDenormal = std::numeric_limits<double>::denorm_min();
  struct Crafted {
    const char* id;
    std::string fields;
  };
  const std::vector<Crafted> crafted = {
      // Only v: the score is v's signal score, 79.999996 (yellow, not 80).
      {"almost_green", R"("metrics":{"v":79.999996},"previous_score":80)"},
      {"just_below", absl::StrCat(R"("metrics":{"v":)",
                                  Num(std::nextafter(80.0, 0.0)), "}")},
      {"point_three", R"("metrics":{"x":0.1,"y":0.2},"previous_score":0.3)"},
      {"tiny", R"("metrics":{"v":1e-300,"x":1e-300,"y":2e-300})"},
      {"denormal", absl::StrCat(R"("metrics":{"v":1e-310,"w":)",
                                Num(kDenormal), R"(,"x":)", Num(kDenormal * 3),
                                R"(,"y":0})")},
      {"huge", R"("metrics":{"v":1e300,"w":1e308,"x":1e300,"y":1e300},)"
               R"("previous_score":1.7976931348623157e308)"},
      {"thirds", R"("metrics":{"v":33.333333333333336,"w":1,"x":0.1,)"
                 R"("y":0.7},"previous_score":66.66666666666667)"},
  };
  std::string out;
  for (const Crafted& c : crafted) {
    absl::StrAppend(&out, R"({"id":")", c.id, "\",", c.fields, "}\n");
  }
  std::mt19937_64 rng(1010);
  std::uniform_real_distribution<double> score(0, 100);
  std::uniform_real_distribution<double> small(-2, 5);
  std::bernoulli_distribution present(0.8);
  for (int i = 0; i < 3000; ++i) {
    std::vector<std::string> metrics;
    if (present(rng)) metrics.push_back(absl::StrCat("\"v\":", Num(score(rng))));
    if (present(rng)) metrics.push_back(absl::StrCat("\"w\":", Num(small(rng))));
    if (present(rng)) metrics.push_back(absl::StrCat("\"x\":", Num(small(rng))));
    if (present(rng)) metrics.push_back(absl::StrCat("\"y\":", Num(score(rng))));
    absl::StrAppend(&out, R"({"id":"r)", i, R"(","metrics":{)",
                    absl::StrJoin(metrics, ","), "}");
    if (present(rng)) {
      absl::StrAppend(&out, R"(,"previous_score":)", Num(score(rng)));
    }
    out.append("}\n");
  }
  return out;
}

class RoundTripTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model::CompileResult compiled = CompileString(kModel, "roundtrip.yaml");
    ASSERT_NE(compiled.model, nullptr) << compiled.diagnostics.ToString();
    model_ = compiled.model;
    batch_ = std::make_unique<eval::Batch>(model_);
    JsonLinesReader reader(StringSource(Accounts()));
    ASSERT_OK_AND_ASSIGN(size_t rows, reader.ReadBatch(batch_.get(), 100000));
    ASSERT_EQ(rows, 3007u);
    ASSERT_OK(eval::Scorer::Score(*batch_, &result_));
    for (size_t r = 0; r < rows; ++r) {
      ASSERT_TRUE(result_.ok(r)) << batch_->row_error(r);
    }
  }

  std::string Write(OutputFormat format, const WriterOptions& options) {
    std::string out;
    ResultWriter writer(StringSink(&out), format, options);
    EXPECT_OK(writer.Write(*batch_, result_));
    EXPECT_OK(writer.Close());
    return out;
  }

  size_t Row(std::string_view id) const {
    for (size_t r = 0; r < batch_->size(); ++r) {
      if (batch_->id(r) == id) return r;
    }
    ADD_FAILURE() << "no account " << id;
    return 0;
  }

  std::shared_ptr<const model::CompiledModel> model_;
  std::unique_ptr<eval::Batch> batch_;
  eval::BatchResult result_;
};

TEST_F(RoundTripTest, JsonLinesNumbersAreTheEnginesDoubles) {
  WriterOptions options;
  options.explain = true;
  options.top_drivers = 10;
  const std::string out = Write(OutputFormat::kJsonLines, options);
  const std::vector<std::string> lines =
      absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), batch_->size());
  simdjson::ondemand::parser parser;
  simdjson::dom::parser dom;
  Counts counts;
  for (size_t row = 0; row < lines.size(); ++row) {
    const std::string& line = lines[row];
    SCOPED_TRACE(line);
    simdjson::padded_string padded(line);
    simdjson::ondemand::document doc = parser.iterate(padded);
    std::map<std::string, std::string> numbers;
    CollectNumbers(doc.get_value().value(), "", &numbers);

    // Every number of the line is one the engine computed.
    std::map<std::string, double> engine;
    if (result_.has_score(row)) engine["score"] = result_.score(row);
    engine["coverage"] = result_.coverage(row);
    for (size_t g = 0; g < model_->groups().size(); ++g) {
      const double v = result_.group_score(row, static_cast<int>(g));
      if (!std::isnan(v)) engine["groups." + model_->groups()[g].id] = v;
    }
    if (!std::isnan(result_.delta(row))) engine["delta"] = result_.delta(row);
    const eval::Explanation e = Explain(*batch_, result_, row, 10);
    for (size_t i = 0; i < e.signals.size(); ++i) {
      const eval::SignalExplanation& s = e.signals[i];
      const std::string p = absl::StrCat("explanation.signals[", i, "].");
      if (std::isfinite(s.raw)) engine[p + "raw"] = s.raw;
      engine[p + "weight"] = s.weight;
      engine[p + "effective_weight"] = s.effective_weight;
      if (s.present) {
        engine[p + "score"] = s.score;
        engine[p + "points"] = s.points;
        engine[p + "points_lost"] = s.points_lost;
      }
    }
    for (const auto& [path, text] : numbers) {
      if (path.find(".priority") != std::string::npos) continue;  // integer
      auto it = engine.find(path);
      if (it == engine.end()) {
        ADD_FAILURE() << "unexpected number " << path << " = " << text;
        continue;
      }
      ExpectReadsBack(text, it->second, path, &counts);
    }
    for (const auto& [path, value] : engine) {
      EXPECT_EQ(numbers.count(path), 1u) << "missing " << path;
    }

    // The tier is the one the printed score reads into.
    simdjson::dom::element parsed = dom.parse(line).value();
    const std::string tier(parsed["tier"].get_string().value());
    if (tier != model::kInsufficientDataTierId) {
      const double printed = std::strtod(numbers["score"].c_str(), nullptr);
      const char* by_score = printed >= 80   ? "green"
                             : printed >= 50 ? "yellow"
                                             : "red";
      EXPECT_EQ(tier, by_score) << numbers["score"];
    }
    // Numbers quoted in reasons and warnings read back too.
    for (auto playbook : parsed["playbooks"].get_array()) {
      const std::string reason(playbook["reason"].get_string().value());
      if (reason.rfind("score > 79", 0) == 0) {
        ExpectReadsBack(ReasonValue(reason, "score"), result_.score(row),
                        "reason score", &counts);
      } else {
        ExpectReadsBack(ReasonValue(reason, "score_delta"), result_.delta(row),
                        "reason score_delta", &counts);
      }
    }
    for (const std::string& w : e.warnings) {
      const std::string prefix = "v = ";
      ASSERT_EQ(w.rfind(prefix, 0), 0u) << w;
      ExpectReadsBack(w.substr(prefix.size(), w.find(' ', prefix.size()) -
                                                  prefix.size()),
                      batch_->number(model_->inputs()[0].column)[row],
                      "range warning", &counts);
    }
  }
  // The crafted values were there.
  EXPECT_GT(counts.subnormal, 0);
  EXPECT_GT(counts.tiny, 0);
  EXPECT_GT(counts.huge, 0);
  EXPECT_GT(counts.numbers, 3000 * 8);

  // The account that scores 79.999996 is yellow and says so.
  const std::string& almost = lines[Row("almost_green")];
  EXPECT_THAT(almost, HasSubstr(R"("score":79.999996,"tier":"yellow")"));
  EXPECT_THAT(almost, HasSubstr("[score=79.999996]"));
  EXPECT_THAT(lines[Row("just_below")],
              HasSubstr(R"("score":79.99999999999999,"tier":"yellow")"));
  EXPECT_THAT(lines[Row("point_three")],
              HasSubstr(R"("raw":0.30000000000000004,)"));
}

TEST_F(RoundTripTest, CsvNumbersAreTheEnginesDoubles) {
  const std::string out = Write(OutputFormat::kCsv, {});
  const std::vector<std::string> lines =
      absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), batch_->size() + 1);
  ASSERT_EQ(lines[0],
            "id,status,error,score,tier,coverage,g1,g2,playbooks,delta,"
            "tier_changed,warnings");
  Counts counts;
  for (size_t row = 0; row < batch_->size(); ++row) {
    const std::string& line = lines[row + 1];
    SCOPED_TRACE(line);
    // The number cells come before the last one (warnings), which may be
    // quoted and hold commas.
    const std::vector<std::string> cells = absl::StrSplit(line, ',');
    ASSERT_GE(cells.size(), 12u);
    ASSERT_EQ(cells[10].find('"'), std::string::npos);
    EXPECT_EQ(cells[0], batch_->id(row));
    if (result_.has_score(row)) {
      ExpectReadsBack(cells[3], result_.score(row), "score", &counts);
    } else {
      EXPECT_EQ(cells[3], "");
    }
    ExpectReadsBack(cells[5], result_.coverage(row), "coverage", &counts);
    for (int g = 0; g < 2; ++g) {
      const double v = result_.group_score(row, g);
      if (std::isnan(v)) {
        EXPECT_EQ(cells[6 + g], "");
      } else {
        ExpectReadsBack(cells[6 + g], v, "group", &counts);
      }
    }
    if (std::isnan(result_.delta(row))) {
      EXPECT_EQ(cells[9], "");
    } else {
      ExpectReadsBack(cells[9], result_.delta(row), "delta", &counts);
    }
    if (cells[4] != model::kInsufficientDataTierId && !cells[3].empty()) {
      const double printed = std::strtod(cells[3].c_str(), nullptr);
      EXPECT_EQ(cells[4], printed >= 80   ? "green"
                          : printed >= 50 ? "yellow"
                                          : "red");
    }
  }
  EXPECT_GT(counts.subnormal, 0);
  EXPECT_GT(counts.tiny, 0);
  EXPECT_GT(counts.huge, 0);
  EXPECT_THAT(lines[Row("almost_green") + 1],
              HasSubstr(",ok,,79.999996,yellow,"));
}

TEST_F(RoundTripTest, WithAPrecisionTheTextIsRoundedLikePrintf) {
  WriterOptions options;
  options.numbers.precision = 6;
  const std::string out = Write(OutputFormat::kJsonLines, options);
  const std::vector<std::string> lines =
      absl::StrSplit(out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), batch_->size());
  // Asked for: 6 digits round 79.999996 up, next to tier yellow.
  EXPECT_THAT(lines[Row("almost_green")],
              HasSubstr(R"("score":80,"tier":"yellow")"));
  simdjson::ondemand::parser parser;
  for (size_t row = 0; row < lines.size(); ++row) {
    simdjson::padded_string padded(lines[row]);
    simdjson::ondemand::document doc = parser.iterate(padded);
    std::map<std::string, std::string> numbers;
    CollectNumbers(doc.get_value().value(), "", &numbers);
    if (!result_.has_score(row)) continue;
    char expected[64];
    std::snprintf(expected, sizeof expected, "%.6g", result_.score(row));
    EXPECT_EQ(numbers["score"], expected);
  }
}

}  // namespace
}  // namespace healthscore::engine::io
