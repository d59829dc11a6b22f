// YAML test snapshots: one account of a tests.yaml case, written in the JSON
// Lines shape (see snapshot_reader.h), added to a batch.
//
// Thread-safety: AddYamlSnapshot keeps no state; the builder is the
// caller's.

#ifndef HEALTHSCORE_ENGINE_IO_YAML_SNAPSHOT_H_
#define HEALTHSCORE_ENGINE_IO_YAML_SNAPSHOT_H_

#include <string_view>

#include "engine/eval/batch.h"

namespace YAML {
class Node;
}

namespace healthscore::engine::io {

// Adds one account to `builder` (which fills a batch of `model`) from a YAML
// mapping of the JSON Lines shape; used by test cases. `file` names the YAML
// file in messages. Wrong types, unparseable dates, a node that is not a
// mapping, unknown keys and, unlike the file readers, names the model does
// not declare (test cases are written against one model, so such a name is
// a typo; the message has a "did you mean") fail the row with a message
// starting with "file:line:col: " of the offending node. Never throws.
void AddYamlSnapshot(const YAML::Node& node, std::string_view file,
                     const CompiledModel& model, BatchBuilder* builder);

}  // namespace healthscore::engine::io

#endif  // HEALTHSCORE_ENGINE_IO_YAML_SNAPSHOT_H_
