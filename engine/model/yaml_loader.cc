// The model file, as this loader reads it (docs/model-format.md has the
// author-facing tables; `?` marks an optional key):
//
//   model     := {name, version, description?, owner?, segment_by?,
//                 min_coverage?, hysteresis?, plugins?: [plugin],
//                 inputs: [input], derived?: [derived], groups: [group],
//                 tiers: [tier], playbooks?: [playbook]}
//   plugin    := {id, library, description?, config?: settings}
//   input     := {id, type, description?, unit?, range?: [min, max],
//                 values?: [string]}
//   derived   := {id, expr, description?}
//              | {id, plugin, signal, inputs?: [id], params?: settings,
//                 description?}
//   settings  := {key: scalar | [scalar] | settings}  (flattened to text)
//   group     := {id, name?, description?, weight, signals: [signal]}
//   signal    := {id, name?, description?, source, weight, normalize,
//                 overrides?: {segment: {weight?, normalize?}}}
//   normalize := identity | {linear: {bad, good}} | {steps: [{below?, score}]}
//              | {piecewise: [[x, score]]} | {logistic: {midpoint, scale}}
//              | {identity: {}}
//   tier      := {id, name?, color?, description?, min, max?}
//   playbook  := {id, name, owner, priority, when, success?, steps?: [string],
//                 description?}
//
// Only shape is checked here; see yaml_loader.h. The generic reading of
// located, typed values (keys, numbers, lists, expressions) is in
// located_yaml_reader.h; this file holds the model schema.

#include "engine/model/yaml_loader.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/charconv.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "engine/common/yaml_reader.h"
#include "engine/model/diagnostic.h"
#include "engine/model/located_yaml_reader.h"
#include "engine/model/model_spec.h"
#include "yaml-cpp/yaml.h"

namespace healthscore::engine::model {

using common::DescribeYamlNode;
using common::ReadYaml;
using common::ReadYamlFile;

namespace {

const std::vector<std::string>& ModelKeys() {
  static const auto* keys = new std::vector<std::string>{
      "name",         "version",    "description", "owner",  "segment_by",
      "min_coverage", "hysteresis", "plugins",     "inputs", "derived",
      "groups",       "tiers",      "playbooks"};
  return *keys;
}
const std::vector<std::string>& PluginKeys() {
  static const auto* keys =
      new std::vector<std::string>{"id", "library", "description", "config"};
  return *keys;
}
const std::vector<std::string>& InputKeys() {
  static const auto* keys = new std::vector<std::string>{
      "id", "type", "description", "unit", "range", "values"};
  return *keys;
}
const std::vector<std::string>& DerivedKeys() {
  static const auto* keys = new std::vector<std::string>{
      "id", "expr", "description", "plugin", "signal", "inputs", "params"};
  return *keys;
}
const std::vector<std::string>& GroupKeys() {
  static const auto* keys = new std::vector<std::string>{
      "id", "name", "description", "weight", "signals"};
  return *keys;
}
const std::vector<std::string>& SignalKeys() {
  static const auto* keys = new std::vector<std::string>{
      "id",     "name",      "description", "source",
      "weight", "normalize", "overrides"};
  return *keys;
}
const std::vector<std::string>& NormalizeKinds() {
  static const auto* keys = new std::vector<std::string>{
      "linear", "steps", "piecewise", "logistic", "identity"};
  return *keys;
}
const std::vector<std::string>& LinearKeys() {
  static const auto* keys = new std::vector<std::string>{"bad", "good"};
  return *keys;
}
const std::vector<std::string>& LogisticKeys() {
  static const auto* keys = new std::vector<std::string>{"midpoint", "scale"};
  return *keys;
}
const std::vector<std::string>& StepKeys() {
  static const auto* keys = new std::vector<std::string>{"below", "score"};
  return *keys;
}
const std::vector<std::string>& OverrideKeys() {
  static const auto* keys = new std::vector<std::string>{"weight", "normalize"};
  return *keys;
}
const std::vector<std::string>& TierKeys() {
  static const auto* keys = new std::vector<std::string>{
      "id", "name", "color", "description", "min", "max"};
  return *keys;
}
const std::vector<std::string>& PlaybookKeys() {
  static const auto* keys =
      new std::vector<std::string>{"id",       "name", "owner",   "description",
                                   "priority", "when", "success", "steps"};
  return *keys;
}
const std::vector<std::string>& InputTypeNames() {
  static const auto* names =
      new std::vector<std::string>{"number", "string", "date", "series"};
  return *names;
}

bool IsIdentifier(absl::string_view s) {
  if (s.empty()) return false;
  if (!(absl::ascii_islower(s[0]) || s[0] == '_')) return false;
  for (char c : s) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_')) {
      return false;
    }
  }
  return true;
}

bool IsModelName(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '_' ||
          c == '-')) {
      return false;
    }
  }
  return true;
}

// A valid spelling close to `s`, for hints: lowercase, other characters
// replaced by '_' (or '-' in model names).
std::string SuggestName(absl::string_view s, bool model_name) {
  std::string out;
  for (char c : s) {
    const char lower = absl::ascii_tolower(static_cast<unsigned char>(c));
    if (absl::ascii_islower(lower) || absl::ascii_isdigit(lower) ||
        lower == '_' || (model_name && lower == '-')) {
      out += lower;
    } else if (!out.empty() && out.back() != '_' && out.back() != '-') {
      out += model_name ? '-' : '_';
    }
    if (out.size() > 64) break;
  }
  while (!out.empty() && (out.back() == '_' || out.back() == '-')) {
    out.pop_back();
  }
  if (!model_name && !out.empty() && absl::ascii_isdigit(out[0])) {
    out.insert(out.begin(), '_');
  }
  return out;
}

class Loader : public LocatedYamlReader {
 public:
  Loader(absl::string_view text, const std::string& file,
         const ModelLoadOptions& options, DiagnosticList* diags)
      : LocatedYamlReader(text, file, options.budget, kMaxLoaderErrors, diags),
        options_(options) {}

  ModelSpec Load();

 private:
  // Stores the text even when it is not a valid identifier, so that the
  // compiler does not report follow-on "unknown name" errors.
  bool ReadIdentifier(const Entry& e, std::string* out);

  void ReadModel(const YAML::Node& root, ModelSpec* spec);
  PluginSpec ReadPlugin(const YAML::Node& node);
  // A `config` or `params` mapping, flattened to key/value text.
  void ReadSettings(const Entry& e, std::vector<PluginSetting>* out);
  // Linear in the number of keys (`seen` holds the keys in `out`); at most
  // options_.yaml.max_depth mappings deep and max_nodes keys in all, even
  // for a node tree that did not come through ReadYaml.
  void FlattenSettings(const YAML::Node& node, const std::string& prefix,
                       absl::string_view what, int depth,
                       absl::flat_hash_set<std::string>* seen,
                       std::vector<PluginSetting>* out);
  InputSpec ReadInput(const YAML::Node& node);
  DerivedSpec ReadDerived(const YAML::Node& node);
  GroupSpec ReadGroup(const YAML::Node& node);
  SignalSpec ReadSignal(const YAML::Node& node);
  void ReadOverrides(const Entry& e, SignalSpec* signal);
  void ReadNormalize(const Entry& e, NormalizeSpec* out);
  void ReadSteps(const Entry& e, NormalizeSpec* out);
  void ReadPiecewise(const Entry& e, NormalizeSpec* out);
  TierSpec ReadTier(const YAML::Node& node);
  PlaybookSpec ReadPlaybook(const YAML::Node& node);
  // Reads `id` and names the element after it in later messages.
  void ReadElementId(Mapping* m, absl::string_view what, std::string* id);

  const ModelLoadOptions& options_;
  uint64_t settings_ = 0;  // keys flattened so far, all settings together
};

bool Loader::ReadIdentifier(const Entry& e, std::string* out) {
  std::string text;
  if (!ReadScalarText(e.value, e.value_loc, absl::StrCat("'", e.key, "'"),
                      "an identifier", &text)) {
    return false;
  }
  *out = text;
  if (IsIdentifier(text)) return true;
  std::string hint;
  const std::string suggestion = SuggestName(text, /*model_name=*/false);
  if (e.key == "source" &&
      text.find_first_of("()+-*/<>=!&|. ") != std::string::npos) {
    hint =
        "'source' names an input or derived value; define the "
        "expression under 'derived' and use its id";
  } else if (!suggestion.empty()) {
    hint = absl::StrCat("use lowercase letters, digits and '_', e.g. '",
                        suggestion, "'");
  } else {
    hint = "use lowercase letters, digits and '_'";
  }
  Error(e.value_loc,
        absl::StrCat("'", e.key,
                     "' must be an identifier ([a-z_][a-z0-9_]*), "
                     "got ",
                     DescribeYamlNode(e.value)),
        std::move(hint));
  return false;
}

void Loader::ReadElementId(Mapping* m, absl::string_view what,
                           std::string* id) {
  if (const Entry* e = Get(*m, "id", true, "an identifier")) {
    ReadIdentifier(*e, id);
  }
  if (!id->empty()) {
    m->label = absl::StrCat(what, " '", absl::Utf8SafeCHexEscape(*id), "'");
  }
}

InputSpec Loader::ReadInput(const YAML::Node& node) {
  InputSpec input;
  input.location = NodeLoc(node);
  Mapping m = ReadMapping(node, "input", InputKeys(), &input.fields);
  ReadElementId(&m, "input", &input.id);
  if (const Entry* e = Get(m, "type", true, "an input type")) {
    std::string type;
    if (ReadScalarText(e->value, e->value_loc, "'type'",
                       "one of number, string, date, series", &type)) {
      if (type == "number") {
        input.type = InputType::kNumber;
      } else if (type == "string") {
        input.type = InputType::kString;
      } else if (type == "date") {
        input.type = InputType::kDate;
      } else if (type == "series") {
        input.type = InputType::kSeries;
      } else {
        Error(e->value_loc,
              absl::StrCat("'type' must be one of number, string, date, "
                           "series, got ",
                           DescribeYamlNode(e->value)),
              DidYouMean(type, InputTypeNames()));
      }
    }
  }
  if (const Entry* e = Get(m, "description", false, "a string")) {
    ReadString(*e, &input.description);
  }
  if (const Entry* e = Get(m, "unit", false, "a string")) {
    ReadString(*e, &input.unit);
  }
  if (const Entry* e = Get(m, "range", false, "a list [min, max]")) {
    if (!e->value.IsSequence()) {
      Error(e->value_loc,
            absl::StrCat("'range' must be a list [min, max], got ",
                         DescribeYamlNode(e->value)));
    } else if (e->value.size() != 2) {
      Error(e->value_loc,
            absl::StrCat("'range' must have 2 numbers [min, max], got ",
                         e->value.size()));
    } else {
      double lo = 0;
      double hi = 0;
      const YAML::Node lo_node = e->value[0];
      const YAML::Node hi_node = e->value[1];
      if (ReadNumber(lo_node, NodeLoc(lo_node), "range", true, &lo)) {
        input.range_min = lo;
      }
      if (ReadNumber(hi_node, NodeLoc(hi_node), "range", true, &hi)) {
        input.range_max = hi;
      }
    }
  }
  if (const Entry* e = Get(m, "values", false, "a list of strings")) {
    ReadStringList(*e, &input.values);
  }
  return input;
}

void Loader::FlattenSettings(const YAML::Node& node, const std::string& prefix,
                             absl::string_view what, int depth,
                             absl::flat_hash_set<std::string>* seen,
                             std::vector<PluginSetting>* out) {
  for (auto it = node.begin(); it != node.end() && !Stopped(); ++it) {
    std::string key;
    if (!ReadKey(it->first, what, &key)) continue;
    const std::string full =
        prefix.empty() ? key : absl::StrCat(prefix, ".", key);
    const YAML::Node value = it->second;
    const SourceLocation key_loc = NodeLoc(it->first);
    const SourceLocation loc = value.IsNull() ? key_loc : NodeLoc(value);
    if (++settings_ > options_.yaml.max_nodes) {
      Error(key_loc,
            absl::StrCat(what, " has more than ", options_.yaml.max_nodes,
                         " keys"),
            "raise the limit with --max-yaml-nodes");
      stopped_ = true;
      return;
    }
    if (seen->contains(full)) {
      Error(key_loc,
            absl::StrCat("duplicate key '", absl::Utf8SafeCHexEscape(full),
                         "' in ", what));
      continue;
    }
    if (value.IsMap()) {
      if (depth >= options_.yaml.max_depth) {
        Error(loc,
              absl::StrCat("'", absl::Utf8SafeCHexEscape(full), "' in ", what,
                           " nests more than ", options_.yaml.max_depth,
                           " mappings deep"),
              "flatten the settings");
        continue;
      }
      FlattenSettings(value, full, what, depth + 1, seen, out);
      continue;
    }
    PluginSetting setting;
    setting.key = full;
    setting.location = loc;
    const std::string label = absl::StrCat("'", full, "' in ", what);
    if (value.IsScalar()) {
      if (!ReadScalarText(value, loc, label, "a value", &setting.value)) {
        continue;
      }
    } else if (value.IsSequence()) {
      std::vector<std::string> items;
      bool ok = true;
      for (auto item = value.begin(); item != value.end() && ok && !Stopped();
           ++item) {
        std::string text;
        if (!item->IsScalar()) {
          Error(ItemLoc(*item),
                absl::StrCat("each item of ", label, " must be a scalar, got ",
                             DescribeYamlNode(*item)));
          ok = false;
        } else if (ReadScalarText(*item, NodeLoc(*item), label, "a scalar",
                                  &text)) {
          if (text.find(',') != std::string::npos) {
            Error(NodeLoc(*item),
                  absl::StrCat("items of ", label, " must not contain ','"),
                  "plugins receive a list as its items joined by commas");
            ok = false;
          }
          items.push_back(std::move(text));
        } else {
          ok = false;
        }
      }
      if (!ok) continue;
      setting.value = absl::StrJoin(items, ",");
    }
    seen->insert(full);
    out->push_back(std::move(setting));
  }
}

void Loader::ReadSettings(const Entry& e, std::vector<PluginSetting>* out) {
  if (!e.value.IsMap()) {
    Error(
        e.value_loc,
        absl::StrCat("'", e.key, "' must be a mapping of keys to values, got ",
                     DescribeYamlNode(e.value)),
        absl::StrCat("e.g. ", e.key, ": {window: 10}"));
    return;
  }
  absl::flat_hash_set<std::string> seen;
  for (const PluginSetting& setting : *out) seen.insert(setting.key);
  FlattenSettings(e.value, "", absl::StrCat("'", e.key, "'"), /*depth=*/1,
                  &seen, out);
}

PluginSpec Loader::ReadPlugin(const YAML::Node& node) {
  PluginSpec plugin;
  plugin.location = NodeLoc(node);
  Mapping m = ReadMapping(node, "plugin", PluginKeys(), &plugin.fields);
  ReadElementId(&m, "plugin", &plugin.id);
  if (const Entry* e = Get(m, "library", true, "a library file name")) {
    if (ReadString(*e, &plugin.library) &&
        absl::StripAsciiWhitespace(plugin.library).empty()) {
      plugin.library.clear();
      Error(e->value_loc, absl::StrCat("'library' of ", m.label, " is empty"),
            "name the plugin's library file in a plugin directory, e.g. "
            "library: nps for libhs_nps.so");
    }
  }
  if (const Entry* e = Get(m, "description", false, "a string")) {
    ReadString(*e, &plugin.description);
  }
  if (const Entry* e = Get(m, "config", false, "a mapping")) {
    ReadSettings(*e, &plugin.config);
  }
  return plugin;
}

DerivedSpec Loader::ReadDerived(const YAML::Node& node) {
  DerivedSpec derived;
  derived.location = NodeLoc(node);
  Mapping m = ReadMapping(node, "derived", DerivedKeys(), &derived.fields);
  ReadElementId(&m, "derived", &derived.id);
  derived.uses_plugin = m.Find("plugin") != nullptr;
  if (derived.uses_plugin) {
    if (const Entry* e = m.Find("expr")) {
      Error(e->key_loc, absl::StrCat(m.label, " has both 'expr' and 'plugin'"),
            "a derived value is either an expression or a plugin signal; "
            "remove one of them");
    }
    if (const Entry* e = Get(m, "plugin", true, "a plugin id")) {
      ReadIdentifier(*e, &derived.plugin);
    }
    if (const Entry* e = Get(m, "signal", true, "a signal name")) {
      ReadIdentifier(*e, &derived.signal);
    }
    if (const Entry* e = Get(m, "inputs", false, "a list of ids")) {
      ForEachItem(*e, [&](const YAML::Node& item) {
        std::string id;
        const SourceLocation loc = ItemLoc(item);
        if (item.IsNull()) {
          Error(loc, "each item of 'inputs' must be an id, got nothing");
          return;
        }
        if (!ReadScalarText(item, loc, "each item of 'inputs'",
                            "an input or derived id", &id)) {
          return;
        }
        if (!IsIdentifier(id)) {
          Error(loc,
                absl::StrCat("each item of 'inputs' must be an identifier "
                             "([a-z_][a-z0-9_]*), got ",
                             DescribeYamlNode(item)),
                "name an input or a derived value; define expressions under "
                "'derived' and use their ids");
        }
        derived.inputs.push_back(std::move(id));
      });
    }
    if (const Entry* e = Get(m, "params", false, "a mapping")) {
      ReadSettings(*e, &derived.params);
    }
  } else {
    if (const Entry* e = Get(m, "expr", true, "an expression")) {
      ReadExpr(*e, &derived.expr);
    }
    for (const char* key : {"signal", "inputs", "params"}) {
      if (const Entry* e = m.Find(key)) {
        Error(e->key_loc,
              absl::StrCat("'", key, "' in ", m.label,
                           " belongs to a plugin signal, which also needs "
                           "'plugin'"),
              "add plugin: <an id from the model's plugins list>, or remove '" +
                  std::string(key) + "'");
      }
    }
  }
  if (const Entry* e = Get(m, "description", false, "a string")) {
    ReadString(*e, &derived.description);
  }
  return derived;
}

void Loader::ReadSteps(const Entry& e, NormalizeSpec* out) {
  ForEachMapping(e, "step {below, score}", [&](const YAML::Node& item) {
    NormalizeSpec::Step step;
    step.location = NodeLoc(item);
    Mapping m = ReadMapping(item, "step", StepKeys(), nullptr);
    if (const Entry* below = Get(m, "below", false, "a number")) {
      double v = 0;
      if (ReadNumber(*below, &v)) step.below = v;
    }
    if (const Entry* score = Get(m, "score", true, "a number")) {
      ReadNumber(*score, &step.score);
    }
    out->steps.push_back(std::move(step));
  });
}

void Loader::ReadPiecewise(const Entry& e, NormalizeSpec* out) {
  ForEachItem(e, [&](const YAML::Node& item) {
    const SourceLocation loc = ItemLoc(item);
    if (!item.IsSequence()) {
      Error(loc, absl::StrCat("each piecewise point must be a list [x, score], "
                              "got ",
                              DescribeYamlNode(item)));
      return;
    }
    if (item.size() != 2) {
      Error(loc, absl::StrCat("each piecewise point must have 2 numbers "
                              "[x, score], got ",
                              item.size()));
      return;
    }
    NormalizeSpec::Point point;
    point.location = loc;
    const YAML::Node x = item[0];
    const YAML::Node score = item[1];
    // Read both so that both are reported.
    const bool x_ok = ReadNumber(x, NodeLoc(x), "x", false, &point.x);
    const bool score_ok =
        ReadNumber(score, NodeLoc(score), "score", false, &point.score);
    if (x_ok && score_ok) out->points.push_back(point);
  });
}

void Loader::ReadNormalize(const Entry& e, NormalizeSpec* out) {
  out->location = e.value_loc;
  const std::string kinds = "linear, steps, piecewise, logistic or identity";
  if (e.value.IsScalar()) {
    const std::string& word = e.value.Scalar();
    if (word == "identity") {
      out->kind = NormalizeSpec::Kind::kIdentity;
      out->fields.Set("identity", e.value_loc);
      return;
    }
    std::string hint;
    if (word == "linear" || word == "logistic") {
      hint =
          absl::StrCat("'", word, "' takes parameters, e.g. normalize: {", word,
                       word == "linear" ? ": {bad: 0, good: 1}}"
                                        : ": {midpoint: 0, scale: 1}}");
    } else if (word == "steps" || word == "piecewise") {
      hint = absl::StrCat("'", word, "' takes a list under it");
    } else {
      hint = DidYouMean(word, NormalizeKinds());
    }
    Error(e.value_loc,
          absl::StrCat("'normalize' must be one of ", kinds, ", got ",
                       DescribeYamlNode(e.value)),
          std::move(hint));
    return;
  }
  if (!e.value.IsMap()) {
    Error(e.value_loc,
          absl::StrCat("'normalize' must be a mapping with one "
                       "of ",
                       kinds, ", got ", DescribeYamlNode(e.value)));
    return;
  }
  Mapping m = ReadMapping(e.value, "normalize", NormalizeKinds(), &out->fields);
  if (e.value.size() == 0) {
    Error(e.value_loc,
          absl::StrCat("'normalize' must have one of ", kinds, ", got none"));
    return;
  }
  for (size_t i = 1; i < m.entries.size(); ++i) {
    Error(m.entries[i].key_loc,
          absl::StrCat("'normalize' must have exactly one of ", kinds,
                       ", got both '", m.entries[0].key, "' and '",
                       m.entries[i].key, "'"));
  }
  using Kind = NormalizeSpec::Kind;
  for (size_t i = 0; i < m.entries.size(); ++i) {
    const Entry& kind = m.entries[i];
    Kind k = Kind::kNone;
    if (kind.key == "identity") {
      k = Kind::kIdentity;
      const bool empty_params =
          kind.value.IsNull() || (kind.value.IsMap() && kind.value.size() == 0);
      if (!empty_params) {
        Error(kind.value_loc, "'identity' takes no parameters",
              "write normalize: identity");
      }
    } else if (kind.value.IsNull()) {
      ReportEmptyValue(kind, true,
                       kind.key == "steps" || kind.key == "piecewise"
                           ? "a list"
                           : "a mapping");
      continue;
    } else if (kind.key == "linear" || kind.key == "logistic") {
      const bool linear = kind.key == "linear";
      k = linear ? Kind::kLinear : Kind::kLogistic;
      if (!kind.value.IsMap()) {
        Error(kind.value_loc,
              absl::StrCat("'", kind.key, "' must be a mapping ",
                           linear ? "{bad, good}" : "{midpoint, scale}",
                           ", got ", DescribeYamlNode(kind.value)));
      } else {
        Mapping params =
            ReadMapping(kind.value, kind.key,
                        linear ? LinearKeys() : LogisticKeys(), &out->fields);
        if (linear) {
          if (const Entry* p = Get(params, "bad", true, "a number")) {
            ReadNumber(*p, &out->bad);
          }
          if (const Entry* p = Get(params, "good", true, "a number")) {
            ReadNumber(*p, &out->good);
          }
        } else {
          if (const Entry* p = Get(params, "midpoint", true, "a number")) {
            ReadNumber(*p, &out->midpoint);
          }
          if (const Entry* p = Get(params, "scale", true, "a number")) {
            ReadNumber(*p, &out->scale);
          }
        }
      }
    } else if (kind.key == "steps") {
      k = Kind::kSteps;
      ReadSteps(kind, out);
    } else if (kind.key == "piecewise") {
      k = Kind::kPiecewise;
      ReadPiecewise(kind, out);
    }
    if (i == 0) out->kind = k;
  }
}

void Loader::ReadOverrides(const Entry& e, SignalSpec* signal) {
  if (!e.value.IsMap()) {
    Error(e.value_loc,
          absl::StrCat("'overrides' must be a mapping of segment to "
                       "{weight, normalize}, got ",
                       DescribeYamlNode(e.value)));
    return;
  }
  absl::flat_hash_map<std::string, SourceLocation> seen;
  for (auto it = e.value.begin(); it != e.value.end() && !Stopped(); ++it) {
    std::string segment;
    if (!ReadKey(it->first, "overrides", &segment)) continue;
    const SourceLocation key_loc = NodeLoc(it->first);
    const auto [first, inserted] = seen.emplace(segment, key_loc);
    if (!inserted) {
      Error(key_loc,
            absl::StrCat("duplicate segment '",
                         absl::Utf8SafeCHexEscape(segment), "' in overrides"),
            absl::StrCat("the first is at line ", first->second.line,
                         "; remove one of them"));
      continue;
    }

    const YAML::Node value = it->second;
    SignalOverrideSpec override_spec;
    override_spec.segment = segment;
    override_spec.fields.Set("segment", key_loc);
    override_spec.location = value.IsMap() ? NodeLoc(value) : key_loc;
    if (!value.IsMap()) {
      Error(value.IsNull() ? key_loc : NodeLoc(value),
            absl::StrCat("override for segment '",
                         absl::Utf8SafeCHexEscape(segment),
                         "' must be a mapping {weight, normalize}, got ",
                         DescribeYamlNode(value)));
      continue;
    }
    Mapping m =
        ReadMapping(value, "override", OverrideKeys(), &override_spec.fields);
    if (const Entry* w = Get(m, "weight", false, "a number")) {
      double v = 0;
      if (ReadNumber(*w, &v)) override_spec.weight = v;
    }
    if (const Entry* n = Get(m, "normalize", false, "a normalisation")) {
      NormalizeSpec normalize;
      ReadNormalize(*n, &normalize);
      override_spec.normalize = std::move(normalize);
    }
    signal->overrides.push_back(std::move(override_spec));
  }
}

SignalSpec Loader::ReadSignal(const YAML::Node& node) {
  SignalSpec signal;
  signal.location = NodeLoc(node);
  Mapping m = ReadMapping(node, "signal", SignalKeys(), &signal.fields);
  ReadElementId(&m, "signal", &signal.id);
  if (const Entry* e = Get(m, "name", false, "a string")) {
    ReadString(*e, &signal.name);
  }
  if (const Entry* e = Get(m, "description", false, "a string")) {
    ReadString(*e, &signal.description);
  }
  if (const Entry* e = Get(m, "source", true, "an input or derived id")) {
    ReadIdentifier(*e, &signal.source);
  }
  if (const Entry* e = Get(m, "weight", true, "a number")) {
    ReadNumber(*e, &signal.weight);
  }
  if (const Entry* e = Get(m, "normalize", true, "a normalisation")) {
    ReadNormalize(*e, &signal.normalize);
  }
  if (const Entry* e = Get(m, "overrides", false, "a mapping")) {
    ReadOverrides(*e, &signal);
  }
  return signal;
}

GroupSpec Loader::ReadGroup(const YAML::Node& node) {
  GroupSpec group;
  group.location = NodeLoc(node);
  Mapping m = ReadMapping(node, "group", GroupKeys(), &group.fields);
  ReadElementId(&m, "group", &group.id);
  if (const Entry* e = Get(m, "name", false, "a string")) {
    ReadString(*e, &group.name);
  }
  if (const Entry* e = Get(m, "description", false, "a string")) {
    ReadString(*e, &group.description);
  }
  if (const Entry* e = Get(m, "weight", true, "a number")) {
    ReadNumber(*e, &group.weight);
  }
  if (const Entry* e = Get(m, "signals", true, "a list of signals")) {
    ForEachMapping(*e, "signal", [&](const YAML::Node& item) {
      group.signals.push_back(ReadSignal(item));
    });
  }
  return group;
}

TierSpec Loader::ReadTier(const YAML::Node& node) {
  TierSpec tier;
  tier.location = NodeLoc(node);
  Mapping m = ReadMapping(node, "tier", TierKeys(), &tier.fields);
  ReadElementId(&m, "tier", &tier.id);
  if (const Entry* e = Get(m, "name", false, "a string")) {
    ReadString(*e, &tier.name);
  }
  if (const Entry* e = Get(m, "color", false, "a string")) {
    ReadString(*e, &tier.color);
  }
  if (const Entry* e = Get(m, "description", false, "a string")) {
    ReadString(*e, &tier.description);
  }
  if (const Entry* e = Get(m, "min", true, "a number")) {
    ReadNumber(*e, &tier.min);
  }
  if (const Entry* e = Get(m, "max", false, "a number")) {
    double v = 0;
    if (ReadNumber(*e, &v)) tier.max = v;
  }
  return tier;
}

PlaybookSpec Loader::ReadPlaybook(const YAML::Node& node) {
  PlaybookSpec playbook;
  playbook.location = NodeLoc(node);
  Mapping m = ReadMapping(node, "playbook", PlaybookKeys(), &playbook.fields);
  ReadElementId(&m, "playbook", &playbook.id);
  if (const Entry* e = Get(m, "name", true, "a string")) {
    ReadString(*e, &playbook.name);
  }
  if (const Entry* e = Get(m, "owner", true, "a string")) {
    ReadString(*e, &playbook.owner);
  }
  if (const Entry* e = Get(m, "description", false, "a string")) {
    ReadString(*e, &playbook.description);
  }
  if (const Entry* e = Get(m, "priority", true, "an integer")) {
    int64_t priority = 0;
    if (ReadInt(*e, &priority)) {
      if (priority < 1 || priority > std::numeric_limits<int>::max()) {
        Error(e->value_loc,
              absl::StrCat("'priority' must be an integer >= 1, got ",
                           DescribeYamlNode(e->value)),
              "1 is the most urgent");
      } else {
        playbook.priority = static_cast<int>(priority);
      }
    }
  }
  if (const Entry* e = Get(m, "when", true, "an expression")) {
    ReadExpr(*e, &playbook.when);
  }
  if (const Entry* e = Get(m, "success", false, "an expression")) {
    ReadExpr(*e, &playbook.success);
  }
  if (const Entry* e = Get(m, "steps", false, "a list of strings")) {
    ReadStringList(*e, &playbook.steps);
  }
  return playbook;
}

void Loader::ReadModel(const YAML::Node& root, ModelSpec* spec) {
  Mapping m = ReadMapping(root, "model", ModelKeys(), &spec->fields);
  if (const Entry* e = Get(m, "name", true, "a string")) {
    if (ReadString(*e, &spec->name) && !IsModelName(spec->name)) {
      const std::string suggestion =
          SuggestName(spec->name, /*model_name=*/true);
      Error(e->value_loc,
            absl::StrCat("'name' must match [a-z0-9_-]+, got ",
                         DescribeYamlNode(e->value)),
            suggestion.empty()
                ? "use lowercase letters, digits, '_' and '-'"
                : absl::StrCat("use lowercase letters, digits, '_' and '-', "
                               "e.g. '",
                               suggestion, "'"));
    }
  }
  if (const Entry* e = Get(m, "version", true, "a string or number")) {
    std::string version;
    if (ReadScalarText(e->value, e->value_loc, "'version'",
                       "a string or number", &version)) {
      if (absl::StripAsciiWhitespace(version).empty()) {
        Error(e->value_loc, "'version' is empty");
      } else {
        spec->version = std::move(version);
      }
    }
  }
  if (const Entry* e = Get(m, "description", false, "a string")) {
    ReadString(*e, &spec->description);
  }
  if (const Entry* e = Get(m, "owner", false, "a string")) {
    ReadString(*e, &spec->owner);
  }
  if (const Entry* e = Get(m, "segment_by", false, "an input id")) {
    ReadIdentifier(*e, &spec->segment_by);
  }
  if (const Entry* e = Get(m, "min_coverage", false, "a number")) {
    ReadNumber(*e, &spec->min_coverage);
  }
  if (const Entry* e = Get(m, "hysteresis", false, "a number")) {
    ReadNumber(*e, &spec->hysteresis);
  }
  if (const Entry* e = Get(m, "plugins", false, "a list")) {
    ForEachMapping(*e, "plugin", [&](const YAML::Node& item) {
      spec->plugins.push_back(ReadPlugin(item));
    });
  }
  if (const Entry* e = Get(m, "inputs", true, "a list of inputs")) {
    ForEachMapping(*e, "input", [&](const YAML::Node& item) {
      spec->inputs.push_back(ReadInput(item));
    });
  }
  if (const Entry* e = Get(m, "derived", false, "a list")) {
    ForEachMapping(*e, "derived value", [&](const YAML::Node& item) {
      spec->derived.push_back(ReadDerived(item));
    });
  }
  if (const Entry* e = Get(m, "groups", true, "a list of groups")) {
    ForEachMapping(*e, "group", [&](const YAML::Node& item) {
      spec->groups.push_back(ReadGroup(item));
    });
  }
  if (const Entry* e = Get(m, "tiers", true, "a list of tiers")) {
    ForEachMapping(*e, "tier", [&](const YAML::Node& item) {
      spec->tiers.push_back(ReadTier(item));
    });
  }
  if (const Entry* e = Get(m, "playbooks", false, "a list")) {
    ForEachMapping(*e, "playbook", [&](const YAML::Node& item) {
      spec->playbooks.push_back(ReadPlaybook(item));
    });
  }
}

// Hints for the yaml-cpp errors authors hit most.
std::string SyntaxHint(absl::string_view line, const std::string& message) {
  const size_t indent_end = line.find_first_not_of(" \t");
  if (line.substr(0, indent_end).find('\t') != absl::string_view::npos) {
    return "indent with spaces; YAML does not allow tabs for indentation";
  }
  if (message.find("flow not found") != std::string::npos) {
    return "a '[' or '{' is not closed";
  }
  if (message.find("anchor") != std::string::npos) {
    return "a value starting with '*' or '&' must be quoted";
  }
  if (message == "illegal map value") {
    return "quote values that contain ': ', or check the indentation";
  }
  return "";
}

ModelSpec Loader::Load() {
  ModelSpec spec;
  spec.file = file_;
  spec.location.file = file_;
  spec.unreadable = true;
  const SourceLocation start{file_, 1, 1};
  if (const size_t nul = text_.find('\0'); nul != absl::string_view::npos) {
    // Say where, never what: the bytes of a file that is not a model stay
    // out of messages (they may reach any client through ListModels).
    const auto line =
        std::upper_bound(line_starts_.begin(), line_starts_.end(), nul) -
        line_starts_.begin();
    Error(SourceLocation{file_, static_cast<int>(line),
                         static_cast<int>(nul - line_starts_[line - 1]) + 1},
          "the file holds a NUL byte: it is not a text file",
          "a model file is YAML text in UTF-8");
    return spec;
  }
  const common::YamlDocument doc =
      ReadYaml(std::string_view(text_.data(), text_.size()), options_.yaml,
               options_.budget);
  if (doc.problem) {
    const common::YamlProblem& p = *doc.problem;
    const SourceLocation loc =
        p.line > 0 ? SourceLocation{file_, p.line, p.column} : start;
    std::string hint = p.hint;
    constexpr absl::string_view kInvalid = "invalid YAML: ";
    if (hint.empty() && absl::StartsWith(p.message, kInvalid)) {
      hint =
          SyntaxHint(RawLine(loc.line - 1), p.message.substr(kInvalid.size()));
    }
    Error(loc, p.message, std::move(hint));
    return spec;
  }
  if (doc.documents == 0 || (doc.documents == 1 && doc.root.IsNull())) {
    Error(start, "the model file is empty",
          "start with 'name:', 'version:', 'inputs:', 'groups:' and 'tiers:'");
    return spec;
  }
  if (doc.documents > 1) {
    SourceLocation loc = Loc(doc.second_start);
    if (loc.line == 0) loc = start;
    Error(loc,
          absl::StrCat("the model file must hold one YAML document, found ",
                       doc.documents),
          "remove the '---' separators or split the models into files");
  }
  const YAML::Node& root = doc.root;
  spec.location = NodeLoc(root);
  if (!root.IsMap()) {
    // A scalar is described without its text: a file that is not a model
    // (a link to /etc/passwd, say) must not have its bytes echoed.
    Error(spec.location.line > 0 ? spec.location : start,
          absl::StrCat(
              "a model must be a mapping with keys such as 'name' "
              "and 'inputs', got ",
              root.IsScalar() ? "a single value" : DescribeYamlNode(root)));
    return spec;
  }
  spec.unreadable = false;
  try {
    ReadModel(root, &spec);
  } catch (const YAML::Exception& e) {
    Error(Loc(e.mark), absl::StrCat("cannot read the model: ", e.msg));
  } catch (const std::exception& e) {
    Error(spec.location, absl::StrCat("cannot read the model: ", e.what()));
  } catch (...) {
    Error(spec.location, "cannot read the model");
  }
  // Stopped (error limit or budget): what was read is partial, and
  // compiling it would report what is merely missing.
  if (stopped_) spec.unreadable = true;
  return spec;
}

}  // namespace

ModelSpec LoadModelSpecFromString(std::string_view text,
                                  const std::string& file,
                                  DiagnosticList* diags,
                                  const ModelLoadOptions& options) {
  // yaml-cpp skips a UTF-8 byte order mark without counting it in columns;
  // drop it here so raw-text offsets agree with its marks.
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  // Collected apart and sorted so that the problems read in file order even
  // though a missing key is only known after its mapping has been read.
  DiagnosticList found;
  Loader loader(absl::string_view(text.data(), text.size()), file, options,
                &found);
  ModelSpec spec = loader.Load();
  found.SortByLocation();
  diags->Append(found);
  return spec;
}

absl::StatusOr<ModelSpec> LoadModelSpecFromFile(
    const std::string& path, DiagnosticList* diags,
    const ModelLoadOptions& options) {
  absl::StatusOr<std::string> text = ReadYamlFile(path, options.yaml);
  if (!text.ok()) {
    if (absl::IsResourceExhausted(text.status())) return text.status();
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      return absl::NotFoundError(absl::StrCat("cannot read model file '", path,
                                              "': it is a directory"));
    }
    return absl::NotFoundError(
        absl::StrCat("cannot read model file '", path, "'"));
  }
  return LoadModelSpecFromString(*text, path, diags, options);
}

}  // namespace healthscore::engine::model
