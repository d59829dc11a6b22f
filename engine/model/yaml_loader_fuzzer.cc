// libFuzzer entry point for the model file loader, which must never crash or
// throw on any input. Built as a replay test in every build and as a real
// fuzzer with -DHEALTHSCORE_FUZZ=ON (cmake/fuzzing.cmake, docs/fuzzing.md);
// engine/model/yaml_loader_fuzzer.dict holds YAML's tokens (anchors,
// aliases, merge keys, flow brackets) so that mutations build them.
//
// Besides "no crash", it checks the promise of engine/common/yaml_reader.h
// on every input the reader accepts: walking the node tree with aliases
// expanded visits at most the nodes ReadYaml counted and nests at most
// max_depth lists and mappings (so no alias bomb or recursive alias gets
// through), and the loader reports every problem at a location. Inputs
// starting with byte 1, 2 or 3 are amplified into long flat expressions,
// deep nestings and alias fan-outs inside a valid model
// (engine/common/fuzz_amplify.h).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/common/fuzz_amplify.h"
#include "engine/common/yaml_reader.h"
#include "engine/model/diagnostic.h"
#include "engine/model/model_spec.h"
#include "engine/model/yaml_loader.h"
#include "yaml-cpp/yaml.h"

namespace {

namespace hs = healthscore::engine;

// Tight limits, so that small inputs cross them too.
hs::common::YamlLimits TightLimits() {
  hs::common::YamlLimits limits;
  limits.max_bytes = 16384;
  limits.max_nodes = 4096;
  limits.max_depth = 12;
  return limits;
}

void Walk(const YAML::Node& node, int depth, uint64_t counted, int max_depth,
          uint64_t* seen) {
  if (++*seen > counted) __builtin_trap();      // more than counted: a bomb
  if (depth > max_depth + 1) __builtin_trap();  // deeper than allowed
  if (node.IsMap()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      Walk(it->first, depth + 1, counted, max_depth, seen);
      Walk(it->second, depth + 1, counted, max_depth, seen);
    }
  } else if (node.IsSequence()) {
    for (auto it = node.begin(); it != node.end(); ++it) {
      Walk(*it, depth + 1, counted, max_depth, seen);
    }
  }
}

void Load(std::string_view text, const hs::common::YamlLimits& limits) {
  hs::model::DiagnosticList diags;
  hs::model::ModelLoadOptions options;
  options.yaml = limits;
  hs::model::ModelSpec spec =
      hs::model::LoadModelSpecFromString(text, "fuzz.yaml", &diags, options);
  // Exercise the formatting paths too: every message must be printable.
  (void)diags.ToString();
  (void)diags.ToStatus();
  for (const hs::model::Diagnostic& d : diags.items()) {
    if (d.location.file != "fuzz.yaml") __builtin_trap();
  }
  if (spec.unreadable && !diags.has_errors()) __builtin_trap();
  for (const auto& derived : spec.derived) {
    (void)derived.expr.At(2, 3);
  }
  for (const auto& playbook : spec.playbooks) {
    (void)playbook.when.At(1, 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A short input may stand for a long or deep model (fuzz_amplify.h).
  const std::string model = healthscore::engine::common::FuzzModelText(
      std::string_view(reinterpret_cast<const char*>(data), size));
  const std::string_view text(model);
  Load(text, hs::common::YamlLimits{});
  const hs::common::YamlLimits tight = TightLimits();
  Load(text, tight);
  const hs::common::YamlDocument doc = hs::common::ReadYaml(text, tight);
  if (!doc.problem && doc.documents > 0) {
    uint64_t seen = 0;
    Walk(doc.root, 1, doc.nodes, tight.max_depth, &seen);
  }
  return 0;
}
