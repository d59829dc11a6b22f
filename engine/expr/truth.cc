#include "engine/expr/truth.h"

#include <cmath>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/number_format.h"
#include "engine/expr/parser.h"

namespace healthscore::engine::expr {

using common::FormatNumber;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr char kElided[] = "...";

std::string Elide(std::string text, size_t max) {
  if (text.size() <= max) return text;
  size_t cut = max - (sizeof(kElided) - 1);
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xc0) == 0x80) {
    --cut;
  }
  text.resize(cut);
  text.append(kElided);
  return text;
}

// "a; b", once the reasons are kMaxReasons long only "a; ...".
std::string JoinReasons(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty() || a == b) return a;
  if (absl::EndsWith(a, kElided)) return a;
  if (a.size() + b.size() + 2 > kMaxReasons) {
    return absl::StrCat(a, "; ", kElided);
  }
  return absl::StrCat(a, "; ", b);
}

std::string NeverTrue(const Node& n) {
  return absl::StrCat("'", QuoteExpression(n), "' can never be true");
}
std::string AlwaysTrue(const Node& n) {
  return absl::StrCat("'", QuoteExpression(n), "' is always true");
}

bool IsComparison(Op op) {
  return op == Op::kLt || op == Op::kLe || op == Op::kGt || op == Op::kGe ||
         op == Op::kEq || op == Op::kNe;
}

Op Mirror(Op op) {
  switch (op) {
    case Op::kLt: return Op::kGt;
    case Op::kLe: return Op::kGe;
    case Op::kGt: return Op::kLt;
    case Op::kGe: return Op::kLe;
    default: return op;
  }
}

// The values one name may take under the conjuncts of an `&&` chain, with
// the comparisons that set each end, for deciding `score > 80 && score < 50`.
struct Interval {
  double lo = -kInf, hi = kInf;
  bool lo_open = false, hi_open = false;
  const Node* lo_by = nullptr;
  const Node* hi_by = nullptr;
  void Apply(Op op, double c, const Node* by) {
    switch (op) {
      case Op::kGt: Raise(c, true, by); break;
      case Op::kGe: Raise(c, false, by); break;
      case Op::kLt: Lower(c, true, by); break;
      case Op::kLe: Lower(c, false, by); break;
      case Op::kEq: Raise(c, false, by); Lower(c, false, by); break;
      default: break;
    }
  }
  void Raise(double c, bool open, const Node* by) {
    if (c > lo || (c == lo && open)) {
      lo = c;
      lo_open = open;
      lo_by = by;
    }
  }
  void Lower(double c, bool open, const Node* by) {
    if (c < hi || (c == hi && open)) {
      hi = c;
      hi_open = open;
      hi_by = by;
    }
  }
  bool Empty() const {
    return lo > hi || (lo == hi && (lo_open || hi_open));
  }
};

void Flatten(const Node* n, std::vector<const Node*>* out) {
  if (n->kind == NodeKind::kBinary && n->op == Op::kAnd) {
    Flatten(n->children[0].get(), out);
    Flatten(n->children[1].get(), out);
  } else {
    out->push_back(n);
  }
}

// Why the conjuncts of the `&&` chain `n` pin some name to no value, or
// empty when they do not.
ABSL_ATTRIBUTE_NOINLINE std::string ConjunctionEmpty(const Node& n) {
  std::vector<const Node*> conjuncts;
  Flatten(&n, &conjuncts);
  std::map<std::string, Interval> by_name;
  for (const Node* c : conjuncts) {
    if (c->kind != NodeKind::kBinary || !IsComparison(c->op) ||
        c->op == Op::kNe) {
      continue;
    }
    const Node* l = c->children[0].get();
    const Node* r = c->children[1].get();
    Op op = c->op;
    if (l->kind == NodeKind::kNumber && r->kind == NodeKind::kIdent) {
      std::swap(l, r);
      op = Mirror(op);
    }
    if (l->kind != NodeKind::kIdent || r->kind != NodeKind::kNumber ||
        l->type != Type::kNumber) {
      continue;
    }
    Interval& iv = by_name[l->text];
    iv.Apply(op, r->number, c);
    if (iv.Empty()) {
      if (iv.lo_by == iv.hi_by) return NeverTrue(*iv.lo_by);
      return absl::StrCat("'", QuoteExpression(*iv.lo_by), "' and '",
                          QuoteExpression(*iv.hi_by),
                          "' cannot both be true");
    }
  }
  return "";
}

// "score is between 20 and 72.5", or empty when `n` is not a bounded name.
std::string Bounds(const Node& n) {
  if (n.kind != NodeKind::kIdent || !std::isfinite(n.lo) ||
      !std::isfinite(n.hi)) {
    return "";
  }
  return absl::StrCat(n.text, " is between ", FormatNumber(n.lo), " and ",
                      FormatNumber(n.hi));
}

class Decider {
 public:
  explicit Decider(const TruthFacts* facts) : facts_(facts) {}

  // The only recursive function, and its frame is small: verdicts are
  // combined and comparisons decided by functions that do not recurse.
  // `and_operand`: n is an operand of `&&`, whose chain is looked at whole
  // at its top (looking at every sub-chain again would be quadratic).
  Verdict Decide(const Node& n, bool and_operand = false) const {
    Verdict v;
    switch (n.kind) {
      case NodeKind::kUnary:
        if (n.op != Op::kNot) return v;
        v = Decide(*n.children[0]);
        std::swap(v.can_true, v.can_false);
        std::swap(v.never_true, v.never_false);
        return v;
      case NodeKind::kConditional: {
        if (n.type != Type::kBool) return v;
        const Verdict c = Decide(*n.children[0]);
        const Verdict a = Decide(*n.children[1]);
        v = Decide(*n.children[2]);
        Conditional(n, c, a, &v);
        return v;
      }
      case NodeKind::kBinary:
        if (n.op == Op::kAnd || n.op == Op::kOr) {
          const bool conjunction = n.op == Op::kAnd;
          const Verdict a = Decide(*n.children[0], conjunction);
          v = Decide(*n.children[1], conjunction);
          Junction(n, a, &v, and_operand);
          return v;
        }
        return Comparison(n);
      case NodeKind::kCall:
        return Call(n);
      case NodeKind::kBool:
        v.can_true = n.boolean;
        v.can_false = !n.boolean;
        if (!v.can_true) v.never_true = NeverTrue(n);
        if (!v.can_false) v.never_false = AlwaysTrue(n);
        return v;
      default:
        return v;
    }
  }

 private:
  // `c ? a : b` of bools; `v` holds b's verdict and gets the whole one.
  ABSL_ATTRIBUTE_NOINLINE static void Conditional(const Node& n,
                                                  const Verdict& c,
                                                  const Verdict& a,
                                                  Verdict* v) {
    const Verdict b = std::move(*v);
    *v = Verdict();
    v->can_true = (c.can_true && a.can_true) || (c.can_false && b.can_true);
    v->can_false = (c.can_true && a.can_false) || (c.can_false && b.can_false);
    if (!v->can_true) v->never_true = NeverTrue(n);
    if (!v->can_false) v->never_false = AlwaysTrue(n);
  }

  // `a && b`, `a || b`; `v` holds b's verdict and gets the whole one.
  ABSL_ATTRIBUTE_NOINLINE static void Junction(const Node& n, const Verdict& a,
                                               Verdict* v, bool and_operand) {
    const Verdict b = std::move(*v);
    *v = Verdict();
    if (n.op == Op::kAnd) {
      v->can_true = a.can_true && b.can_true;
      v->can_false = a.can_false || b.can_false;
      if (!v->can_true) {
        v->never_true = !a.can_true ? a.never_true : b.never_true;
      } else if (!and_operand) {
        v->never_true = ConjunctionEmpty(n);
        v->can_true = v->never_true.empty();
      }
      if (!v->can_false) {
        v->never_false = JoinReasons(a.never_false, b.never_false);
      }
    } else {
      v->can_true = a.can_true || b.can_true;
      v->can_false = a.can_false && b.can_false;
      if (!v->can_true) v->never_true = JoinReasons(a.never_true, b.never_true);
      if (!v->can_false) {
        v->never_false = !a.can_false ? a.never_false : b.never_false;
      }
    }
  }

  // has(x) holds whenever x is never missing.
  ABSL_ATTRIBUTE_NOINLINE static Verdict Call(const Node& n) {
    Verdict v;
    if (n.text != "has" || n.children.size() != 1) return v;
    const Node& arg = *n.children[0];
    if (!arg.may_be_missing && arg.type != Type::kSeries &&
        arg.type != Type::kString) {
      v.can_false = false;
      v.never_false = absl::StrCat(
          "'", QuoteExpression(n), "' is always true: ",
          QuoteExpression(arg), " is never missing here");
    }
    return v;
  }

  // A comparison (or `in`): bounds and known values decide it.
  ABSL_ATTRIBUTE_NOINLINE Verdict Comparison(const Node& n) const {
    Verdict v;
    const Node& a = *n.children[0];
    const Node& b = *n.children[1];
    if (n.op == Op::kIn || a.type == Type::kString ||
        b.type == Type::kString) {
      return StringCompare(n);
    }
    if (a.type != Type::kNumber && a.type != Type::kDate) return v;
    bool never = false;
    bool always = false;
    switch (n.op) {
      case Op::kLt: never = a.lo >= b.hi; always = a.hi < b.lo; break;
      case Op::kLe: never = a.lo > b.hi; always = a.hi <= b.lo; break;
      case Op::kGt: never = a.hi <= b.lo; always = a.lo > b.hi; break;
      case Op::kGe: never = a.hi < b.lo; always = a.lo >= b.hi; break;
      case Op::kEq: never = a.hi < b.lo || a.lo > b.hi; break;
      default: break;
    }
    if (never) {
      v.can_true = false;
      std::vector<std::string> bounds;
      for (const Node* side : {&a, &b}) {
        std::string text = Bounds(*side);
        if (!text.empty()) bounds.push_back(std::move(text));
      }
      v.never_true = NeverTrue(n);
      if (!bounds.empty()) {
        absl::StrAppend(&v.never_true, ": ", absl::StrJoin(bounds, ", "));
      }
    }
    if (always && !a.may_be_missing && !b.may_be_missing) {
      v.can_false = false;
      v.never_false = AlwaysTrue(n);
    }
    return v;
  }

  // `attr == "x"`, `attr != "x"`, `attr in [...]` (either side).
  Verdict StringCompare(const Node& n) const {
    Verdict v;
    if (n.op != Op::kEq && n.op != Op::kNe && n.op != Op::kIn) return v;
    const Node* ident = nullptr;
    const Node* other = nullptr;
    for (int i = 0; i < 2; ++i) {
      const Node& c = *n.children[i];
      if (c.kind == NodeKind::kIdent) {
        ident = &c;
        other = n.children[1 - i].get();
      }
    }
    if (ident == nullptr) return v;
    std::vector<std::string> literals;
    if (other->kind == NodeKind::kString) {
      literals.push_back(other->text);
    } else if (other->kind == NodeKind::kList) {
      if (other->children.empty()) {
        v.can_true = false;
        v.never_true = absl::StrCat(NeverTrue(n), ": the list is empty");
        return v;
      }
      for (const auto& item : other->children) {
        if (item->kind == NodeKind::kString) literals.push_back(item->text);
      }
    } else {
      return v;
    }
    const std::set<std::string>* possible =
        facts_ == nullptr ? nullptr : facts_->PossibleValues(ident->text);
    if (possible == nullptr) return v;
    const std::set<std::string> listed(literals.begin(), literals.end());
    bool any_listed_possible = false;
    bool any_other_possible = false;
    std::string reasons;
    // A list may name the same value many times: each reason once.
    std::set<std::string> given;
    for (const std::string& l : literals) {
      if (possible->count(l) > 0) {
        any_listed_possible = true;
      } else if (given.insert(l).second) {
        reasons = JoinReasons(reasons, facts_->WhyNever(ident->text, l));
      }
    }
    for (const std::string& p : *possible) {
      if (listed.count(p) == 0) any_other_possible = true;
    }
    const bool positive = n.op != Op::kNe;
    v.can_true = positive ? any_listed_possible : any_other_possible;
    v.can_false = positive ? any_other_possible : any_listed_possible;
    if (!v.can_true) {
      v.never_true = positive && !reasons.empty() ? reasons : NeverTrue(n);
    }
    if (!v.can_false) v.never_false = AlwaysTrue(n);
    return v;
  }

  const TruthFacts* facts_;
};

}  // namespace

std::string QuoteExpression(const Node& n) {
  std::string text = ToString(n);
  if (text.size() < 2 || text.front() != '(' || text.back() != ')') {
    return Elide(std::move(text), kMaxQuoted);
  }
  int depth = 0;
  for (size_t i = 0; i + 1 < text.size(); ++i) {
    if (text[i] == '(') ++depth;
    if (text[i] == ')') --depth;
    if (depth == 0) return Elide(std::move(text), kMaxQuoted);
  }
  return Elide(text.substr(1, text.size() - 2), kMaxQuoted);
}

Verdict Decide(const Node& root, const TruthFacts* facts) {
  return Decider(facts).Decide(root);
}

}  // namespace healthscore::engine::expr
