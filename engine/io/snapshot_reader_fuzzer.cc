// libFuzzer target: the JSON Lines and CSV readers turn any bytes into
// accounts or account errors (or one error for an unreadable input), never a
// crash. Input starting with '{' (after blanks) is read as JSON Lines,
// anything else as CSV; tiny blocks exercise lines that cross block edges.

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/eval/batch.h"
#include "engine/eval/scorer.h"
#include "engine/io/snapshot_reader.h"
#include "engine/model/compiler.h"

namespace {

constexpr char kModel[] = R"yaml(name: fuzz
version: 1
segment_by: segment
inputs:
  - {id: dau_mau, type: number, range: [0, 1]}
  - {id: segment, type: string, values: [smb, enterprise]}
  - {id: renewal_date, type: date}
  - {id: wau, type: series}
derived:
  - {id: trend, expr: "pct_change(wau, 2, 2)"}
  - {id: days_left, expr: "days_between(as_of, renewal_date)"}
groups:
  - id: usage
    weight: 1
    signals:
      - {id: stickiness, source: dau_mau, weight: 1, normalize: {linear: {bad: 0.1, good: 0.5}}}
      - {id: growth, source: trend, weight: 1, normalize: {linear: {bad: -20, good: 20}}}
      - {id: renewal, source: days_left, weight: 1, normalize: {linear: {bad: 0, good: 90}}}
tiers:
  - {id: green, min: 50}
  - {id: red, min: 0}
)yaml";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace hs = healthscore::engine;
  namespace io = healthscore::engine::io;
  static const auto model = hs::CompileString(kModel, "fuzz.yaml").model;
  std::string text(reinterpret_cast<const char*>(data), size);
  const size_t first = text.find_first_not_of(" \t\r\n");
  const bool json = first != std::string::npos && text[first] == '{';
  io::ReaderOptions options;
  options.block_size = 7;
  options.max_line_bytes = 1 << 16;
  std::unique_ptr<io::SnapshotReader> reader;
  if (json) {
    reader = std::make_unique<io::JsonLinesReader>(
        io::StringSource(std::move(text)), options);
  } else {
    reader = std::make_unique<io::CsvReader>(io::StringSource(std::move(text)),
                                             options);
  }
  hs::Batch batch(model);
  hs::BatchResult result;
  for (int i = 0; i < 10000; ++i) {
    absl::StatusOr<size_t> n = reader->ReadBatch(&batch, 3);
    if (!n.ok() || *n == 0) break;
    if (!hs::Scorer::Score(batch, &result).ok()) __builtin_trap();
  }
  return 0;
}
