#include "engine/common/yaml_reader.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/charconv.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "yaml-cpp/depthguard.h"
#include "yaml-cpp/eventhandler.h"

namespace healthscore::engine::common {
namespace {

// Events between two looks at the budget: absl::Now() stays out of the
// profile, and a check still comes every few hundred microseconds.
constexpr uint64_t kEventsPerBudgetCheck = 4096;
constexpr size_t kMaxNameShown = 64;

constexpr uint64_t kUnknownSize = std::numeric_limits<uint64_t>::max();

// yaml-cpp's tag for a scalar written in quotes (or as a block scalar), as
// opposed to "?" for a plain scalar. Quoting is how YAML says "string".
constexpr absl::string_view kNonSpecificTag = "!";
constexpr absl::string_view kPlainTag = "?";
constexpr absl::string_view kYamlTagPrefix = "tag:yaml.org,2002:";

int Line(const YAML::Mark& mark) {
  return mark.is_null() || mark.line < 0 ? 0 : mark.line + 1;
}
int Column(const YAML::Mark& mark) {
  return mark.is_null() || mark.column < 0 ? 0 : mark.column + 1;
}

YamlProblem Problem(absl::StatusCode code, const YAML::Mark& mark,
                    std::string message, std::string hint = "") {
  YamlProblem p;
  p.code = code;
  p.line = Line(mark);
  p.column = Column(mark);
  p.message = std::move(message);
  p.hint = std::move(hint);
  return p;
}

// Thrown by the handler to abandon the parse; the problem is in the
// handler. Never leaves this file.
struct Abandon {};

// Counts and checks the events of a stream (see the header). Builds
// nothing: memory is one frame per open node and one entry per anchor.
class LimitChecker : public YAML::EventHandler {
 public:
  LimitChecker(std::string_view text, const YamlLimits& limits,
               const LoadBudget& budget)
      : text_(text), limits_(limits), budget_(budget) {}

  void OnDocumentStart(const YAML::Mark& mark) override {
    ++documents_;
    if (documents_ == 1) first_start_ = mark;
    if (documents_ == 2) second_start_ = mark;
    previous_start_ = last_start_;
    last_start_ = mark;
    // yaml-cpp numbers anchors per document, from 1.
    anchors_.clear();
    stack_.clear();
  }
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Leaf(mark, anchor);
  }
  void OnScalar(const YAML::Mark& mark, const std::string&,
                YAML::anchor_t anchor, const std::string&) override {
    Leaf(mark, anchor);
  }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    Tick(mark);
    if (anchor == YAML::NullAnchor || anchor >= anchors_.size()) {
      // yaml-cpp reports an unknown anchor itself; count the alias as one.
      Add(1, mark, nullptr);
      return;
    }
    const Anchor& a = anchors_[anchor];
    if (a.open) {
      const std::string name = AliasName(mark);
      Fail(Problem(absl::StatusCode::kInvalidArgument, mark,
                   absl::StrCat("invalid YAML: alias '*", name,
                                "' is inside the node it refers to ('&", name,
                                "' at line ", Line(a.mark), ", column ",
                                Column(a.mark), "): a recursive alias"),
                   "an alias may only repeat a node that ends before it; "
                   "write the value out instead"));
    }
    Add(a.size, mark, &mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&,
                       YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    Open(mark, anchor);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&,
                  YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    Open(mark, anchor);
  }
  void OnMapEnd() override { Close(); }

  int documents() const { return documents_; }
  const YAML::Mark& first_start() const { return first_start_; }
  const YAML::Mark& second_start() const { return second_start_; }
  const YAML::Mark& previous_start() const { return previous_start_; }
  const YAML::Mark& last_start() const { return last_start_; }
  uint64_t nodes() const { return total_; }
  const YamlProblem& problem() const { return problem_; }

 private:
  struct Frame {
    uint64_t total_before = 0;  // nodes counted before this one opened
    YAML::anchor_t anchor = YAML::NullAnchor;
  };
  struct Anchor {
    bool open = false;
    uint64_t size = 0;  // expanded nodes, once closed
    YAML::Mark mark;
  };

  [[noreturn]] void Fail(YamlProblem problem) {
    problem_ = std::move(problem);
    throw Abandon{};
  }

  void Tick(const YAML::Mark& mark) {
    if (++events_ % kEventsPerBudgetCheck != 0 || budget_.unlimited()) return;
    const absl::Status s = budget_.Check();
    if (!s.ok()) {
      Fail(Problem(s.code(), mark, std::string(s.message())));
    }
  }

  // Counts `n` more nodes; `alias` is the alias that added them, if any.
  void Add(uint64_t n, const YAML::Mark& mark, const YAML::Mark* alias) {
    // total_ <= max_nodes and n <= total_ here, so this cannot overflow.
    total_ += n;
    if (total_ <= limits_.max_nodes) return;
    if (alias != nullptr) {
      Fail(Problem(
          absl::StatusCode::kResourceExhausted, mark,
          absl::StrCat("alias '*", AliasName(*alias),
                       "' expands the YAML to more than ", limits_.max_nodes,
                       " nodes, the limit once aliases are expanded"),
          "an alias repeats its whole anchored node; write the "
          "values out, or raise the limit with --max-yaml-nodes"));
    }
    Fail(Problem(absl::StatusCode::kResourceExhausted, mark,
                 absl::StrCat("the YAML holds more than ", limits_.max_nodes,
                              " nodes, the limit"),
                 "split the file, or raise the limit with --max-yaml-nodes"));
  }

  void SetAnchor(YAML::anchor_t anchor, Anchor a) {
    if (anchor == YAML::NullAnchor) return;
    if (anchor >= anchors_.size()) anchors_.resize(anchor + 1);
    anchors_[anchor] = a;
  }

  void Leaf(const YAML::Mark& mark, YAML::anchor_t anchor) {
    Tick(mark);
    Add(1, mark, nullptr);
    SetAnchor(anchor, Anchor{false, 1, mark});
  }

  void Open(const YAML::Mark& mark, YAML::anchor_t anchor) {
    Tick(mark);
    if (stack_.size() >= static_cast<size_t>(std::max(limits_.max_depth, 0))) {
      Fail(Problem(absl::StatusCode::kInvalidArgument, mark,
                   absl::StrCat("invalid YAML: lists and mappings nest more "
                                "than ",
                                limits_.max_depth, " levels deep"),
                   "flatten the structure; a model nests a few levels only"));
    }
    Add(1, mark, nullptr);
    stack_.push_back(Frame{total_ - 1, anchor});
    SetAnchor(anchor, Anchor{true, 0, mark});
  }

  void Close() {
    if (stack_.empty()) return;
    const Frame f = stack_.back();
    stack_.pop_back();
    if (f.anchor != YAML::NullAnchor && f.anchor < anchors_.size()) {
      anchors_[f.anchor].open = false;
      anchors_[f.anchor].size = total_ - f.total_before;
    }
  }

  // The name an alias is written with, read from the text at its mark.
  std::string AliasName(const YAML::Mark& mark) const {
    if (mark.is_null() || mark.pos < 0 ||
        static_cast<size_t>(mark.pos) >= text_.size()) {
      return "?";
    }
    size_t begin = static_cast<size_t>(mark.pos);
    if (text_[begin] == '*' || text_[begin] == '&') ++begin;
    size_t end = begin;
    while (end < text_.size() && end - begin < kMaxNameShown) {
      const char c = text_[end];
      if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' ||
          c == '[' || c == ']' || c == '{' || c == '}') {
        break;
      }
      ++end;
    }
    return absl::Utf8SafeCHexEscape(
        absl::string_view(text_.data() + begin, end - begin));
  }

  std::string_view text_;
  const YamlLimits& limits_;
  const LoadBudget& budget_;

  int documents_ = 0;
  YAML::Mark first_start_ = YAML::Mark::null_mark();
  YAML::Mark second_start_ = YAML::Mark::null_mark();
  YAML::Mark previous_start_ = YAML::Mark::null_mark();
  YAML::Mark last_start_ = YAML::Mark::null_mark();
  uint64_t events_ = 0;
  uint64_t total_ = 0;
  std::vector<Frame> stack_;
  std::vector<Anchor> anchors_;
  YamlProblem problem_;
};

std::string Mib(uint64_t bytes) {
  return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / (1 << 20));
}

}  // namespace

std::string YamlProblem::ToString(std::string_view file) const {
  std::string out(file);
  if (line > 0) {
    absl::StrAppend(&out, ":", line);
    if (column > 0) absl::StrAppend(&out, ":", column);
  }
  absl::StrAppend(&out, out.empty() ? "" : ": ", message);
  if (!hint.empty()) absl::StrAppend(&out, " (hint: ", hint, ")");
  return out;
}

absl::Status YamlProblem::ToStatus(std::string_view file) const {
  return absl::Status(code, ToString(file));
}

std::string OversizeMessage(uint64_t size, size_t max_bytes) {
  if (size == kUnknownSize) {
    return absl::StrCat("the YAML is longer than the limit of ", max_bytes,
                        " bytes (", Mib(max_bytes), ")");
  }
  return absl::StrCat("the YAML is ", size, " bytes (", Mib(size),
                      "), over the limit of ", max_bytes, " bytes (",
                      Mib(max_bytes), ")");
}

std::string OversizeHint() {
  return "split it into smaller files, or raise the limit with "
         "--max-model-bytes";
}

YamlDocument ReadYaml(std::string_view text, const YamlLimits& limits,
                      const LoadBudget& budget) {
  YamlDocument out;
  if (text.size() > limits.max_bytes) {
    out.problem =
        Problem(absl::StatusCode::kResourceExhausted, YAML::Mark::null_mark(),
                OversizeMessage(text.size(), limits.max_bytes), OversizeHint());
    return out;
  }
  if (absl::Status s = budget.Check(); !s.ok()) {
    out.problem =
        Problem(s.code(), YAML::Mark::null_mark(), std::string(s.message()));
    return out;
  }
  LimitChecker checker(text, limits, budget);
  try {
    std::istringstream in{std::string(text)};
    YAML::Parser parser(in);
    while (parser.HandleNextDocument(checker)) {
      // yaml-cpp 0.7 does not consume some stray tokens (a leading ',')
      // and would return the same empty document forever: stop when a
      // document starts where the previous one did.
      if (checker.documents() < 2 ||
          checker.last_start().pos > checker.previous_start().pos) {
        continue;
      }
      const YAML::Mark& mark = checker.last_start();
      std::string token;
      if (mark.pos >= 0 && static_cast<size_t>(mark.pos) < text.size()) {
        token = absl::StrCat(" '",
                             absl::Utf8SafeCHexEscape(
                                 absl::string_view(text.data() + mark.pos, 1)),
                             "'");
      }
      out.problem = Problem(absl::StatusCode::kInvalidArgument, mark,
                            absl::StrCat("invalid YAML: unexpected", token));
      return out;
    }
  } catch (const Abandon&) {
    out.problem = checker.problem();
  } catch (const YAML::DeepRecursion& e) {
    out.problem = Problem(absl::StatusCode::kInvalidArgument, e.mark,
                          "invalid YAML: nesting is too deep");
  } catch (const YAML::Exception& e) {
    out.problem = Problem(absl::StatusCode::kInvalidArgument, e.mark,
                          absl::StrCat("invalid YAML: ", e.msg));
  } catch (const std::exception& e) {
    out.problem =
        Problem(absl::StatusCode::kInvalidArgument, YAML::Mark::null_mark(),
                absl::StrCat("invalid YAML: ", e.what()));
  }
  out.documents = checker.documents();
  out.first_start = checker.first_start();
  out.second_start = checker.second_start();
  out.nodes = checker.nodes();
  if (out.problem) return out;
  if (absl::Status s = budget.Check(); !s.ok()) {
    out.problem =
        Problem(s.code(), YAML::Mark::null_mark(), std::string(s.message()));
    return out;
  }
  try {
    // Only the first document: the event pass above has counted the rest.
    out.root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    out.problem = Problem(absl::StatusCode::kInvalidArgument, e.mark,
                          absl::StrCat("invalid YAML: ", e.msg));
  } catch (const std::exception& e) {
    out.problem =
        Problem(absl::StatusCode::kInvalidArgument, YAML::Mark::null_mark(),
                absl::StrCat("invalid YAML: ", e.what()));
  }
  if (out.problem) out.root = YAML::Node();
  return out;
}

absl::StatusOr<YAML::Node> LoadYaml(std::string_view text,
                                    std::string_view file,
                                    const YamlLimits& limits,
                                    const LoadBudget& budget) {
  YamlDocument doc = ReadYaml(text, limits, budget);
  if (doc.problem) return doc.problem->ToStatus(file);
  if (doc.documents > 1) {
    return Problem(absl::StatusCode::kInvalidArgument, doc.second_start,
                   absl::StrCat("expected one YAML document, found ",
                                doc.documents),
                   "remove the '---' separators")
        .ToStatus(file);
  }
  return std::move(doc.root);
}

absl::StatusOr<std::string> ReadYamlFile(const std::string& path,
                                         const YamlLimits& limits) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    return absl::NotFoundError(
        absl::StrCat("cannot read '", path, "': it is a directory"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read '", path, "'"));
  // The size first, so that a huge file is refused without reading it;
  // then a bounded read, for files whose size the directory cannot tell
  // (pipes, devices) or that grow meanwhile.
  const uintmax_t size = fs::file_size(path, ec);
  if (!ec && size > limits.max_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat(path, ": ", OversizeMessage(size, limits.max_bytes),
                     " (hint: ", OversizeHint(), ")"));
  }
  std::string text;
  char buf[1 << 16];
  while (in) {
    in.read(buf, sizeof(buf));
    text.append(buf, static_cast<size_t>(in.gcount()));
    if (text.size() > limits.max_bytes) {
      return absl::ResourceExhaustedError(absl::StrCat(
          path, ": ", OversizeMessage(kUnknownSize, limits.max_bytes),
          " (hint: ", OversizeHint(), ")"));
    }
  }
  if (in.bad()) {
    return absl::DataLossError(absl::StrCat("cannot read '", path, "'"));
  }
  return text;
}

std::string DescribeYamlNode(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar: {
      constexpr size_t kMaxShown = 40;
      const std::string& text = node.Scalar();
      if (text.size() > kMaxShown) {
        return absl::StrCat(
            "\"", absl::Utf8SafeCHexEscape(text.substr(0, kMaxShown)), "...\"");
      }
      return absl::StrCat("\"", absl::Utf8SafeCHexEscape(text), "\"");
    }
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

bool IsQuotedYamlScalar(const YAML::Node& node) {
  return node.Tag() == kNonSpecificTag ||
         node.Tag() == absl::StrCat(kYamlTagPrefix, "str");
}

bool HasCustomYamlTag(const YAML::Node& node) {
  const std::string& tag = node.Tag();
  return !tag.empty() && tag != kNonSpecificTag && tag != kPlainTag &&
         !absl::StartsWith(tag, kYamlTagPrefix);
}

bool ParseYamlNumber(absl::string_view s, double* out) {
  if (s.empty()) return false;
  bool negative = false;
  absl::string_view body = s;
  if (body[0] == '+' || body[0] == '-') {
    negative = body[0] == '-';
    body.remove_prefix(1);
  }
  constexpr double kInf = std::numeric_limits<double>::infinity();
  if (body == ".inf" || body == ".Inf" || body == ".INF") {
    *out = negative ? -kInf : kInf;
    return true;
  }
  if (s == ".nan" || s == ".NaN" || s == ".NAN") {
    *out = std::numeric_limits<double>::quiet_NaN();
    return true;
  }
  // Validate the syntax and note the decimal magnitude (position of the
  // first significant digit relative to the point, plus the exponent), which
  // tells overflow from underflow when from_chars reports a range error.
  size_t i = 0;
  size_t digits = 0;
  int64_t magnitude = 0;
  bool significant = false;
  while (i < body.size() && absl::ascii_isdigit(body[i])) {
    significant = significant || body[i] != '0';
    if (significant) ++magnitude;
    ++i, ++digits;
  }
  if (i < body.size() && body[i] == '.') {
    ++i;
    while (i < body.size() && absl::ascii_isdigit(body[i])) {
      if (!significant) {
        significant = body[i] != '0';
        if (!significant) --magnitude;
      }
      ++i, ++digits;
    }
  }
  if (digits == 0) return false;
  int64_t exponent = 0;
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    bool negative_exponent = false;
    if (i < body.size() && (body[i] == '+' || body[i] == '-')) {
      negative_exponent = body[i] == '-';
      ++i;
    }
    size_t exponent_digits = 0;
    while (i < body.size() && absl::ascii_isdigit(body[i])) {
      if (exponent < 1000000) exponent = exponent * 10 + (body[i] - '0');
      ++i, ++exponent_digits;
    }
    if (exponent_digits == 0) return false;
    if (negative_exponent) exponent = -exponent;
  }
  if (i != body.size()) return false;
  double value = 0;
  const absl::from_chars_result r =
      absl::from_chars(body.data(), body.data() + body.size(), value);
  if (r.ptr != body.data() + body.size()) return false;
  if (r.ec == std::errc::result_out_of_range) {
    value = significant && magnitude + exponent > 0 ? kInf : 0.0;
  }
  *out = negative ? -value : value;
  return true;
}

}  // namespace healthscore::engine::common
