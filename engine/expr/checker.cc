#include "engine/expr/checker.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include "absl/base/attributes.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/display.h"

namespace healthscore::engine::expr {

using common::TruncateForDisplay;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

struct Info {
  Type type = Type::kUnknown;
};

class Checker {
 public:
  explicit Checker(Scope* scope) : scope_(scope) {}

  CheckResult Run(Node* root) {
    Info info = Visit(root);
    if (dropped_ > 0) {
      errors_.push_back(
          {first_dropped_,
           absl::StrCat(dropped_, " more error", dropped_ == 1 ? "" : "s",
                        " in this expression not shown"),
           "fix the errors above first"});
    }
    CheckResult r;
    r.type = errors_.empty() ? info.type : Type::kUnknown;
    // The truth of a condition is decided once, on the whole well-typed
    // tree, by the decider that lint and the router share (truth.h).
    if (r.errors.empty() && r.type == Type::kBool) {
      Verdict v = Decide(*root);
      r.truth = v.truth();
      r.never_true = std::move(v.never_true);
    }
    r.errors = std::move(errors_);
    return r;
  }

 private:
  // Past kMaxCheckErrors an error is only counted, so a tree of thousands of
  // mistakes costs neither thousands of messages nor a "did you mean"
  // search of the scope for each.
  bool Full() const { return errors_.size() >= kMaxCheckErrors; }
  void Error(const Node& n, std::string message, std::string hint = "") {
    if (Full()) {
      if (dropped_++ == 0) first_dropped_ = n.pos;
      return;
    }
    errors_.push_back({n.pos, std::move(message), std::move(hint)});
  }

  // The only recursive function of the checker, and its frame is small:
  // the typing rules, with their messages, are in functions that do not
  // recurse, so a tree needs its depth times this frame of stack.
  Info Visit(Node* n) {
    Info info;
    switch (n->kind) {
      case NodeKind::kUnary: {
        const Info a = Visit(n->children[0].get());
        info = Unary(n, a);
        break;
      }
      case NodeKind::kBinary: {
        const Info a = Visit(n->children[0].get());
        const Info b = Visit(n->children[1].get());
        info = Binary(n, a, b);
        break;
      }
      case NodeKind::kConditional: {
        const Info c = Visit(n->children[0].get());
        const Info a = Visit(n->children[1].get());
        const Info b = Visit(n->children[2].get());
        info = Conditional(n, c, a, b);
        break;
      }
      case NodeKind::kCall: {
        std::vector<Info> args;
        args.reserve(n->children.size());
        for (auto& c : n->children) args.push_back(Visit(c.get()));
        info = Call(n, args);
        break;
      }
      default:
        info = Leaf(n);
        break;
    }
    n->type = info.type;
    return info;
  }

  ABSL_ATTRIBUTE_NOINLINE Info Leaf(Node* n) {
    Info info;
    switch (n->kind) {
      case NodeKind::kNumber:
        info.type = Type::kNumber;
        n->lo = n->hi = n->number;
        n->may_be_missing = false;
        break;
      case NodeKind::kString:
        info.type = Type::kString;
        break;
      case NodeKind::kBool:
        info.type = Type::kBool;
        n->may_be_missing = false;
        break;
      case NodeKind::kList:
        for (auto& c : n->children) {
          if (c->kind != NodeKind::kString) {
            Error(*c, "lists may hold only string literals",
                  "write `segment in [\"smb\", \"enterprise\"]`");
          }
        }
        info.type = Type::kStringList;
        break;
      case NodeKind::kIdent:
        info = Ident(n);
        break;
      default:
        break;
    }
    return info;
  }

  ABSL_ATTRIBUTE_NOINLINE Info Ident(Node* n) {
    const Symbol* sym = scope_->Lookup(n->text);
    if (sym == nullptr) {
      Error(*n, absl::StrCat("unknown name '", n->text, "'"),
            Full() ? "" : scope_->Suggest(n->text));
      return {};
    }
    n->ref = sym->ref;
    n->lo = sym->lo;
    n->hi = sym->hi;
    n->may_be_missing = sym->may_be_missing;
    return {sym->type};
  }

  ABSL_ATTRIBUTE_NOINLINE Info Unary(Node* n, Info a) {
    if (a.type == Type::kUnknown) return {};
    if (n->op == Op::kNot) {
      if (a.type != Type::kBool) {
        Error(*n, absl::StrCat("'!' needs a bool, got ", TypeName(a.type)));
        return {};
      }
      return {Type::kBool};
    }
    if (a.type != Type::kNumber) {
      Error(*n, absl::StrCat("'-' needs a number, got ", TypeName(a.type)));
      return {};
    }
    const Node& c = *n->children[0];
    n->lo = -c.hi;
    n->hi = -c.lo;
    n->may_be_missing = c.may_be_missing;
    return {Type::kNumber};
  }

  // `attr == "x"`, `attr != "x"`, `attr in [...]`.
  Info StringCompare(Node* n, Node* sym_node, Node* literal) {
    const Symbol* sym = scope_->Lookup(sym_node->text);
    if (sym_node->kind != NodeKind::kIdent || sym == nullptr) {
      Error(*n, "strings can only be compared between a string attribute "
                "and a literal");
      return {};
    }
    auto code_of = [&](Node* lit) -> bool {
      int32_t code = 0;
      std::string error, hint;
      if (!scope_->StringCode(*sym, lit->text, &code, &error, &hint)) {
        // A scope must say why; a message-less refusal still names both.
        if (error.empty()) {
          error = absl::StrCat("cannot compare '", sym_node->text, "' with \"",
                               TruncateForDisplay(lit->text), "\"");
        }
        Error(*lit, error, hint);
        return false;
      }
      lit->string_code = code;
      return true;
    };
    if (n->op == Op::kIn) {
      bool ok = true;
      for (auto& item : literal->children) {
        if (item->kind != NodeKind::kString) continue;  // reported already
        if (!code_of(item.get())) ok = false;
        literal->list_codes.push_back(item->string_code);
      }
      if (!ok) return {};
      return {Type::kBool};
    }
    if (!code_of(literal)) return {};
    return {Type::kBool};
  }

  ABSL_ATTRIBUTE_NOINLINE Info Binary(Node* n, Info a, Info b) {
    Node* a_node = n->children[0].get();
    Node* b_node = n->children[1].get();
    if (a.type == Type::kUnknown || b.type == Type::kUnknown) return {};
    const Op op = n->op;

    if (op == Op::kAnd || op == Op::kOr) {
      if (a.type != Type::kBool || b.type != Type::kBool) {
        Error(*n, absl::StrCat("'", OpText(op), "' needs two bools, got ",
                               TypeName(a.type), " and ", TypeName(b.type)));
        return {};
      }
      return {Type::kBool};
    }

    if (op == Op::kIn) {
      if (a.type != Type::kString || b.type != Type::kStringList) {
        Error(*n, absl::StrCat("'in' needs a string attribute on the left "
                               "and a list of strings on the right, got ",
                               TypeName(a.type), " and ", TypeName(b.type)));
        return {};
      }
      return StringCompare(n, a_node, b_node);
    }

    if (a.type == Type::kString || b.type == Type::kString) {
      if (op != Op::kEq && op != Op::kNe) {
        Error(*n, absl::StrCat("'", OpText(op), "' does not apply to strings"),
              "strings support ==, != and in");
        return {};
      }
      if (a.type == Type::kString && b.type == Type::kString) {
        bool a_lit = a_node->kind == NodeKind::kString;
        bool b_lit = b_node->kind == NodeKind::kString;
        if (a_lit == b_lit) {
          Error(*n, a_lit ? "comparing two string literals is always constant"
                          : "strings can only be compared between a string "
                            "attribute and a literal");
          return {};
        }
        return a_lit ? StringCompare(n, b_node, a_node)
                     : StringCompare(n, a_node, b_node);
      }
      Error(*n, absl::StrCat("cannot compare ", TypeName(a.type), " with ",
                             TypeName(b.type)));
      return {};
    }

    if (op == Op::kAdd || op == Op::kSub || op == Op::kMul || op == Op::kDiv) {
      if (op == Op::kSub && a.type == Type::kDate && b.type == Type::kDate) {
        n->may_be_missing = true;
        return {Type::kNumber};
      }
      if (a.type != Type::kNumber || b.type != Type::kNumber) {
        Error(*n, absl::StrCat("'", OpText(op), "' needs two numbers, got ",
                               TypeName(a.type), " and ", TypeName(b.type)),
              a.type == Type::kDate || b.type == Type::kDate
                  ? "subtract two dates to get days, or use days_since(d)"
                  : "");
        return {};
      }
      Bounds(n, *a_node, *b_node);
      return {Type::kNumber};
    }

    // Comparisons of numbers, dates or bools.
    if (a.type != b.type || a.type == Type::kSeries ||
        a.type == Type::kStringList ||
        (a.type == Type::kBool && op != Op::kEq && op != Op::kNe)) {
      Error(*n, absl::StrCat("cannot compare ", TypeName(a.type), " with ",
                             TypeName(b.type), " using '", OpText(op), "'"),
            a.type == Type::kSeries || b.type == Type::kSeries
                ? "reduce the series first, e.g. last(s) or mean_last(s, 4)"
                : "");
      return {};
    }
    return {Type::kBool};
  }

  static void Bounds(Node* n, const Node& a, const Node& b) {
    n->may_be_missing = a.may_be_missing || b.may_be_missing;
    double lo = -kInf, hi = kInf;
    switch (n->op) {
      case Op::kAdd: lo = a.lo + b.lo; hi = a.hi + b.hi; break;
      case Op::kSub: lo = a.lo - b.hi; hi = a.hi - b.lo; break;
      case Op::kMul: {
        double p[] = {a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi};
        bool finite = true;
        for (double v : p) finite = finite && !std::isnan(v);
        if (finite) {
          lo = *std::min_element(p, p + 4);
          hi = *std::max_element(p, p + 4);
        }
        break;
      }
      default:
        n->may_be_missing = true;  // division by zero is missing
        break;
    }
    if (std::isnan(lo) || std::isnan(hi)) lo = -kInf, hi = kInf;
    n->lo = lo;
    n->hi = hi;
  }

  ABSL_ATTRIBUTE_NOINLINE Info Conditional(Node* n, Info c, Info a,
                                           Info b) {
    if (c.type == Type::kUnknown || a.type == Type::kUnknown ||
        b.type == Type::kUnknown) {
      return {};
    }
    if (c.type != Type::kBool) {
      Error(*n->children[0], absl::StrCat("the condition of `c ? a : b` must "
                                          "be a bool, got ",
                                          TypeName(c.type)));
      return {};
    }
    if (a.type != b.type ||
        (a.type != Type::kNumber && a.type != Type::kBool &&
         a.type != Type::kDate)) {
      Error(*n, absl::StrCat("both branches of `c ? a : b` must be numbers, "
                             "dates or bools of the same type, got ",
                             TypeName(a.type), " and ", TypeName(b.type)));
      return {};
    }
    const Node& x = *n->children[1];
    const Node& y = *n->children[2];
    n->lo = std::min(x.lo, y.lo);
    n->hi = std::max(x.hi, y.hi);
    n->may_be_missing = x.may_be_missing || y.may_be_missing;
    return {a.type};
  }

  bool IntArg(Node* n, size_t i, int min, int* out) {
    const Node& a = *n->children[i];
    if (a.kind != NodeKind::kNumber || a.number != std::floor(a.number) ||
        a.number < min || a.number > 100000) {
      Error(a, absl::StrCat("argument ", i + 1, " of ", n->text,
                            "() must be a whole number literal >= ", min));
      return false;
    }
    *out = static_cast<int>(a.number);
    return true;
  }

  ABSL_ATTRIBUTE_NOINLINE Info Call(Node* n, const std::vector<Info>& args) {
    const std::string& f = n->text;
    for (const Info& a : args) {
      if (a.type == Type::kUnknown) return {};
    }
    auto arity = [&](size_t lo, size_t hi) {
      if (n->children.size() >= lo && n->children.size() <= hi) return true;
      Error(*n, absl::StrCat(f, "() takes ",
                             lo == hi ? absl::StrCat(lo)
                                      : absl::StrCat(lo, " to ", hi),
                             " argument", hi == 1 ? "" : "s", ", got ",
                             n->children.size()));
      return false;
    };
    auto want = [&](size_t i, Type t) {
      if (args[i].type == t) return true;
      Error(*n->children[i],
            absl::StrCat("argument ", i + 1, " of ", f, "() must be a ",
                         TypeName(t), ", got ", TypeName(args[i].type)));
      return false;
    };
    auto all_numbers = [&]() {
      bool ok = true;
      for (size_t i = 0; i < args.size(); ++i) ok = want(i, Type::kNumber) && ok;
      return ok;
    };
    n->may_be_missing = true;
    if (f == "has") {
      if (!arity(1, 1)) return {};
      Type t = args[0].type;
      if (n->children[0]->kind == NodeKind::kString ||
          t == Type::kStringList) {
        Error(*n, "has() needs a name or an expression");
        return {};
      }
      n->may_be_missing = false;
      return {Type::kBool};
    }
    if (f == "coalesce") {
      if (!arity(2, 2)) return {};
      if (args[0].type != args[1].type ||
          (args[0].type != Type::kNumber && args[0].type != Type::kDate)) {
        Error(*n, absl::StrCat("coalesce() needs two numbers or two dates, "
                               "got ", TypeName(args[0].type), " and ",
                               TypeName(args[1].type)));
        return {};
      }
      const Node& a = *n->children[0];
      const Node& b = *n->children[1];
      n->lo = std::min(a.lo, b.lo);
      n->hi = std::max(a.hi, b.hi);
      n->may_be_missing = a.may_be_missing && b.may_be_missing;
      return {args[0].type};
    }
    if (f == "min" || f == "max") {
      if (n->children.size() < 2) {
        Error(*n, absl::StrCat(f, "() takes at least 2 arguments, got ",
                               n->children.size()));
        return {};
      }
      if (!all_numbers()) return {};
      double lo = kInf, hi = -kInf;
      double lo_max = -kInf, hi_min = kInf;
      for (auto& c : n->children) {
        lo = std::min(lo, c->lo);
        hi = std::max(hi, c->hi);
        lo_max = std::max(lo_max, c->lo);
        hi_min = std::min(hi_min, c->hi);
      }
      n->lo = f == "min" ? lo : lo_max;
      n->hi = f == "min" ? hi_min : hi;
      return {Type::kNumber};
    }
    if (f == "abs" || f == "log") {
      if (!arity(1, 1) || !all_numbers()) return {};
      if (f == "abs") {
        const Node& a = *n->children[0];
        n->lo = (a.lo <= 0 && a.hi >= 0) ? 0 : std::min(std::fabs(a.lo),
                                                         std::fabs(a.hi));
        n->hi = std::max(std::fabs(a.lo), std::fabs(a.hi));
      }
      return {Type::kNumber};
    }
    if (f == "clamp") {
      if (!arity(3, 3) || !all_numbers()) return {};
      if (n->children[1]->kind == NodeKind::kNumber &&
          n->children[2]->kind == NodeKind::kNumber) {
        if (n->children[1]->number > n->children[2]->number) {
          Error(*n, "clamp(x, lo, hi) needs lo <= hi");
          return {};
        }
        n->lo = n->children[1]->number;
        n->hi = n->children[2]->number;
      }
      return {Type::kNumber};
    }
    if (f == "days_since") {
      if (!arity(1, 1) || !want(0, Type::kDate)) return {};
      const Symbol* as_of = scope_->Lookup("as_of");
      if (as_of == nullptr || as_of->type != Type::kDate) {
        Error(*n, "days_since() needs the snapshot's as_of date, which is "
                  "not available here");
        return {};
      }
      n->ref = as_of->ref;
      return {Type::kNumber};
    }
    if (f == "days_between") {
      if (!arity(2, 2) || !want(0, Type::kDate) || !want(1, Type::kDate)) {
        return {};
      }
      return {Type::kNumber};
    }
    if (f == "last" || f == "count") {
      if (!arity(1, 1) || !want(0, Type::kSeries)) return {};
      if (f == "count") n->lo = 0;
      return {Type::kNumber};
    }
    if (f == "mean_last") {
      int k = 0;
      if (!arity(2, 2) || !want(0, Type::kSeries) || !IntArg(n, 1, 1, &k)) {
        return {};
      }
      return {Type::kNumber};
    }
    if (f == "mean_window") {
      int k = 0, skip = 0;
      if (!arity(3, 3) || !want(0, Type::kSeries) || !IntArg(n, 1, 1, &k) ||
          !IntArg(n, 2, 0, &skip)) {
        return {};
      }
      return {Type::kNumber};
    }
    if (f == "pct_change" || f == "ratio_change") {
      int r = 0, b = 0;
      if (!arity(3, 3) || !want(0, Type::kSeries) || !IntArg(n, 1, 1, &r) ||
          !IntArg(n, 2, 1, &b)) {
        return {};
      }
      return {Type::kNumber};
    }
    if (f == "slope") {
      int k = 0;
      if (!arity(1, 2) || !want(0, Type::kSeries)) return {};
      if (n->children.size() == 2 && !IntArg(n, 1, 2, &k)) return {};
      return {Type::kNumber};
    }
    static const std::vector<std::string> kFunctions = {
        "has",          "coalesce",   "min",          "max",
        "abs",          "log",        "clamp",        "days_since",
        "days_between", "last",       "count",        "mean_last",
        "mean_window",  "pct_change", "ratio_change", "slope"};
    std::string hint = absl::StrCat("functions are: ",
                                    absl::StrJoin(kFunctions, ", "));
    Error(*n, absl::StrCat("unknown function '", f, "'"), hint);
    return {};
  }

  Scope* scope_;
  std::vector<CheckError> errors_;
  int dropped_ = 0;
  Pos first_dropped_;
};

}  // namespace

CheckResult Check(Node* root, Scope* scope) {
  return Checker(scope).Run(root);
}

}  // namespace healthscore::engine::expr
