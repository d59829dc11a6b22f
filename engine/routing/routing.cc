#include "engine/routing/routing.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/expr/checker.h"
#include "engine/expr/parser.h"
#include "engine/expr/program.h"
#include "engine/model/condition_scope.h"

namespace healthscore::engine::routing {

using model::CompiledModel;
using model::DidYouMean;
using model::InputInfo;

namespace {

// The routing model's number, date and string inputs, each a slot.
class RouteScope : public expr::Scope {
 public:
  RouteScope(const CompiledModel& model,
             const std::vector<int>& slot_of_input,
             std::map<int, absl::flat_hash_map<std::string, int32_t>>* codes)
      : model_(model), codes_(codes) {
    for (size_t i = 0; i < model.inputs().size(); ++i) {
      const InputInfo& in = model.inputs()[i];
      if (slot_of_input[i] < 0) continue;  // CanReadInput said no
      expr::Symbol sym;
      sym.type = model::InputSymbolType(in.type);
      // Declared ranges are expectations, not guarantees (values outside
      // them still arrive), so the symbol keeps unbounded values.
      sym.ref = expr::Operand::Slot(slot_of_input[i]);
      symbols_[in.id] = sym;
      input_of_slot_[slot_of_input[i]] = static_cast<int>(i);
      names_.push_back(in.id);
    }
  }

  const expr::Symbol* Lookup(std::string_view name) const override {
    auto it = symbols_.find(std::string(name));
    if (it == symbols_.end()) return nullptr;
    read_.insert(it->second.ref.index);
    return &it->second;
  }

  // The slots the conditions checked so far read.
  const std::set<int>& read() const { return read_; }

  std::string Suggest(std::string_view name) const override {
    return DidYouMean(name, names_);
  }

  bool StringCode(const expr::Symbol& sym, std::string_view literal,
                  int32_t* code, std::string* error,
                  std::string* hint) override {
    auto it = input_of_slot_.find(sym.ref.index);
    if (it == input_of_slot_.end()) {
      *error = "string comparison with a value that is not a string input";
      return false;
    }
    const InputInfo& in = model_.inputs()[it->second];
    if (!in.values.empty() &&
        std::find(in.values.begin(), in.values.end(), literal) ==
            in.values.end()) {
      *error = absl::StrCat("'", std::string(literal),
                            "' is not a declared value of '", in.id,
                            "', so this comparison can never be true");
      *hint = DidYouMean(literal, in.values);
      if (hint->empty()) {
        *hint = absl::StrCat("values are: ", absl::StrJoin(in.values, ", "));
      }
      return false;
    }
    auto& dict = (*codes_)[sym.ref.index];
    auto [pos, inserted] = dict.emplace(std::string(literal),
                                        static_cast<int32_t>(dict.size()));
    *code = pos->second;
    return true;
  }

 private:
  const CompiledModel& model_;
  std::map<int, absl::flat_hash_map<std::string, int32_t>>* codes_;
  std::map<std::string, expr::Symbol> symbols_;
  std::map<int, int> input_of_slot_;
  std::vector<std::string> names_;
  mutable std::set<int> read_;
};

}  // namespace

Router::Router() = default;
Router::~Router() = default;

std::unique_ptr<const Router> Router::Create(
    const std::vector<RouteSpec>& routes, const CompiledModel& model,
    const Resolver& resolve, model::DiagnosticList* diags) {
  std::unique_ptr<Router> router(new Router());
  router->model_ = &model;
  router->routes_ = routes;
  const int errors_before = diags->error_count();

  // One slot per number, date and string input, in input order.
  expr::ProgramBuilder builder;
  std::vector<int> slot_of_input(model.inputs().size(), -1);
  for (size_t i = 0; i < model.inputs().size(); ++i) {
    const InputInfo& in = model.inputs()[i];
    if (!model::CanReadInput(model::ConditionKind::kRoute, in.type)) continue;
    const bool is_string = in.type == model::InputType::kString;
    slot_of_input[i] =
        builder.AddSlot(is_string ? expr::ValueKind::kStr
                                  : expr::ValueKind::kNum);
    Slot slot;
    slot.input = static_cast<int>(i);
    slot.column = in.column;
    slot.is_string = is_string;
    router->slots_.push_back(std::move(slot));
  }
  std::map<int, absl::flat_hash_map<std::string, int32_t>> codes;
  RouteScope scope(model, slot_of_input, &codes);

  std::vector<std::unique_ptr<expr::Node>> trees;
  for (const RouteSpec& route : routes) {
    // The target first, so that a route with a bad condition and a bad
    // target reports both.
    absl::StatusOr<RouteTarget> target = resolve(route);
    if (!target.ok()) {
      diags->Error(route.fields.Get("model", route.location),
                   std::string(target.status().message()));
      router->targets_.emplace_back();
    } else {
      router->targets_.push_back(*std::move(target));
    }
    if (route.when.empty()) continue;  // reported by the parser

    expr::ParseResult parsed = expr::Parse(route.when.text);
    if (!parsed.ok()) {
      diags->Error(route.when.At(parsed.error.pos.line, parsed.error.pos.column),
                   absl::StrCat("in route condition: ", parsed.error.message),
                   parsed.error.hint);
      continue;
    }
    // Scoring names, derived values and series get a message that says
    // why, rather than "unknown name".
    std::vector<std::string> idents;
    expr::CollectIdentifiers(*parsed.root, &idents);
    bool bad_name = false;
    for (const std::string& id : idents) {
      const std::string why =
          model::WhyUnreadable(model::ConditionKind::kRoute, model, id);
      if (why.empty()) continue;
      diags->Error(route.when.location,
                   absl::StrCat("in route condition: ", why));
      bad_name = true;
    }
    if (bad_name) continue;
    expr::CheckResult checked = expr::Check(parsed.root.get(), &scope);
    for (const expr::CheckError& e : checked.errors) {
      diags->Error(route.when.At(e.pos.line, e.pos.column),
                   absl::StrCat("in route condition: ", e.message), e.hint);
    }
    if (!checked.ok()) continue;
    if (checked.type != expr::Type::kBool) {
      diags->Error(route.when.location,
                   absl::StrCat("a route's `when` must be a condition "
                                "(true/false), got a ",
                                expr::TypeName(checked.type)),
                   "compare it, e.g. segment == \"enterprise\"");
      continue;
    }
    if (checked.truth == expr::Truth::kNever) {
      diags->Error(route.when.location,
                   absl::StrCat("this route's condition can never be true: ",
                                checked.never_true),
                   "remove the route or fix the condition");
      continue;
    }
    router->outputs_.push_back(builder.Emit(*parsed.root));
    trees.push_back(std::move(parsed.root));
  }
  if (diags->error_count() > errors_before) return nullptr;

  router->program_ = builder.Build();
  for (auto& [slot, dict] : codes) {
    Slot& s = router->slots_[slot];
    s.codes = std::move(dict);
    for (const auto& [literal, code] : s.codes) {
      const int32_t model_code = model.StringCode(s.column, literal);
      if (model_code < 0) continue;
      if (s.by_model_code.size() <= static_cast<size_t>(model_code)) {
        s.by_model_code.resize(static_cast<size_t>(model_code) + 1,
                               model::kUnknownString);
      }
      s.by_model_code[static_cast<size_t>(model_code)] = code;
    }
  }
  router->MakeTable(scope.read());
  return router;
}

void Router::MakeTable(const std::set<int>& read) {
  if (read.size() != 1 || !slots_[*read.begin()].is_string) return;
  const int slot = *read.begin();
  const Slot& s = slots_[static_cast<size_t>(slot)];
  // Router codes 0..literals-1, then missing, then any other value.
  const size_t literals = s.codes.size();
  const size_t m = literals + 2;
  if (m > static_cast<size_t>(expr::kChunkRows)) return;
  std::vector<int32_t> codes(m);
  for (size_t i = 0; i < literals; ++i) codes[i] = static_cast<int32_t>(i);
  codes[literals] = expr::kMissingCode;
  codes[literals + 1] = model::kUnknownString;
  // The other slots are read by no condition; they still need columns.
  const std::vector<double> numbers(m, 0);
  const std::vector<uint8_t> valid(m, 0);
  const std::vector<int32_t> missing(m, expr::kMissingCode);
  expr::SlotView view;
  view.num.assign(slots_.size(), numbers.data());
  view.num_valid.assign(slots_.size(), valid.data());
  view.str.assign(slots_.size(), missing.data());
  view.series.assign(slots_.size(), {});
  view.str[static_cast<size_t>(slot)] = codes.data();
  expr::Scratch scratch;
  program_->Run(view, m, &scratch);
  std::vector<int> route(m, -1);
  for (size_t r = 0; r < outputs_.size(); ++r) {
    const uint8_t* hit = program_->Bool(outputs_[r], scratch);
    for (size_t i = 0; i < m; ++i) {
      if (route[i] < 0 && hit[i] != 0) route[i] = static_cast<int>(r);
    }
  }
  route_missing_ = route[literals];
  route_unknown_ = route[literals + 1];
  route.resize(literals);
  route_of_code_ = std::move(route);
  route_of_model_code_.resize(s.by_model_code.size());
  for (size_t c = 0; c < s.by_model_code.size(); ++c) {
    route_of_model_code_[c] = TableRoute(s.by_model_code[c]);
  }
  table_slot_ = slot;
}

int Router::TableRoute(int32_t code) const {
  if (code == expr::kMissingCode) return route_missing_;
  if (code < 0) return route_unknown_;
  return route_of_code_[static_cast<size_t>(code)];
}

int32_t Router::RouterCode(const Slot& slot, const eval::Batch& batch,
                           size_t row, int32_t code) {
  if (code == model::kMissingString) return expr::kMissingCode;
  if (code >= 0 || slot.codes.empty()) return model::kUnknownString;
  return LiteralCode(slot, batch.string_text(slot.column, row));
}

int32_t Router::LiteralCode(const Slot& slot, std::string_view text) {
  // A text the model's dictionary does not hold.
  auto it = slot.codes.find(absl::string_view(text.data(), text.size()));
  return it == slot.codes.end() ? model::kUnknownString : it->second;
}

int Router::table_input() const {
  return table_slot_ < 0 ? -1 : slots_[static_cast<size_t>(table_slot_)].input;
}

int Router::RouteOfValue(int32_t code, std::string_view text) const {
  if (static_cast<uint32_t>(code) < route_of_model_code_.size()) {
    return route_of_model_code_[static_cast<size_t>(code)];
  }
  // RouterCode, with the text at hand.
  const Slot& slot = slots_[static_cast<size_t>(table_slot_)];
  if (code == model::kMissingString) return TableRoute(expr::kMissingCode);
  if (code >= 0 || slot.codes.empty()) {
    return TableRoute(model::kUnknownString);
  }
  return TableRoute(LiteralCode(slot, text));
}

void Router::Decide(const eval::Batch& batch, std::vector<int>* route_of_row,
                    Scratch* reused) const {
  const size_t n = batch.size();
  route_of_row->assign(n, -1);
  if (n == 0 || routes_.empty()) return;
  if (table_slot_ >= 0) {
    DecideByTable(batch, route_of_row->data());
  } else {
    DecideByProgram(batch, route_of_row->data(), reused);
  }
  if (batch.error_count() != 0) {
    for (size_t i = 0; i < n; ++i) {
      if (!batch.row_ok(i)) (*route_of_row)[i] = -1;
    }
  }
}

void Router::DecideByTable(const eval::Batch& batch, int* route) const {
  const Slot& slot = slots_[static_cast<size_t>(table_slot_)];
  const int32_t* model_codes = batch.string_codes(slot.column);
  const int* of_model_code = route_of_model_code_.data();
  const uint32_t known = static_cast<uint32_t>(route_of_model_code_.size());
  for (size_t i = 0; i < batch.size(); ++i) {
    const int32_t code = model_codes[i];
    // As DecideByProgram translates a value, the common case first.
    route[i] = static_cast<uint32_t>(code) < known
                   ? of_model_code[code]
                   : TableRoute(RouterCode(slot, batch, i, code));
  }
}

void Router::DecideByProgram(const eval::Batch& batch, int* route_of_row,
                             Scratch* reused) const {
  const size_t n = batch.size();
  expr::SlotView& view = reused->view;
  view.num.assign(slots_.size(), nullptr);
  view.num_valid.assign(slots_.size(), nullptr);
  view.str.assign(slots_.size(), nullptr);
  view.series.assign(slots_.size(), {});
  // String slots hold this router's codes, translated from the text sent:
  // the batch's codes are those of the model's dictionary, which need not
  // know the literals of the routes.
  std::vector<std::vector<int32_t>>& str_codes = reused->str_codes;
  if (str_codes.size() < slots_.size()) str_codes.resize(slots_.size());
  for (size_t s = 0; s < slots_.size(); ++s) {
    if (slots_[s].is_string) str_codes[s].resize(expr::kChunkRows);
  }
  expr::Scratch& scratch = reused->program;

  for (size_t begin = 0; begin < n; begin += expr::kChunkRows) {
    const size_t m = std::min<size_t>(expr::kChunkRows, n - begin);
    for (size_t s = 0; s < slots_.size(); ++s) {
      const Slot& slot = slots_[s];
      if (!slot.is_string) {
        view.num[s] = batch.number(slot.column) + begin;
        view.num_valid[s] = batch.number_valid(slot.column) + begin;
        continue;
      }
      int32_t* out = str_codes[s].data();
      const int32_t* model_codes = batch.string_codes(slot.column) + begin;
      const int32_t* by_model_code = slot.by_model_code.data();
      const uint32_t known = static_cast<uint32_t>(slot.by_model_code.size());
      for (size_t i = 0; i < m; ++i) {
        const int32_t code = model_codes[i];
        // A value of the model's dictionary up to its last literal (the
        // common case, first): the text behind the code is that entry, a
        // literal or not. A negative code is past `known` as unsigned.
        out[i] = static_cast<uint32_t>(code) < known
                     ? by_model_code[code]
                     : RouterCode(slot, batch, begin + i, code);
      }
      view.str[s] = out;
    }
    program_->Run(view, m, &scratch);
    int* route = route_of_row + begin;
    for (size_t r = 0; r < outputs_.size(); ++r) {
      const uint8_t* hit = program_->Bool(outputs_[r], scratch);
      // Without a branch: the row's first route that holds wins.
      const int this_route = static_cast<int>(r);
      for (size_t i = 0; i < m; ++i) {
        route[i] = (route[i] < 0) & (hit[i] != 0) ? this_route : route[i];
      }
    }
  }
}

std::vector<std::string> Router::Describe() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < routes_.size(); ++i) {
    out.push_back(absl::StrCat(routes_[i].when.text, " -> ", targets_[i].name,
                               " v", targets_[i].version));
  }
  return out;
}

}  // namespace healthscore::engine::routing
