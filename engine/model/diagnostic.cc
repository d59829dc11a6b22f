#include "engine/model/diagnostic.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "engine/common/display.h"

namespace healthscore::engine::model {

using common::TruncateForDisplay;

namespace {

// Edit distance counting an insertion, deletion, substitution or swap of
// two adjacent letters as one edit (optimal string alignment), since "teir"
// for "tier" is the commonest typo. Gives up early (returning `limit + 1`)
// once every entry of a row exceeds `limit`, so a huge unknown key costs
// little.
size_t EditDistance(std::string_view a, std::string_view b, size_t limit) {
  if (a.size() < b.size()) std::swap(a, b);
  if (a.size() - b.size() > limit) return limit + 1;
  std::vector<size_t> before(b.size() + 1);
  std::vector<size_t> prev(b.size() + 1);
  std::vector<size_t> cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    size_t row_min = cur[0];
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitute = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, substitute});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        cur[j] = std::min(cur[j], before[j - 2] + 1);
      }
      row_min = std::min(row_min, cur[j]);
    }
    if (row_min > limit) return limit + 1;
    std::swap(before, prev);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::string SourceLocation::ToString() const {
  std::string out = file;
  if (line > 0) {
    if (!out.empty()) out += ':';
    absl::StrAppend(&out, line);
    if (column > 0) absl::StrAppend(&out, ":", column);
  }
  return out;
}

std::string Diagnostic::ToString() const {
  std::string out = location.ToString();
  if (!out.empty()) out += ": ";
  out += severity == Severity::kError ? "error: " : "warning: ";
  out += message;
  if (!hint.empty()) absl::StrAppend(&out, " (hint: ", hint, ")");
  return out;
}

void DiagnosticList::Error(const SourceLocation& loc, std::string message,
                           std::string hint) {
  Add(Diagnostic{Severity::kError, loc, std::move(message), std::move(hint)});
}

void DiagnosticList::Warning(const SourceLocation& loc, std::string message,
                             std::string hint) {
  Add(Diagnostic{Severity::kWarning, loc, std::move(message),
                 std::move(hint)});
}

void DiagnosticList::Add(Diagnostic d) {
  // A user cannot act on "error: in derived expression: ": say at least
  // that the reason is missing, and where.
  const absl::string_view text = absl::StripTrailingAsciiWhitespace(d.message);
  if (text.empty() || text.back() == ':') {
    d.message = text.empty() ? std::string(kNoReasonMessage)
                             : absl::StrCat(text, " ", kNoReasonMessage);
    if (d.hint.empty()) d.hint = kNoReasonHint;
  }
  if (omitted() == 0 && items_.size() < static_cast<size_t>(kMaxKept)) {
    items_.push_back(std::move(d));
    return;
  }
  if (omitted() == 0) items_.emplace_back();  // room for the note
  (d.severity == Severity::kError ? omitted_errors_ : omitted_warnings_)++;
  UpdateOmittedNote(d.location);
}

void DiagnosticList::UpdateOmittedNote(const SourceLocation& first_omitted) {
  Diagnostic& note = items_.back();
  if (note.location.file.empty()) note.location.file = first_omitted.file;
  note.severity = omitted_errors_ > 0 ? Severity::kError : Severity::kWarning;
  std::vector<std::string> parts;
  if (omitted_errors_ > 0) {
    parts.push_back(absl::StrCat(omitted_errors_, " more error",
                                 omitted_errors_ == 1 ? "" : "s"));
  }
  if (omitted_warnings_ > 0) {
    parts.push_back(absl::StrCat(omitted_warnings_, " more warning",
                                 omitted_warnings_ == 1 ? "" : "s"));
  }
  note.message = absl::StrCat(absl::StrJoin(parts, " and "),
                              " not shown (only the first ", kMaxKept,
                              " are listed)");
  note.hint = "fix these and check again to see the rest";
}

void DiagnosticList::Append(const DiagnosticList& other) {
  // Copy first: `other` may be *this.
  const std::vector<Diagnostic> copy = other.items_;
  const size_t kept = copy.size() - (other.omitted() > 0 ? 1 : 0);
  const int errors = other.omitted_errors_, warnings = other.omitted_warnings_;
  for (size_t i = 0; i < kept; ++i) Add(copy[i]);
  if (errors + warnings == 0) return;
  if (omitted() == 0) items_.push_back(copy.back());
  omitted_errors_ += errors;
  omitted_warnings_ += warnings;
  UpdateOmittedNote(copy.back().location);
}

bool DiagnosticList::has_errors() const { return error_count() > 0; }

int DiagnosticList::error_count() const {
  const auto kept_end = items_.end() - (omitted() > 0 ? 1 : 0);
  return static_cast<int>(std::count_if(
             items_.begin(), kept_end,
             [](const Diagnostic& d) {
               return d.severity == Severity::kError;
             })) +
         omitted_errors_;
}

int DiagnosticList::warning_count() const {
  const int kept = static_cast<int>(items_.size()) - (omitted() > 0 ? 1 : 0);
  return kept + omitted() - error_count();
}

void DiagnosticList::SortByLocation() {
  std::stable_sort(
      items_.begin(), items_.end() - (omitted() > 0 ? 1 : 0),
      [](const Diagnostic& a, const Diagnostic& b) {
        return std::tie(a.location.file, a.location.line, a.location.column) <
               std::tie(b.location.file, b.location.line, b.location.column);
      });
}

std::string DiagnosticList::ToString() const {
  return absl::StrJoin(items_, "\n", [](std::string* out, const Diagnostic& d) {
    out->append(d.ToString());
  });
}

absl::Status DiagnosticList::ToStatus() const {
  std::vector<std::string> lines;
  for (const Diagnostic& d : items_) {
    if (d.severity == Severity::kError) lines.push_back(d.ToString());
  }
  if (lines.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(lines, "\n"));
}

std::string ClosestMatch(std::string_view word,
                         const std::vector<std::string>& candidates) {
  // A typo is short; comparing two long strings costs the product of their
  // lengths.
  if (word.size() > kMaxTypoBytes) return std::string();
  const size_t limit = std::max<size_t>(1, word.size() / 3);
  const std::string* best = nullptr;
  size_t best_distance = limit + 1;
  for (const std::string& candidate : candidates) {
    const size_t d = EditDistance(word, candidate, limit);
    if (d < best_distance) {
      best_distance = d;
      best = &candidate;
    }
  }
  return best == nullptr ? std::string() : *best;
}

std::string DidYouMean(std::string_view word,
                       const std::vector<std::string>& candidates) {
  std::string match = ClosestMatch(word, candidates);
  if (match.empty()) return match;
  return absl::StrCat("did you mean '", TruncateForDisplay(match), "'?");
}

}  // namespace healthscore::engine::model
