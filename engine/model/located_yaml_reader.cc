#include "engine/model/located_yaml_reader.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace healthscore::engine::model {

using common::DescribeYamlNode;
using common::HasCustomYamlTag;

LocatedYamlReader::LocatedYamlReader(absl::string_view text,
                                     const std::string& file,
                                     const common::LoadBudget& budget,
                                     int max_errors, DiagnosticList* diags)
    : text_(text),
      file_(file),
      budget_(budget),
      max_errors_(max_errors),
      diags_(diags) {
  line_starts_.push_back(0);
  for (size_t i = 0; i < text_.size(); ++i) {
    if (text_[i] == '\n') line_starts_.push_back(i + 1);
  }
}

void LocatedYamlReader::Error(const SourceLocation& loc, std::string message,
                              std::string hint) {
  if (stopped_) return;
  if (errors_ == max_errors_) {
    diags_->Error(loc,
                  absl::StrCat("too many errors (", max_errors_,
                               "); the rest of the file is not checked"),
                  "fix these first");
    stopped_ = true;
    return;
  }
  ++errors_;
  diags_->Error(loc, std::move(message), std::move(hint));
}

void LocatedYamlReader::Warning(const SourceLocation& loc, std::string message,
                                std::string hint) {
  if (stopped_) return;
  diags_->Warning(loc, std::move(message), std::move(hint));
}

bool LocatedYamlReader::Stopped() {
  if (stopped_) return true;
  if (budget_.unlimited() || ++ticks_ % 64 != 0) return false;
  const absl::Status s = budget_.Check();
  if (s.ok()) return false;
  diags_->Error(SourceLocation{file_, 0, 0}, std::string(s.message()));
  stopped_ = true;
  return true;
}

SourceLocation LocatedYamlReader::Loc(const YAML::Mark& mark) const {
  SourceLocation loc;
  loc.file = file_;
  if (mark.is_null() || mark.line < 0 || mark.column < 0) return loc;
  loc.line = mark.line + 1;
  loc.column = mark.column + 1;
  return loc;
}

absl::string_view LocatedYamlReader::RawLine(int line0) const {
  if (line0 < 0 || static_cast<size_t>(line0) >= line_starts_.size()) {
    return {};
  }
  const size_t begin = line_starts_[line0];
  size_t end = static_cast<size_t>(line0) + 1 < line_starts_.size()
                   ? line_starts_[line0 + 1] - 1
                   : text_.size();
  if (end > begin && text_[end - 1] == '\r') --end;
  return text_.substr(begin, end - begin);
}

bool LocatedYamlReader::ReadKey(const YAML::Node& key, absl::string_view what,
                                std::string* out) {
  if (key.IsScalar() && !key.Scalar().empty()) {
    *out = key.Scalar();
    return true;
  }
  if (key.IsScalar() || key.IsNull()) {
    Error(NodeLoc(key), absl::StrCat("empty key in ", what));
  } else {
    Error(NodeLoc(key), absl::StrCat("keys in ", what, " must be names, got ",
                                     DescribeYamlNode(key)));
  }
  return false;
}

LocatedYamlReader::Mapping LocatedYamlReader::ReadMapping(
    const YAML::Node& node, absl::string_view what,
    const std::vector<std::string>& allowed, FieldLocations* fields) {
  Mapping m;
  m.loc = NodeLoc(node);
  m.label = std::string(what);
  if (!node.IsMap()) return m;
  for (auto it = node.begin(); it != node.end() && !Stopped(); ++it) {
    std::string key;
    if (!ReadKey(it->first, what, &key)) continue;
    const SourceLocation key_loc = NodeLoc(it->first);
    bool known = false;
    for (const std::string& a : allowed) known = known || a == key;
    if (!known) {
      std::string hint = DidYouMean(key, allowed);
      if (hint.empty()) {
        hint = absl::StrCat("known keys: ", absl::StrJoin(allowed, ", "));
      }
      Error(key_loc,
            absl::StrCat("unknown key '", absl::Utf8SafeCHexEscape(key),
                         "' in ", what),
            std::move(hint));
      continue;
    }
    if (const Entry* first = m.Find(key)) {
      Error(key_loc, absl::StrCat("duplicate key '", key, "' in ", what),
            first->key_loc.line > 0
                ? absl::StrCat("the first '", key, "' is at line ",
                               first->key_loc.line, "; remove one of them")
                : "remove one of them");
      continue;
    }
    Entry e;
    e.key = std::move(key);
    e.key_loc = key_loc;
    e.value = it->second;
    e.value_loc = e.value.IsNull() ? key_loc : NodeLoc(e.value);
    if (fields != nullptr) fields->Set(e.key, e.value_loc);
    m.entries.push_back(std::move(e));
  }
  return m;
}

SourceLocation LocatedYamlReader::ItemLoc(const YAML::Node& item) const {
  const YAML::Mark mark = item.Mark();
  if (!item.IsNull() || mark.is_null() || mark.line < 0 || mark.column < 0) {
    return Loc(mark);
  }
  // Walk back to the last character before the mark that is neither space
  // nor comment. A '#' counts as a comment when it starts the line or follows
  // a space (quotes are not tracked; this only picks a location).
  for (int line = mark.line, guard = 0; line >= 0 && guard < 1000;
       --line, ++guard) {
    absl::string_view raw = RawLine(line);
    if (line == mark.line) {
      raw = raw.substr(0, std::min<size_t>(raw.size(), mark.column));
    }
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '#' &&
          (i == 0 || raw[i - 1] == ' ' || raw[i - 1] == '\t')) {
        raw = raw.substr(0, i);
        break;
      }
    }
    const size_t last = raw.find_last_not_of(" \t");
    if (last == absl::string_view::npos) continue;
    SourceLocation loc;
    loc.file = file_;
    loc.line = line + 1;
    loc.column = static_cast<int>(last) + 1;
    return loc;
  }
  return Loc(mark);
}

std::string LocatedYamlReader::CommentedOutValue(const Entry& e) const {
  const absl::string_view line = RawLine(e.key_loc.line - 1);
  size_t pos =
      static_cast<size_t>(e.key_loc.column > 0 ? e.key_loc.column - 1 : 0) +
      e.key.size();
  if (pos >= line.size()) return "";
  pos = line.find(':', pos);
  if (pos == absl::string_view::npos) return "";
  ++pos;
  while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t')) ++pos;
  if (pos + 1 >= line.size() || line[pos] != '#' || line[pos + 1] == ' ' ||
      line[pos + 1] == '\t') {
    return "";
  }
  size_t end = pos + 1;
  while (end < line.size() && line[end] != ' ' && line[end] != '\t') ++end;
  return std::string(line.substr(pos, end - pos));
}

void LocatedYamlReader::ReportEmptyValue(const Entry& e, bool required,
                                         absl::string_view expected) {
  const std::string commented = CommentedOutValue(e);
  std::string hint;
  if (!commented.empty()) {
    hint =
        absl::StrCat("'#' starts a comment in YAML; quote the value: ", e.key,
                     ": \"", absl::Utf8SafeCHexEscape(commented), "\"");
  }
  if (required) {
    Error(e.key_loc,
          absl::StrCat("'", e.key, "' must be ", expected, ", got nothing"),
          std::move(hint));
  } else if (!commented.empty()) {
    Warning(e.key_loc, absl::StrCat("'", e.key, "' is empty"), std::move(hint));
  }
}

const LocatedYamlReader::Entry* LocatedYamlReader::Get(
    const Mapping& m, absl::string_view key, bool required,
    absl::string_view expected) {
  const Entry* e = m.Find(key);
  if (e == nullptr) {
    if (required) {
      Error(m.loc,
            absl::StrCat("missing required key '", key, "' in ", m.label));
    }
    return nullptr;
  }
  if (!e->value.IsDefined() || e->value.IsNull()) {
    ReportEmptyValue(*e, required, expected);
    return nullptr;
  }
  return e;
}

bool LocatedYamlReader::ReadScalarText(const YAML::Node& node,
                                       const SourceLocation& loc,
                                       absl::string_view what,
                                       absl::string_view expected,
                                       std::string* out) {
  if (!node.IsScalar()) {
    Error(loc,
          absl::StrCat(what, " must be ", expected, ", got ",
                       DescribeYamlNode(node)),
          node.IsMap() ? "a value containing ': ' must be quoted" : "");
    return false;
  }
  if (HasCustomYamlTag(node)) {
    Error(loc,
          absl::StrCat(what, " has the YAML tag '",
                       absl::Utf8SafeCHexEscape(node.Tag()), "'"),
          "a value starting with '!' is read as a tag; quote the whole value");
    return false;
  }
  *out = node.Scalar();
  return true;
}

bool LocatedYamlReader::ReadString(const Entry& e, std::string* out) {
  return ReadScalarText(e.value, e.value_loc, absl::StrCat("'", e.key, "'"),
                        "a string", out);
}

bool LocatedYamlReader::ReadNumber(const YAML::Node& node,
                                   const SourceLocation& loc,
                                   absl::string_view what, bool allow_infinite,
                                   double* out) {
  const std::string quoted_what = absl::StrCat("'", what, "'");
  if (!node.IsScalar()) {
    Error(loc, absl::StrCat(quoted_what, " must be a number, got ",
                            DescribeYamlNode(node)));
    return false;
  }
  double value = 0;
  if (!common::ParseYamlNumber(node.Scalar(), &value) ||
      HasCustomYamlTag(node)) {
    Error(loc, absl::StrCat(quoted_what, " must be a number, got ",
                            DescribeYamlNode(node)));
    return false;
  }
  if (common::IsQuotedYamlScalar(node)) {
    Error(loc,
          absl::StrCat(quoted_what, " must be a number, got the string ",
                       DescribeYamlNode(node)),
          "remove the quotes");
    return false;
  }
  if (std::isnan(value) || (!allow_infinite && std::isinf(value))) {
    Error(loc, absl::StrCat(quoted_what, " must be a finite number, got ",
                            DescribeYamlNode(node)));
    return false;
  }
  *out = value;
  return true;
}

bool LocatedYamlReader::ReadInt(const Entry& e, int64_t* out) {
  const std::string what = absl::StrCat("'", e.key, "'");
  if (!e.value.IsScalar()) {
    Error(e.value_loc, absl::StrCat(what, " must be an integer, got ",
                                    DescribeYamlNode(e.value)));
    return false;
  }
  const std::string& text = e.value.Scalar();
  const size_t digits_start =
      !text.empty() && (text[0] == '+' || text[0] == '-') ? 1 : 0;
  bool syntax_ok = text.size() > digits_start;
  for (size_t i = digits_start; i < text.size(); ++i) {
    syntax_ok = syntax_ok && absl::ascii_isdigit(text[i]);
  }
  if (!syntax_ok || HasCustomYamlTag(e.value)) {
    Error(e.value_loc, absl::StrCat(what, " must be an integer, got ",
                                    DescribeYamlNode(e.value)));
    return false;
  }
  if (common::IsQuotedYamlScalar(e.value)) {
    Error(e.value_loc,
          absl::StrCat(what, " must be an integer, got the string ",
                       DescribeYamlNode(e.value)),
          "remove the quotes");
    return false;
  }
  int64_t value = 0;
  if (!absl::SimpleAtoi(text, &value)) {
    Error(e.value_loc, absl::StrCat(what, " is out of range, got ",
                                    DescribeYamlNode(e.value)));
    return false;
  }
  *out = value;
  return true;
}

void LocatedYamlReader::LocateScalarText(const YAML::Node& node,
                                         ExprSource* out) const {
  out->location = NodeLoc(node);
  out->block_column = 0;
  const YAML::Mark mark = node.Mark();
  if (mark.is_null() || mark.line < 0 || mark.column < 0) return;
  int line = mark.line;
  size_t col = static_cast<size_t>(mark.column);
  absl::string_view raw = RawLine(line);
  // The mark of a node with an anchor or tag points at them: step over those
  // properties, and any space, comment and line break after them.
  for (int guard = 0;
       guard < 64 && col < raw.size() && (raw[col] == '&' || raw[col] == '!');
       ++guard) {
    while (col < raw.size() && raw[col] != ' ' && raw[col] != '\t') ++col;
    for (;;) {
      while (col < raw.size() && (raw[col] == ' ' || raw[col] == '\t')) ++col;
      if (col < raw.size() && raw[col] != '#') break;
      if (static_cast<size_t>(line) + 1 >= line_starts_.size()) return;
      raw = RawLine(++line);
      col = 0;
    }
  }
  if (col >= raw.size()) return;
  const char c = raw[col];
  if (c == '"' || c == '\'') {
    out->location.line = line + 1;
    out->location.column = static_cast<int>(col) + 2;
    return;
  }
  if (c == '|' || c == '>') {
    // The text starts on the line after the header. Its first non-empty
    // line sets the indentation, minus any spaces kept as content (possible
    // with an explicit indentation indicator).
    const std::string& text = node.Scalar();
    size_t leading_breaks = 0;
    while (leading_breaks < text.size() && text[leading_breaks] == '\n') {
      ++leading_breaks;
    }
    const absl::string_view first_raw =
        RawLine(line + 1 + static_cast<int>(leading_breaks));
    const size_t raw_spaces =
        first_raw.find_first_not_of(' ') == absl::string_view::npos
            ? first_raw.size()
            : first_raw.find_first_not_of(' ');
    size_t text_spaces = 0;
    while (leading_breaks + text_spaces < text.size() &&
           text[leading_breaks + text_spaces] == ' ') {
      ++text_spaces;
    }
    const size_t indent =
        raw_spaces > text_spaces ? raw_spaces - text_spaces : 0;
    out->location.line = line + 2;
    out->location.column = static_cast<int>(indent) + 1;
    out->block_column = static_cast<int>(indent) + 1;
    return;
  }
  out->location.line = line + 1;
  out->location.column = static_cast<int>(col) + 1;
}

bool LocatedYamlReader::ReadExpr(const Entry& e, ExprSource* out) {
  // Located even when unreadable, so later complaints about the same
  // expression point at the same line.
  out->location = e.value_loc;
  std::string text;
  if (!ReadScalarText(e.value, e.value_loc, absl::StrCat("'", e.key, "'"),
                      "an expression", &text)) {
    return false;
  }
  if (absl::StripAsciiWhitespace(text).empty()) {
    Error(e.value_loc, absl::StrCat("'", e.key, "' is empty"),
          "write an expression, or remove the key if it is optional");
    return false;
  }
  out->text = std::move(text);
  LocateScalarText(e.value, out);
  if (out->location.file.empty()) out->location.file = file_;
  return true;
}

bool LocatedYamlReader::ReadStringList(const Entry& e,
                                       std::vector<std::string>* out) {
  bool ok = true;
  const std::string what = absl::StrCat("each item of '", e.key, "'");
  ForEachItem(e, [&](const YAML::Node& item) {
    std::string text;
    if (item.IsNull()) {
      Error(ItemLoc(item),
            absl::StrCat(what, " must be a string, got nothing"));
      ok = false;
      return;
    }
    if (!ReadScalarText(item, ItemLoc(item), what, "a string", &text)) {
      ok = false;
      return;
    }
    out->push_back(std::move(text));
  });
  return ok;
}

}  // namespace healthscore::engine::model
