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
// Only shape is checked here; see yaml_loader.h.

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
#include "engine/model/model_spec.h"
#include "yaml-cpp/yaml.h"

namespace healthscore::engine {
namespace {

// yaml-cpp's tag for a scalar written in quotes (or as a block scalar), as
// opposed to "?" for a plain scalar. Quoting is how YAML says "string".
constexpr absl::string_view kNonSpecificTag = "!";
constexpr absl::string_view kPlainTag = "?";
constexpr absl::string_view kYamlTagPrefix = "tag:yaml.org,2002:";

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

// The value as it would appear in a message: `"text"` (shortened, escaped)
// for scalars, a word for the rest.
std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar: {
      constexpr size_t kMaxShown = 40;
      const std::string& text = node.Scalar();
      if (text.size() > kMaxShown) {
        return absl::StrCat(
            "\"", absl::Utf8SafeCHexEscape(text.substr(0, kMaxShown)), "...\"");
      }
      return absl::StrCat("\"", absl::Utf8SafeCHexEscape(text), "\"");
    }
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

bool IsQuoted(const YAML::Node& node) {
  return node.Tag() == kNonSpecificTag ||
         node.Tag() == absl::StrCat(kYamlTagPrefix, "str");
}

// A local tag such as `!has(x)`: almost always an expression or value that
// starts with '!' and was meant literally.
bool HasCustomTag(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  return !tag.empty() && tag != kNonSpecificTag && tag != kPlainTag &&
         !absl::StartsWith(tag, kYamlTagPrefix);
}

// Decimal numbers as YAML's core schema writes them (`12`, `-0.5`, `1e3`,
// `.5`), plus `.inf`, `-.inf` and `.nan`. Hex and octal are not accepted:
// no model needs them and they hide typos. Numbers too large for a double
// become infinite, and are reported as such by the caller.
bool ParseNumber(absl::string_view s, double* out) {
  if (s.empty()) return false;
  bool negative = false;
  absl::string_view body = s;
  if (body[0] == '+' || body[0] == '-') {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (body == ".inf" || body == ".Inf" || body == ".INF") {
    *out = negative ? -kInf : kInf;
    return true;
  }
  if (s == ".nan" || s == ".NaN" || s == ".NAN") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  // Validate the syntax and note the decimal magnitude (position of the
  // first significant digit relative to the point, plus the exponent), which
  // tells overflow from underflow when from_chars reports a range error.
  size_t i = 0;
  size_t digits = 0;
  int64_t magnitude = 0;
  bool significant = false;
  while (i < body.size() && absl::ascii_isdigit(body[i])) {
    significant = significant || body[i] != '0';
    if (significant) ++magnitude;
    ++i, ++digits;
  }
  if (i < body.size() && body[i] == '.') {
    ++i;
    while (i < body.size() && absl::ascii_isdigit(body[i])) {
      if (!significant) {
        significant = body[i] != '0';
        if (!significant) --magnitude;
      }
      ++i, ++digits;
    }
  }
  if (digits == 0) return false;
  int64_t exponent = 0;
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    bool negative_exponent = false;
    if (i < body.size() && (body[i] == '+' || body[i] == '-')) {
      negative_exponent = body[i] == '-';
      ++i;
    }
    size_t exponent_digits = 0;
    while (i < body.size() && absl::ascii_isdigit(body[i])) {
      if (exponent < 1000000) exponent = exponent * 10 + (body[i] - '0');
      ++i, ++exponent_digits;
    }
    if (exponent_digits == 0) return false;
    if (negative_exponent) exponent = -exponent;
  }
  if (i != body.size()) return false;
  double value = 0;
  const absl::from_chars_result r =
      absl::from_chars(body.data(), body.data() + body.size(), value);
  if (r.ptr != body.data() + body.size()) return false;
  if (r.ec == std::errc::result_out_of_range) {
    value = significant && magnitude + exponent > 0 ? kInf : 0.0;
  }
  *out = negative ? -value : value;
  return true;
}

class Loader {
 public:
  Loader(absl::string_view text, const std::string& file,
         const ModelLoadOptions& options, DiagnosticList* diags)
      : text_(text), file_(file), options_(options), diags_(diags) {
    line_starts_.push_back(0);
    for (size_t i = 0; i < text_.size(); ++i) {
      if (text_[i] == '\n') line_starts_.push_back(i + 1);
    }
  }

  ModelSpec Load();

 private:
  // One key of a mapping, as written.
  struct Entry {
    std::string key;
    SourceLocation key_loc;
    YAML::Node value;
    // Where the value starts; the key's location when the value is empty,
    // since yaml-cpp then points at whatever follows.
    SourceLocation value_loc;
  };

  // The known keys of one mapping, first occurrence of each, in file order.
  struct Mapping {
    std::vector<Entry> entries;
    SourceLocation loc;
    // Names the element in messages: "signal" or "signal 'dau_mau'".
    std::string label;

    const Entry* Find(absl::string_view key) const {
      for (const Entry& e : entries) {
        if (e.key == key) return &e;
      }
      return nullptr;
    }
  };

  // After kMaxLoaderErrors errors, one more says the loader stopped there:
  // a file of a million unknown keys must not become a million messages.
  void Error(const SourceLocation& loc, std::string message,
             std::string hint = "") {
    if (stopped_) return;
    if (errors_ == kMaxLoaderErrors) {
      diags_->Error(loc,
                    absl::StrCat("too many errors (", kMaxLoaderErrors,
                                 "); the rest of the file is not checked"),
                    "fix these first");
      stopped_ = true;
      return;
    }
    ++errors_;
    diags_->Error(loc, std::move(message), std::move(hint));
  }
  void Warning(const SourceLocation& loc, std::string message,
               std::string hint = "") {
    if (stopped_) return;
    diags_->Warning(loc, std::move(message), std::move(hint));
  }

  // True once the loader must stop: the error limit was reached or the
  // budget ran out (reported once, for the whole file). Called in every
  // loop over keys and items; looks at the clock every 64 calls.
  bool Stopped() {
    if (stopped_) return true;
    if (options_.budget.unlimited() || ++ticks_ % 64 != 0) return false;
    const absl::Status s = options_.budget.Check();
    if (s.ok()) return false;
    diags_->Error(SourceLocation{file_, 0, 0}, std::string(s.message()));
    stopped_ = true;
    return true;
  }

  SourceLocation Loc(const YAML::Mark& mark) const {
    SourceLocation loc;
    loc.file = file_;
    if (mark.is_null() || mark.line < 0 || mark.column < 0) return loc;
    loc.line = mark.line + 1;
    loc.column = mark.column + 1;
    return loc;
  }
  SourceLocation NodeLoc(const YAML::Node& node) const {
    return Loc(node.Mark());
  }
  // The location of a list item. yaml-cpp marks an empty item at the token
  // after it, often on a later line, so point at what precedes it instead
  // (the '-' of a block list).
  SourceLocation ItemLoc(const YAML::Node& item) const;

  // Line `line0` (0-based) of the source without its line break; empty when
  // out of range.
  absl::string_view RawLine(int line0) const {
    if (line0 < 0 || static_cast<size_t>(line0) >= line_starts_.size()) {
      return {};
    }
    const size_t begin = line_starts_[line0];
    size_t end = static_cast<size_t>(line0) + 1 < line_starts_.size()
                     ? line_starts_[line0 + 1] - 1
                     : text_.size();
    if (end > begin && text_[end - 1] == '\r') --end;
    return text_.substr(begin, end - begin);
  }

  Mapping ReadMapping(const YAML::Node& node, absl::string_view what,
                      const std::vector<std::string>& allowed,
                      FieldLocations* fields);
  bool ReadKey(const YAML::Node& key, absl::string_view what, std::string* out);

  // The entry for `key`, or nullptr when it is absent or has no value.
  // Reports a missing or empty required key; `expected` ("a number") words
  // the error for an empty value.
  const Entry* Get(const Mapping& m, absl::string_view key, bool required,
                   absl::string_view expected);
  void ReportEmptyValue(const Entry& e, bool required,
                        absl::string_view expected);

  // Typed readers of a present, non-empty value. They report a problem and
  // return false, leaving `out` as it was unless stated.
  bool ReadScalarText(const YAML::Node& node, const SourceLocation& loc,
                      absl::string_view what, absl::string_view expected,
                      std::string* out);
  bool ReadString(const Entry& e, std::string* out);
  // Stores the text even when it is not a valid identifier, so that the
  // compiler does not report follow-on "unknown name" errors.
  bool ReadIdentifier(const Entry& e, std::string* out);
  bool ReadNumber(const YAML::Node& node, const SourceLocation& loc,
                  absl::string_view what, bool allow_infinite, double* out);
  bool ReadNumber(const Entry& e, double* out) {
    return ReadNumber(e.value, e.value_loc, e.key, false, out);
  }
  bool ReadInt(const Entry& e, int64_t* out);
  bool ReadExpr(const Entry& e, ExprSource* out);
  bool ReadStringList(const Entry& e, std::vector<std::string>* out);

  // Calls fn(item) for each item of a list value; for ForEachMapping, each
  // item that is a mapping (`item_what` words the error for the others).
  template <typename Fn>
  void ForEachItem(const Entry& e, Fn fn);
  template <typename Fn>
  void ForEachMapping(const Entry& e, absl::string_view item_what, Fn fn);

  // Where the text of a scalar starts, past any anchor, tag and quote.
  void LocateScalarText(const YAML::Node& node, ExprSource* out) const;
  // The word after `key: #` when an empty value looks like a commented-out
  // value (`color: #2e7d32`), else empty.
  std::string CommentedOutValue(const Entry& e) const;

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

  absl::string_view text_;
  std::string file_;
  const ModelLoadOptions& options_;
  std::vector<size_t> line_starts_;
  DiagnosticList* diags_;
  int errors_ = 0;
  bool stopped_ = false;
  uint64_t ticks_ = 0;
  uint64_t settings_ = 0;  // keys flattened so far, all settings together
};

bool Loader::ReadKey(const YAML::Node& key, absl::string_view what,
                     std::string* out) {
  if (key.IsScalar() && !key.Scalar().empty()) {
    *out = key.Scalar();
    return true;
  }
  if (key.IsScalar() || key.IsNull()) {
    Error(NodeLoc(key), absl::StrCat("empty key in ", what));
  } else {
    Error(NodeLoc(key), absl::StrCat("keys in ", what, " must be names, got ",
                                     Describe(key)));
  }
  return false;
}

Loader::Mapping Loader::ReadMapping(const YAML::Node& node,
                                    absl::string_view what,
                                    const std::vector<std::string>& allowed,
                                    FieldLocations* fields) {
  Mapping m;
  m.loc = NodeLoc(node);
  m.label = std::string(what);
  if (!node.IsMap()) return m;
  for (auto it = node.begin(); it != node.end() && !Stopped(); ++it) {
    std::string key;
    if (!ReadKey(it->first, what, &key)) continue;
    const SourceLocation key_loc = NodeLoc(it->first);
    bool known = false;
    for (const std::string& a : allowed) known = known || a == key;
    if (!known) {
      std::string hint = DidYouMean(key, allowed);
      if (hint.empty()) {
        hint = absl::StrCat("known keys: ", absl::StrJoin(allowed, ", "));
      }
      Error(key_loc,
            absl::StrCat("unknown key '", absl::Utf8SafeCHexEscape(key),
                         "' in ", what),
            std::move(hint));
      continue;
    }
    if (const Entry* first = m.Find(key)) {
      Error(key_loc, absl::StrCat("duplicate key '", key, "' in ", what),
            first->key_loc.line > 0
                ? absl::StrCat("the first '", key, "' is at line ",
                               first->key_loc.line, "; remove one of them")
                : "remove one of them");
      continue;
    }
    Entry e;
    e.key = std::move(key);
    e.key_loc = key_loc;
    e.value = it->second;
    e.value_loc = e.value.IsNull() ? key_loc : NodeLoc(e.value);
    if (fields != nullptr) fields->Set(e.key, e.value_loc);
    m.entries.push_back(std::move(e));
  }
  return m;
}

SourceLocation Loader::ItemLoc(const YAML::Node& item) const {
  const YAML::Mark mark = item.Mark();
  if (!item.IsNull() || mark.is_null() || mark.line < 0 || mark.column < 0) {
    return Loc(mark);
  }
  // Walk back to the last character before the mark that is neither space
  // nor comment. A '#' counts as a comment when it starts the line or follows
  // a space (quotes are not tracked; this only picks a location).
  for (int line = mark.line, guard = 0; line >= 0 && guard < 1000;
       --line, ++guard) {
    absl::string_view raw = RawLine(line);
    if (line == mark.line) {
      raw = raw.substr(0, std::min<size_t>(raw.size(), mark.column));
    }
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '#' &&
          (i == 0 || raw[i - 1] == ' ' || raw[i - 1] == '\t')) {
        raw = raw.substr(0, i);
        break;
      }
    }
    const size_t last = raw.find_last_not_of(" \t");
    if (last == absl::string_view::npos) continue;
    SourceLocation loc;
    loc.file = file_;
    loc.line = line + 1;
    loc.column = static_cast<int>(last) + 1;
    return loc;
  }
  return Loc(mark);
}

std::string Loader::CommentedOutValue(const Entry& e) const {
  const absl::string_view line = RawLine(e.key_loc.line - 1);
  size_t pos =
      static_cast<size_t>(e.key_loc.column > 0 ? e.key_loc.column - 1 : 0) +
      e.key.size();
  if (pos >= line.size()) return "";
  pos = line.find(':', pos);
  if (pos == absl::string_view::npos) return "";
  ++pos;
  while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
  if (pos + 1 >= line.size() || line[pos] != '#' || line[pos + 1] == ' ' ||
      line[pos + 1] == '\t') {
    return "";
  }
  size_t end = pos + 1;
  while (end < line.size() && line[end] != ' ' && line[end] != '\t') ++end;
  return std::string(line.substr(pos, end - pos));
}

void Loader::ReportEmptyValue(const Entry& e, bool required,
                              absl::string_view expected) {
  const std::string commented = CommentedOutValue(e);
  std::string hint;
  if (!commented.empty()) {
    hint =
        absl::StrCat("'#' starts a comment in YAML; quote the value: ", e.key,
                     ": \"", absl::Utf8SafeCHexEscape(commented), "\"");
  }
  if (required) {
    Error(e.key_loc,
          absl::StrCat("'", e.key, "' must be ", expected, ", got nothing"),
          std::move(hint));
  } else if (!commented.empty()) {
    Warning(e.key_loc, absl::StrCat("'", e.key, "' is empty"), std::move(hint));
  }
}

const Loader::Entry* Loader::Get(const Mapping& m, absl::string_view key,
                                 bool required, absl::string_view expected) {
  const Entry* e = m.Find(key);
  if (e == nullptr) {
    if (required) {
      Error(m.loc,
            absl::StrCat("missing required key '", key, "' in ", m.label));
    }
    return nullptr;
  }
  if (!e->value.IsDefined() || e->value.IsNull()) {
    ReportEmptyValue(*e, required, expected);
    return nullptr;
  }
  return e;
}

bool Loader::ReadScalarText(const YAML::Node& node, const SourceLocation& loc,
                            absl::string_view what, absl::string_view expected,
                            std::string* out) {
  if (!node.IsScalar()) {
    Error(loc,
          absl::StrCat(what, " must be ", expected, ", got ", Describe(node)),
          node.IsMap() ? "a value containing ': ' must be quoted" : "");
    return false;
  }
  if (HasCustomTag(node)) {
    Error(loc,
          absl::StrCat(what, " has the YAML tag '",
                       absl::Utf8SafeCHexEscape(node.Tag()), "'"),
          "a value starting with '!' is read as a tag; quote the whole value");
    return false;
  }
  *out = node.Scalar();
  return true;
}

bool Loader::ReadString(const Entry& e, std::string* out) {
  return ReadScalarText(e.value, e.value_loc, absl::StrCat("'", e.key, "'"),
                        "a string", out);
}

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
                     Describe(e.value)),
        std::move(hint));
  return false;
}

bool Loader::ReadNumber(const YAML::Node& node, const SourceLocation& loc,
                        absl::string_view what, bool allow_infinite,
                        double* out) {
  const std::string quoted_what = absl::StrCat("'", what, "'");
  if (!node.IsScalar()) {
    Error(loc,
          absl::StrCat(quoted_what, " must be a number, got ", Describe(node)));
    return false;
  }
  double value = 0;
  if (!ParseNumber(node.Scalar(), &value) || HasCustomTag(node)) {
    Error(loc,
          absl::StrCat(quoted_what, " must be a number, got ", Describe(node)));
    return false;
  }
  if (IsQuoted(node)) {
    Error(loc,
          absl::StrCat(quoted_what, " must be a number, got the string ",
                       Describe(node)),
          "remove the quotes");
    return false;
  }
  if (std::isnan(value) || (!allow_infinite && std::isinf(value))) {
    Error(loc, absl::StrCat(quoted_what, " must be a finite number, got ",
                            Describe(node)));
    return false;
  }
  *out = value;
  return true;
}

bool Loader::ReadInt(const Entry& e, int64_t* out) {
  const std::string what = absl::StrCat("'", e.key, "'");
  if (!e.value.IsScalar()) {
    Error(e.value_loc,
          absl::StrCat(what, " must be an integer, got ", Describe(e.value)));
    return false;
  }
  const std::string& text = e.value.Scalar();
  const size_t digits_start =
      !text.empty() && (text[0] == '+' || text[0] == '-') ? 1 : 0;
  bool syntax_ok = text.size() > digits_start;
  for (size_t i = digits_start; i < text.size(); ++i) {
    syntax_ok = syntax_ok && absl::ascii_isdigit(text[i]);
  }
  if (!syntax_ok || HasCustomTag(e.value)) {
    Error(e.value_loc,
          absl::StrCat(what, " must be an integer, got ", Describe(e.value)));
    return false;
  }
  if (IsQuoted(e.value)) {
    Error(e.value_loc,
          absl::StrCat(what, " must be an integer, got the string ",
                       Describe(e.value)),
          "remove the quotes");
    return false;
  }
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value)) {
    Error(e.value_loc,
          absl::StrCat(what, " is out of range, got ", Describe(e.value)));
    return false;
  }
  *out = value;
  return true;
}

void Loader::LocateScalarText(const YAML::Node& node, ExprSource* out) const {
  out->location = NodeLoc(node);
  out->block_column = 0;
  const YAML::Mark mark = node.Mark();
  if (mark.is_null() || mark.line < 0 || mark.column < 0) return;
  int line = mark.line;
  size_t col = static_cast<size_t>(mark.column);
  absl::string_view raw = RawLine(line);
  // The mark of a node with an anchor or tag points at them: step over those
  // properties, and any space, comment and line break after them.
  for (int guard = 0;
       guard < 64 && col < raw.size() && (raw[col] == '&' || raw[col] == '!');
       ++guard) {
    while (col < raw.size() && raw[col] != ' ' && raw[col] != '\t') ++col;
    for (;;) {
      while (col < raw.size() && (raw[col] == ' ' || raw[col] == '\t')) ++col;
      if (col < raw.size() && raw[col] != '#') break;
      if (static_cast<size_t>(line) + 1 >= line_starts_.size()) return;
      raw = RawLine(++line);
      col = 0;
    }
  }
  if (col >= raw.size()) return;
  const char c = raw[col];
  if (c == '"' || c == '\'') {
    out->location.line = line + 1;
    out->location.column = static_cast<int>(col) + 2;
    return;
  }
  if (c == '|' || c == '>') {
    // The text starts on the line after the header. Its first non-empty
    // line sets the indentation, minus any spaces kept as content (possible
    // with an explicit indentation indicator).
    const std::string& text = node.Scalar();
    size_t leading_breaks = 0;
    while (leading_breaks < text.size() && text[leading_breaks] == '\n') {
      ++leading_breaks;
    }
    const absl::string_view first_raw =
        RawLine(line + 1 + static_cast<int>(leading_breaks));
    const size_t raw_spaces =
        first_raw.find_first_not_of(' ') == absl::string_view::npos
            ? first_raw.size()
            : first_raw.find_first_not_of(' ');
    size_t text_spaces = 0;
    while (leading_breaks + text_spaces < text.size() &&
           text[leading_breaks + text_spaces] == ' ') {
      ++text_spaces;
    }
    const size_t indent =
        raw_spaces > text_spaces ? raw_spaces - text_spaces : 0;
    out->location.line = line + 2;
    out->location.column = static_cast<int>(indent) + 1;
    out->block_column = static_cast<int>(indent) + 1;
    return;
  }
  out->location.line = line + 1;
  out->location.column = static_cast<int>(col) + 1;
}

bool Loader::ReadExpr(const Entry& e, ExprSource* out) {
  // Located even when unreadable, so later complaints about the same
  // expression point at the same line.
  out->location = e.value_loc;
  std::string text;
  if (!ReadScalarText(e.value, e.value_loc, absl::StrCat("'", e.key, "'"),
                      "an expression", &text)) {
    return false;
  }
  if (absl::StripAsciiWhitespace(text).empty()) {
    Error(e.value_loc, absl::StrCat("'", e.key, "' is empty"),
          "write an expression, or remove the key if it is optional");
    return false;
  }
  out->text = std::move(text);
  LocateScalarText(e.value, out);
  if (out->location.file.empty()) out->location.file = file_;
  return true;
}

template <typename Fn>
void Loader::ForEachItem(const Entry& e, Fn fn) {
  if (!e.value.IsSequence()) {
    Error(e.value_loc, absl::StrCat("'", e.key, "' must be a list, got ",
                                    Describe(e.value)));
    return;
  }
  for (auto it = e.value.begin(); it != e.value.end() && !Stopped(); ++it) {
    fn(*it);
  }
}

template <typename Fn>
void Loader::ForEachMapping(const Entry& e, absl::string_view item_what,
                            Fn fn) {
  ForEachItem(e, [&](const YAML::Node& item) {
    if (!item.IsMap()) {
      Error(ItemLoc(item),
            absl::StrCat("each ", item_what, " must be a mapping, got ",
                         Describe(item)));
      return;
    }
    fn(item);
  });
}

bool Loader::ReadStringList(const Entry& e, std::vector<std::string>* out) {
  bool ok = true;
  const std::string what = absl::StrCat("each item of '", e.key, "'");
  ForEachItem(e, [&](const YAML::Node& item) {
    std::string text;
    if (item.IsNull()) {
      Error(ItemLoc(item),
            absl::StrCat(what, " must be a string, got nothing"));
      ok = false;
      return;
    }
    if (!ReadScalarText(item, ItemLoc(item), what, "a string", &text)) {
      ok = false;
      return;
    }
    out->push_back(std::move(text));
  });
  return ok;
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
                           Describe(e->value)),
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
                         Describe(e->value)));
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
                             Describe(*item)));
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
                     Describe(e.value)),
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
                             Describe(item)),
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
                              Describe(item)));
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
                       Describe(e.value)),
          std::move(hint));
    return;
  }
  if (!e.value.IsMap()) {
    Error(e.value_loc, absl::StrCat("'normalize' must be a mapping with one "
                                    "of ",
                                    kinds, ", got ", Describe(e.value)));
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
                           ", got ", Describe(kind.value)));
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
                       Describe(e.value)));
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
                         Describe(value)));
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
                           Describe(e->value)),
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
                         Describe(e->value)),
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
  const YamlDocument doc =
      ReadYaml(std::string_view(text_.data(), text_.size()), options_.yaml,
               options_.budget);
  if (doc.problem) {
    const YamlProblem& p = *doc.problem;
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
          absl::StrCat("a model must be a mapping with keys such as 'name' "
                       "and 'inputs', got ",
                       root.IsScalar() ? "a single value" : Describe(root)));
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

}  // namespace healthscore::engine
