// Reading a YAML node tree into typed values with file:line:col diagnostics:
// the generic half of the model loader (yaml_loader.cc holds the model
// schema). A reader reports each problem once, located at the key or value
// written in the file, with a hint where one helps: unknown keys (with "did
// you mean"), duplicate keys, missing or empty required keys (and a value
// commented out by an unquoted '#'), values of the wrong type, quoted
// numbers, stray YAML tags. After `max_errors` errors one more says the
// reader stopped there, and nothing more is reported.
//
// The node tree should come from ReadYaml (engine/common/yaml_reader.h),
// which bounds its size, depth and aliases; `text` is the text it was read
// from, used to locate what yaml-cpp's marks do not (list items, the start
// of a quoted or block scalar).
//
// Thread-safety: a reader is used by one thread at a time.

#ifndef HEALTHSCORE_ENGINE_MODEL_LOCATED_YAML_READER_H_
#define HEALTHSCORE_ENGINE_MODEL_LOCATED_YAML_READER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "engine/common/load_budget.h"
#include "engine/common/yaml_reader.h"
#include "engine/model/diagnostic.h"
#include "engine/model/model_spec.h"
#include "yaml-cpp/yaml.h"

namespace healthscore::engine::model {

class LocatedYamlReader {
 public:
  // `text` (the whole file, named `file` in locations), `budget` and `diags`
  // must outlive the reader. `budget` is looked at in every loop over keys
  // and items; when it runs out the reader stops with its message.
  LocatedYamlReader(absl::string_view text, const std::string& file,
                    const common::LoadBudget& budget, int max_errors,
                    DiagnosticList* diags);

  // One key of a mapping, as written.
  struct Entry {
    std::string key;
    SourceLocation key_loc;
    YAML::Node value;
    // Where the value starts; the key's location when the value is empty,
    // since yaml-cpp then points at whatever follows.
    SourceLocation value_loc;
  };

  // The known keys of one mapping, first occurrence of each, in file order.
  struct Mapping {
    std::vector<Entry> entries;
    SourceLocation loc;
    // Names the element in messages: "signal" or "signal 'dau_mau'".
    std::string label;

    const Entry* Find(absl::string_view key) const {
      for (const Entry& e : entries) {
        if (e.key == key) return &e;
      }
      return nullptr;
    }
  };

  // After max_errors errors, one more says the reader stopped there: a file
  // of a million unknown keys must not become a million messages.
  void Error(const SourceLocation& loc, std::string message,
             std::string hint = "");
  void Warning(const SourceLocation& loc, std::string message,
               std::string hint = "");

  // True once the reader must stop: the error limit was reached or the
  // budget ran out (reported once, for the whole file). Called in every
  // loop over keys and items; looks at the clock every 64 calls.
  bool Stopped();
  // True once the reader has stopped (without looking at the budget).
  bool stopped() const { return stopped_; }

  SourceLocation Loc(const YAML::Mark& mark) const;
  SourceLocation NodeLoc(const YAML::Node& node) const {
    return Loc(node.Mark());
  }
  // The location of a list item. yaml-cpp marks an empty item at the token
  // after it, often on a later line, so point at what precedes it instead
  // (the '-' of a block list).
  SourceLocation ItemLoc(const YAML::Node& item) const;

  // Line `line0` (0-based) of the source without its line break; empty when
  // out of range.
  absl::string_view RawLine(int line0) const;

  // The keys of mapping `node` that are in `allowed` (`what` names the
  // mapping in messages); unknown and duplicate keys are reported. Records
  // where each value starts in `fields` when not null.
  Mapping ReadMapping(const YAML::Node& node, absl::string_view what,
                      const std::vector<std::string>& allowed,
                      FieldLocations* fields);
  bool ReadKey(const YAML::Node& key, absl::string_view what, std::string* out);

  // The entry for `key`, or nullptr when it is absent or has no value.
  // Reports a missing or empty required key; `expected` ("a number") words
  // the error for an empty value.
  const Entry* Get(const Mapping& m, absl::string_view key, bool required,
                   absl::string_view expected);
  void ReportEmptyValue(const Entry& e, bool required,
                        absl::string_view expected);

  // Typed readers of a present, non-empty value. They report a problem and
  // return false, leaving `out` as it was unless stated.
  bool ReadScalarText(const YAML::Node& node, const SourceLocation& loc,
                      absl::string_view what, absl::string_view expected,
                      std::string* out);
  bool ReadString(const Entry& e, std::string* out);
  bool ReadNumber(const YAML::Node& node, const SourceLocation& loc,
                  absl::string_view what, bool allow_infinite, double* out);
  bool ReadNumber(const Entry& e, double* out) {
    return ReadNumber(e.value, e.value_loc, e.key, false, out);
  }
  bool ReadInt(const Entry& e, int64_t* out);
  // Sets out->location even when the value is unreadable, so that later
  // complaints about the same expression point at the same line.
  bool ReadExpr(const Entry& e, ExprSource* out);
  bool ReadStringList(const Entry& e, std::vector<std::string>* out);

  // Calls fn(item) for each item of a list value; for ForEachMapping, each
  // item that is a mapping (`item_what` words the error for the others).
  template <typename Fn>
  void ForEachItem(const Entry& e, Fn fn);
  template <typename Fn>
  void ForEachMapping(const Entry& e, absl::string_view item_what, Fn fn);

  // Where the text of a scalar starts, past any anchor, tag and quote.
  void LocateScalarText(const YAML::Node& node, ExprSource* out) const;
  // The word after `key: #` when an empty value looks like a commented-out
  // value (`color: #2e7d32`), else empty.
  std::string CommentedOutValue(const Entry& e) const;

 protected:
  absl::string_view text_;
  std::string file_;
  std::vector<size_t> line_starts_;
  // Set when the reader stops; a reader may stop itself (e.g. at a limit of
  // its own) by setting it after reporting why.
  bool stopped_ = false;

 private:
  const common::LoadBudget& budget_;
  const int max_errors_;
  DiagnosticList* diags_;
  int errors_ = 0;
  uint64_t ticks_ = 0;
};

template <typename Fn>
void LocatedYamlReader::ForEachItem(const Entry& e, Fn fn) {
  if (!e.value.IsSequence()) {
    Error(e.value_loc, absl::StrCat("'", e.key, "' must be a list, got ",
                                    common::DescribeYamlNode(e.value)));
    return;
  }
  for (auto it = e.value.begin(); it != e.value.end() && !Stopped(); ++it) {
    fn(*it);
  }
}

template <typename Fn>
void LocatedYamlReader::ForEachMapping(const Entry& e,
                                       absl::string_view item_what, Fn fn) {
  ForEachItem(e, [&](const YAML::Node& item) {
    if (!item.IsMap()) {
      Error(ItemLoc(item),
            absl::StrCat("each ", item_what, " must be a mapping, got ",
                         common::DescribeYamlNode(item)));
      return;
    }
    fn(item);
  });
}

}  // namespace healthscore::engine::model

#endif  // HEALTHSCORE_ENGINE_MODEL_LOCATED_YAML_READER_H_
