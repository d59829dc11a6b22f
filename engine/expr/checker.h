// Type checker and name resolver for the expression language.
//
// Check() walks a parsed tree, resolves every identifier through a Scope to
// the Operand that holds its value, assigns a type to every node, turns
// string literals compared with string attributes into dictionary codes,
// and computes the numeric bounds of every node. Whether a boolean
// expression can ever be true is then decided by Decide() (truth.h).
// Errors are collected, not thrown.
//
// Thread-safety: Check mutates the tree and calls the scope; use one thread
// per tree.

#ifndef HEALTHSCORE_ENGINE_EXPR_CHECKER_H_
#define HEALTHSCORE_ENGINE_EXPR_CHECKER_H_

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "engine/expr/ast.h"
#include "engine/expr/truth.h"

namespace healthscore::engine::expr {

// What a name refers to.
struct Symbol {
  Type type = Type::kUnknown;
  Operand ref;
  // Known bounds of a number (e.g. 0..100 for a score), for decidability.
  double lo = -std::numeric_limits<double>::infinity();
  double hi = std::numeric_limits<double>::infinity();
  bool may_be_missing = true;
};

class Scope {
 public:
  virtual ~Scope() = default;
  // The symbol for `name`, or null when unknown. Pointers stay valid for the
  // duration of Check.
  virtual const Symbol* Lookup(std::string_view name) const = 0;
  // A hint for an unknown name (e.g. "did you mean 'dau_mau'?"), or empty.
  virtual std::string Suggest(std::string_view name) const = 0;
  // The dictionary code of `literal` for string symbol `sym`. Returns false
  // with a message (and maybe a hint) when the literal can never match, e.g.
  // a tier the model does not define.
  virtual bool StringCode(const Symbol& sym, std::string_view literal,
                          int32_t* code, std::string* error,
                          std::string* hint) = 0;
};

struct CheckError {
  Pos pos;
  std::string message;
  std::string hint;
};

struct CheckResult {
  Type type = Type::kUnknown;
  // For a well-typed kBool: whether it can be true (truth.h decides), and
  // when it never is, why, e.g. "'score > 100' can never be true: score is
  // between 0 and 100".
  Truth truth = Truth::kMaybe;
  std::string never_true;
  // In tree order, at most kMaxCheckErrors of them, then one that counts the
  // rest ("N more errors in this expression not shown").
  std::vector<CheckError> errors;
  bool ok() const { return errors.empty(); }
};

inline constexpr size_t kMaxCheckErrors = 20;

// `root` comes from Parse(), so it is within ExpressionLimits (limits.h):
// Check recurses on the tree, as deep as it is nested.
CheckResult Check(Node* root, Scope* scope);

}  // namespace healthscore::engine::expr

#endif  // HEALTHSCORE_ENGINE_EXPR_CHECKER_H_
