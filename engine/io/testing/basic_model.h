// The readers' and writers' test model, engine/io/testdata/basic (usage
// and support groups, one input of each type), for tests and benchmarks.

#ifndef HEALTHSCORE_ENGINE_IO_TESTING_BASIC_MODEL_H_
#define HEALTHSCORE_ENGINE_IO_TESTING_BASIC_MODEL_H_

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "engine/model/compiler.h"

namespace healthscore::engine::io::testing {

// Compiled once per process. Aborts with the reason when the model does not
// load (the test data is broken).
inline std::shared_ptr<const model::CompiledModel> BasicModel() {
  static auto* model = [] {
    auto m = model::LoadModel(HEALTHSCORE_SOURCE_DIR
                              "/engine/io/testdata/basic/model.yaml");
    if (!m.ok()) {
      std::fprintf(stderr, "engine/io/testdata/basic: %s\n",
                   std::string(m.status().message()).c_str());
      std::abort();
    }
    return new std::shared_ptr<const model::CompiledModel>(*m);
  }();
  return *model;
}

}  // namespace healthscore::engine::io::testing

#endif  // HEALTHSCORE_ENGINE_IO_TESTING_BASIC_MODEL_H_
