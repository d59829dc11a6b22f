// libFuzzer entry point for the model file loader, which must never crash or
// throw on any input. Built as a replay test in every build and as a real
// fuzzer with -DHEALTHSCORE_FUZZ=ON (cmake/fuzzing.cmake, docs/fuzzing.md).

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/model/diagnostic.h"
#include "engine/model/model_spec.h"
#include "engine/model/yaml_loader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using healthscore::engine::DiagnosticList;
  using healthscore::engine::ModelSpec;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  DiagnosticList diags;
  ModelSpec spec =
      healthscore::engine::LoadModelSpecFromString(text, "fuzz.yaml", &diags);
  // Exercise the formatting paths too: every message must be printable.
  (void)diags.ToString();
  (void)diags.ToStatus();
  for (const auto& derived : spec.derived) {
    (void)derived.expr.At(2, 3);
  }
  for (const auto& playbook : spec.playbooks) {
    (void)playbook.when.At(1, 1);
  }
  return 0;
}
