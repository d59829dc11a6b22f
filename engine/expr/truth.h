// The one decider of "this condition can never be true".
//
// Decide() looks at a checked boolean expression (types, numeric bounds and
// may-be-missing set on every node by Check) and says whether it can be
// true and whether it can be false, with the reason when it cannot, e.g.
// "'score >= 90' can never be true: score is between 5 and 70". The checker
// uses it for CheckResult::truth, so the compiler (playbook conditions) and
// the router (route conditions) reject the same conditions for the same
// reasons; lint uses it with facts of its whole-model analysis (the tiers a
// score can reach, tighter bounds in its scope).
//
// The analysis is sound in one direction: "never" and "always" are proven,
// "maybe" is what is left. Reasons quote at most kMaxQuoted bytes of an
// expression and are at most about kMaxReasons bytes long.
//
// Thread-safety: free functions; a TruthFacts must allow const calls from
// the thread that calls Decide.

#ifndef HEALTHSCORE_ENGINE_EXPR_TRUTH_H_
#define HEALTHSCORE_ENGINE_EXPR_TRUTH_H_

#include <cstddef>
#include <set>
#include <string>
#include <string_view>

#include "engine/expr/ast.h"

namespace healthscore::engine::expr {

// Whether a boolean expression can be true, as far as can be decided.
enum class Truth : uint8_t { kMaybe, kNever, kAlways };

// Whether a condition can be true / false, and why not.
struct Verdict {
  bool can_true = true;
  bool can_false = true;
  std::string never_true;   // why it can never be true (when !can_true)
  std::string never_false;  // why it is always true (when !can_false)

  Truth truth() const {
    return !can_true ? Truth::kNever : !can_false ? Truth::kAlways
                                                  : Truth::kMaybe;
  }
};

// What is known about string names beyond their types, e.g. which tiers a
// score can reach. The default knows nothing.
class TruthFacts {
 public:
  virtual ~TruthFacts() = default;
  // The values string name `name` can take, or null when it is not known.
  virtual const std::set<std::string>* PossibleValues(
      std::string_view /*name*/) const {
    return nullptr;
  }
  // Why `name` never has `value`, a value outside PossibleValues(name);
  // empty when there is nothing to add to "can never be true".
  virtual std::string WhyNever(std::string_view /*name*/,
                               std::string_view /*value*/) const {
    return "";
  }
};

inline constexpr size_t kMaxQuoted = 200;
inline constexpr size_t kMaxReasons = 1000;

// `root` is a boolean expression that Check() accepted without errors; it
// is within ExpressionLimits, and Decide recurses as deep as it is nested.
// `facts` may be null.
Verdict Decide(const Node& root, const TruthFacts* facts = nullptr);

// An expression as a reason quotes it: without the parentheses around the
// whole, cut to kMaxQuoted bytes (not inside a UTF-8 character) with "..."
// at the end when something was cut.
std::string QuoteExpression(const Node& n);

}  // namespace healthscore::engine::expr

#endif  // HEALTHSCORE_ENGINE_EXPR_TRUTH_H_
