// A small model with one input of each type, for tests of batches and
// account tables: dau_mau (number, range [0, 1]), segment (string: smb,
// enterprise), renewal_date (date), wau (series, range [0, 1000]).

#ifndef HEALTHSCORE_ENGINE_EVAL_TESTING_ONE_OF_EACH_H_
#define HEALTHSCORE_ENGINE_EVAL_TESTING_ONE_OF_EACH_H_

#include <memory>

#include "engine/model/compiler.h"
#include "gtest/gtest.h"

namespace healthscore::engine::eval::testing {

inline constexpr char kOneOfEachModel[] = R"yaml(name: one_of_each
version: "1"
segment_by: segment
inputs:
  - {id: dau_mau, type: number, range: [0, 1]}
  - {id: segment, type: string, values: [smb, enterprise]}
  - {id: renewal_date, type: date}
  - {id: wau, type: series, range: [0, 1000]}
derived:
  - {id: wau_last, expr: "last(wau)"}
groups:
  - id: usage
    weight: 1
    signals:
      - {id: stickiness, source: dau_mau, weight: 1,
         normalize: {linear: {bad: 0, good: 1}}}
      - {id: activity, source: wau_last, weight: 1,
         normalize: {linear: {bad: 0, good: 100}}}
tiers:
  - {id: green, min: 50}
  - {id: red, min: 0}
)yaml";

// kOneOfEachModel compiled (a test failure if it does not compile).
inline std::shared_ptr<const model::CompiledModel> OneOfEachModel() {
  model::CompileResult r =
      model::CompileString(kOneOfEachModel, "one_of_each.yaml");
  EXPECT_NE(r.model, nullptr) << r.diagnostics.ToString();
  return r.model;
}

}  // namespace healthscore::engine::eval::testing

#endif  // HEALTHSCORE_ENGINE_EVAL_TESTING_ONE_OF_EACH_H_
