// The model compiler's state, shared by the files that implement it:
// compiler.cc (the phases and Compile), compiler_plugins.cc (binding a
// model's `plugins:` and plugin signals) and model_hash.cc (the canonical
// text behind CompiledModel::hash()). Internal to engine/model.
//
// Thread-safety: one ModelCompiler compiles one spec on one thread.

#ifndef HEALTHSCORE_ENGINE_MODEL_INTERNAL_MODEL_COMPILER_H_
#define HEALTHSCORE_ENGINE_MODEL_INTERNAL_MODEL_COMPILER_H_

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "engine/expr/checker.h"
#include "engine/expr/parser.h"
#include "engine/expr/program.h"
#include "engine/model/compiled_model.h"
#include "engine/model/compiler.h"
#include "engine/model/condition_scope.h"
#include "engine/model/diagnostic.h"
#include "engine/model/model_plan.h"
#include "engine/model/model_spec.h"
#include "engine/plugin_host/plugin_library.h"

namespace healthscore::engine::model::internal {

// Builds a CompiledModel from a ModelSpec; friend of CompiledModel.
class ModelCompiler {
 public:
  using Operand = expr::Operand;
  using Type = expr::Type;
  using ValueRef = model::ValueRef;

  ModelCompiler(const ModelSpec& spec, const CompileOptions& options,
                DiagnosticList* diags)
      : spec_(spec),
        options_(options),
        diags_(diags),
        model_(new CompiledModel()),
        plan_(new ModelPlan()) {}

  std::shared_ptr<const CompiledModel> Run();
  // OK, or why the budget stopped the compile.
  const absl::Status& budget_status() const { return budget_status_; }

 private:
  bool OutOfBudget() {
    if (budget_status_.ok()) budget_status_ = options_.budget.Check();
    return !budget_status_.ok();
  }
  absl::Status budget_status_;

  // A name visible to expressions.
  struct Entry {
    expr::Symbol symbol;
    ValueRef ref;
    int string_column = -1;    // string inputs: their dictionary
    bool tier_symbol = false;  // tier / previous_tier
    // Names the model defines (condition_scope.h): which conditions read
    // them.
    std::optional<ModelName> defined;
    int input = -1;            // inputs: index, for "unused" warnings
    int derived = -1;          // derived: index, for dependencies
  };

  class ScopeImpl : public expr::Scope {
   public:
    explicit ScopeImpl(ModelCompiler* c) : c_(c) {}
    const expr::Symbol* Lookup(std::string_view name) const override {
      auto it = c_->names_.find(name);
      if (it == c_->names_.end() || !Visible(it->second)) return nullptr;
      return &it->second.symbol;
    }
    std::string Suggest(std::string_view name) const override {
      // A name the model has but this condition may not read says why.
      std::string why = WhyUnreadable(kind, *c_->model_, name);
      if (!why.empty()) return why;
      std::vector<std::string> candidates;
      for (const auto& [n, e] : c_->names_) {
        if (Visible(e)) candidates.push_back(n);
      }
      std::sort(candidates.begin(), candidates.end());
      return DidYouMean(name, candidates);
    }
    bool StringCode(const expr::Symbol& sym, std::string_view literal,
                    int32_t* code, std::string* error,
                    std::string* hint) override {
      return c_->LiteralCode(sym, literal, code, error, hint);
    }
    // What a condition of `kind` reads (condition_scope.h); derived values
    // once they are planned.
    bool Visible(const Entry& e) const {
      if (e.derived >= 0) {
        return CanReadDerived(kind) && c_->derived_done_[e.derived];
      }
      if (e.defined) return CanRead(kind, *e.defined);
      if (e.input >= 0) {
        return CanReadInput(kind, c_->model_->inputs_[e.input].type);
      }
      return true;
    }
    ConditionKind kind = ConditionKind::kDerived;

   private:
    ModelCompiler* c_;
  };

  // An entry for a name the model defines, read through `op`.
  static Entry DefinedEntry(const ModelName& n, Operand op);

  struct ParsedExpr {
    const ExprSource* source = nullptr;
    std::unique_ptr<expr::Node> root;
  };

  void Error(const SourceLocation& loc, std::string msg, std::string hint = "") {
    diags_->Error(loc, std::move(msg), std::move(hint));
  }
  void Warning(const SourceLocation& loc, std::string msg,
               std::string hint = "") {
    diags_->Warning(loc, std::move(msg), std::move(hint));
  }

  bool AddName(const std::string& name, Entry e, const SourceLocation& loc) {
    auto [it, inserted] = names_.emplace(name, std::move(e));
    if (!inserted) {
      Error(loc, absl::StrCat("duplicate id '", name, "'"),
            "ids of inputs and derived values share one namespace");
    }
    return inserted;
  }

  // `owner` locates an empty expression whose key was missing.
  ParsedExpr ParseExpr(const ExprSource& src, const char* what,
                       const SourceLocation& owner) {
    ParsedExpr p;
    p.source = &src;
    if (src.text.empty()) {
      Error(src.location.line ? src.location : owner,
            absl::StrCat(what, " is empty"), "write an expression");
      return p;
    }
    expr::ParseResult r = expr::Parse(src.text);
    if (!r.ok()) {
      Error(src.At(r.error.pos.line, r.error.pos.column),
            absl::StrCat("in ", what, ": ", r.error.message), r.error.hint);
      return p;
    }
    p.root = std::move(r.root);
    return p;
  }

  // Checks a parsed expression; reports errors at their file positions.
  expr::CheckResult CheckExpr(ParsedExpr* p, const char* what) {
    expr::CheckResult r = expr::Check(p->root.get(), &scope_);
    for (const auto& e : r.errors) {
      Error(p->source->At(e.pos.line, e.pos.column),
            absl::StrCat("in ", what, ": ", e.message), e.hint);
    }
    return r;
  }

  bool LiteralCode(const expr::Symbol& sym, std::string_view literal,
                   int32_t* code, std::string* error, std::string* hint);
  void InternLiterals(const expr::Node& n);
  // `seen` holds the names already in `out`.
  void CollectReads(const expr::Node& n, std::set<std::string>* seen,
                    std::vector<ValueRef>* out);
  void MarkUsed(const expr::Node& n);

  void CompileInputs();
  void CompilePlugins();
  void CompileDerived();
  void CompilePluginSignal(int i);
  bool PlanPluginSignal(int i);  // false when an error was reported
  bool CheckNormalize(const NormalizeSpec& n, const SourceLocation& where);
  static expr::Normalization ToNormalization(const NormalizeSpec& n);
  void CompileSignals();
  void CompileTiers();
  void CompilePlaybooks();
  void WarnUnused();
  std::string CanonicalText() const;

  // A `plugins:` entry; `instance` is null when it failed to load.
  struct LoadedPlugin {
    const PluginSpec* spec = nullptr;
    std::shared_ptr<plugin_host::PluginInstance> instance;
    bool used = false;
  };

  const ModelSpec& spec_;
  const CompileOptions& options_;
  DiagnosticList* diags_;
  std::shared_ptr<CompiledModel> model_;
  std::unique_ptr<ModelPlan> plan_;
  expr::ProgramBuilder builder_;
  ScopeImpl scope_{this};
  std::map<std::string, Entry, std::less<>> names_;
  std::vector<bool> derived_done_;
  std::vector<ParsedExpr> derived_exprs_;
  std::vector<ParsedExpr> when_exprs_, success_exprs_;
  std::vector<bool> input_used_;
  std::vector<LoadedPlugin> plugins_;
  std::map<std::string, int, std::less<>> plugin_index_;
  // Segment override tables: SegmentIndex -> row; size fixed after
  // CompileInputs + literal interning.
  int segment_rows_ = 1;
  Operand segment_operand_;
  std::vector<int> signal_of_spec_;  // flattened signal order
};

// How a plugin derived value reads in listings: "survey.nps(answers)".
std::string PluginCallText(const DerivedSpec& d);

}  // namespace healthscore::engine::model::internal

#endif  // HEALTHSCORE_ENGINE_MODEL_INTERNAL_MODEL_COMPILER_H_
