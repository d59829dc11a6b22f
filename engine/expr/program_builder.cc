// ProgramBuilder: the planner. Turns checked trees and scoring steps into
// a Program's steps over registers, folding constants and reusing the
// registers of temporaries.

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "absl/base/attributes.h"
#include "engine/expr/internal/program_step.h"
#include "engine/expr/program.h"

namespace healthscore::engine::expr {

using internal::Code;
using internal::Finite;
using internal::kNaN;

struct ProgramBuilder::Impl {
  std::unique_ptr<Program> p{new Program()};
  // Free registers per kind, reused by temporaries.
  std::vector<int> free_num, free_bool, free_str;
  std::map<double, int> const_regs;
  std::map<int, int> bool_const_regs;  // 0/1 -> bool register

  int NewReg(ValueKind kind) {
    auto take = [](std::vector<int>* free, int* count) {
      if (!free->empty()) {
        int r = free->back();
        free->pop_back();
        return r;
      }
      return (*count)++;
    };
    switch (kind) {
      case ValueKind::kNum: return take(&free_num, &p->num_regs_);
      case ValueKind::kBool: return take(&free_bool, &p->bool_regs_);
      default: return take(&free_str, &p->str_regs_);
    }
  }

  void Free(const Operand& o, ValueKind kind) {
    if (o.kind != Operand::Kind::kRegister) return;
    switch (kind) {
      case ValueKind::kNum: free_num.push_back(o.index); break;
      case ValueKind::kBool: free_bool.push_back(o.index); break;
      default: free_str.push_back(o.index); break;
    }
  }

  // A register holding a constant number for every row.
  Operand NumConst(double v) {
    // NaN never compares equal to itself, so key missing constants apart.
    double key = std::isnan(v) ? std::numeric_limits<double>::infinity() : v;
    auto it = const_regs.find(key);
    if (it != const_regs.end()) return Operand::Register(it->second);
    int r = p->num_regs_++;
    p->constants_.push_back({r, v});
    const_regs[key] = r;
    return Operand::Register(r);
  }

  // Bool constants are computed by one step at the top of the program.
  ABSL_ATTRIBUTE_NOINLINE Operand BoolConst(bool v) {
    auto it = bool_const_regs.find(v);
    if (it != bool_const_regs.end()) return Operand::Register(it->second);
    Operand one = NumConst(1.0);
    int r = p->bool_regs_++;
    Program::Step st;
    st.code = v ? Code::kHasNum : Code::kNe;
    st.a = one;
    st.b = one;
    st.out = r;
    p->steps_.insert(p->steps_.begin(), st);
    bool_const_regs[v] = r;
    return Operand::Register(r);
  }

  // Value of an emitted subtree; `temp` when its register may be recycled
  // once consumed.
  struct Val {
    Operand op;
    bool temp = false;
  };

  Operand AsNum(const Operand& o) {
    return o.is_const() ? NumConst(o.value) : o;
  }
  Operand AsBool(const Operand& o) {
    return o.is_const() ? BoolConst(o.value != 0) : o;
  }

  static ValueKind KindOf(Type t) {
    switch (t) {
      case Type::kBool: return ValueKind::kBool;
      case Type::kString: return ValueKind::kStr;
      case Type::kSeries: return ValueKind::kSeries;
      default: return ValueKind::kNum;
    }
  }

  void Release(const Val& v, Type t) {
    if (v.temp) Free(v.op, KindOf(t));
  }

  Val Step(Code code, ValueKind out_kind, std::initializer_list<Operand> ops,
           int p1 = 0, int p2 = 0, int32_t k = 0, int aux = -1) {
    Program::Step st;
    st.code = code;
    auto it = ops.begin();
    if (it != ops.end()) st.a = *it++;
    if (it != ops.end()) st.b = *it++;
    if (it != ops.end()) st.c = *it++;
    st.p1 = p1;
    st.p2 = p2;
    st.k = k;
    st.aux = aux;
    st.out = NewReg(out_kind);
    p->steps_.push_back(st);
    return {Operand::Register(st.out), true};
  }

  static double FoldNum(Code code, double x, double y) {
    switch (code) {
      case Code::kAdd: return x + y;
      case Code::kSub: return x - y;
      case Code::kMul: return x * y;
      case Code::kDiv: return x / y;
      case Code::kMin: return x < y ? x : y;
      case Code::kMax: return x > y ? x : y;
      case Code::kNeg: return -x;
      case Code::kAbs: return std::fabs(x);
      case Code::kLog: return x > 0 ? std::log(x) : kNaN;
      default: return kNaN;
    }
  }

  // The only recursive function of the planner, with a small frame: it
  // emits a node's operands, in order, and leaves what the node itself
  // becomes to functions that do not recurse, so a tree needs its depth
  // times this frame of stack.
  ABSL_ATTRIBUTE_NOINLINE Val EmitNode(const Node& n) {
    if (n.kind == NodeKind::kList || n.children.empty()) return Leaf(n);
    if (n.kind == NodeKind::kBinary && n.op == Op::kIn) {
      return StrIn(n, EmitNode(*n.children[0]));
    }
    if (n.kind == NodeKind::kCall) {
      if (IsMinMax(n)) return EmitMinMax(n);
      if (IsHasBool(n)) return {BoolConst(true), false};
    }
    // Unary, binary, conditional and the other calls: at most 3 operands.
    Val v[3];
    const size_t count = n.children.size() < 3 ? n.children.size() : 3;
    for (size_t i = 0; i < count; ++i) v[i] = EmitNode(*n.children[i]);
    return Combine(n, v);
  }

  // Folded one argument at a time: two registers live, however many
  // arguments.
  ABSL_ATTRIBUTE_NOINLINE Val EmitMinMax(const Node& n) {
    Val acc = EmitNode(*n.children[0]);
    for (size_t i = 1; i < n.children.size(); ++i) {
      acc = MinMax(n, acc, EmitNode(*n.children[i]));
    }
    return acc;
  }

  static bool IsMinMax(const Node& n) {
    return n.text == "min" || n.text == "max";
  }
  // has() of a bool is always true.
  static bool IsHasBool(const Node& n) {
    return n.text == "has" && n.children[0]->type == Type::kBool;
  }

  ABSL_ATTRIBUTE_NOINLINE static Val Leaf(const Node& n) {
    switch (n.kind) {
      case NodeKind::kNumber:
        return {Operand::Const(n.number), false};
      case NodeKind::kBool:
        return {Operand::Const(n.boolean ? 1 : 0), false};
      case NodeKind::kIdent:
        return {n.ref, false};
      default:
        return {};  // strings and lists: consumed by their comparison
    }
  }

  ABSL_ATTRIBUTE_NOINLINE Val StrIn(const Node& n, Val s) {
    const Node& a = *n.children[0];
    p->code_lists_.push_back(n.children[1]->list_codes);
    Val out = Step(Code::kStrIn, ValueKind::kBool, {s.op}, 0, 0, 0,
                   static_cast<int>(p->code_lists_.size() - 1));
    Release(s, a.type);
    return out;
  }

  ABSL_ATTRIBUTE_NOINLINE Val MinMax(const Node& n, Val acc, Val next) {
    const Code code = n.text == "min" ? Code::kMin : Code::kMax;
    Val out;
    if (acc.op.is_const() && next.op.is_const()) {
      out = {Operand::Const(FoldNum(code, acc.op.value, next.op.value)),
             false};
    } else {
      out = Step(code, ValueKind::kNum, {AsNum(acc.op), AsNum(next.op)});
    }
    Release(acc, Type::kNumber);
    Release(next, Type::kNumber);
    return out;
  }

  // A node whose operands are emitted, in `v`.
  ABSL_ATTRIBUTE_NOINLINE Val Combine(const Node& n, const Val* v) {
    switch (n.kind) {
      case NodeKind::kUnary: {
        if (n.op == Op::kNeg) return NumOp(Code::kNeg, n, v);
        if (v[0].op.is_const()) {
          return {Operand::Const(v[0].op.value ? 0 : 1), false};
        }
        Val out = Step(Code::kNot, ValueKind::kBool, {v[0].op});
        Release(v[0], Type::kBool);
        return out;
      }
      case NodeKind::kBinary:
        switch (n.op) {
          case Op::kAdd: return NumOp(Code::kAdd, n, v);
          case Op::kSub: return NumOp(Code::kSub, n, v);
          case Op::kMul: return NumOp(Code::kMul, n, v);
          case Op::kDiv: return NumOp(Code::kDiv, n, v);
          case Op::kAnd:
          case Op::kOr: {
            const Val& x = v[0];
            const Val& y = v[1];
            if (x.op.is_const() && y.op.is_const()) {
              bool r = n.op == Op::kAnd ? (x.op.value && y.op.value)
                                        : (x.op.value || y.op.value);
              return {Operand::Const(r ? 1 : 0), false};
            }
            Val out = Step(n.op == Op::kAnd ? Code::kAnd : Code::kOr,
                           ValueKind::kBool, {AsBool(x.op), AsBool(y.op)});
            Release(x, Type::kBool);
            Release(y, Type::kBool);
            return out;
          }
          default:
            return Compare(n, v);
        }
      case NodeKind::kConditional: {
        Val out;
        if (n.type == Type::kBool) {
          out = Step(Code::kSelectBool, ValueKind::kBool,
                     {AsBool(v[0].op), AsBool(v[1].op), AsBool(v[2].op)});
        } else {
          out = Step(Code::kSelectNum, ValueKind::kNum,
                     {AsBool(v[0].op), AsNum(v[1].op), AsNum(v[2].op)});
        }
        Release(v[0], Type::kBool);
        Release(v[1], n.type);
        Release(v[2], n.type);
        return out;
      }
      case NodeKind::kCall:
        return Call(n, v);
      default:
        return {};
    }
  }

  // Unary or binary arithmetic; folded when every operand is constant.
  Val NumOp(Code code, const Node& n, const Val* v) {
    const bool binary = n.children.size() == 2;
    const Val& x = v[0];
    if (x.op.is_const() && (!binary || v[1].op.is_const())) {
      double r = FoldNum(code, x.op.value, binary ? v[1].op.value : 0);
      return {Operand::Const(Finite(r) ? r : kNaN), false};
    }
    Val out = binary
                  ? Step(code, ValueKind::kNum, {AsNum(x.op), AsNum(v[1].op)})
                  : Step(code, ValueKind::kNum, {AsNum(x.op)});
    Release(x, n.children[0]->type);
    if (binary) Release(v[1], n.children[1]->type);
    return out;
  }

  Val Compare(const Node& n, const Val* v) {
    const Node& a = *n.children[0];
    const Node& b = *n.children[1];
    if (a.type == Type::kString || b.type == Type::kString) {
      // The literal's operand is empty: only the attribute's is read.
      const bool a_lit = a.kind == NodeKind::kString;
      const Node& sym = a_lit ? b : a;
      const Node& lit = a_lit ? a : b;
      const Val& s = a_lit ? v[1] : v[0];
      Val out = Step(n.op == Op::kEq ? Code::kStrEq : Code::kStrNe,
                     ValueKind::kBool, {s.op}, 0, 0, lit.string_code);
      Release(s, sym.type);
      return out;
    }
    const Val& x = v[0];
    const Val& y = v[1];
    if (a.type == Type::kBool) {
      Val out = Step(n.op == Op::kEq ? Code::kBoolEq : Code::kBoolNe,
                     ValueKind::kBool, {AsBool(x.op), AsBool(y.op)});
      Release(x, a.type);
      Release(y, b.type);
      return out;
    }
    Code code = Code::kLt;
    switch (n.op) {
      case Op::kLt: code = Code::kLt; break;
      case Op::kLe: code = Code::kLe; break;
      case Op::kGt: code = Code::kGt; break;
      case Op::kGe: code = Code::kGe; break;
      case Op::kEq: code = Code::kEq; break;
      default: code = Code::kNe; break;
    }
    Val out = Step(code, ValueKind::kBool, {AsNum(x.op), AsNum(y.op)});
    Release(x, a.type);
    Release(y, b.type);
    return out;
  }

  // Calls other than min, max and has(bool), with their operands emitted.
  Val Call(const Node& n, const Val* v) {
    const std::string& f = n.text;
    auto arg_int = [&](size_t i) {
      return static_cast<int>(n.children[i]->number);
    };
    if (f == "has") {
      const Node& a = *n.children[0];
      const Val& x = v[0];
      if (x.op.is_const()) return {BoolConst(Finite(x.op.value)), false};
      Code code = a.type == Type::kString   ? Code::kHasStr
                  : a.type == Type::kSeries ? Code::kHasSeries
                                            : Code::kHasNum;
      Val out = Step(code, ValueKind::kBool, {x.op});
      Release(x, a.type);
      return out;
    }
    if (f == "coalesce") {
      Val out = Step(Code::kCoalesce, ValueKind::kNum,
                     {AsNum(v[0].op), AsNum(v[1].op)});
      Release(v[0], Type::kNumber);
      Release(v[1], Type::kNumber);
      return out;
    }
    if (f == "abs") return NumOp(Code::kAbs, n, v);
    if (f == "log") return NumOp(Code::kLog, n, v);
    if (f == "clamp") {
      Val out = Step(Code::kClamp, ValueKind::kNum,
                     {AsNum(v[0].op), AsNum(v[1].op), AsNum(v[2].op)});
      Release(v[0], Type::kNumber);
      Release(v[1], Type::kNumber);
      Release(v[2], Type::kNumber);
      return out;
    }
    if (f == "days_since") {
      Val out = Step(Code::kSub, ValueKind::kNum, {n.ref, AsNum(v[0].op)});
      Release(v[0], Type::kDate);
      return out;
    }
    if (f == "days_between") {
      Val out = Step(Code::kSub, ValueKind::kNum,
                     {AsNum(v[1].op), AsNum(v[0].op)});
      Release(v[0], Type::kDate);
      Release(v[1], Type::kDate);
      return out;
    }
    // Series functions read the series slot directly (their operands, a
    // name and number literals, emitted nothing).
    const Operand s = n.children[0]->ref;
    if (f == "last") return Step(Code::kSeriesLast, ValueKind::kNum, {s});
    if (f == "count") return Step(Code::kSeriesCount, ValueKind::kNum, {s});
    if (f == "mean_last") {
      return Step(Code::kSeriesMeanLast, ValueKind::kNum, {s}, arg_int(1));
    }
    if (f == "mean_window") {
      return Step(Code::kSeriesMeanWindow, ValueKind::kNum, {s}, arg_int(1),
                  arg_int(2));
    }
    if (f == "pct_change") {
      return Step(Code::kSeriesPctChange, ValueKind::kNum, {s}, arg_int(1),
                  arg_int(2));
    }
    if (f == "ratio_change") {
      return Step(Code::kSeriesRatioChange, ValueKind::kNum, {s}, arg_int(1),
                  arg_int(2));
    }
    // slope
    return Step(Code::kSeriesSlope, ValueKind::kNum, {s},
                n.children.size() == 2 ? arg_int(1) : 0);
  }
};

ProgramBuilder::ProgramBuilder() : impl_(new Impl) {}
ProgramBuilder::~ProgramBuilder() = default;

int ProgramBuilder::AddSlot(ValueKind kind) {
  impl_->p->slot_kinds_.push_back(kind);
  return static_cast<int>(impl_->p->slot_kinds_.size() - 1);
}

Operand ProgramBuilder::Emit(const Node& checked) {
  Impl::Val v = impl_->EmitNode(checked);
  // Results handed to the caller stay allocated: never marked temporary.
  if (v.op.is_const()) {
    return checked.type == Type::kBool ? impl_->BoolConst(v.op.value != 0)
                                       : impl_->NumConst(v.op.value);
  }
  return v.op;
}

Operand ProgramBuilder::Normalize(Operand x, NormTable table) {
  impl_->p->norms_.push_back(std::move(table));
  return impl_
      ->Step(Code::kNormalize, ValueKind::kNum, {impl_->AsNum(x)}, 0, 0, 0,
             static_cast<int>(impl_->p->norms_.size() - 1))
      .op;
}

namespace {
// Transposes per-segment rows of per-member values to [member * rows + row].
std::vector<double> ByMember(const std::vector<std::vector<double>>& rows,
                             size_t members) {
  std::vector<double> out(members * rows.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t m = 0; m < members; ++m) out[m * rows.size() + r] = rows[r][m];
  }
  return out;
}
}  // namespace

Operand ProgramBuilder::WeightedMean(MeanTable table) {
  table.by_member = ByMember(table.weights, table.members.size());
  impl_->p->means_.push_back(std::move(table));
  auto out = impl_->Step(Code::kMean, ValueKind::kNum, {}, 0, 0, 0,
                         static_cast<int>(impl_->p->means_.size() - 1));
  // The weight-sum accumulator is private to the step.
  int wsum = impl_->NewReg(ValueKind::kNum);
  impl_->p->steps_.back().out2 = wsum;
  return out.op;
}

Operand ProgramBuilder::Coverage(CoverageTable table) {
  table.by_member = ByMember(table.shares, table.members.size());
  impl_->p->coverages_.push_back(std::move(table));
  return impl_
      ->Step(Code::kCoverage, ValueKind::kNum, {}, 0, 0, 0,
             static_cast<int>(impl_->p->coverages_.size() - 1))
      .op;
}

TierOutputs ProgramBuilder::Tier(Operand score, Operand coverage,
                                 Operand previous_tier, TierTable table) {
  impl_->p->tiers_.push_back(std::move(table));
  auto out = impl_->Step(Code::kTier, ValueKind::kStr,
                         {score, coverage, previous_tier}, 0, 0, 0,
                         static_cast<int>(impl_->p->tiers_.size() - 1));
  Program::Step& st = impl_->p->steps_.back();
  st.out2 = impl_->NewReg(ValueKind::kStr);
  st.out3 = impl_->NewReg(ValueKind::kBool);
  return {out.op, Operand::Register(st.out2), Operand::Register(st.out3)};
}

Operand ProgramBuilder::Gate(Operand cond, Operand tier,
                             int32_t insufficient_code) {
  return impl_
      ->Step(Code::kGate, ValueKind::kBool, {impl_->AsBool(cond), tier}, 0, 0,
             insufficient_code)
      .op;
}

Operand ProgramBuilder::Subtract(Operand a, Operand b) {
  return impl_
      ->Step(Code::kSub, ValueKind::kNum, {impl_->AsNum(a), impl_->AsNum(b)})
      .op;
}

Operand ProgramBuilder::TierChanged(Operand previous_tier, Operand tier) {
  return impl_->Step(Code::kTierChanged, ValueKind::kBool,
                     {previous_tier, tier})
      .op;
}

Operand ProgramBuilder::External(std::shared_ptr<const ExternalFunction> fn,
                                 const std::vector<Operand>& inputs) {
  Program& p = *impl_->p;
  Program::ExternalCall call;
  call.fn = std::move(fn);
  for (const Operand& in : inputs) {
    const bool series = in.kind == Operand::Kind::kSlot &&
                        p.slot_kinds_[in.index] == ValueKind::kSeries;
    call.inputs.push_back(series ? in : impl_->AsNum(in));
    call.kinds.push_back(series ? ValueKind::kSeries : ValueKind::kNum);
  }
  p.max_external_inputs_ = std::max(p.max_external_inputs_, inputs.size());
  p.externals_.push_back(std::move(call));
  return impl_
      ->Step(Code::kExternal, ValueKind::kNum, {}, 0, 0, 0,
             static_cast<int>(p.externals_.size() - 1))
      .op;
}

std::unique_ptr<Program> ProgramBuilder::Build() {
  return std::move(impl_->p);
}

}  // namespace healthscore::engine::expr
