// Test support: expressions exactly at the ExpressionLimits (limits.h), one
// per way of nesting, for tests that run the largest accepted trees through
// every pass.
//
// Names: `x` a number, `seg` a string; every expression is well typed with
// those. Each shape is nested exactly kMaxDepth levels deep (the "wide"
// and "list" shapes instead hold exactly kMaxNodes nodes); Repeat() and
// the generators build the one-level-deeper variants for error tests.

#ifndef HEALTHSCORE_ENGINE_EXPR_TESTING_LIMIT_SHAPES_H_
#define HEALTHSCORE_ENGINE_EXPR_TESTING_LIMIT_SHAPES_H_

#include <string>
#include <vector>

#include "engine/expr/ast.h"
#include "engine/expr/limits.h"

namespace healthscore::engine::expr::testing {

inline std::string Repeat(const std::string& s, int times) {
  std::string out;
  out.reserve(s.size() * (times > 0 ? times : 0));
  for (int i = 0; i < times; ++i) out += s;
  return out;
}

// `term op term op ... term` with `operators` operators.
inline std::string Chain(const std::string& term, const std::string& op,
                         int operators) {
  return term + Repeat(op + term, operators);
}

// `open` x times, then `inner`, then `close` x times.
inline std::string Nest(const std::string& open, const std::string& inner,
                        const std::string& close, int times) {
  return Repeat(open, times) + inner + Repeat(close, times);
}

struct Shape {
  std::string name;
  std::string text;
  bool is_bool = false;
};

// Every shape at the limit. With D = kMaxDepth (even):
inline std::vector<Shape> ShapesAtTheLimit() {
  constexpr int D = ExpressionLimits::kMaxDepth;
  constexpr int N = ExpressionLimits::kMaxNodes;
  static_assert(D % 2 == 0, "right_nested needs an even depth");
  std::vector<Shape> out = {
      // D operators in a row, built by the parser's loops.
      {"sum_chain", Chain("x", " + ", D)},
      {"product_chain", Chain("x", " * ", D)},
      {"and_chain", Chain("x > 1", " && ", D - 1), true},
      {"or_chain", Chain("x > 1", " || ", D - 1), true},
      // Recursion of the parser.
      {"parens", Nest("(", "x", ")", D)},
      {"bool_parens", Nest("(", "x > 1", ")", D - 1), true},
      {"neg_chain", Repeat("-", D) + "x"},
      {"neg_literal", Repeat("-", D) + "1"},
      {"not_chain", Repeat("!", D - 2) + "(x > 1)", true},
      {"ternary_chain", Repeat("x > 1 ? 1 : ", D - 1) + "0"},
      {"bool_ternary", Repeat("x > 1 ? x > 2 : ", D - 1) + "x > 3", true},
      {"call_chain", Nest("abs(", "x", ")", D)},
      {"min_chain", Nest("min(x, ", "x", ")", D)},
      {"right_nested", Nest("x + (", "x", ")", D / 2)},
  };
  // N nodes: `seg`, `in`, the list and N - 3 items.
  out.push_back(
      {"list", "seg in [" + Chain("\"a\"", ", ", N - 4) + "]", true});
  // N nodes, shallow: 50 groups of 100 terms (199 nodes each) summed, 49
  // more '+', and a unary minus around the whole.
  static_assert(N % 200 == 0, "wide needs kMaxNodes to be a multiple of 200");
  const std::string group = "(" + Chain("x", " + ", 99) + ")";
  out.push_back({"wide", "-(" + Chain(group, " + ", N / 200 - 1) + ")"});
  return out;
}

inline int CountNodes(const Node& n) {
  int count = 1;
  for (const auto& c : n.children) count += CountNodes(*c);
  return count;
}

}  // namespace healthscore::engine::expr::testing

#endif  // HEALTHSCORE_ENGINE_EXPR_TESTING_LIMIT_SHAPES_H_
