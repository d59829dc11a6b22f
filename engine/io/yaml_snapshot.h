// YAML test snapshots: one account of a tests.yaml case, written in the JSON
// Lines shape (see snapshot_reader.h), read into an AccountTable.
//
// Thread-safety: AddYamlSnapshot keeps no state; the builder is the
// caller's.

#ifndef HEALTHSCORE_ENGINE_IO_YAML_SNAPSHOT_H_
#define HEALTHSCORE_ENGINE_IO_YAML_SNAPSHOT_H_

#include <string_view>

#include "engine/eval/account_table.h"

namespace YAML {
class Node;
}

namespace healthscore::engine::io {

// Adds one row to the table `builder` fills, from a YAML mapping of the JSON
// Lines shape; used by test cases. Like every reader it knows no model:
// each value is put as written (a scalar with PutScalar, whose meaning the
// declared type decides when a model binds the table; a list of numbers as
// a series; a {values: [...]} mapping as an object), with its place in the
// file (TableBuilder::SetValueLocation, "file:line:col" of its key and of
// the value; `file` names the YAML file), so that binding reports a value
// that does not fit at the value.
//
// Mistakes no model could accept fail the row with a message starting with
// "file:line:col: " of the offending node: a node that is not a mapping, an
// unknown key (with a "did you mean"), a section that is not a mapping, an
// id that is not a scalar or is missing, a list holding something other
// than numbers. Test cases bind strictly and fail names the model does not
// declare (TableBinder::set_strict, set_unknown_names_fail). Never throws.
void AddYamlSnapshot(const YAML::Node& node, std::string_view file,
                     eval::TableBuilder* builder);

}  // namespace healthscore::engine::io

#endif  // HEALTHSCORE_ENGINE_IO_YAML_SNAPSHOT_H_
