// The content hash of a compiled model (CompiledModel::hash()): the SHA-256,
// in lowercase hex, of a canonical text of everything that affects scoring
// (inputs, plugins with their libraries' digests and settings, derived
// values, groups, signals, overrides, tiers and playbooks), written in a
// fixed order so that formatting and comments do not change the hash. The
// compiler writes the canonical text (ModelCompiler::CanonicalText in
// model_hash.cc).
//
// Thread-safety: free functions with no shared state.

#ifndef HEALTHSCORE_ENGINE_MODEL_MODEL_HASH_H_
#define HEALTHSCORE_ENGINE_MODEL_MODEL_HASH_H_

#include <string>
#include <string_view>

namespace healthscore::engine::model {

// The SHA-256 of `canonical_text` as 64 lowercase hex digits.
std::string ModelHash(std::string_view canonical_text);

}  // namespace healthscore::engine::model

#endif  // HEALTHSCORE_ENGINE_MODEL_MODEL_HASH_H_
