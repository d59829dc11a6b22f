// libFuzzer target: any expression text is parsed, checked against a fixed
// set of names, planned and run over four accounts with missing values,
// without crashing or reading out of bounds.
//
// Each short input (2 to 257 bytes) is also amplified
// (engine/common/fuzz_amplify.h), so that it reaches the limits of
// engine/expr/limits.h, where the recursive passes are deepest: counts of
// 1..511 fall either side of kMaxDepth = 256, and '@' is not a character of
// the language.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/common/fuzz_amplify.h"
#include "engine/expr/checker.h"
#include "engine/expr/parser.h"
#include "engine/expr/program.h"
#include "engine/expr/testing/scope.h"

namespace {

namespace ex = healthscore::engine::expr;

void Run(const std::string& text) {
  ex::ParseResult parsed = ex::Parse(text);
  if (!parsed.ok()) return;
  (void)ex::ToString(*parsed.root);
  std::vector<std::string> names;
  ex::CollectIdentifiers(*parsed.root, &names);

  ex::testing::TestingScope scope;
  ex::ProgramBuilder builder;
  const int x = builder.AddSlot(ex::ValueKind::kNum);
  const int y = builder.AddSlot(ex::ValueKind::kNum);
  const int seg = builder.AddSlot(ex::ValueKind::kStr);
  const int start = builder.AddSlot(ex::ValueKind::kNum);
  const int as_of = builder.AddSlot(ex::ValueKind::kNum);
  const int wau = builder.AddSlot(ex::ValueKind::kSeries);
  scope.Add("x", {ex::Type::kNumber, ex::Operand::Slot(x)});
  scope.Add("y", {ex::Type::kNumber, ex::Operand::Slot(y)});
  scope.Add("segment", {ex::Type::kString, ex::Operand::Slot(seg)});
  scope.Add("seg", {ex::Type::kString, ex::Operand::Slot(seg)});
  scope.Add("start", {ex::Type::kDate, ex::Operand::Slot(start)});
  scope.Add("as_of", {ex::Type::kDate, ex::Operand::Slot(as_of)});
  scope.Add("wau", {ex::Type::kSeries, ex::Operand::Slot(wau)});
  scope.Add("score", {ex::Type::kNumber, ex::Operand::Slot(y), 0, 100});

  ex::CheckResult checked = ex::Check(parsed.root.get(), &scope);
  if (!checked.ok()) return;
  const ex::Operand out = builder.Emit(*parsed.root);
  std::unique_ptr<ex::Program> program = builder.Build();

  double xs[4] = {2, 0, -1e308, 7};
  uint8_t xv[4] = {1, 1, 1, 0};
  double ys[4] = {0, 3, 1e308, 1};
  uint8_t yv[4] = {1, 0, 1, 1};
  int32_t codes[4] = {0, 1, -2, -1};
  double wau_values[7] = {1, 2, 3, 4, 5, 0, 0};
  uint32_t offsets[5] = {0, 5, 5, 7, 7};
  uint8_t wau_valid[4] = {1, 1, 1, 0};
  ex::SlotView slots;
  slots.num.assign(6, nullptr);
  slots.num_valid.assign(6, nullptr);
  slots.str.assign(6, nullptr);
  slots.series.assign(6, {});
  slots.num[x] = xs;
  slots.num_valid[x] = xv;
  slots.num[y] = ys;
  slots.num_valid[y] = yv;
  slots.str[seg] = codes;
  slots.num[start] = xs;
  slots.num_valid[start] = xv;
  slots.num[as_of] = ys;
  slots.num_valid[as_of] = yv;
  slots.series[wau] = {wau_values, offsets, wau_valid};
  ex::Scratch scratch;
  program->Run(slots, 4, &scratch);
  if (checked.type == ex::Type::kBool) {
    (void)program->Bool(out, scratch);
  } else if (checked.type == ex::Type::kNumber ||
             checked.type == ex::Type::kDate) {
    (void)program->Num(out, slots, scratch);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Run(std::string(input));
  if (size >= 2 && size <= 257)
    Run(healthscore::engine::common::Amplify(input));
  return 0;
}
