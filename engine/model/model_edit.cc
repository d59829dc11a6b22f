#include "engine/model/model_edit.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace healthscore::engine::model {
namespace {

// The end of the scalar starting at text[begin], or npos when none starts
// there.
size_t ScalarEnd(std::string_view text, size_t begin) {
  if (begin >= text.size()) return std::string_view::npos;
  const char first = text[begin];
  if (first == '\'' || first == '"') {
    for (size_t i = begin + 1; i < text.size(); ++i) {
      const char c = text[i];
      if (c == '\n') return std::string_view::npos;
      if (first == '"' && c == '\\') {
        ++i;
        continue;
      }
      if (c == first) {
        if (first == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
          ++i;  // '' is a quote inside a single-quoted scalar
          continue;
        }
        return i + 1;
      }
    }
    return std::string_view::npos;
  }
  size_t end = begin;
  while (end < text.size() && std::string_view(" \t\r\n,]}#").find(text[end]) ==
                                  std::string_view::npos) {
    ++end;
  }
  return end > begin ? end : std::string_view::npos;
}

}  // namespace

absl::StatusOr<std::string> ReplaceScalars(
    std::string_view text, const std::vector<ScalarEdit>& edits) {
  std::vector<size_t> line_starts = {0};
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') line_starts.push_back(i + 1);
  }
  struct Span {
    size_t begin, end;
    const ScalarEdit* edit;
  };
  std::vector<Span> spans;
  for (const ScalarEdit& edit : edits) {
    const int line = edit.at.line;
    const int column = edit.at.column;
    size_t begin = std::string_view::npos;
    if (line >= 1 && static_cast<size_t>(line) <= line_starts.size() &&
        column >= 1) {
      begin = line_starts[static_cast<size_t>(line - 1)] +
              static_cast<size_t>(column - 1);
    }
    const size_t end =
        begin == std::string_view::npos ? begin : ScalarEnd(text, begin);
    if (end == std::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(edit.at.ToString(), ": no scalar to replace here"));
    }
    spans.push_back({begin, end, &edit});
  }
  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.begin < b.begin; });
  std::string out;
  out.reserve(text.size() + 16 * edits.size());
  size_t pos = 0;
  for (const Span& span : spans) {
    if (span.begin < pos) {
      return absl::InvalidArgumentError(absl::StrCat(
          span.edit->at.ToString(), ": the scalar is edited twice"));
    }
    out.append(text.substr(pos, span.begin - pos));
    out.append(span.edit->text);
    pos = span.end;
  }
  out.append(text.substr(pos));
  return out;
}

}  // namespace healthscore::engine::model
