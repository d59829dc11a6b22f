#include "engine/model/condition_scope.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace healthscore::engine::model {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Prefixes of the names the model defines per group and per signal.
constexpr const char* kPrefixes[] = {"groups", "signals", "raw"};

// What a route may read, for its messages.
constexpr char kRouteReads[] =
    "a route may read the model's number, date and string inputs";

ModelName Name(std::string name, ModelName::Kind kind, expr::Type type,
               double lo, double hi, bool output, int index = -1) {
  ModelName n;
  n.name = std::move(name);
  n.kind = kind;
  n.index = index;
  n.type = type;
  n.lo = lo;
  n.hi = hi;
  n.output = output;
  n.tier_valued =
      kind == ModelName::Kind::kTier || kind == ModelName::Kind::kPreviousTier;
  return n;
}

// The names every model defines, whatever its groups and signals.
std::vector<ModelName> FixedNames() {
  using K = ModelName::Kind;
  using expr::Type;
  // Outputs a playbook reads; as_of and the previous score and tier are
  // given with the snapshot, before scoring. A tier is a string without
  // bounds.
  return {
      Name("score", K::kScore, Type::kNumber, 0, 100, true),
      Name("tier", K::kTier, Type::kString, -kInf, kInf, true),
      Name("coverage", K::kCoverage, Type::kNumber, 0, 1, true),
      Name("as_of", K::kAsOf, Type::kDate, -kInf, kInf, false),
      Name("previous_score", K::kPreviousScore, Type::kNumber, 0, 100, false),
      Name("previous_tier", K::kPreviousTier, Type::kString, -kInf, kInf,
           false),
      Name("score_delta", K::kScoreDelta, Type::kNumber, -100, 100, true),
      Name("tier_changed", K::kTierChanged, Type::kBool, -kInf, kInf, true),
  };
}

}  // namespace

std::vector<ModelName> ModelDefinedNames(const CompiledModel& model) {
  using K = ModelName::Kind;
  std::vector<ModelName> out = FixedNames();
  for (size_t g = 0; g < model.groups().size(); ++g) {
    out.push_back(Name(absl::StrCat(kPrefixes[0], ".", model.groups()[g].id),
                       K::kGroup, expr::Type::kNumber, 0, 100, true,
                       static_cast<int>(g)));
  }
  for (size_t s = 0; s < model.signals().size(); ++s) {
    const std::string& id = model.signals()[s].id;
    out.push_back(Name(absl::StrCat(kPrefixes[1], ".", id), K::kSignalScore,
                       expr::Type::kNumber, 0, 100, true,
                       static_cast<int>(s)));
    out.push_back(Name(absl::StrCat(kPrefixes[2], ".", id), K::kSignalRaw,
                       expr::Type::kNumber, -kInf, kInf, true,
                       static_cast<int>(s)));
  }
  return out;
}

expr::Type InputSymbolType(InputType type) {
  switch (type) {
    case InputType::kNumber: return expr::Type::kNumber;
    case InputType::kString: return expr::Type::kString;
    case InputType::kDate: return expr::Type::kDate;
    case InputType::kSeries: return expr::Type::kSeries;
  }
  return expr::Type::kUnknown;
}

bool CanRead(ConditionKind kind, const ModelName& name) {
  switch (kind) {
    case ConditionKind::kDerived:
      return !name.output;
    case ConditionKind::kPlaybook:
      return true;
    case ConditionKind::kRoute:
      return false;
  }
  return false;
}

bool CanReadInput(ConditionKind kind, InputType type) {
  return kind != ConditionKind::kRoute || type != InputType::kSeries;
}

bool CanReadDerived(ConditionKind kind) {
  return kind != ConditionKind::kRoute;
}

std::string WhyUnreadable(ConditionKind kind, const CompiledModel& model,
                          std::string_view name_view) {
  const std::string name(name_view);
  const int input = model.FindInput(name);
  if (input >= 0) {
    if (CanReadInput(kind, model.inputs()[input].type)) return "";
    return absl::StrCat("'", name, "' is a series; ", kRouteReads);
  }
  for (const DerivedInfo& d : model.derived()) {
    if (d.id != name) continue;
    if (CanReadDerived(kind)) return "";
    return absl::StrCat("'", name, "' is a derived value, computed while "
                        "scoring; ", kRouteReads);
  }
  // A group or signal the model may not have is still a scoring name.
  bool model_defined = false;
  for (const ModelName& n : FixedNames()) {
    if (n.name != name) continue;
    if (CanRead(kind, n)) return "";
    model_defined = true;
  }
  for (const char* prefix : kPrefixes) {
    if (absl::StartsWith(name, absl::StrCat(prefix, "."))) {
      model_defined = true;
    }
  }
  if (!model_defined || kind == ConditionKind::kPlaybook) return "";
  if (kind == ConditionKind::kRoute) {
    return absl::StrCat("'", name, "' is not known before scoring; ",
                        kRouteReads);
  }
  return absl::StrCat("'", name, "' is an output of scoring; a derived value "
                      "may read inputs, other derived values, as_of, "
                      "previous_score and previous_tier");
}

bool IsReservedName(std::string_view id) {
  if (id == "true" || id == "false" || id == "in") return true;
  for (const char* prefix : kPrefixes) {
    if (id == prefix) return true;
  }
  for (const ModelName& n : FixedNames()) {
    if (n.name == id) return true;
  }
  return false;
}

const std::string& ReservedNamesHint() {
  static const std::string* const kHint = [] {
    std::vector<std::string> names;
    for (const ModelName& n : FixedNames()) names.push_back(n.name);
    for (const char* prefix : kPrefixes) names.push_back(prefix);
    return new std::string(
        absl::StrCat("pick another id; reserved: ", absl::StrJoin(names, ", ")));
  }();
  return *kHint;
}

}  // namespace healthscore::engine::model
