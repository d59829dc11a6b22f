#include "engine/lint/lint.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/number_format.h"
#include "engine/expr/checker.h"
#include "engine/expr/parser.h"
#include "engine/expr/truth.h"
#include "engine/lint/internal/lint_routes.h"
#include "engine/lint/internal/score_reach.h"
#include "engine/model/condition_scope.h"

namespace healthscore::engine::lint {

using common::FormatNumber;
using model::CompiledModel;
using model::DiagnosticList;
using model::DidYouMean;
using model::ModelName;
using model::ModelSpec;

namespace {

using internal::FlatSignal;
using internal::kEps;
using internal::kInf;
using internal::Range;
using internal::Reach;
using internal::ReachAnalysis;
using internal::View;

// Signals below this share of the score round to nothing.
constexpr double kTinyShare = 0.005;

// Lint quotes scores and weights exactly (the shortest text that reads back
// to the same double), as every other output does.
std::string Num(double v) { return FormatNumber(v); }

// Names a playbook condition reads, with the bounds the analysis found.
class LintScope : public expr::Scope {
 public:
  LintScope(const CompiledModel& model, const ReachAnalysis& analysis,
            const ModelSpec& spec) {
    // The names of the one table (condition_scope.h), with the bounds the
    // analysis found where they are tighter.
    for (const model::InputInfo& in : model.inputs()) {
      if (model::CanReadInput(model::ConditionKind::kPlaybook, in.type)) {
        Add(in.id, model::InputSymbolType(in.type));
      }
    }
    for (const model::DerivedInfo& d : model.derived()) {
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
    for (const ModelName& n : model::ModelDefinedNames(model)) {
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
    if (tier == model::kInsufficientDataTierId) {
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

void LintTiers(const ModelSpec& spec, const CompiledModel& model,
               const ReachAnalysis& analysis, DiagnosticList* out) {
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
    const model::TierInfo& tier = model.tiers()[t];
    const model::TierSpec* ts = nullptr;
    for (const model::TierSpec& s : spec.tiers) {
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
                   const ReachAnalysis& analysis, DiagnosticList* out) {
  LintScope scope(model, analysis, spec);
  TierFacts facts(model, analysis.reach());
  for (const model::PlaybookSpec& p : spec.playbooks) {
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

void LintShares(const ModelSpec& spec, const ReachAnalysis& analysis,
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

}  // namespace

DiagnosticList LintModel(const ModelSpec& spec, const CompiledModel& model,
                         const LintContext& context) {
  DiagnosticList out;
  ReachAnalysis analysis(spec, model);
  LintTiers(spec, model, analysis, &out);
  LintPlaybooks(spec, model, analysis, &out);
  LintShares(spec, analysis, &out);
  internal::LintRoutes(spec, model, context, &out);
  out.SortByLocation();
  return out;
}

}  // namespace healthscore::engine::lint
