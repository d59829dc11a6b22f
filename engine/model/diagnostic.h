// Diagnostics: the user-facing findings of loading and compiling a model.
//
// Every mistake in a model file is collected as a Diagnostic with the file,
// 1-based line and column, a message and a hint, and all of them are reported
// at once (like a compiler), never one at a time.
//
// Thread-safety: plain values; a DiagnosticList is not synchronised.

#ifndef HEALTHSCORE_ENGINE_MODEL_DIAGNOSTIC_H_
#define HEALTHSCORE_ENGINE_MODEL_DIAGNOSTIC_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"

namespace healthscore::engine::model {

// A position in a source file. line and column are 1-based; 0 means unknown.
struct SourceLocation {
  std::string file;
  int line = 0;
  int column = 0;

  // "file:line:col", dropping the parts that are unknown.
  std::string ToString() const;
};

enum class Severity { kError, kWarning };

struct Diagnostic {
  Severity severity = Severity::kError;
  SourceLocation location;
  std::string message;  // what is wrong, one sentence, no trailing period
  std::string hint;     // what to do about it; may be empty

  // "file:line:col: error: message (hint: ...)".
  std::string ToString() const;
};

// An ordered collection of diagnostics.
//
// Never holds a diagnostic without a reason: a message that is empty, or
// that ends in a bare prefix such as "in derived expression: ", is a bug in
// the check that produced it, and is completed with kNoReasonMessage (and,
// when the hint is empty, kNoReasonHint) rather than shown as is.
//
// Bounded: a hostile file can produce a diagnostic every few bytes (a list
// of 200,000 wrong literals), so at most kMaxKept are kept. Past that they
// are only counted, and one last item (an error when any omitted diagnostic
// is an error, else a warning) says how many were left out; error_count()
// and warning_count() count every diagnostic, kept or not.
class DiagnosticList {
 public:
  static constexpr int kMaxKept = 100;
  static constexpr char kNoReasonMessage[] =
      "internal error: this check failed without giving a reason";
  static constexpr char kNoReasonHint[] =
      "please report it to the Healthscore maintainers with the model file";

  void Error(const SourceLocation& loc, std::string message,
             std::string hint = "");
  void Warning(const SourceLocation& loc, std::string message,
               std::string hint = "");
  void Add(Diagnostic d);
  void Append(const DiagnosticList& other);

  bool has_errors() const;
  int error_count() const;
  int warning_count() const;
  // The kept diagnostics, then the note on the omitted ones, if any.
  const std::vector<Diagnostic>& items() const { return items_; }
  bool empty() const { return items_.empty(); }
  // How many diagnostics were counted but not kept.
  int omitted() const { return omitted_errors_ + omitted_warnings_; }

  // Sorts by file, line and column (stable), so output follows the file;
  // the note on omitted diagnostics stays last.
  void SortByLocation();

  // One diagnostic per line, each formatted with Diagnostic::ToString().
  std::string ToString() const;

  // OK when there are no errors; otherwise InvalidArgument whose message is
  // ToString() of the errors (warnings are left out).
  absl::Status ToStatus() const;

 private:
  // Rewrites the last item, the note on what was omitted.
  void UpdateOmittedNote(const SourceLocation& first_omitted);

  std::vector<Diagnostic> items_;
  int omitted_errors_ = 0;
  int omitted_warnings_ = 0;
};

// Words longer than this get no suggestion.
inline constexpr size_t kMaxTypoBytes = 256;

// The candidate closest to `word` by edit distance, if it is close enough to
// be a plausible typo (distance <= max(1, len/3)); otherwise empty. Empty
// for a word longer than kMaxTypoBytes.
std::string ClosestMatch(std::string_view word,
                         const std::vector<std::string>& candidates);

// "did you mean 'x'?" for the closest candidate (shown through
// TruncateForDisplay), or empty.
std::string DidYouMean(std::string_view word,
                       const std::vector<std::string>& candidates);

}  // namespace healthscore::engine::model

#endif  // HEALTHSCORE_ENGINE_MODEL_DIAGNOSTIC_H_
