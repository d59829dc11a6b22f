// Edits to a model file's text that keep everything else as its authors
// wrote it: comments, order, layout and quoting.
//
// Tools that change a model's numbers (`healthscore tune`) replace the
// scalars they change where the loader found them (SourceLocation of a
// ModelSpec field) instead of writing the model out again, so the new
// version reads like the old one and a diff of the two shows only the
// numbers that changed.
//
// Thread-safety: plain functions.

#ifndef HEALTHSCORE_ENGINE_MODEL_MODEL_EDIT_H_
#define HEALTHSCORE_ENGINE_MODEL_MODEL_EDIT_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/model/diagnostic.h"

namespace healthscore::engine::model {

struct ScalarEdit {
  // Where the scalar to replace starts (1-based line and column, as the
  // loader reports them).
  SourceLocation at;
  // Its new text, written as is (e.g. a number, or a quoted string).
  std::string text;
};

// `text` with each edit's scalar replaced. A scalar is a plain one (up to
// the first space, ',', ']', '}', '#' or line break) or a single- or
// double-quoted one. InvalidArgument, naming the location, when an edit
// points outside the text, at no scalar, or at the same scalar as another.
absl::StatusOr<std::string> ReplaceScalars(
    std::string_view text, const std::vector<ScalarEdit>& edits);

}  // namespace healthscore::engine::model

#endif  // HEALTHSCORE_ENGINE_MODEL_MODEL_EDIT_H_
