// ModelSpec: a health model as its author wrote it, before compilation.
//
// The YAML loader (yaml_loader.h) produces a ModelSpec; the compiler
// (compiler.h) checks it and turns it into an immutable CompiledModel. A
// ModelSpec is plain data: no names are resolved and nothing is validated
// beyond the shape of the YAML (types of values, known keys). Every element
// remembers where it came from so that later checks can point at the line.
//
// The file format is documented for model authors in docs/model-format.md.

#ifndef HEALTHSCORE_ENGINE_MODEL_MODEL_SPEC_H_
#define HEALTHSCORE_ENGINE_MODEL_MODEL_SPEC_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/model/diagnostic.h"

namespace healthscore::engine::model {

// Where each key's value of a YAML mapping starts, for precise diagnostics.
class FieldLocations {
 public:
  void Set(const std::string& key, SourceLocation loc) {
    locs_[key] = std::move(loc);
  }
  // The location of `key`'s value, or `fallback` when the key was absent.
  const SourceLocation& Get(const std::string& key,
                            const SourceLocation& fallback) const {
    auto it = locs_.find(key);
    return it == locs_.end() ? fallback : it->second;
  }

 private:
  std::map<std::string, SourceLocation> locs_;
};

// An expression as written in the file.
struct ExprSource {
  std::string text;
  // Location of the first character of `text` in the file.
  SourceLocation location;
  // For block scalars (| or >) the column (1-based) where continuation lines
  // start; 0 for single-line scalars.
  int block_column = 0;

  bool empty() const { return text.empty(); }
  // Maps a 1-based (line, column) inside `text` to a file location.
  SourceLocation At(int line, int column) const;
};

enum class InputType { kNumber, kString, kDate, kSeries };
const char* InputTypeName(InputType t);
// The key of an account snapshot (JSON, YAML, protobuf) that holds inputs of
// type `t`: "metrics", "attributes", "dates" or "series".
const char* InputSectionName(InputType t);

struct InputSpec {
  std::string id;
  InputType type = InputType::kNumber;
  std::string description;
  std::string unit;
  // Expected range (number and series inputs). Values outside it still
  // score; the result carries a warning.
  std::optional<double> range_min;
  std::optional<double> range_max;
  // Known values of a string input; empty means any value.
  std::vector<std::string> values;
  SourceLocation location;
  FieldLocations fields;
};

// One key of a plugin's `config` or a plugin signal's `params`, as text
// (nested mappings flattened to dotted keys, lists joined with commas; see
// hs_config in plugins/sdk/healthscore/plugin.h).
struct PluginSetting {
  std::string key;
  std::string value;
  SourceLocation location;  // of the value
};

// A `plugins:` entry: a plugin library and the configuration its init gets.
struct PluginSpec {
  std::string id;       // what derived values name in `plugin:`
  std::string library;  // a file name in the plugin directories
  std::string description;
  std::vector<PluginSetting> config;
  SourceLocation location;
  FieldLocations fields;
};

// A derived value: an expression, or (when `uses_plugin`) a signal computed
// by a plugin from `inputs`.
struct DerivedSpec {
  std::string id;
  std::string description;
  ExprSource expr;                  // empty for a plugin signal
  bool uses_plugin = false;         // the entry has a `plugin` key
  std::string plugin;               // a PluginSpec id
  std::string signal;               // the plugin's signal name
  std::vector<std::string> inputs;  // input or derived ids, in order
  std::vector<PluginSetting> params;
  SourceLocation location;
  FieldLocations fields;
};

// How a raw signal value becomes a 0-100 score.
struct NormalizeSpec {
  enum class Kind { kNone, kLinear, kSteps, kPiecewise, kLogistic, kIdentity };
  struct Step {
    std::optional<double> below;  // absent only on the last, catch-all step
    double score = 0;
    SourceLocation location;
  };
  struct Point {
    double x = 0;
    double score = 0;
    SourceLocation location;
  };

  Kind kind = Kind::kNone;
  // kLinear: `bad` maps to 0 and `good` to 100, clamped outside; bad > good
  // means lower is better.
  double bad = 0;
  double good = 0;
  // kSteps: the first step whose `below` is greater than the value wins.
  std::vector<Step> steps;
  // kPiecewise: linear interpolation between points sorted by x.
  std::vector<Point> points;
  // kLogistic: 100 / (1 + exp(-(x - midpoint) / scale)).
  double midpoint = 0;
  double scale = 1;

  SourceLocation location;
  FieldLocations fields;
};

struct SignalOverrideSpec {
  std::string segment;
  std::optional<double> weight;
  std::optional<NormalizeSpec> normalize;
  SourceLocation location;
  FieldLocations fields;
};

struct SignalSpec {
  std::string id;
  std::string name;
  std::string description;
  std::string source;  // an input or derived id
  double weight = 1;
  NormalizeSpec normalize;
  std::vector<SignalOverrideSpec> overrides;
  SourceLocation location;
  FieldLocations fields;
};

struct GroupSpec {
  std::string id;
  std::string name;
  std::string description;
  double weight = 1;
  std::vector<SignalSpec> signals;
  SourceLocation location;
  FieldLocations fields;
};

struct TierSpec {
  std::string id;
  std::string name;
  std::string color;
  std::string description;
  double min = 0;
  std::optional<double> max;  // exclusive; when given must meet the next tier
  SourceLocation location;
  FieldLocations fields;
};

struct PlaybookSpec {
  std::string id;
  std::string name;
  std::string owner;
  std::string description;
  int priority = 100;  // 1 is the most urgent
  ExprSource when;
  ExprSource success;
  std::vector<std::string> steps;
  SourceLocation location;
  FieldLocations fields;
};

struct ModelSpec {
  std::string file;  // as given to the loader
  std::string name;
  std::string version;
  std::string description;
  std::string owner;
  std::string segment_by;  // a string input id, or empty
  double min_coverage = 0.5;
  double hysteresis = 0;

  std::vector<PluginSpec> plugins;
  std::vector<InputSpec> inputs;
  std::vector<DerivedSpec> derived;
  std::vector<GroupSpec> groups;
  std::vector<TierSpec> tiers;
  std::vector<PlaybookSpec> playbooks;

  SourceLocation location;  // the document root
  FieldLocations fields;

  // Set by the loader when the file could not be read as one YAML mapping
  // (a syntax error, a limit, an empty file, a list, the budget ran out):
  // the spec is empty and the loader's error says why, so Compile adds
  // nothing (no "the model has no groups" after a syntax error).
  bool unreadable = false;
};

}  // namespace healthscore::engine::model

#endif  // HEALTHSCORE_ENGINE_MODEL_MODEL_SPEC_H_
