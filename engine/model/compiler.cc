#include "engine/model/compiler.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "engine/common/display.h"
#include "engine/common/number_format.h"
#include "engine/expr/checker.h"
#include "engine/expr/parser.h"
#include "engine/expr/program.h"
#include "engine/model/condition_scope.h"
#include "engine/model/internal/model_compiler.h"
#include "engine/model/model_hash.h"
#include "engine/model/model_plan.h"
#include "engine/model/yaml_loader.h"

namespace healthscore::engine::model {

using common::FormatNumber;
using common::ReadYamlFile;
using common::TruncateForDisplay;

using expr::Operand;
using expr::Type;
using internal::ModelCompiler;
using internal::PluginCallText;

bool ModelCompiler::LiteralCode(const expr::Symbol& sym,
                                std::string_view literal, int32_t* code,
                                std::string* error, std::string* hint) {
  // Find the entry that owns this symbol.
  for (const auto& [name, e] : names_) {
    if (&e.symbol != &sym) continue;
    if (e.tier_symbol) {
      int t = model_->FindTier(literal);
      if (t == -2) {
        std::vector<std::string> ids;
        for (const auto& tier : model_->tiers_) ids.push_back(tier.id);
        ids.push_back(std::string(kInsufficientDataTierId));
        *error = absl::StrCat("'", std::string(literal), "' is not a tier of this model, "
                              "so this comparison can never be true");
        *hint = DidYouMean(literal, ids);
        if (hint->empty()) {
          *hint = absl::StrCat("tiers are: ", absl::StrJoin(ids, ", "));
        }
        return false;
      }
      *code = t == kInsufficientDataTier
                  ? static_cast<int32_t>(model_->tiers_.size())
                  : t;
      return true;
    }
    const int col = e.string_column;
    const InputInfo& in = model_->inputs_[e.input];
    // With declared values the dictionary holds exactly those (a hash
    // lookup, where a scan of the values per literal would be quadratic
    // for a long `in` list).
    if (!in.values.empty() &&
        model_->StringCode(col, literal) == kUnknownString) {
      *error = absl::StrCat("'", std::string(literal), "' is not a declared value of '",
                            name, "', so this comparison can never be true");
      *hint = DidYouMean(literal, in.values);
      if (hint->empty()) {
        *hint = absl::StrCat("values are: ", absl::StrJoin(in.values, ", "));
      }
      return false;
    }
    *code = model_->StringCode(col, literal);
    if (*code >= 0) return true;
    // InternLiterals adds every literal compared with this input before
    // any expression is checked; a literal it missed is a compiler bug.
    *error = absl::StrCat("internal error: the literal \"",
                          TruncateForDisplay(literal),
                          "\" was not added to the values of '", name, "'");
    *hint = DiagnosticList::kNoReasonHint;
    return false;
  }
  *error = "string comparison with a value that is not a string attribute";
  return false;
}

// Adds every literal compared with a string input to that input's
// dictionary, before any table is sized by it.
void ModelCompiler::InternLiterals(const expr::Node& n) {
  using expr::NodeKind;
  if (n.kind == NodeKind::kBinary &&
      (n.op == expr::Op::kEq || n.op == expr::Op::kNe ||
       n.op == expr::Op::kIn)) {
    const expr::Node* a = n.children[0].get();
    const expr::Node* b = n.children[1].get();
    if (a->kind == NodeKind::kString) std::swap(a, b);
    if (a->kind == NodeKind::kIdent) {
      auto it = names_.find(a->text);
      if (it != names_.end() && it->second.string_column >= 0) {
        const int col = it->second.string_column;
        auto intern = [&](const std::string& lit) {
          auto& codes = model_->string_codes_[col];
          if (codes.contains(lit)) return;
          // The dictionary of an input with declared values holds exactly
          // those: any other literal is reported by the checker.
          if (!model_->inputs_[it->second.input].values.empty()) return;
          codes[lit] = static_cast<int32_t>(model_->string_values_[col].size());
          model_->string_values_[col].push_back(lit);
        };
        if (b->kind == NodeKind::kString) intern(b->text);
        if (b->kind == NodeKind::kList) {
          for (const auto& item : b->children) {
            if (item->kind == NodeKind::kString) intern(item->text);
          }
        }
      }
    }
  }
  for (const auto& c : n.children) InternLiterals(*c);
}

void ModelCompiler::MarkUsed(const expr::Node& n) {
  if (n.kind == expr::NodeKind::kIdent) {
    auto it = names_.find(n.text);
    if (it != names_.end() && it->second.input >= 0) {
      input_used_[it->second.input] = true;
    }
  }
  for (const auto& c : n.children) MarkUsed(*c);
}

void ModelCompiler::CollectReads(const expr::Node& n,
                                 std::set<std::string>* seen,
                                 std::vector<ValueRef>* out) {
  if (n.kind == expr::NodeKind::kIdent ||
      (n.kind == expr::NodeKind::kCall && n.text == "days_since")) {
    const std::string& name =
        n.kind == expr::NodeKind::kIdent ? n.text : std::string("as_of");
    auto it = names_.find(name);
    if (it != names_.end() && seen->insert(name).second) {
      out->push_back(it->second.ref);
    }
  }
  for (const auto& c : n.children) CollectReads(*c, seen, out);
}

ModelCompiler::Entry ModelCompiler::DefinedEntry(const ModelName& n,
                                                 Operand op) {
  static constexpr struct {
    ModelName::Kind from;
    ValueRef::Kind to;
  } kKinds[] = {
      {ModelName::Kind::kAsOf, ValueRef::Kind::kAsOf},
      {ModelName::Kind::kPreviousScore, ValueRef::Kind::kPreviousScore},
      {ModelName::Kind::kPreviousTier, ValueRef::Kind::kPreviousTier},
      {ModelName::Kind::kScore, ValueRef::Kind::kScore},
      {ModelName::Kind::kTier, ValueRef::Kind::kTier},
      {ModelName::Kind::kCoverage, ValueRef::Kind::kCoverage},
      {ModelName::Kind::kScoreDelta, ValueRef::Kind::kScoreDelta},
      {ModelName::Kind::kTierChanged, ValueRef::Kind::kTierChanged},
      {ModelName::Kind::kGroup, ValueRef::Kind::kGroup},
      {ModelName::Kind::kSignalScore, ValueRef::Kind::kSignalScore},
      {ModelName::Kind::kSignalRaw, ValueRef::Kind::kSignalRaw},
  };
  Entry e;
  e.symbol.type = n.type;
  e.symbol.ref = op;
  e.symbol.lo = n.lo;
  e.symbol.hi = n.hi;
  e.tier_symbol = n.tier_valued;
  e.ref.name = n.name;
  e.ref.index = n.index;
  for (const auto& k : kKinds) {
    if (k.from == n.kind) e.ref.kind = k.to;
  }
  e.defined = n;
  return e;
}

void ModelCompiler::CompileInputs() {
  CompiledModel& m = *model_;
  for (size_t i = 0; i < spec_.inputs.size(); ++i) {
    const InputSpec& in = spec_.inputs[i];
    if (IsReservedName(in.id)) {
      Error(in.fields.Get("id", in.location),
            absl::StrCat("'", in.id, "' is a reserved name"),
            ReservedNamesHint());
      continue;
    }
    if (in.range_min && in.range_max && !(*in.range_min < *in.range_max)) {
      Error(in.fields.Get("range", in.location),
            absl::StrFormat("range of '%s' is [%s, %s]: the minimum must be "
                            "below the maximum",
                            in.id, FormatNumber(*in.range_min),
                            FormatNumber(*in.range_max)));
    }
    InputInfo info;
    info.id = in.id;
    info.type = in.type;
    info.description = in.description;
    info.unit = in.unit;
    info.range_min = in.range_min;
    info.range_max = in.range_max;
    info.values = in.values;
    Entry e;
    e.input = static_cast<int>(m.inputs_.size());
    e.ref.name = in.id;
    e.ref.index = e.input;
    switch (in.type) {
      case InputType::kNumber:
      case InputType::kDate:
        info.kind = ColumnKind::kNumber;
        info.column = m.number_columns_++;
        e.symbol.type = in.type == InputType::kDate ? Type::kDate
                                                    : Type::kNumber;
        e.ref.kind = in.type == InputType::kDate ? ValueRef::Kind::kDateInput
                                                 : ValueRef::Kind::kNumberInput;
        break;
      case InputType::kString: {
        info.kind = ColumnKind::kString;
        info.column = m.string_columns_++;
        e.symbol.type = Type::kString;
        e.ref.kind = ValueRef::Kind::kStringInput;
        e.string_column = info.column;
        m.string_codes_.emplace_back();
        m.string_values_.emplace_back();
        std::set<std::string> seen;
        for (const auto& v : in.values) {
          if (!seen.insert(v).second) {
            Error(in.fields.Get("values", in.location),
                  absl::StrCat("value '", v, "' is listed twice in '", in.id,
                               "'"));
            continue;
          }
          m.string_codes_.back()[v] =
              static_cast<int32_t>(m.string_values_.back().size());
          m.string_values_.back().push_back(v);
        }
        break;
      }
      case InputType::kSeries:
        info.kind = ColumnKind::kSeries;
        info.column = m.series_columns_++;
        e.symbol.type = Type::kSeries;
        e.ref.kind = ValueRef::Kind::kSeriesInput;
        break;
    }
    if (!AddName(in.id, e, in.fields.Get("id", in.location))) continue;
    m.input_index_[in.id] = static_cast<int>(m.inputs_.size());
    m.inputs_.push_back(std::move(info));
  }
  input_used_.assign(m.inputs_.size(), false);

  // Slots: every batch column, then the snapshot's own fields.
  for (int c = 0; c < m.number_columns_; ++c) {
    plan_->number_slot.push_back(builder_.AddSlot(expr::ValueKind::kNum));
  }
  for (int c = 0; c < m.string_columns_; ++c) {
    plan_->string_slot.push_back(builder_.AddSlot(expr::ValueKind::kStr));
  }
  for (int c = 0; c < m.series_columns_; ++c) {
    plan_->series_slot.push_back(builder_.AddSlot(expr::ValueKind::kSeries));
  }
  plan_->as_of_slot = builder_.AddSlot(expr::ValueKind::kNum);
  plan_->previous_score_slot = builder_.AddSlot(expr::ValueKind::kNum);
  plan_->previous_tier_slot = builder_.AddSlot(expr::ValueKind::kStr);

  for (auto& [name, e] : names_) {
    if (e.input < 0) continue;
    const InputInfo& info = m.inputs_[e.input];
    switch (info.kind) {
      case ColumnKind::kNumber:
        e.symbol.ref = Operand::Slot(plan_->number_slot[info.column]);
        break;
      case ColumnKind::kString:
        e.symbol.ref = Operand::Slot(plan_->string_slot[info.column]);
        break;
      case ColumnKind::kSeries:
        e.symbol.ref = Operand::Slot(plan_->series_slot[info.column]);
        break;
    }
  }
  // Given with the snapshot; the outputs come with CompilePlaybooks.
  for (const ModelName& n : ModelDefinedNames(m)) {
    Operand op;
    switch (n.kind) {
      case ModelName::Kind::kAsOf:
        op = Operand::Slot(plan_->as_of_slot);
        break;
      case ModelName::Kind::kPreviousScore:
        op = Operand::Slot(plan_->previous_score_slot);
        break;
      case ModelName::Kind::kPreviousTier:
        op = Operand::Slot(plan_->previous_tier_slot);
        break;
      default:
        continue;
    }
    names_.emplace(n.name, DefinedEntry(n, op));
  }

  if (!spec_.segment_by.empty()) {
    int idx = m.FindInput(spec_.segment_by);
    const SourceLocation& loc = spec_.fields.Get("segment_by", spec_.location);
    if (idx < 0) {
      std::vector<std::string> ids;
      for (const auto& in : m.inputs_) ids.push_back(in.id);
      Error(loc, absl::StrCat("segment_by names '", spec_.segment_by,
                              "', which is not an input"),
            DidYouMean(spec_.segment_by, ids));
    } else if (m.inputs_[idx].type != InputType::kString) {
      Error(loc, absl::StrCat("segment_by must name a string input; '",
                              spec_.segment_by, "' is a ",
                              InputTypeName(m.inputs_[idx].type)));
    } else {
      m.segment_input_ = idx;
      input_used_[idx] = true;
      plan_->segment_column = m.inputs_[idx].column;
      segment_operand_ =
          Operand::Slot(plan_->string_slot[m.inputs_[idx].column]);
    }
  }
}

void ModelCompiler::CompileDerived() {
  CompiledModel& m = *model_;
  const size_t n = spec_.derived.size();
  derived_done_.assign(n, false);
  std::vector<int> index_of_spec(n, -1);
  for (size_t i = 0; i < n; ++i) {
    const DerivedSpec& d = spec_.derived[i];
    derived_exprs_.push_back(
        d.uses_plugin ? ParsedExpr{&d.expr, nullptr}
                      : ParseExpr(d.expr, "derived expression", d.location));
    Entry e;
    e.derived = static_cast<int>(i);
    e.ref = {d.id, ValueRef::Kind::kDerived, static_cast<int>(i)};
    if (IsReservedName(d.id)) {
      Error(d.fields.Get("id", d.location),
            absl::StrCat("'", d.id, "' is a reserved name"),
            ReservedNamesHint());
      continue;
    }
    if (names_.count(d.id)) {
      Error(d.fields.Get("id", d.location),
            absl::StrCat("duplicate id '", d.id, "'"),
            "ids of inputs and derived values share one namespace");
      continue;
    }
    names_.emplace(d.id, e);
    index_of_spec[i] = static_cast<int>(i);
  }
  // Before any derived value is checked: the checker needs the codes of
  // the literals compared with string inputs.
  for (const auto& p : derived_exprs_) {
    if (p.root) InternLiterals(*p.root);
  }
  // Order by dependencies; report cycles with their path.
  std::vector<std::vector<int>> deps(n);
  for (size_t i = 0; i < n; ++i) {
    std::vector<std::string> ids;
    if (spec_.derived[i].uses_plugin) {
      ids = spec_.derived[i].inputs;
    } else if (derived_exprs_[i].root) {
      expr::CollectIdentifiers(*derived_exprs_[i].root, &ids);
    }
    for (const auto& id : ids) {
      auto it = names_.find(id);
      if (it != names_.end() && it->second.derived >= 0) {
        deps[i].push_back(it->second.derived);
      }
    }
  }
  // Depth-first, with an explicit stack: a chain of thousands of derived
  // values, each reading the previous one, must not recurse as deep. The
  // values in cycles are found as strong components (Gabow's path-based
  // algorithm: `open` holds the values visited and not yet in a finished
  // component, `roots` where in `open` each component still open begins),
  // and each edge back to a value being visited is reported as a cycle;
  // all of it linear in the values and edges, however many cycles.
  std::vector<int> state(n, 0), order;  // 0 new, 1 being visited, 2 done
  std::vector<int> path;                // the values being visited
  std::vector<size_t> next_dep;         // per entry of `path`: next dep
  std::vector<size_t> path_index(n, 0);
  std::vector<int> open;
  std::vector<size_t> open_index(n, 0);
  std::vector<bool> closed(n, false);   // in a finished component
  std::vector<size_t> roots;
  std::vector<bool> in_cycle(n, false);
  auto report_cycle = [&](int v) {
    // path[from..] and back to v; a long cycle is named by its ends.
    constexpr size_t kShown = 5;
    const size_t from = path_index[v];
    const size_t length = path.size() - from + 1;
    std::vector<std::string> names;
    for (size_t j = from; j < path.size(); ++j) {
      if (length > 2 * kShown + 1 && j == from + kShown) {
        names.push_back(absl::StrCat("(", length - 2 * kShown, " more)"));
        j = path.size() - (kShown - 1);
      }
      names.push_back(spec_.derived[path[j]].id);
    }
    names.push_back(spec_.derived[v].id);
    in_cycle[v] = true;  // a value reading itself is a component of one
    const DerivedSpec& d = spec_.derived[v];
    Error(d.fields.Get(d.uses_plugin ? "inputs" : "expr", d.location),
          absl::StrCat("derived values depend on each other in a cycle: ",
                       absl::StrJoin(names, " -> ")),
          "break the cycle: a derived value cannot read itself");
  };
  auto enter = [&](int v) {
    state[v] = 1;
    path_index[v] = path.size();
    path.push_back(v);
    next_dep.push_back(0);
    open_index[v] = open.size();
    open.push_back(v);
    roots.push_back(open_index[v]);
  };
  for (size_t i = 0; i < n; ++i) {
    if (state[i] != 0) continue;
    enter(static_cast<int>(i));
    while (!path.empty()) {
      const int v = path.back();
      if (next_dep.back() < deps[v].size()) {
        const int w = deps[v][next_dep.back()++];
        if (state[w] == 0) {
          enter(w);
          continue;
        }
        if (state[w] == 1) report_cycle(w);
        if (!closed[w]) {
          while (roots.back() > open_index[w]) roots.pop_back();
        }
        continue;
      }
      path.pop_back();
      next_dep.pop_back();
      state[v] = 2;
      order.push_back(v);
      if (roots.back() == open_index[v]) {
        roots.pop_back();
        const bool cycle = open.size() - open_index[v] > 1;
        while (open.size() > open_index[v]) {
          closed[open.back()] = true;
          if (cycle) in_cycle[open.back()] = true;
          open.pop_back();
        }
      }
    }
  }

  m.derived_.resize(n);
  plan_->derived.resize(n);
  for (size_t i = 0; i < n; ++i) {
    m.derived_[i].id = spec_.derived[i].id;
    m.derived_[i].description = spec_.derived[i].description;
    m.derived_[i].expr = spec_.derived[i].uses_plugin
                             ? "plugin " + PluginCallText(spec_.derived[i])
                             : spec_.derived[i].expr.text;
  }
  for (int i : order) {
    if (in_cycle[i] || index_of_spec[i] < 0) continue;
    if (spec_.derived[i].uses_plugin) {
      CompilePluginSignal(i);
      continue;
    }
    ParsedExpr& p = derived_exprs_[i];
    if (!p.root) continue;
    MarkUsed(*p.root);
    expr::CheckResult r = CheckExpr(&p, "derived expression");
    if (!r.ok()) continue;
    const DerivedSpec& d = spec_.derived[i];
    if (r.type != Type::kNumber && r.type != Type::kBool) {
      Error(d.fields.Get("expr", d.location),
            absl::StrCat("derived value '", d.id, "' is a ",
                         expr::TypeName(r.type),
                         "; derived values must be numbers or bools"),
            r.type == Type::kDate ? "use days_since(d) to turn a date into "
                                    "a number of days"
                                  : "");
      continue;
    }
    Operand op = builder_.Emit(*p.root);
    Entry& e = names_.find(d.id)->second;
    e.symbol.type = r.type;
    e.symbol.ref = op;
    e.symbol.lo = p.root->lo;
    e.symbol.hi = p.root->hi;
    e.symbol.may_be_missing = p.root->may_be_missing;
    m.derived_[i].is_bool = r.type == Type::kBool;
    plan_->derived[i] = op;
    derived_done_[i] = true;
  }
}

bool ModelCompiler::CheckNormalize(const NormalizeSpec& n,
                                   const SourceLocation& where) {
  const SourceLocation& loc = n.location.line ? n.location : where;
  switch (n.kind) {
    case NormalizeSpec::Kind::kNone:
      Error(loc, "missing normalisation",
            "add normalize: with one of linear, steps, piecewise, logistic, "
            "identity");
      return false;
    case NormalizeSpec::Kind::kLinear:
      if (n.bad == n.good) {
        Error(n.fields.Get("good", loc),
              absl::StrFormat("linear thresholds are equal (bad = good = %s)",
                              FormatNumber(n.good)),
              "bad is where the score is 0 and good where it is 100: they "
              "must differ");
        return false;
      }
      return true;
    case NormalizeSpec::Kind::kSteps: {
      if (n.steps.empty()) {
        Error(loc, "steps needs at least one step");
        return false;
      }
      bool ok = true;
      for (size_t i = 0; i < n.steps.size(); ++i) {
        const auto& s = n.steps[i];
        const SourceLocation& sl = s.location.line ? s.location : loc;
        const bool last = i + 1 == n.steps.size();
        if (last && s.below) {
          Error(sl, "the last step must have no 'below': it catches every "
                    "larger value",
                absl::StrFormat("add a final step {score: ...} after below "
                                "%s",
                                FormatNumber(*s.below)));
          ok = false;
        }
        if (!last && !s.below) {
          Error(sl, "only the last step may omit 'below'");
          ok = false;
        }
        if (i > 0 && s.below && n.steps[i - 1].below &&
            !(*s.below > *n.steps[i - 1].below)) {
          Error(sl,
                *s.below == *n.steps[i - 1].below
                    ? absl::StrFormat("step thresholds are equal (below %s "
                                      "twice)",
                                      FormatNumber(*s.below))
                    : absl::StrFormat("step thresholds must increase: below "
                                      "%s comes after below %s",
                                      FormatNumber(*s.below),
                                      FormatNumber(*n.steps[i - 1].below)));
          ok = false;
        }
        if (s.score < 0 || s.score > 100) {
          Error(sl, absl::StrFormat("step score %s is outside 0..100",
                                    FormatNumber(s.score)));
          ok = false;
        }
      }
      return ok;
    }
    case NormalizeSpec::Kind::kPiecewise: {
      if (n.points.size() < 2) {
        Error(loc, "piecewise needs at least two points");
        return false;
      }
      bool ok = true;
      for (size_t i = 0; i < n.points.size(); ++i) {
        const auto& p = n.points[i];
        const SourceLocation& pl = p.location.line ? p.location : loc;
        if (i > 0 && !(p.x > n.points[i - 1].x)) {
          Error(pl, p.x == n.points[i - 1].x
                        ? absl::StrFormat("piecewise points share x = %s",
                                          FormatNumber(p.x))
                        : absl::StrFormat("piecewise x must increase: %s "
                                          "comes after %s",
                                          FormatNumber(p.x),
                                          FormatNumber(n.points[i - 1].x)));
          ok = false;
        }
        if (p.score < 0 || p.score > 100) {
          Error(pl, absl::StrFormat("piecewise score %s is outside 0..100",
                                    FormatNumber(p.score)));
          ok = false;
        }
      }
      return ok;
    }
    case NormalizeSpec::Kind::kLogistic:
      if (n.scale == 0) {
        Error(n.fields.Get("scale", loc), "logistic scale must not be 0",
              "scale is how many units move the score from 50 to about 73");
        return false;
      }
      return true;
    case NormalizeSpec::Kind::kIdentity:
      return true;
  }
  return false;
}

expr::Normalization ModelCompiler::ToNormalization(const NormalizeSpec& n) {
  expr::Normalization out;
  switch (n.kind) {
    case NormalizeSpec::Kind::kLinear:
      out.kind = expr::Normalization::Kind::kLinear;
      out.bad = n.bad;
      out.good = n.good;
      break;
    case NormalizeSpec::Kind::kSteps:
      out.kind = expr::Normalization::Kind::kSteps;
      for (const auto& s : n.steps) {
        if (s.below) out.below.push_back(*s.below);
        out.step_scores.push_back(s.score);
      }
      break;
    case NormalizeSpec::Kind::kPiecewise:
      out.kind = expr::Normalization::Kind::kPiecewise;
      for (const auto& p : n.points) {
        out.xs.push_back(p.x);
        out.ys.push_back(p.score);
      }
      break;
    case NormalizeSpec::Kind::kLogistic:
      out.kind = expr::Normalization::Kind::kLogistic;
      out.midpoint = n.midpoint;
      out.scale = n.scale;
      break;
    default:
      out.kind = expr::Normalization::Kind::kIdentity;
  }
  return out;
}

void ModelCompiler::CompileSignals() {
  CompiledModel& m = *model_;
  const bool segmented = m.segment_input_ >= 0;
  if (segmented) {
    // Without declared values, overrides declare the segments. They join
    // the dictionary before any per-segment table is sized by it.
    const int col = m.inputs_[m.segment_input_].column;
    if (m.inputs_[m.segment_input_].values.empty()) {
      for (const GroupSpec& g : spec_.groups) {
        for (const SignalSpec& s : g.signals) {
          for (const SignalOverrideSpec& o : s.overrides) {
            if (m.string_codes_[col].contains(o.segment)) continue;
            m.string_codes_[col][o.segment] =
                static_cast<int32_t>(m.string_values_[col].size());
            m.string_values_[col].push_back(o.segment);
          }
        }
      }
    }
    segment_rows_ =
        2 + static_cast<int>(
                m.string_values_[m.inputs_[m.segment_input_].column].size());
  }
  if (spec_.groups.empty()) {
    Error(spec_.fields.Get("groups", spec_.location),
          "the model has no groups", "add at least one group with signals");
    return;
  }
  std::set<std::string> group_ids;
  // Weights need not sum to 1: each is divided by the sum of its
  // siblings (documented), so a sum other than 1 is no mistake.
  double group_weight_sum = 0;
  for (const GroupSpec& g : spec_.groups) {
    if (!group_ids.insert(g.id).second) {
      Error(g.fields.Get("id", g.location),
            absl::StrCat("duplicate group id '", g.id, "'"));
    }
    if (!(g.weight > 0)) {
      Error(g.fields.Get("weight", g.location),
            absl::StrFormat("group '%s' has weight %s; weights must be "
                            "positive",
                            g.id, FormatNumber(g.weight)),
            "remove the group, or give it a weight above 0");
    } else {
      group_weight_sum += g.weight;
    }
  }

  // Signal weights per segment row, to size every table the same way.
  std::map<std::string, int> signal_ids;
  std::vector<std::vector<double>> weight_rows;  // [segrow][signal]
  weight_rows.assign(segment_rows_, {});
  std::vector<Operand> norm_ops;
  std::vector<int> signal_group;

  for (size_t gi = 0; gi < spec_.groups.size(); ++gi) {
    const GroupSpec& g = spec_.groups[gi];
    GroupInfo ginfo;
    ginfo.id = g.id;
    ginfo.name = g.name.empty() ? g.id : g.name;
    ginfo.description = g.description;
    ginfo.weight = g.weight;
    ginfo.share = group_weight_sum > 0 ? g.weight / group_weight_sum : 0;
    if (g.signals.empty()) {
      Error(g.fields.Get("signals", g.location),
            absl::StrCat("group '", g.id, "' has no signals"));
    }
    for (const SignalSpec& s : g.signals) {
      const SourceLocation& sloc = s.fields.Get("id", s.location);
      if (signal_ids.count(s.id)) {
        Error(sloc, absl::StrCat("duplicate signal id '", s.id, "'"),
              "signal ids are unique across the whole model");
        continue;
      }
      signal_ids[s.id] = static_cast<int>(m.signals_.size());
      bool ok = true;
      if (!(s.weight > 0)) {
        Error(s.fields.Get("weight", s.location),
              absl::StrFormat("signal '%s' has weight %s; weights must be "
                              "positive",
                              s.id, FormatNumber(s.weight)),
              "remove the signal, or give it a weight above 0");
        ok = false;
      }
      // Source: a number input or a numeric derived value.
      Operand raw;
      auto it = names_.find(s.source);
      const SourceLocation& src_loc = s.fields.Get("source", s.location);
      if (it == names_.end() || it->second.defined) {
        std::vector<std::string> candidates;
        for (const auto& [name, e] : names_) {
          if (e.input >= 0 || e.derived >= 0) candidates.push_back(name);
        }
        Error(src_loc,
              absl::StrCat("signal '", s.id, "' reads '", s.source,
                           "', which is neither an input nor a derived value"),
              DidYouMean(s.source, candidates));
        ok = false;
      } else {
        const Entry& e = it->second;
        if (e.input >= 0) input_used_[e.input] = true;
        if (e.derived >= 0 && !derived_done_[e.derived]) {
          ok = false;  // its own error was reported
        } else if (e.symbol.type != Type::kNumber) {
          Error(src_loc,
                absl::StrCat("signal '", s.id, "' reads '", s.source,
                             "', a ", expr::TypeName(e.symbol.type),
                             "; a signal's source must be a number"),
                e.symbol.type == Type::kDate
                    ? "derive a number first, e.g. days_since(" + s.source +
                          ")"
                : e.symbol.type == Type::kSeries
                    ? "derive a number first, e.g. mean_last(" + s.source +
                          ", 4)"
                : e.symbol.type == Type::kBool
                    ? "derive a number first, e.g. (" + s.source +
                          " ? 1 : 0), and normalise it"
                    : "");
          ok = false;
        } else {
          raw = e.symbol.ref;
        }
      }
      ok = CheckNormalize(s.normalize, s.location) && ok;
      // Overrides.
      std::vector<std::pair<int, const SignalOverrideSpec*>> rows;
      for (const SignalOverrideSpec& o : s.overrides) {
        const SourceLocation& oloc = o.location;
        if (!segmented) {
          Error(oloc,
                absl::StrCat("signal '", s.id, "' overrides segment '",
                             o.segment, "' but the model has no segment_by"),
                "add segment_by: <a string input> at the top of the model");
          ok = false;
          continue;
        }
        const int col = m.inputs_[m.segment_input_].column;
        int32_t code = m.StringCode(col, o.segment);
        if (code < 0) {
          const InputInfo& seg = m.inputs_[m.segment_input_];
          Error(oloc,
                absl::StrCat("'", o.segment, "' is not a value of '", seg.id,
                             "'"),
                DidYouMean(o.segment, seg.values));
          ok = false;
          continue;
        }
        if (o.weight && !(*o.weight > 0)) {
          Error(o.fields.Get("weight", oloc),
                absl::StrFormat("override weight %s for '%s' must be "
                                "positive",
                                FormatNumber(*o.weight), o.segment));
          ok = false;
        }
        if (o.normalize && !CheckNormalize(*o.normalize, oloc)) ok = false;
        rows.push_back({expr::SegmentIndex(code), &o});
      }
      SignalInfo info;
      info.id = s.id;
      info.name = s.name.empty() ? s.id : s.name;
      info.description = s.description;
      info.source = s.source;
      info.group = static_cast<int>(gi);
      info.weight = s.weight;
      info.normalize = ok ? ToNormalization(s.normalize).ToString() : "";
      const int si = static_cast<int>(m.signals_.size());
      m.signal_index_[s.id] = si;
      m.signals_.push_back(info);
      ginfo.signals.push_back(si);
      signal_group.push_back(static_cast<int>(gi));
      for (auto& row : weight_rows) row.push_back(s.weight);
      for (const auto& [row, o] : rows) {
        if (o->weight) weight_rows[row][si] = *o->weight;
      }
      if (!ok) {
        norm_ops.push_back(Operand());
        plan_->signal_raw.push_back(Operand());
        plan_->signal_normalization.emplace_back();
        plan_->signal_normalization_per_segment.push_back(1);
        continue;
      }
      expr::NormTable table;
      table.specs.push_back(ToNormalization(s.normalize));
      bool any_norm_override = false;
      for (const auto& [row, o] : rows) any_norm_override |= o->normalize.has_value();
      plan_->signal_normalization.push_back(table.specs[0]);
      plan_->signal_normalization_per_segment.push_back(any_norm_override ? 1
                                                                          : 0);
      if (any_norm_override) {
        table.segment = segment_operand_;
        table.spec_by_segment.assign(segment_rows_, 0);
        for (const auto& [row, o] : rows) {
          if (!o->normalize) continue;
          table.spec_by_segment[row] = static_cast<int>(table.specs.size());
          table.specs.push_back(ToNormalization(*o->normalize));
        }
      }
      norm_ops.push_back(builder_.Normalize(raw, std::move(table)));
      plan_->signal_raw.push_back(raw);
    }
    m.group_index_[g.id] = static_cast<int>(m.groups_.size());
    m.groups_.push_back(std::move(ginfo));
  }
  if (diags_->has_errors()) return;

  plan_->signal_score = norm_ops;
  const bool per_segment = segmented && [&] {
    for (const auto& row : weight_rows) {
      if (row != weight_rows[0]) return true;
    }
    return false;
  }();
  if (!per_segment) weight_rows.resize(1);
  plan_->signal_weight = weight_rows;

  // Shares, per segment row: (w / group sum) * (group weight / total).
  std::vector<std::vector<double>> shares(weight_rows.size(),
                                          std::vector<double>(m.signals_.size()));
  for (size_t r = 0; r < weight_rows.size(); ++r) {
    for (const GroupInfo& g : m.groups_) {
      double sum = 0;
      for (int s : g.signals) sum += weight_rows[r][s];
      for (int s : g.signals) {
        shares[r][s] = weight_rows[r][s] / sum * g.share;
      }
    }
  }
  for (size_t s = 0; s < m.signals_.size(); ++s) m.signals_[s].share = shares[0][s];

  for (const GroupInfo& g : m.groups_) {
    expr::MeanTable t;
    if (per_segment) t.segment = segment_operand_;
    for (int s : g.signals) t.members.push_back(norm_ops[s]);
    for (const auto& row : weight_rows) {
      std::vector<double> w;
      for (int s : g.signals) w.push_back(row[s]);
      t.weights.push_back(std::move(w));
    }
    plan_->group_score.push_back(builder_.WeightedMean(std::move(t)));
  }
  expr::MeanTable overall;
  overall.members = plan_->group_score;
  std::vector<double> gw;
  for (const GroupInfo& g : m.groups_) gw.push_back(g.weight);
  overall.weights.push_back(gw);
  plan_->score = builder_.WeightedMean(std::move(overall));

  expr::CoverageTable cov;
  if (per_segment) cov.segment = segment_operand_;
  cov.members = norm_ops;
  cov.shares = shares;
  plan_->coverage = builder_.Coverage(std::move(cov));
}

void ModelCompiler::CompileTiers() {
  CompiledModel& m = *model_;
  if (spec_.tiers.empty()) {
    Error(spec_.fields.Get("tiers", spec_.location), "the model has no tiers",
          "add tiers, e.g. green min 80, yellow min 50, red min 0");
    return;
  }
  std::vector<const TierSpec*> sorted;
  std::set<std::string> ids;
  bool ok = true;
  for (const TierSpec& t : spec_.tiers) {
    if (t.id == kInsufficientDataTierId) {
      Error(t.fields.Get("id", t.location),
            "'insufficient_data' is reserved for accounts below minimum "
            "coverage");
      ok = false;
    }
    if (!ids.insert(t.id).second) {
      Error(t.fields.Get("id", t.location),
            absl::StrCat("duplicate tier id '", t.id, "'"));
      ok = false;
    }
    if (t.min < 0 || t.min > 100) {
      Error(t.fields.Get("min", t.location),
            absl::StrFormat("tier '%s' starts at %s, outside 0..100", t.id,
                            FormatNumber(t.min)));
      ok = false;
    }
    sorted.push_back(&t);
  }
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const TierSpec* a, const TierSpec* b) {
                     return a->min > b->min;
                   });
  for (size_t i = 0; i < sorted.size(); ++i) {
    const TierSpec& t = *sorted[i];
    if (i > 0 && sorted[i - 1]->min == t.min) {
      Error(t.fields.Get("min", t.location),
            absl::StrFormat("tiers '%s' and '%s' both start at %s: they "
                            "overlap",
                            sorted[i - 1]->id, t.id, FormatNumber(t.min)),
            "give each tier its own min");
      ok = false;
    }
    if (t.max) {
      const double expected = i == 0 ? 100 : sorted[i - 1]->min;
      if (*t.max != expected) {
        const bool gap = *t.max < expected;
        Error(t.fields.Get("max", t.location),
              i == 0 ? absl::StrFormat("tier '%s' is the highest, so its max "
                                       "must be 100, not %s",
                                       t.id, FormatNumber(*t.max))
                     : absl::StrFormat("tier '%s' ends at %s but '%s' starts "
                                       "at %s: %s",
                                       t.id, FormatNumber(*t.max),
                                       sorted[i - 1]->id,
                                       FormatNumber(expected),
                                       gap ? "scores in between have no tier"
                                           : "the tiers overlap"),
              absl::StrFormat("max is exclusive: set max: %s (or leave it "
                              "out)",
                              FormatNumber(expected)));
        ok = false;
      }
    }
  }
  if (!sorted.empty() && sorted.back()->min != 0) {
    const TierSpec& t = *sorted.back();
    Error(t.fields.Get("min", t.location),
          absl::StrFormat("the lowest tier '%s' starts at %s, so scores "
                          "below %s have no tier",
                          t.id, FormatNumber(t.min), FormatNumber(t.min)),
          "set the lowest tier's min to 0");
    ok = false;
  }
  if (spec_.min_coverage < 0 || spec_.min_coverage > 1) {
    Error(spec_.fields.Get("min_coverage", spec_.location),
          absl::StrFormat("min_coverage %s is outside 0..1",
                          FormatNumber(spec_.min_coverage)));
    ok = false;
  }
  if (spec_.hysteresis < 0) {
    Error(spec_.fields.Get("hysteresis", spec_.location),
          absl::StrFormat("hysteresis %s must not be negative",
                          FormatNumber(spec_.hysteresis)));
    ok = false;
  }
  for (size_t i = 0; i < sorted.size(); ++i) {
    const TierSpec& t = *sorted[i];
    TierInfo info;
    info.id = t.id;
    info.name = t.name.empty() ? t.id : t.name;
    info.color = t.color;
    info.description = t.description;
    info.min = t.min;
    info.max = i == 0 ? 100 : sorted[i - 1]->min;
    m.tier_index_[t.id] = static_cast<int>(m.tiers_.size());
    m.tiers_.push_back(info);
  }
  if (!ok || diags_->has_errors()) return;

  expr::TierTable table;
  for (size_t i = 0; i < m.tiers_.size(); ++i) {
    table.mins.push_back(m.tiers_[i].min);
    table.maxs.push_back(i == 0 ? std::numeric_limits<double>::infinity()
                                : m.tiers_[i].max);
  }
  table.min_coverage = spec_.min_coverage;
  table.hysteresis = spec_.hysteresis;
  plan_->tier = builder_.Tier(plan_->score, plan_->coverage,
                              Operand::Slot(plan_->previous_tier_slot),
                              std::move(table));
  plan_->delta = builder_.Subtract(plan_->score,
                                   Operand::Slot(plan_->previous_score_slot));
  plan_->tier_changed = builder_.TierChanged(
      Operand::Slot(plan_->previous_tier_slot), plan_->tier.tier);
}

void ModelCompiler::CompilePlaybooks() {
  CompiledModel& m = *model_;
  // Model outputs become names for playbook conditions.
  // After earlier errors some outputs were never planned; the conditions
  // are still checked so that their mistakes show in the same pass.
  auto at = [](const std::vector<Operand>& v, int i) {
    return i >= 0 && static_cast<size_t>(i) < v.size() ? v[i] : Operand();
  };
  for (const ModelName& n : ModelDefinedNames(m)) {
    Operand op;
    switch (n.kind) {
      case ModelName::Kind::kScore: op = plan_->score; break;
      case ModelName::Kind::kCoverage: op = plan_->coverage; break;
      case ModelName::Kind::kTier: op = plan_->tier.tier; break;
      case ModelName::Kind::kScoreDelta: op = plan_->delta; break;
      case ModelName::Kind::kTierChanged: op = plan_->tier_changed; break;
      case ModelName::Kind::kGroup: op = at(plan_->group_score, n.index); break;
      case ModelName::Kind::kSignalScore:
        op = at(plan_->signal_score, n.index);
        break;
      case ModelName::Kind::kSignalRaw:
        op = at(plan_->signal_raw, n.index);
        break;
      default:
        continue;  // read before scoring, added by CompileInputs
    }
    names_.emplace(n.name, DefinedEntry(n, op));
  }
  scope_.kind = ConditionKind::kPlaybook;

  const int32_t insufficient = static_cast<int32_t>(m.tiers_.size());
  std::set<std::string> ids;
  struct Planned {
    const PlaybookSpec* spec;
    size_t order;
    Operand when, success;
    std::vector<ValueRef> reads;
  };
  std::vector<Planned> planned;
  for (size_t i = 0; i < spec_.playbooks.size(); ++i) {
    const PlaybookSpec& p = spec_.playbooks[i];
    if (!ids.insert(p.id).second) {
      Error(p.fields.Get("id", p.location),
            absl::StrCat("duplicate playbook id '", p.id, "'"));
      continue;
    }
    if (p.priority < 1) {
      Error(p.fields.Get("priority", p.location),
            absl::StrFormat("priority %d must be 1 or more (1 is the most "
                            "urgent)",
                            p.priority));
    }
    Planned out{&p, i, Operand(), Operand(), {}};
    ParsedExpr& when = when_exprs_[i];
    if (when.root) {
      MarkUsed(*when.root);
      expr::CheckResult r = CheckExpr(&when, "playbook condition");
      if (r.ok()) {
        if (r.type != Type::kBool) {
          Error(p.when.location,
                absl::StrCat("playbook '", p.id, "': `when` must be a "
                             "condition (true/false), got a ",
                             expr::TypeName(r.type)),
                "compare it, e.g. score < 50");
        } else if (r.truth == expr::Truth::kNever) {
          // The same words as lint's finding (lint.h), which knows more
          // about the scores a model can reach.
          Error(p.when.location,
                absl::StrCat("playbook '", p.id, "' can never trigger: ",
                             r.never_true),
                "fix the condition, or remove the playbook");
        } else if (!diags_->has_errors()) {
          out.when = builder_.Gate(builder_.Emit(*when.root),
                                   plan_->tier.tier, insufficient);
          std::set<std::string> seen;
          CollectReads(*when.root, &seen, &out.reads);
        }
      }
    }
    ParsedExpr& success = success_exprs_[i];
    if (success.root) {
      MarkUsed(*success.root);
      expr::CheckResult r = CheckExpr(&success, "success condition");
      if (r.ok() && r.type != Type::kBool) {
        Error(p.success.location,
              absl::StrCat("playbook '", p.id, "': `success` must be a "
                           "condition (true/false), got a ",
                           expr::TypeName(r.type)));
      } else if (r.ok() && !diags_->has_errors()) {
        out.success = builder_.Emit(*success.root);
      }
    }
    planned.push_back(std::move(out));
  }
  std::stable_sort(planned.begin(), planned.end(),
                   [](const Planned& a, const Planned& b) {
                     return a.spec->priority < b.spec->priority;
                   });
  for (Planned& p : planned) {
    PlaybookInfo info;
    info.id = p.spec->id;
    info.name = p.spec->name;
    info.owner = p.spec->owner;
    info.description = p.spec->description;
    info.priority = p.spec->priority;
    info.when = p.spec->when.text;
    info.success = p.spec->success.text;
    info.steps = p.spec->steps;
    m.playbooks_.push_back(std::move(info));
    plan_->playbook_matched.push_back(p.when);
    plan_->playbook_success.push_back(p.success);
    plan_->playbook_reads.push_back(std::move(p.reads));
  }
}

void ModelCompiler::WarnUnused() {
  for (const LoadedPlugin& p : plugins_) {
    if (p.used) continue;
    Warning(p.spec->fields.Get("id", p.spec->location),
            absl::StrCat("plugin '", p.spec->id,
                         "' is declared but no derived value uses it"),
            "remove it, or use it in a derived value: {id: ..., plugin: " +
                p.spec->id + ", signal: ...}");
  }
  for (size_t i = 0; i < spec_.inputs.size() && i < input_used_.size(); ++i) {
    if (input_used_[i]) continue;
    const InputSpec& in = spec_.inputs[i];
    Warning(in.fields.Get("id", in.location),
            absl::StrCat("input '", in.id, "' is declared but nothing reads "
                         "it"),
            "remove it, or use it in a derived value, signal or playbook");
  }
}
std::shared_ptr<const CompiledModel> ModelCompiler::Run() {
  CompiledModel& m = *model_;
  m.name_ = spec_.name;
  m.version_ = spec_.version;
  m.description_ = spec_.description;
  m.owner_ = spec_.owner;
  m.file_ = spec_.file;
  m.min_coverage_ = spec_.min_coverage;
  m.hysteresis_ = spec_.hysteresis;

  // The budget is looked at between phases; each phase is linear in the
  // spec, whose size the loader bounded.
  if (OutOfBudget()) return nullptr;
  CompileInputs();
  if (OutOfBudget()) return nullptr;
  CompilePlugins();
  if (OutOfBudget()) return nullptr;
  // Parse every expression first: string literals must be in their
  // dictionaries before any per-segment table is sized.
  for (const PlaybookSpec& p : spec_.playbooks) {
    if (OutOfBudget()) return nullptr;
    when_exprs_.push_back(ParseExpr(p.when, "playbook condition", p.location));
    if (p.success.empty()) {
      success_exprs_.push_back(ParsedExpr{&p.success, nullptr});
    } else {
      success_exprs_.push_back(
          ParseExpr(p.success, "success condition", p.location));
    }
  }
  CompileDerived();
  if (OutOfBudget()) return nullptr;
  for (const auto& p : when_exprs_) {
    if (p.root) InternLiterals(*p.root);
  }
  for (const auto& p : success_exprs_) {
    if (p.root) InternLiterals(*p.root);
  }
  // Tiers are needed by playbook checks; signals before tiers because the
  // tier step reads the score.
  CompileSignals();
  if (OutOfBudget()) return nullptr;
  CompileTiers();
  CompilePlaybooks();
  if (OutOfBudget()) return nullptr;
  WarnUnused();
  if (diags_->has_errors()) return nullptr;

  plan_->slot_count = plan_->previous_tier_slot + 1;
  plan_->program = builder_.Build();

  // Content hash.
  m.hash_ = ModelHash(CanonicalText());
  for (const auto& d : diags_->items()) {
    if (d.severity == Severity::kWarning) m.warnings_.Add(d);
  }
  m.plan_ = std::move(plan_);
  return model_;
}

CompileResult Compile(const ModelSpec& spec, const CompileOptions& options) {
  CompileResult r;
  if (spec.unreadable) {
    r.status = options.budget.Check();
    return r;
  }
  ModelCompiler compiler(spec, options, &r.diagnostics);
  r.model = compiler.Run();
  r.status = compiler.budget_status();
  if (!r.status.ok()) r.model = nullptr;
  r.diagnostics.SortByLocation();
  return r;
}

CompileResult CompileString(std::string_view text, const std::string& file,
                            const CompileOptions& options) {
  CompileResult r;
  ModelLoadOptions load;
  load.yaml = options.yaml;
  load.budget = options.budget;
  ModelSpec spec = LoadModelSpecFromString(text, file, &r.diagnostics, load);
  if (spec.unreadable) {
    // A syntax error, a limit, an empty file: the loader's error is the
    // whole story (no "the model has no groups" after it).
    r.status = options.budget.Check();
    return r;
  }
  if (r.diagnostics.has_errors()) {
    // Keep checking what could be read, so that every problem shows in one
    // pass; but a line the loader already faulted would only repeat its
    // error in other words, so compiler findings there are dropped.
    std::set<int> faulted;
    for (const auto& d : r.diagnostics.items()) faulted.insert(d.location.line);
    CompileResult more = Compile(spec, options);
    r.status = more.status;
    for (const auto& d : more.diagnostics.items()) {
      if (!faulted.count(d.location.line)) r.diagnostics.Add(d);
    }
    r.diagnostics.SortByLocation();
    return r;
  }
  CompileResult c = Compile(spec, options);
  r.status = c.status;
  r.model = c.model;
  r.diagnostics.Append(c.diagnostics);
  r.diagnostics.SortByLocation();
  return r;
}

CompileResult CompileFile(const std::string& path,
                          const CompileOptions& options) {
  absl::StatusOr<std::string> text = ReadYamlFile(path, options.yaml);
  if (!text.ok()) {
    CompileResult r;
    if (absl::IsResourceExhausted(text.status())) {
      // The message already starts with the path.
      const std::string message(text.status().message());
      r.diagnostics.Error({path, 0, 0}, message.substr(std::min(
                                            message.size(), path.size() + 2)));
    } else {
      r.diagnostics.Error({path, 0, 0}, "cannot read the model file",
                          "check the path and its permissions");
    }
    return r;
  }
  return CompileString(*text, path, options);
}

absl::StatusOr<std::shared_ptr<const CompiledModel>> LoadModel(
    const std::string& path, const CompileOptions& options) {
  CompileResult r = CompileFile(path, options);
  if (!r.status.ok()) return r.status;
  if (!r.model) return r.diagnostics.ToStatus();
  return r.model;
}

}  // namespace healthscore::engine::model
