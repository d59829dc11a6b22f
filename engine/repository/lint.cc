#include "engine/repository/lint.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/number_format.h"
#include "engine/expr/checker.h"
#include "engine/expr/parser.h"
#include "engine/expr/truth.h"
#include "engine/model/condition_scope.h"
#include "engine/repository/internal/scan.h"
#include "engine/repository/routing.h"

namespace healthscore::engine {
namespace {

namespace fs = std::filesystem;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kEps = 1e-9;
// Signals below this share of the score round to nothing.
constexpr double kTinyShare = 0.005;
// Exact enumeration of present-signal sets up to this many signals; above
// it, a coarser (still sound) bound.
constexpr size_t kMaxEnumeratedSignals = 16;

// Lint quotes scores and weights exactly (the shortest text that reads back
// to the same double), as every other output does.
std::string Num(double v) { return FormatNumber(v); }

struct Range {
  double lo = 0;
  double hi = 100;
};

// The scores a normalisation can output.
Range NormRange(const NormalizeSpec& n) {
  using Kind = NormalizeSpec::Kind;
  Range r;
  switch (n.kind) {
    case Kind::kSteps:
      if (!n.steps.empty()) {
        r.lo = kInf;
        r.hi = -kInf;
        for (const auto& s : n.steps) {
          r.lo = std::min(r.lo, s.score);
          r.hi = std::max(r.hi, s.score);
        }
      }
      break;
    case Kind::kPiecewise:
      if (!n.points.empty()) {
        r.lo = kInf;
        r.hi = -kInf;
        for (const auto& p : n.points) {
          r.lo = std::min(r.lo, p.score);
          r.hi = std::max(r.hi, p.score);
        }
      }
      break;
    default:
      break;
  }
  r.lo = std::clamp(r.lo, 0.0, 100.0);
  r.hi = std::clamp(r.hi, 0.0, 100.0);
  return r;
}

// The model's signals, flattened, with their weights and ranges for one
// segment ("" for accounts without an override).
struct View {
  std::string segment;
  std::vector<double> weight;
  std::vector<Range> range;
};

struct FlatSignal {
  const SignalSpec* spec;
  size_t group;
};

struct Reach {
  double min = kInf;   // lowest reachable score (coverage >= min_coverage)
  double max = -kInf;  // highest
  std::vector<bool> tier;  // per CompiledModel tier
};

class Analysis {
 public:
  Analysis(const ModelSpec& spec, const CompiledModel& model)
      : spec_(spec), model_(model) {
    for (size_t g = 0; g < spec.groups.size(); ++g) {
      for (const SignalSpec& s : spec.groups[g].signals) {
        signals_.push_back({&s, g});
      }
    }
    std::set<std::string> segments;
    for (const FlatSignal& f : signals_) {
      for (const auto& o : f.spec->overrides) segments.insert(o.segment);
    }
    views_.push_back(MakeView(""));
    for (const std::string& s : segments) views_.push_back(MakeView(s));
    ComputeReach();
  }

  const std::vector<FlatSignal>& signals() const { return signals_; }
  const std::vector<View>& views() const { return views_; }
  const Reach& reach() const { return reach_; }

  // Share of signal i in `view` (all signals present).
  double Share(const View& view, size_t i) const {
    double group_sum = 0;
    for (size_t k = 0; k < signals_.size(); ++k) {
      if (signals_[k].group == signals_[i].group) group_sum += view.weight[k];
    }
    double total_group = 0;
    for (const GroupSpec& g : spec_.groups) total_group += g.weight;
    if (group_sum <= 0 || total_group <= 0) return 0;
    return view.weight[i] / group_sum *
           spec_.groups[signals_[i].group].weight / total_group;
  }

  // Bounds of signal i's normalised score over every segment.
  Range SignalRange(size_t i) const {
    Range r{kInf, -kInf};
    for (const View& v : views_) {
      r.lo = std::min(r.lo, v.range[i].lo);
      r.hi = std::max(r.hi, v.range[i].hi);
    }
    return r;
  }
  // Bounds of group g's score (a mean of any of its signals).
  Range GroupRange(size_t g) const {
    Range r{kInf, -kInf};
    for (size_t i = 0; i < signals_.size(); ++i) {
      if (signals_[i].group != g) continue;
      Range s = SignalRange(i);
      r.lo = std::min(r.lo, s.lo);
      r.hi = std::max(r.hi, s.hi);
    }
    if (r.lo > r.hi) return Range{0, 100};
    return r;
  }

 private:
  View MakeView(const std::string& segment) const {
    View v;
    v.segment = segment;
    for (const FlatSignal& f : signals_) {
      double weight = f.spec->weight;
      const NormalizeSpec* norm = &f.spec->normalize;
      for (const auto& o : f.spec->overrides) {
        if (o.segment != segment) continue;
        if (o.weight) weight = *o.weight;
        if (o.normalize) norm = &*o.normalize;
      }
      v.weight.push_back(weight);
      v.range.push_back(NormRange(*norm));
    }
    return v;
  }

  void Include(double lo, double hi) {
    reach_.min = std::min(reach_.min, lo);
    reach_.max = std::max(reach_.max, hi);
    const auto& tiers = model_.tiers();
    for (size_t t = 0; t < tiers.size(); ++t) {
      const bool top = t == 0;
      const bool hit = hi >= tiers[t].min - kEps &&
                       (top ? lo <= 100 + kEps : lo < tiers[t].max - kEps);
      if (hit) reach_.tier[t] = true;
    }
  }

  void ComputeReach() {
    reach_.tier.assign(model_.tiers().size(), false);
    const size_t n = signals_.size();
    if (n == 0) return;
    if (n > kMaxEnumeratedSignals) {
      // Any weighted mean lies between the smallest and largest signal
      // score: a sound, coarser bound.
      for (const View& v : views_) {
        for (size_t i = 0; i < n; ++i) Include(v.range[i].lo, v.range[i].hi);
      }
      return;
    }
    const size_t groups = spec_.groups.size();
    for (const View& v : views_) {
      std::vector<double> share(n);
      for (size_t i = 0; i < n; ++i) share[i] = Share(v, i);
      std::vector<double> sw(groups), slo(groups), shi(groups);
      for (uint32_t mask = 1; mask < (1u << n); ++mask) {
        double coverage = 0;
        std::fill(sw.begin(), sw.end(), 0.0);
        std::fill(slo.begin(), slo.end(), 0.0);
        std::fill(shi.begin(), shi.end(), 0.0);
        for (size_t i = 0; i < n; ++i) {
          if ((mask & (1u << i)) == 0) continue;
          coverage += share[i];
          const size_t g = signals_[i].group;
          sw[g] += v.weight[i];
          slo[g] += v.weight[i] * v.range[i].lo;
          shi[g] += v.weight[i] * v.range[i].hi;
        }
        if (coverage < spec_.min_coverage - kEps) continue;
        double total = 0, lo = 0, hi = 0;
        for (size_t g = 0; g < groups; ++g) {
          if (sw[g] <= 0) continue;
          const double gw = spec_.groups[g].weight;
          total += gw;
          lo += gw * slo[g] / sw[g];
          hi += gw * shi[g] / sw[g];
        }
        if (total <= 0) continue;
        Include(lo / total, hi / total);
      }
    }
  }

  const ModelSpec& spec_;
  const CompiledModel& model_;
  std::vector<FlatSignal> signals_;
  std::vector<View> views_;
  Reach reach_;
};

// Names a playbook condition reads, with the bounds the analysis found.
class LintScope : public expr::Scope {
 public:
  LintScope(const CompiledModel& model, const Analysis& analysis,
            const ModelSpec& spec) {
    // The names of the one table (condition_scope.h), with the bounds the
    // analysis found where they are tighter.
    for (const InputInfo& in : model.inputs()) {
      if (CanReadInput(ConditionKind::kPlaybook, in.type)) {
        Add(in.id, InputSymbolType(in.type));
      }
    }
    for (const DerivedInfo& d : model.derived()) {
      Add(d.id, d.is_bool ? expr::Type::kBool : expr::Type::kNumber);
    }
    std::map<std::string, Range> bounds;
    for (size_t g = 0; g < spec.groups.size(); ++g) {
      bounds["groups." + spec.groups[g].id] = analysis.GroupRange(g);
    }
    for (size_t i = 0; i < analysis.signals().size(); ++i) {
      bounds["signals." + analysis.signals()[i].spec->id] =
          analysis.SignalRange(i);
    }
    const Reach& reach = analysis.reach();
    if (reach.min <= reach.max) bounds["score"] = Range{reach.min, reach.max};
    bounds["coverage"] = Range{spec.min_coverage, 1};
    for (const ModelName& n : ModelDefinedNames(model)) {
      expr::Symbol& s = Add(n.name, n.type);
      s.lo = n.lo;
      s.hi = n.hi;
      auto it = bounds.find(n.name);
      if (it != bounds.end()) {
        s.lo = it->second.lo;
        s.hi = it->second.hi;
      }
      // A playbook fires only on accounts with a tier, so with a score
      // from signals covering at least min_coverage.
      switch (n.kind) {
        case ModelName::Kind::kScore:
        case ModelName::Kind::kTier:
        case ModelName::Kind::kCoverage:
        case ModelName::Kind::kTierChanged:
          s.may_be_missing = false;
          break;
        default:
          break;
      }
    }
  }

  const expr::Symbol* Lookup(std::string_view name) const override {
    auto it = symbols_.find(std::string(name));
    return it == symbols_.end() ? nullptr : &it->second;
  }
  std::string Suggest(std::string_view name) const override {
    std::vector<std::string> names;
    for (const auto& [n, unused] : symbols_) names.push_back(n);
    return DidYouMean(name, names);
  }
  bool StringCode(const expr::Symbol&, std::string_view literal,
                  int32_t* code, std::string*, std::string*) override {
    auto [it, inserted] = codes_.emplace(std::string(literal),
                                         static_cast<int32_t>(codes_.size()));
    *code = it->second;
    return true;
  }

 private:
  expr::Symbol& Add(const std::string& name, expr::Type type) {
    expr::Symbol& s = symbols_[name];
    s.type = type;
    s.ref = expr::Operand::Slot(static_cast<int>(symbols_.size()));
    return s;
  }

  std::map<std::string, expr::Symbol> symbols_;
  std::map<std::string, int32_t> codes_;
};

// The tiers a score can reach, for deciding `tier == "x"`.
class TierFacts : public expr::TruthFacts {
 public:
  TierFacts(const CompiledModel& model, const Reach& reach) : model_(model) {
    for (size_t t = 0; t < model.tiers().size(); ++t) {
      if (reach.tier[t]) reachable_.insert(model.tiers()[t].id);
    }
  }
  const std::set<std::string>* PossibleValues(
      std::string_view name) const override {
    return name == "tier" ? &reachable_ : nullptr;
  }
  std::string WhyNever(std::string_view /*name*/,
                       std::string_view tier) const override {
    if (tier == kInsufficientDataTierId) {
      return "no playbook fires on an insufficient_data account";
    }
    if (model_.FindTier(tier) >= 0) {
      return absl::StrCat("tier '", std::string(tier), "' can never be reached");
    }
    return "";
  }

 private:
  const CompiledModel& model_;
  std::set<std::string> reachable_;
};

// True when `cond` holds for every account whose `attr` is `value`.
bool AlwaysFor(const expr::Node& n, const std::string& attr,
               const std::string& value) {
  using expr::NodeKind;
  using expr::Op;
  if (n.kind != NodeKind::kBinary) return false;
  if (n.op == Op::kOr) {
    return AlwaysFor(*n.children[0], attr, value) ||
           AlwaysFor(*n.children[1], attr, value);
  }
  if (n.op == Op::kAnd) {
    return AlwaysFor(*n.children[0], attr, value) &&
           AlwaysFor(*n.children[1], attr, value);
  }
  const expr::Node& a = *n.children[0];
  const expr::Node& b = *n.children[1];
  if (n.op == Op::kEq) {
    const expr::Node* ident = a.kind == NodeKind::kIdent ? &a : &b;
    const expr::Node* lit = a.kind == NodeKind::kIdent ? &b : &a;
    return ident->kind == NodeKind::kIdent && ident->text == attr &&
           lit->kind == NodeKind::kString && lit->text == value;
  }
  if (n.op == Op::kIn && a.kind == NodeKind::kIdent && a.text == attr &&
      b.kind == NodeKind::kList) {
    for (const auto& item : b.children) {
      if (item->kind == NodeKind::kString && item->text == value) return true;
    }
  }
  return false;
}

// The values `a && b` (op kAnd) or `a || b` allow, from those a and b do.
ABSL_ATTRIBUTE_NOINLINE std::optional<std::set<std::string>> MergeImplied(
    expr::Op op, std::optional<std::set<std::string>> a,
    std::optional<std::set<std::string>> b) {
  if (op == expr::Op::kOr) {
    if (!a || !b) return std::nullopt;
    a->insert(b->begin(), b->end());
    return a;
  }
  if (!a) return b;
  if (!b) return a;
  std::set<std::string> both;
  for (const std::string& v : *a) {
    if (b->count(v) > 0) both.insert(v);
  }
  return both;
}

// ImpliedValues of a comparison (or `in`).
ABSL_ATTRIBUTE_NOINLINE std::optional<std::set<std::string>>
ImpliedByComparison(const expr::Node& n, const std::string& attr) {
  using expr::NodeKind;
  using expr::Op;
  const expr::Node& a = *n.children[0];
  const expr::Node& b = *n.children[1];
  if (n.op == Op::kEq) {
    const expr::Node* ident = a.kind == NodeKind::kIdent ? &a : &b;
    const expr::Node* lit = a.kind == NodeKind::kIdent ? &b : &a;
    if (ident->kind == NodeKind::kIdent && ident->text == attr &&
        lit->kind == NodeKind::kString) {
      return std::set<std::string>{lit->text};
    }
  }
  if (n.op == Op::kIn && a.kind == NodeKind::kIdent && a.text == attr &&
      b.kind == NodeKind::kList) {
    std::set<std::string> values;
    for (const auto& item : b.children) {
      if (item->kind == NodeKind::kString) values.insert(item->text);
    }
    return values;
  }
  return std::nullopt;
}

// The values of `attr` an account can have when `cond` holds, or nullopt
// when the condition does not restrict `attr`. Recursive, with a frame of
// two operands' values: the work is out of line.
std::optional<std::set<std::string>> ImpliedValues(const expr::Node& n,
                                                   const std::string& attr) {
  if (n.kind != expr::NodeKind::kBinary) return std::nullopt;
  if (n.op != expr::Op::kAnd && n.op != expr::Op::kOr) {
    return ImpliedByComparison(n, attr);
  }
  std::optional<std::set<std::string>> a = ImpliedValues(*n.children[0], attr);
  return MergeImplied(n.op, std::move(a), ImpliedValues(*n.children[1], attr));
}

std::string ShortLocation(const RouteSpec& route) {
  return route.when.location.ToString();
}

void LintTiers(const ModelSpec& spec, const CompiledModel& model,
               const Analysis& analysis, DiagnosticList* out) {
  const Reach& reach = analysis.reach();
  if (analysis.signals().empty() || reach.min > reach.max) return;
  // Signals that cannot reach 100 or 0, for the hint.
  std::vector<std::string> capped_high, capped_low;
  for (size_t i = 0; i < analysis.signals().size(); ++i) {
    const Range r = analysis.SignalRange(i);
    const std::string& id = analysis.signals()[i].spec->id;
    if (r.hi < 100 - kEps) {
      capped_high.push_back(absl::StrCat(id, " (at most ", Num(r.hi), ")"));
    }
    if (r.lo > kEps) {
      capped_low.push_back(absl::StrCat(id, " (at least ", Num(r.lo), ")"));
    }
  }
  for (size_t t = 0; t < model.tiers().size(); ++t) {
    if (reach.tier[t]) continue;
    const TierInfo& tier = model.tiers()[t];
    const TierSpec* ts = nullptr;
    for (const TierSpec& s : spec.tiers) {
      if (s.id == tier.id) ts = &s;
    }
    if (ts == nullptr) continue;
    std::string message, hint;
    if (reach.max < tier.min) {
      message = absl::StrCat(
          "tier '", tier.id, "' can never be reached: the highest score this "
          "model can give is ", Num(reach.max), ", below its min ",
          Num(tier.min));
      hint = capped_high.empty()
                 ? "lower the tier's min"
                 : absl::StrCat("lower the tier's min, or let these signals "
                                "reach 100: ",
                                absl::StrJoin(capped_high, ", "));
    } else if (reach.min >= tier.max) {
      message = absl::StrCat(
          "tier '", tier.id, "' can never be reached: the lowest score this "
          "model can give is ", Num(reach.min), ", not below its max ",
          Num(tier.max));
      hint = capped_low.empty()
                 ? "raise the tier's max"
                 : absl::StrCat("raise the tier's max, or let these signals "
                                "reach 0: ",
                                absl::StrJoin(capped_low, ", "));
    } else {
      message = absl::StrCat("tier '", tier.id,
                             "' can never be reached: no combination of "
                             "signal scores gives a score from ",
                             Num(tier.min), " to ", Num(tier.max));
      hint = "check the steps and piecewise scores of the signals";
    }
    out->Error(ts->fields.Get("min", ts->location), std::move(message),
               std::move(hint));
  }
}

void LintPlaybooks(const ModelSpec& spec, const CompiledModel& model,
                   const Analysis& analysis, DiagnosticList* out) {
  LintScope scope(model, analysis, spec);
  TierFacts facts(model, analysis.reach());
  for (const PlaybookSpec& p : spec.playbooks) {
    if (p.when.empty()) continue;
    expr::ParseResult parsed = expr::Parse(p.when.text);
    if (!parsed.ok()) continue;  // the compiler reports it
    expr::CheckResult checked = expr::Check(parsed.root.get(), &scope);
    if (!checked.ok() || checked.type != expr::Type::kBool) continue;
    expr::Verdict v = expr::Decide(*parsed.root, &facts);
    if (v.can_true) continue;
    out->Error(p.when.location,
               absl::StrCat("playbook '", p.id,
                            "' can never trigger: ", v.never_true),
               "fix the condition, or remove the playbook");
  }
}

void LintShares(const ModelSpec& spec, const Analysis& analysis,
                DiagnosticList* out) {
  for (size_t i = 0; i < analysis.signals().size(); ++i) {
    double worst = kInf;
    std::string segment;
    for (const View& v : analysis.views()) {
      const double share = analysis.Share(v, i);
      if (share < worst) {
        worst = share;
        segment = v.segment;
      }
    }
    if (worst >= kTinyShare) continue;
    const FlatSignal& f = analysis.signals()[i];
    const std::string percent =
        Num(std::round(worst * 100 * 100) / 100);
    out->Warning(
        f.spec->fields.Get("weight", f.spec->location),
        absl::StrCat("signal '", f.spec->id, "' carries ", percent,
                     "% of the score",
                     segment.empty() ? ""
                                     : absl::StrCat(" for '", segment,
                                                    "' accounts"),
                     " (group '", spec.groups[f.group].id,
                     "'), which rounds to nothing"),
        "raise its weight, or remove the signal: below 0.5% it never moves "
        "a score by more than half a point");
  }
}

void LintRoutes(const ModelSpec& spec, const CompiledModel& model,
                const LintContext& context, DiagnosticList* out) {
  // The routes compile (as when the repository loads).
  if (!context.routes.empty() && !context.model_name.empty()) {
    Router::Resolver resolve =
        [&context](const RouteSpec& route) -> absl::StatusOr<RouteTarget> {
      const auto& names = context.repository_models;
      if (std::find(names.begin(), names.end(), route.model) == names.end()) {
        std::string hint = DidYouMean(route.model, names);
        return absl::NotFoundError(absl::StrCat(
            "route to unknown model '", route.model, "'",
            hint.empty() ? "" : absl::StrCat(" (", hint, ")"), "; models: ",
            absl::StrJoin(names, ", ")));
      }
      return RouteTarget{route.model, route.version, nullptr};
    };
    DiagnosticList diags;
    Router::Create(context.routes, model, resolve, &diags);
    out->Append(diags);
  }

  if (spec.segment_by.empty()) return;
  const std::string& attr = spec.segment_by;
  // Overrides for a segment this model's own routes always send elsewhere.
  std::vector<std::pair<const RouteSpec*, std::unique_ptr<expr::Node>>> own;
  const auto& models = context.repository_models;
  for (const RouteSpec& route : context.routes) {
    if (route.model == context.model_name ||
        std::find(models.begin(), models.end(), route.model) ==
            models.end()) {
      continue;
    }
    expr::ParseResult p = expr::Parse(route.when.text);
    if (p.ok()) own.emplace_back(&route, std::move(p.root));
  }
  // Segments other models route here; nullopt when some route is not
  // restricted by segment.
  std::optional<std::set<std::string>> routed_in;
  std::vector<std::string> routed_in_from;
  if (!context.routes_in.empty() && !context.is_default_model) {
    routed_in.emplace();
    for (const auto& [from, route] : context.routes_in) {
      expr::ParseResult p = expr::Parse(route.when.text);
      std::optional<std::set<std::string>> values;
      if (p.ok()) values = ImpliedValues(*p.root, attr);
      if (!values) {
        routed_in.reset();
        break;
      }
      routed_in->insert(values->begin(), values->end());
      routed_in_from.push_back(ShortLocation(route));
    }
  }

  for (const GroupSpec& g : spec.groups) {
    for (const SignalSpec& s : g.signals) {
      for (const SignalOverrideSpec& o : s.overrides) {
        const SourceLocation& loc = o.fields.Get("segment", o.location);
        bool reported = false;
        for (const auto& [route, tree] : own) {
          if (!AlwaysFor(*tree, attr, o.segment)) continue;
          out->Warning(
              loc,
              absl::StrCat("signal '", s.id, "' overrides segment '",
                           o.segment, "', but every '", o.segment,
                           "' account is routed to model '", route->model,
                           "' (", ShortLocation(*route),
                           "), so this override never applies"),
              absl::StrCat("move the override to model '", route->model,
                           "', or remove it"));
          reported = true;
          break;
        }
        if (reported || !routed_in || routed_in->count(o.segment) > 0) {
          continue;
        }
        out->Warning(
            loc,
            absl::StrCat(
                "signal '", s.id, "' overrides segment '", o.segment,
                "', but routing sends only ",
                routed_in->empty()
                    ? std::string("no segment")
                    : absl::StrCat("segment ", absl::StrJoin(*routed_in, ", ")),
                " to model '", context.model_name, "' (",
                absl::StrJoin(routed_in_from, ", "),
                "), so the override applies only to requests that name the "
                "model"),
            "remove the override, or route that segment here");
      }
    }
  }
}

}  // namespace

LintContext LintContextForFile(const std::string& model_path,
                               DiagnosticList* diags) {
  LintContext context;
  const fs::path file(model_path);
  const fs::path version_dir = file.parent_path();
  const fs::path model_dir = version_dir.parent_path();
  const fs::path root = model_dir.parent_path();
  int64_t version = 0;
  if (file.filename() != kModelFileName ||
      !ParseVersionNumber(version_dir.filename().string(), &version) ||
      model_dir.filename().empty()) {
    return context;
  }
  absl::StatusOr<repository_internal::TreeScan> scan =
      repository_internal::ScanTree(root.empty() ? "." : root.string());
  if (!scan.ok()) return context;
  context.model_name = model_dir.filename().string();
  std::string default_model = kDefaultModelName;
  if (scan->config) {
    RepositoryConfig rc =
        ParseRepositoryConfig(scan->config->text, scan->config->path, diags);
    if (!rc.default_model.empty()) default_model = rc.default_model;
  }
  context.is_default_model = context.model_name == default_model;
  for (const auto& [name, dir] : scan->models) {
    context.repository_models.push_back(name);
    if (!dir.config) continue;
    DiagnosticList config_diags;
    ModelConfig config =
        ParseModelConfig(dir.config->text, dir.config->path, &config_diags);
    if (name == context.model_name) {
      diags->Append(config_diags);
      context.routes = config.routes;
      continue;
    }
    for (const RouteSpec& route : config.routes) {
      if (route.model == context.model_name) {
        context.routes_in.emplace_back(name, route);
      }
    }
  }
  return context;
}

DiagnosticList LintModel(const ModelSpec& spec, const CompiledModel& model,
                         const LintContext& context) {
  DiagnosticList out;
  Analysis analysis(spec, model);
  LintTiers(spec, model, analysis, &out);
  LintPlaybooks(spec, model, analysis, &out);
  LintShares(spec, analysis, &out);
  LintRoutes(spec, model, context, &out);
  out.SortByLocation();
  return out;
}

}  // namespace healthscore::engine
