// The expression language's syntax tree.
//
// Expressions are written in a small CEL-like language (docs/model-format.md
// "Expressions"). Parse() builds this tree with 1-based positions inside the
// expression text; Check() annotates each node with its type and, for names,
// the Operand that holds the value; the planner turns a checked tree into
// program steps.

#ifndef HEALTHSCORE_ENGINE_EXPR_AST_H_
#define HEALTHSCORE_ENGINE_EXPR_AST_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace healthscore::engine::expr {

// 1-based line and column inside an expression's text.
struct Pos {
  int line = 1;
  int column = 1;
};

enum class Type : uint8_t {
  kUnknown,  // not checked yet, or an error
  kNumber,
  kBool,
  kString,
  kDate,
  kSeries,
  kStringList,
};
const char* TypeName(Type t);

enum class NodeKind : uint8_t {
  kNumber,  // number literal
  kString,  // string literal
  kBool,    // true / false
  kList,    // [ "a", "b" ]
  kIdent,   // a name, possibly dotted: groups.usage
  kUnary,   // ! -
  kBinary,  // arithmetic, comparison, && ||, in
  kConditional,  // c ? a : b
  kCall,    // f(args)
};

enum class Op : uint8_t {
  kNone,
  kAdd, kSub, kMul, kDiv,
  kLt, kLe, kGt, kGe, kEq, kNe,
  kAnd, kOr, kIn,
  kNot, kNeg,
};
const char* OpText(Op op);

// Where a checked value lives when the program runs.
struct Operand {
  enum class Kind : uint8_t { kNone, kSlot, kRegister, kConst };
  Kind kind = Kind::kNone;
  int index = -1;      // slot or register index
  double value = 0;    // kConst
  static Operand Slot(int i) { return {Kind::kSlot, i, 0}; }
  static Operand Register(int i) { return {Kind::kRegister, i, 0}; }
  static Operand Const(double v) { return {Kind::kConst, -1, v}; }
  bool is_const() const { return kind == Kind::kConst; }
};

struct Node {
  NodeKind kind = NodeKind::kNumber;
  Pos pos;
  Op op = Op::kNone;
  double number = 0;  // kNumber
  bool boolean = false;  // kBool
  std::string text;   // kString value, kIdent name, kCall function name
  std::vector<std::unique_ptr<Node>> children;
  // Set by Parse(): levels of nesting of this subtree as written, counted as
  // in limits.h (0 for a leaf); never above ExpressionLimits::kMaxDepth.
  int32_t nesting = 0;

  // Filled by Check().
  Type type = Type::kUnknown;
  Operand ref;               // kIdent: where the value lives
  int32_t string_code = 0;   // kString compared with a string symbol
  std::vector<int32_t> list_codes;  // kList on the right of `in`
  double lo = -1e308, hi = 1e308;  // known numeric bounds (kNumber type)
  bool may_be_missing = true;
};

}  // namespace healthscore::engine::expr

#endif  // HEALTHSCORE_ENGINE_EXPR_AST_H_
