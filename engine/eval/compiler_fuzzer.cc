// libFuzzer target: the whole compile path (YAML loader, expression parser
// and checker, planner) must never crash or throw, whatever the file holds.
// A model that compiles is also scored over a few synthetic accounts. Its
// corpus is the loader's (engine/model/testdata, with the hostile inputs
// of fuzz/) and so is its dictionary (yaml_loader_fuzzer.dict). Inputs
// starting with byte 1, 2 or 3 are amplified into long flat expressions,
// deep nestings and alias fan-outs (engine/common/fuzz_amplify.h).
// It lives in eval/, not model/, because it scores: model/ sits below eval/
// (LAYERS).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/common/fuzz_amplify.h"
#include "engine/eval/batch.h"
#include "engine/eval/explain.h"
#include "engine/eval/scorer.h"
#include "engine/model/compiler.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace hs = healthscore::engine;
  // A short input may stand for a long or deep model (fuzz_amplify.h).
  const std::string text = healthscore::engine::common::FuzzModelText(
      std::string_view(reinterpret_cast<const char*>(data), size));
  hs::model::CompileResult r = hs::model::CompileString(text, "fuzz.yaml");
  (void)r.diagnostics.ToString();
  if (r.model == nullptr) return 0;
  hs::eval::Batch batch(r.model);
  hs::eval::BatchBuilder b(&batch);
  for (int row = 0; row < 3; ++row) {
    b.BeginRow(row == 2 ? "" : "acct");
    b.SetAsOf("2026-11-01");
    for (const auto& in : r.model->inputs()) {
      const double v = row * 37.5 - 10;
      switch (in.type) {
        case hs::model::InputType::kNumber:
          b.SetMetric(in.id, v);
          break;
        case hs::model::InputType::kString:
          b.SetAttribute(in.id, in.values.empty() ? "x" : in.values[0]);
          break;
        case hs::model::InputType::kDate:
          b.SetDate(in.id, "2026-01-31");
          break;
        case hs::model::InputType::kSeries: {
          const double s[] = {v, v * 2, 1e308, -v};
          b.SetSeries(in.id, s, row + 1);
          break;
        }
      }
    }
    b.SetPreviousTier(r.model->tiers().empty() ? "" : r.model->tiers()[0].id);
    b.SetPreviousScore(50);
    b.EndRow();
  }
  hs::eval::BatchResult result;
  if (!hs::eval::Scorer::Score(batch, &result).ok()) __builtin_trap();
  for (size_t row = 0; row < batch.size(); ++row) {
    (void)hs::eval::Explain(batch, result, row, hs::eval::kDefaultTopDrivers);
    for (int p : hs::eval::MatchedPlaybooks(result, row)) {
      (void)hs::eval::PlaybookReason(batch, result, row, p);
    }
  }
  return 0;
}
