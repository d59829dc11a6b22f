#include "engine/model/model_spec.h"

namespace healthscore::engine::model {

SourceLocation ExprSource::At(int line, int column) const {
  // Without a known position there is nothing to offset from.
  if (location.line <= 0) return location;
  SourceLocation out;
  out.file = location.file;
  if (line <= 1) {
    out.line = location.line;
    out.column = location.column > 0 ? location.column + column - 1 : 0;
    return out;
  }
  out.line = location.line + line - 1;
  // Continuation lines of a block scalar start at its indentation; other
  // multi-line text is taken as starting at the left margin.
  out.column = block_column > 0 ? block_column + column - 1 : column;
  return out;
}

const char* InputSectionName(InputType t) {
  switch (t) {
    case InputType::kNumber: return "metrics";
    case InputType::kString: return "attributes";
    case InputType::kDate: return "dates";
    case InputType::kSeries: return "series";
  }
  return "metrics";
}

const char* InputTypeName(InputType t) {
  switch (t) {
    case InputType::kNumber:
      return "number";
    case InputType::kString:
      return "string";
    case InputType::kDate:
      return "date";
    case InputType::kSeries:
      return "series";
  }
  return "unknown";
}

}  // namespace healthscore::engine::model
