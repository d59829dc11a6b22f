// Bounded reading of YAML: the one way every YAML front end of Healthscore
// (model files, repository config files, tests.yaml, the server's --config
// file) turns text into yaml-cpp nodes.
//
// yaml-cpp builds an alias as a second reference to its anchor's node. A
// 700-byte file of nested aliases ("billion laughs") therefore loads at once
// but expands to billions of nodes for any reader that walks it, and an
// alias inside its own anchor (`config: &c {k: *c}`) builds a cyclic graph
// on which every recursive walk loops until the stack overflows. ReadYaml
// first walks yaml-cpp's event stream (which builds no nodes) and refuses,
// located at the line and column that crossed the limit:
//
//   - text longer than YamlLimits::max_bytes;
//   - more than max_nodes nodes once every alias is expanded: each anchor
//     remembers the expanded size of its node and each alias adds it, as
//     libyaml users (Go's yaml.v3, Ruby's Psych) bound alias expansion;
//   - an alias to a node that is still open (a recursive alias);
//   - lists and mappings nested deeper than max_depth;
//   - any YAML syntax error, and stray tokens that make yaml-cpp 0.7 return
//     the same empty document forever;
//   - a LoadBudget that runs out (checked every few thousand events).
//
// Only then does yaml-cpp build the first document. A node tree that
// ReadYaml returned is finite, acyclic when expanded, at most max_depth
// deep and at most max_nodes large when walked with aliases expanded, so a
// reader may walk it recursively; walks should still carry a depth bound of
// their own (see yaml_loader.cc's FlattenSettings).
//
// Nothing here throws: every yaml-cpp exception is caught and reported.
//
// Thread-safety: free functions with no shared state.

#ifndef HEALTHSCORE_ENGINE_COMMON_YAML_READER_H_
#define HEALTHSCORE_ENGINE_COMMON_YAML_READER_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "engine/common/load_budget.h"
#include "yaml-cpp/yaml.h"

namespace healthscore::engine::common {

struct YamlLimits {
  static constexpr size_t kDefaultMaxBytes = size_t{4} << 20;  // 4 MiB
  static constexpr uint64_t kDefaultMaxNodes = 1000000;
  static constexpr int kDefaultMaxDepth = 64;

  // Longest text accepted, in bytes. Operators raise it with
  // --max-model-bytes (CLI and server).
  size_t max_bytes = kDefaultMaxBytes;
  // Most nodes (scalars, lists, mappings, keys included) a text may hold
  // with every alias expanded. Raised with --max-yaml-nodes.
  uint64_t max_nodes = kDefaultMaxNodes;
  // Deepest nesting of lists and mappings. Not a flag: no model nests more
  // than a few levels, and yaml-cpp itself stops at 500.
  int max_depth = kDefaultMaxDepth;
};

// Why a text was refused.
struct YamlProblem {
  // InvalidArgument (syntax, recursive alias, nesting), ResourceExhausted
  // (max_bytes, max_nodes), DeadlineExceeded or Cancelled (the budget).
  absl::StatusCode code = absl::StatusCode::kInvalidArgument;
  // 1-based; 0 when unknown (e.g. the whole text is too long).
  int line = 0;
  int column = 0;
  // One sentence without a trailing period, e.g.
  // "invalid YAML: end of map not found".
  std::string message;
  // What to do about it; may be empty.
  std::string hint;

  // "file:line:col: message (hint: hint)", dropping the unknown parts.
  std::string ToString(std::string_view file) const;
  // `code` with ToString(file) as the message.
  absl::Status ToStatus(std::string_view file) const;
};

struct YamlDocument {
  // The first document of the text; Null for an empty text. Unusable when
  // `problem` is set.
  YAML::Node root;
  // Documents in the text (0 for an empty text or comments only).
  int documents = 0;
  // Where the first and second documents start (null marks when absent).
  YAML::Mark first_start = YAML::Mark::null_mark();
  YAML::Mark second_start = YAML::Mark::null_mark();
  // Nodes in the whole text with aliases expanded.
  uint64_t nodes = 0;
  std::optional<YamlProblem> problem;
};

// Reads `text` under `limits` and `budget` (see the file comment). Never
// throws.
YamlDocument ReadYaml(std::string_view text, const YamlLimits& limits = {},
                      const LoadBudget& budget = {});

// ReadYaml for readers that report a Status: the first document, or the
// problem as a Status ("file:line:col: message (hint: ...)"). A text with
// more than one document is InvalidArgument, located at the second one.
absl::StatusOr<YAML::Node> LoadYaml(std::string_view text,
                                    std::string_view file,
                                    const YamlLimits& limits = {},
                                    const LoadBudget& budget = {});

// Reads a whole file of at most limits.max_bytes, checking the size before
// reading. Errors: NotFound when it cannot be opened or is a directory;
// ResourceExhausted when it is longer than the limit (nothing is read);
// DataLoss when reading fails.
absl::StatusOr<std::string> ReadYamlFile(const std::string& path,
                                         const YamlLimits& limits = {});

// The message and hint for a text of `size` bytes over `max_bytes`, shared
// by every reader so that the limit and how to raise it read the same.
std::string OversizeMessage(uint64_t size, size_t max_bytes);
std::string OversizeHint();

// Helpers for readers of the nodes ReadYaml returns.

// The value as it would appear in a message: `"text"` (the first 40 bytes,
// escaped) for scalars, "a list", "a mapping", or "nothing".
std::string DescribeYamlNode(const YAML::Node& node);

// True for a scalar written in quotes (or as a block scalar), as opposed to
// a plain scalar. Quoting is how YAML says "string".
bool IsQuotedYamlScalar(const YAML::Node& node);

// A local tag such as `!has(x)`: almost always an expression or value that
// starts with '!' and was meant literally.
bool HasCustomYamlTag(const YAML::Node& node);

// Decimal numbers as YAML's core schema writes them (`12`, `-0.5`, `1e3`,
// `.5`), plus `.inf`, `-.inf` and `.nan`. Hex and octal are not accepted:
// no model needs them and they hide typos. Numbers too large for a double
// become infinite, and are reported as such by the caller.
bool ParseYamlNumber(absl::string_view s, double* out);

}  // namespace healthscore::engine::common

#endif  // HEALTHSCORE_ENGINE_COMMON_YAML_READER_H_
