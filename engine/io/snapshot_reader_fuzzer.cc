// libFuzzer target: the JSON Lines and CSV readers turn any bytes into
// accounts or account errors (or one error for an unreadable input), never a
// crash. Input starting with '{' (after blanks) is read as JSON Lines,
// anything else as CSV; tiny blocks exercise lines that cross block edges.
// Every input is read twice: with roomy limits, and with limits so small
// (64-byte lines, 3-line records) that short inputs reach the over-long
// line and stray-quote recovery paths. Each read must end, with one row per
// line at most, every row either scored or failed, and the same rows
// whatever the block size. JSON Lines is also cut into blocks
// (engine/io/line_blocks.h) parsed by two readers in turn, as the parallel
// `healthscore score` does: the rows must be the same again.
//
// Seeds: engine/io/testdata (the sample accounts, and fuzz/ with truncated
// and stray quotes, long lines and records, repeated keys and time parts)
// and rules/testdata.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/eval/batch.h"
#include "engine/eval/account_table.h"
#include "engine/eval/scorer.h"
#include "engine/io/line_blocks.h"
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

namespace {

// Reads everything; returns each row as "id|error" (or an error of the
// whole input as its last entry).
std::vector<std::string> ReadAll(
    const std::string& text, bool json,
    const healthscore::engine::io::ReaderOptions& options) {
  namespace hs = healthscore::engine;
  namespace io = healthscore::engine::io;
  static const auto model = hs::model::CompileString(kModel, "fuzz.yaml").model;
  std::unique_ptr<io::SnapshotReader> reader;
  if (json) {
    reader =
        std::make_unique<io::JsonLinesReader>(io::StringSource(text), options);
  } else {
    reader = std::make_unique<io::CsvReader>(io::StringSource(text), options);
  }
  hs::eval::Batch batch(model);
  hs::eval::BatchResult result;
  std::vector<std::string> rows;
  for (int i = 0; i < 100000; ++i) {
    absl::StatusOr<size_t> n = reader->ReadBatch(&batch, 3);
    if (!n.ok()) {
      rows.push_back(std::string(n.status().message()));
      return rows;
    }
    if (*n == 0) return rows;
    for (size_t r = 0; r < batch.size(); ++r) {
      rows.push_back(std::string(batch.id(r)) + "|" + batch.row_error(r));
    }
    // A record holds at least one byte, or a line break.
    if (rows.size() > text.size() + 1) __builtin_trap();
    if (!hs::eval::Scorer::Score(batch, &result).ok()) __builtin_trap();
  }
  __builtin_trap();  // the reader never reached the end
}

// As ReadAll for JSON Lines, through blocks of at most `max_lines` lines
// parsed by two readers taking turns.
std::vector<std::string> ReadBlocks(
    const std::string& text, const healthscore::engine::io::ReaderOptions& options,
    size_t max_lines) {
  namespace hs = healthscore::engine;
  namespace io = healthscore::engine::io;
  static const auto model = hs::model::CompileString(kModel, "fuzz.yaml").model;
  io::LineSplitter splitter(io::StringSource(text), options, max_lines);
  io::JsonLinesReader readers[2] = {io::JsonLinesReader(options),
                                    io::JsonLinesReader(options)};
  hs::eval::TableBinder binder(model);
  hs::eval::AccountTable table;
  io::LineBlock block;
  hs::eval::Batch batch(model);
  std::vector<std::string> rows;
  for (int i = 0;; ++i) {
    absl::StatusOr<bool> more = splitter.Next(&block);
    if (!more.ok()) __builtin_trap();  // a string cannot fail to read
    if (!*more) return rows;
    readers[i % 2].ParseBlock(block, &table);
    binder.Bind(table, &batch);
    for (size_t r = 0; r < batch.size(); ++r) {
      rows.push_back(std::string(batch.id(r)) + "|" + batch.row_error(r));
    }
    if (rows.size() > text.size() + 1) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace io = healthscore::engine::io;
  const std::string text(reinterpret_cast<const char*>(data), size);
  const size_t first = text.find_first_not_of(" \t\r\n");
  const bool json = first != std::string::npos && text[first] == '{';
  // The block size never changes what is read.
  io::ReaderOptions options;
  options.max_line_bytes = 1 << 16;
  for (io::ReaderOptions limits : {options, [&] {
                                     io::ReaderOptions tiny = options;
                                     tiny.max_line_bytes = 64;
                                     tiny.max_record_lines = 3;
                                     return tiny;
                                   }()}) {
    limits.block_size = 7;
    const std::vector<std::string> small = ReadAll(text, json, limits);
    limits.block_size = 4096;
    if (ReadAll(text, json, limits) != small) __builtin_trap();
    if (json) {
      limits.block_size = 7;
      if (ReadBlocks(text, limits, 2) != small) __builtin_trap();
      limits.block_size = 4096;
      if (ReadBlocks(text, limits, 1000) != small) __builtin_trap();
    }
  }
  return 0;
}
