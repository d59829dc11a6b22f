// The JSON Schema for model files (schema/model.schema.json): every bundled
// model validates, every key of the format reference is in it, and it
// rejects what the loader rejects (unknown keys, wrong types, ...).
//
// The validator below implements the subset of JSON Schema 2020-12 the
// schema uses, over YAML read with yaml-cpp (typed as editors type YAML:
// quoted scalars are strings, plain ones numbers, booleans or null when
// they look like it). A keyword it does not implement fails the test, so
// the schema cannot grow a constraint that goes unchecked here.

#include <cmath>
#include <filesystem>
#include <functional>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/testing/temp_dir.h"
#include "engine/model/compiler.h"
#include "engine/model/testing/minimal_model.h"
#include "engine/model/yaml_loader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "yaml-cpp/yaml.h"

namespace healthscore {
namespace {

namespace fs = std::filesystem;

using ::healthscore::engine::common::testing::ReadFile;
using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

fs::path Source(const std::string& rel) {
  return fs::path(HEALTHSCORE_SOURCE_DIR) / rel;
}

enum class Kind { kNull, kBool, kInteger, kNumber, kString, kArray, kObject };

Kind Classify(const YAML::Node& node) {
  if (node.IsMap()) return Kind::kObject;
  if (node.IsSequence()) return Kind::kArray;
  if (node.IsNull()) return Kind::kNull;
  // yaml-cpp tags quoted scalars "!" and plain ones "?".
  if (node.Tag() == "!") return Kind::kString;
  static const std::regex kInt("[-+]?[0-9]+");
  static const std::regex kFloat(
      "[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\\.(inf|Inf|"
      "INF)|\\.(nan|NaN|NAN)");
  const std::string& s = node.Scalar();
  if (s == "true" || s == "false" || s == "True" || s == "False" ||
      s == "TRUE" || s == "FALSE") {
    return Kind::kBool;
  }
  if (std::regex_match(s, kInt)) return Kind::kInteger;
  if (std::regex_match(s, kFloat)) return Kind::kNumber;
  return Kind::kString;
}

// The value of a plain numeric scalar, YAML's .inf and .nan included.
double Number(const YAML::Node& n) {
  std::string s = n.Scalar();
  const bool negative = !s.empty() && s[0] == '-';
  if (!s.empty() && (s[0] == '-' || s[0] == '+') && s.size() > 1 &&
      s[1] == '.' && !std::isdigit(static_cast<unsigned char>(s[2]))) {
    s = s.substr(1);
  }
  if (s == ".inf" || s == ".Inf" || s == ".INF") {
    return negative ? -HUGE_VAL : HUGE_VAL;
  }
  if (s == ".nan" || s == ".NaN" || s == ".NAN") return NAN;
  return std::stod(s);
}

bool IsKind(const YAML::Node& value, const std::string& type) {
  const Kind k = Classify(value);
  if (type == "null") return k == Kind::kNull;
  if (type == "boolean") return k == Kind::kBool;
  if (type == "string") return k == Kind::kString;
  if (type == "array") return k == Kind::kArray;
  if (type == "object") return k == Kind::kObject;
  if (type == "number") return k == Kind::kInteger || k == Kind::kNumber;
  if (type == "integer") {
    if (k == Kind::kInteger) return true;
    if (k != Kind::kNumber) return false;
    const double d = Number(value);
    return std::isfinite(d) && d == std::floor(d);
  }
  ADD_FAILURE() << "unknown type " << type;
  return false;
}

class Validator {
 public:
  explicit Validator(YAML::Node root) : root_(root) {}

  std::vector<std::string> Validate(const YAML::Node& value) {
    std::vector<std::string> errors;
    Check(root_, value, "$", &errors);
    return errors;
  }

  // Every keyword of every schema object is one the validator implements.
  std::vector<std::string> UnsupportedKeywords() const {
    std::vector<std::string> out;
    Walk(root_, "#", &out);
    return out;
  }

 private:
  static const std::set<std::string>& Keywords() {
    static const auto* k = new std::set<std::string>{
        "$ref",      "type",          "enum",          "const",
        "properties", "required",     "additionalProperties",
        "pattern",   "minimum",       "maximum",       "exclusiveMinimum",
        "minLength", "minItems",      "maxItems",      "items",
        "minProperties", "maxProperties", "oneOf",     "anyOf",
        "not"};
    return *k;
  }
  static const std::set<std::string>& Annotations() {
    static const auto* k = new std::set<std::string>{
        "$schema", "$id", "title", "description", "default", "$defs"};
    return *k;
  }

  void Walk(const YAML::Node& schema, const std::string& where,
            std::vector<std::string>* out) const {
    if (!schema.IsMap()) return;
    for (const auto& kv : schema) {
      const std::string key = kv.first.Scalar();
      if (Keywords().count(key) == 0 && Annotations().count(key) == 0) {
        out->push_back(absl::StrCat(where, "/", key));
      }
      if (key == "properties" || key == "$defs") {
        for (const auto& p : kv.second) {
          Walk(p.second, absl::StrCat(where, "/", key, "/", p.first.Scalar()),
               out);
        }
      } else if (key == "items" || key == "not" ||
                 (key == "additionalProperties" && kv.second.IsMap())) {
        Walk(kv.second, absl::StrCat(where, "/", key), out);
      } else if (key == "oneOf" || key == "anyOf") {
        int i = 0;
        for (const auto& alt : kv.second) {
          Walk(alt, absl::StrCat(where, "/", key, "/", i++), out);
        }
      }
    }
  }

  YAML::Node Resolve(const YAML::Node& ref) const {
    const std::string text = ref.Scalar();
    EXPECT_EQ(text.rfind("#/$defs/", 0), 0u) << text;
    return root_["$defs"][text.substr(8)];
  }

  void Check(const YAML::Node& schema, const YAML::Node& value,
             const std::string& path, std::vector<std::string>* errors) {
    if (!schema.IsMap()) {
      ADD_FAILURE() << "schema at " << path << " is not an object";
      return;
    }
    if (const YAML::Node ref = schema["$ref"]) {
      Check(Resolve(ref), value, path, errors);
    }
    if (const YAML::Node type = schema["type"]) {
      bool ok = false;
      std::vector<std::string> names;
      if (type.IsSequence()) {
        for (const auto& t : type) {
          names.push_back(t.Scalar());
          ok |= IsKind(value, t.Scalar());
        }
      } else {
        names.push_back(type.Scalar());
        ok = IsKind(value, type.Scalar());
      }
      if (!ok) {
        errors->push_back(absl::StrCat(path, ": must be ",
                                       absl::StrJoin(names, " or ")));
        return;
      }
    }
    const Kind kind = Classify(value);
    if (const YAML::Node e = schema["enum"]) {
      bool found = false;
      std::vector<std::string> names;
      for (const auto& v : e) {
        names.push_back(v.Scalar());
        found |= value.IsScalar() && v.Scalar() == value.Scalar();
      }
      if (!found) {
        errors->push_back(absl::StrCat(path, ": must be one of ",
                                       absl::StrJoin(names, ", ")));
      }
    }
    if (const YAML::Node c = schema["const"]) {
      if (!value.IsScalar() || kind != Kind::kString ||
          value.Scalar() != c.Scalar()) {
        errors->push_back(absl::StrCat(path, ": must be ", c.Scalar()));
      }
    }
    if (kind == Kind::kString) {
      if (const YAML::Node p = schema["pattern"]) {
        if (!std::regex_search(value.Scalar(), std::regex(p.Scalar()))) {
          errors->push_back(absl::StrCat(path, ": \"", value.Scalar(),
                                         "\" does not match ", p.Scalar()));
        }
      }
      if (const YAML::Node m = schema["minLength"]) {
        if (value.Scalar().size() < Number(m)) {
          errors->push_back(absl::StrCat(path, ": is too short"));
        }
      }
    }
    if (kind == Kind::kInteger || kind == Kind::kNumber) {
      const double v = Number(value);
      if (const YAML::Node m = schema["minimum"]; m && v < Number(m)) {
        errors->push_back(absl::StrCat(path, ": must be >= ", m.Scalar()));
      }
      if (const YAML::Node m = schema["maximum"]; m && v > Number(m)) {
        errors->push_back(absl::StrCat(path, ": must be <= ", m.Scalar()));
      }
      if (const YAML::Node m = schema["exclusiveMinimum"];
          m && v <= Number(m)) {
        errors->push_back(absl::StrCat(path, ": must be > ", m.Scalar()));
      }
    }
    if (kind == Kind::kArray) {
      if (const YAML::Node m = schema["minItems"]; m && value.size() < Number(m)) {
        errors->push_back(absl::StrCat(path, ": needs at least ", m.Scalar(),
                                       " items"));
      }
      if (const YAML::Node m = schema["maxItems"]; m && value.size() > Number(m)) {
        errors->push_back(absl::StrCat(path, ": allows at most ", m.Scalar(),
                                       " items"));
      }
      if (const YAML::Node items = schema["items"]) {
        for (size_t i = 0; i < value.size(); ++i) {
          Check(items, value[i], absl::StrCat(path, "[", i, "]"), errors);
        }
      }
    }
    if (kind == Kind::kObject) {
      if (const YAML::Node m = schema["minProperties"];
          m && value.size() < Number(m)) {
        errors->push_back(absl::StrCat(path, ": needs at least ", m.Scalar(),
                                       " properties"));
      }
      if (const YAML::Node m = schema["maxProperties"];
          m && value.size() > Number(m)) {
        errors->push_back(absl::StrCat(path, ": allows at most ", m.Scalar(),
                                       " properties"));
      }
      if (const YAML::Node required = schema["required"]) {
        for (const auto& r : required) {
          if (!value[r.Scalar()]) {
            errors->push_back(absl::StrCat(path, ": missing required '",
                                           r.Scalar(), "'"));
          }
        }
      }
      const YAML::Node properties = schema["properties"];
      const YAML::Node additional = schema["additionalProperties"];
      for (const auto& kv : value) {
        const std::string key = kv.first.Scalar();
        const std::string sub = absl::StrCat(path, ".", key);
        if (properties && properties[key]) {
          Check(properties[key], kv.second, sub, errors);
        } else if (additional && additional.IsMap()) {
          Check(additional, kv.second, sub, errors);
        } else if (additional && additional.Scalar() == "false") {
          errors->push_back(
              absl::StrCat(path, ": unknown property '", key, "'"));
        }
      }
    }
    if (const YAML::Node alts = schema["oneOf"]) {
      int matched = 0;
      std::vector<std::string> why;
      for (const auto& alt : alts) {
        std::vector<std::string> sub;
        Check(alt, value, path, &sub);
        if (sub.empty()) {
          ++matched;
        } else {
          why.push_back(absl::StrJoin(sub, "; "));
        }
      }
      if (matched != 1) {
        errors->push_back(absl::StrCat(path, ": must match exactly one of ",
                                       alts.size(), " forms, matches ",
                                       matched, " [", absl::StrJoin(why, " | "),
                                       "]"));
      }
    }
    if (const YAML::Node alts = schema["anyOf"]) {
      bool any = false;
      for (const auto& alt : alts) {
        std::vector<std::string> sub;
        Check(alt, value, path, &sub);
        any |= sub.empty();
      }
      if (!any) errors->push_back(absl::StrCat(path, ": matches no form"));
    }
    if (const YAML::Node n = schema["not"]) {
      std::vector<std::string> sub;
      Check(n, value, path, &sub);
      if (sub.empty()) {
        errors->push_back(absl::StrCat(path, ": matches a forbidden form"));
      }
    }
  }

  YAML::Node root_;
};

class SchemaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    schema_ = new YAML::Node(
        YAML::Load(ReadFile(Source("schema/model.schema.json"))));
  }
  std::vector<std::string> Validate(const std::string& yaml) {
    return Validator(*schema_).Validate(YAML::Load(yaml));
  }
  static YAML::Node* schema_;
};
YAML::Node* SchemaTest::schema_ = nullptr;

TEST_F(SchemaTest, UsesOnlyImplementedKeywords) {
  ASSERT_TRUE(schema_->IsMap());
  EXPECT_EQ((*schema_)["$schema"].Scalar(),
            "https://json-schema.org/draft/2020-12/schema");
  EXPECT_THAT(Validator(*schema_).UnsupportedKeywords(), IsEmpty());
}

TEST_F(SchemaTest, EveryBundledModelValidates) {
  std::vector<fs::path> models = {
      Source("engine/io/testdata/basic/model.yaml"),
      Source("engine/model/testdata/valid_model.yaml")};
  for (const auto& entry : fs::recursive_directory_iterator(Source("rules"))) {
    if (entry.path().filename() == "model.yaml") models.push_back(entry.path());
  }
  ASSERT_GE(models.size(), 4u);
  for (const fs::path& model : models) {
    SCOPED_TRACE(model.string());
    EXPECT_THAT(Validate(ReadFile(model)), IsEmpty());
  }
}

TEST_F(SchemaTest, CoversEveryKeyOfTheReference) {
  // Property names anywhere in the schema.
  std::set<std::string> properties;
  std::function<void(const YAML::Node&)> collect = [&](const YAML::Node& n) {
    if (n.IsMap()) {
      for (const auto& kv : n) {
        if (kv.first.Scalar() == "properties") {
          for (const auto& p : kv.second) properties.insert(p.first.Scalar());
        }
        collect(kv.second);
      }
    } else if (n.IsSequence()) {
      for (const auto& item : n) collect(item);
    }
  };
  collect(*schema_);

  // Every key of the key tables of the reference (part 2; the repository's
  // config.yaml tables in part 4 are another file), and the group keys.
  const std::string doc = ReadFile(Source("docs/model-format.md"));
  const size_t begin = doc.find("\n## 2. Reference");
  const size_t end = doc.find("\n## 3. Common errors");
  ASSERT_NE(begin, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  std::istringstream lines(doc.substr(begin, end - begin));
  std::string line;
  bool in_table = false;
  std::vector<std::string> keys;
  static const std::regex kKeyCell("^\\| `([a-z_]+)`(, `([a-z_]+)`)? \\|");
  while (std::getline(lines, line)) {
    if (line == "| key | type | required | meaning |") {
      in_table = true;
      continue;
    }
    if (in_table && line.rfind("|", 0) != 0) in_table = false;
    std::smatch m;
    if (in_table && std::regex_search(line, m, kKeyCell)) {
      keys.push_back(m[1]);
      if (m[3].matched) keys.push_back(m[3]);
    }
    if (line.rfind("Group keys:", 0) == 0) {
      static const std::regex kTick("`([a-z_]+)`");
      for (std::sregex_iterator it(line.begin(), line.end(), kTick), end;
           it != end; ++it) {
        keys.push_back((*it)[1]);
      }
    }
  }
  ASSERT_GE(keys.size(), 40u);
  for (const std::string& key : keys) {
    EXPECT_THAT(properties, Contains(key)) << key;
  }
  // The plugin keys (docs/writing-plugins.md).
  for (const char* key : {"plugins", "library", "config", "plugin", "signal",
                          "inputs", "params"}) {
    EXPECT_THAT(properties, Contains(key)) << key;
  }
  EXPECT_NE(doc.find("# yaml-language-server: $schema="), std::string::npos)
      << "docs/model-format.md does not show the editor line";
}

// A model with every key, plugins included: the schema and the loader both
// accept it.
constexpr char kEveryKey[] = R"(name: every-key
version: 2026.11-rc1
description: Every key of the format
owner: cs-ops
segment_by: segment
min_coverage: 0.6
hysteresis: 3
plugins:
  - id: survey
    library: nps
    description: NPS from raw answers
    config: {min_answers: 3, weights: {promoter: 1}}
inputs:
  - {id: segment, type: string, description: Segment, values: [smb, enterprise]}
  - {id: dau_mau, type: number, unit: ratio, range: [0, 1]}
  - {id: renewal_date, type: date}
  - {id: answers, type: series, range: [0, 10]}
derived:
  - id: days_to_renewal
    description: Days to renewal
    expr: days_between(as_of, renewal_date)
  - id: nps
    description: NPS
    plugin: survey
    signal: nps
    inputs: [answers]
    params: {window: 5}
groups:
  - id: usage
    name: Usage
    description: Product usage
    weight: 0.6
    signals:
      - id: stickiness
        name: Stickiness
        description: DAU/MAU
        source: dau_mau
        weight: 1
        normalize:
          linear: {bad: 0.05, good: 0.45}
        overrides:
          smb: {weight: 2}
          enterprise:
            normalize:
              steps: [{below: 0.1, score: 0}, {score: 100}]
  - id: voice
    weight: 0.4
    signals:
      - {id: nps, source: nps, weight: 1, normalize: {piecewise: [[-100, 0], [100, 100]]}}
      - {id: days, source: days_to_renewal, weight: 1, normalize: {logistic: {midpoint: 90, scale: 10}}}
      - {id: raw_nps, source: nps, weight: 1, normalize: identity}
tiers:
  - {id: green, name: Healthy, color: "#2e7d32", description: Good, min: 80}
  - {id: red, min: 0, max: 80}
playbooks:
  - id: rescue
    name: Rescue
    owner: csm
    description: Save the account
    priority: 1
    when: tier == "red"
    success: score >= 80
    steps: ["Call the sponsor"]
)";

TEST_F(SchemaTest, EveryKeyModelIsAcceptedByBoth) {
  EXPECT_THAT(Validate(kEveryKey), IsEmpty());
  engine::model::DiagnosticList diags;
  engine::model::LoadModelSpecFromString(kEveryKey, "every.yaml", &diags);
  EXPECT_FALSE(diags.has_errors()) << diags.ToString();
}

// A small valid model to break one key at a time.
std::string Small() {
  return engine::model::testing::MinimalModel(
      "small", "",
      "  - {id: p, name: P, owner: o, priority: 1, when: tier == \"red\"}\n");
}

std::string Edit(const std::string& from, const std::string& to) {
  std::string text = Small();
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST_F(SchemaTest, RejectsWhatTheLoaderRejects) {
  EXPECT_THAT(Validate(Small()), IsEmpty());
  struct Case {
    std::string yaml;
    std::string error;
  };
  const std::vector<Case> cases = {
      {Edit("version: 1\n", "version: 1\nmin_coverge: 0.6\n"),
       "$: unknown property 'min_coverge'"},
      {Edit("{id: x, type: number}", "{id: x, type: number, rnage: [0, 1]}"),
       "$.inputs[0]: unknown property 'rnage'"},
      {Edit("type: number", "type: numbr"),
       "$.inputs[0].type: must be one of number, string, date, series"},
      {Edit("name: small", "name: Demo Model"),
       "$.name: \"Demo Model\" does not match ^[a-z0-9_-]+$"},
      {Edit("normalize: {linear: {bad: 0, good: 1}}",
            "normalize: {linear: {bad: 0, good: 1}, logistic: {midpoint: 1, "
            "scale: 1}}"),
       "$.groups[0].signals[0].normalize: must match exactly one of 2 forms, "
       "matches 0"},
      {Edit("weight: 1, normalize", "weight: 0, normalize"),
       "$.groups[0].signals[0].weight: must be > 0"},
      {Edit("priority: 1", "priority: 0"),
       "$.playbooks[0].priority: must be >= 1"},
      {Edit("priority: 1", "priority: 1.5"),
       "$.playbooks[0].priority: must be integer"},
      {Edit("{id: p, name: P, owner: o,", "{id: p, name: P,"),
       "$.playbooks[0]: missing required 'owner'"},
      {Edit("{id: green, min: 50}", "{id: green}"),
       "$.tiers[0]: missing required 'min'"},
      {Edit("tiers:\n", "derived:\n  - {id: d, expr: x * 2, plugin: p, "
                        "signal: s}\ntiers:\n"),
       "$.derived[0]: must match exactly one of 2 forms, matches 0"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.yaml);
    EXPECT_THAT(Validate(c.yaml), Contains(HasSubstr(c.error)));
    // The loader and compiler agree the file is wrong.
    engine::model::CompileResult compiled =
        engine::model::CompileString(c.yaml, "m.yaml");
    EXPECT_TRUE(compiled.diagnostics.has_errors());
  }
}

}  // namespace
}  // namespace healthscore
