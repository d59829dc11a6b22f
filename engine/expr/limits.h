// Size limits of one expression.
//
// Every pass over an expression tree recurses on it: the checker, the
// planner, ToString (canonical hashing, diagnostics), lint's "never true"
// analysis, routing analysis, the compiler's literal and name walks, and the
// tree's own destructor. Rather than make each of them iterative, Parse()
// rejects any expression over these limits with an error at the place where
// the limit was passed, so that every later pass is bounded by construction:
// its recursion by kMaxDepth, its work by kMaxNodes (and any pass that does
// per-node work proportional to its subtree by kMaxNodes * kMaxDepth).
//
// Depth counts every nesting: an operator, call, list or `c ? a : b` is one
// level above its deepest operand, a unary operator (a folded `-3` too) one
// level above its operand, and a pair of parentheses one level above what it
// holds. A leaf (name, number, string, bool) is level 0. So the flat chain
// `a + b + c` is 2 levels deep, `(a + b) + c` 3, and a chain of more than
// kMaxDepth operators is rejected; long chains can be grouped with
// parentheses, `(a + b + c) + (d + e + f)`, or split into derived values.
//
// The limits are fixed, part of the language rather than flags: a model that
// `healthscore validate` accepts must load in every server, and kMaxDepth is
// what keeps the recursive passes within a thread stack. Each recursive pass
// keeps its recursing frame small (the work per node is in functions that
// do not recurse): an expression at kMaxDepth needs about 100 KiB of stack
// in the parser, the deepest pass, and less elsewhere (3.3 times as much at
// -O0 with AddressSanitizer). engine/expr/program_test.cc and
// engine/lint/expression_limits_test.cc run an expression of every
// shape at the limits through every pass on a 256 KiB stack (1 MiB in
// unoptimised and sanitizer builds) and require at most half of it used.

#ifndef HEALTHSCORE_ENGINE_EXPR_LIMITS_H_
#define HEALTHSCORE_ENGINE_EXPR_LIMITS_H_

#include <cstddef>

namespace healthscore::engine::expr {

struct ExpressionLimits {
  // Bytes of expression text. Checked before anything is read, so a huge
  // string literal or name costs nothing; also bounds what an explanation
  // repeats of a playbook's condition per account.
  static constexpr size_t kMaxLength = 64 * 1024;
  // Nodes of the tree: every name, literal, operator, call and list (and
  // every item of a list and argument of a call).
  static constexpr int kMaxNodes = 10000;
  // Levels of nesting, counted as above.
  static constexpr int kMaxDepth = 256;
};

}  // namespace healthscore::engine::expr

#endif  // HEALTHSCORE_ENGINE_EXPR_LIMITS_H_
