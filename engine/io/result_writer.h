// Result writers: scored accounts as JSON Lines or CSV.
//
// JSON Lines: one object per account, in batch order. An account that
// scored:
//
//   {"id":"acme","status":"ok","score":72.5,"tier":"yellow","coverage":1,
//    "groups":{"usage":80,"support":61.25},
//    "playbooks":[{"id":"renewal_prep","name":"Renewal preparation",
//                  "owner":"account_manager","priority":2,
//                  "reason":"days_to_renewal < 90 && ... [days_to_renewal=45]",
//                  "success":false}],
//    "delta":-3.5,"tier_changed":true,"tier_held":false,
//    "warnings":["..."],
//    "model":{"name":"default","version":"3","hash":"9f2c..."}}
//
// and, with explain on, "explanation":{"signals":[{"id","raw","score",
// "weight","effective_weight","points","points_lost","present"}],
// "top_drivers":[ids],"missing":[ids],"tier_rule":"..."}.
//
// An account that failed: {"id":...,"status":"error","error":"line 7: ...",
// "model":{...}}. Missing numbers (no score, a group without data, a signal
// without a raw value, no previous score for delta) are left out, never
// written as null. "delta" appears when both scores exist; "tier_changed"
// and "tier_held" when the snapshot carried a previous tier; "success" when
// the playbook has a success condition; "warnings" when there are any.
//
// CSV: a header row, then one row per account:
//   id,status,error,score,tier,coverage,<one column per group id>,
//   playbooks,delta,tier_changed
// with playbook ids joined by ';' in priority order, missing values as empty
// cells and RFC 4180 quoting.
//
// Numbers are written with at most 6 significant digits for scores,
// coverage, weights and points (a score of 72.49999999 is 72.5) and with the
// shortest text that reads back to the same double for raw values; always
// the same text for the same value.
//
// Thread-safety: a writer is used by one thread at a time.

#ifndef HEALTHSCORE_ENGINE_IO_RESULT_WRITER_H_
#define HEALTHSCORE_ENGINE_IO_RESULT_WRITER_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/eval/batch.h"
#include "engine/eval/result.h"

namespace healthscore::engine::io {

enum class OutputFormat { kJsonLines, kCsv };

// "jsonl" (also "ndjson", "json") or "csv". InvalidArgument otherwise.
absl::StatusOr<OutputFormat> ParseOutputFormat(std::string_view name);
// .csv is CSV; anything else (including "-") is JSON Lines.
OutputFormat OutputFormatFromPath(std::string_view path);

struct WriterOptions {
  // Add the per-signal "explanation" object (JSON Lines only).
  bool explain = false;
  // How many signals "top_drivers" lists (the ones losing the most points).
  int top_drivers = 3;
};

// Appends the JSON object for `row` (no line break) to `out`.
void AppendJsonResult(const Batch& batch, const BatchResult& result, size_t row,
                      const WriterOptions& options, std::string* out);
// The CSV header line for `model` (with "\n").
std::string CsvHeader(const CompiledModel& model);
// Appends the CSV line for `row` (with "\n") to `out`.
void AppendCsvResult(const Batch& batch, const BatchResult& result, size_t row,
                     std::string* out);

// Shortest text that reads back as `value` (finite values only).
std::string FormatDouble(double value);
// At most 6 significant digits; -0 is written 0.
std::string FormatScore(double value);

// Where a writer's bytes go.
class ByteSink {
 public:
  virtual ~ByteSink() = default;
  // Writes all of `data`. Errors: DataLoss (or another code) when the
  // underlying write fails (disk full, closed pipe).
  virtual absl::Status Write(std::string_view data) = 0;
  // Flushes and closes; further writes are not allowed.
  virtual absl::Status Close() = 0;
};

// Creates (truncates) a file; "-" is standard output (not closed by Close).
// PermissionDenied, NotFound (missing directory) or Unavailable otherwise.
absl::StatusOr<std::unique_ptr<ByteSink>> OpenFileSink(const std::string& path);
// Appends to `*out`, which must outlive the sink.
std::unique_ptr<ByteSink> StringSink(std::string* out);

class ResultWriter {
 public:
  ResultWriter(std::unique_ptr<ByteSink> sink, OutputFormat format,
               const WriterOptions& options = {});
  ~ResultWriter();
  ResultWriter(const ResultWriter&) = delete;
  ResultWriter& operator=(const ResultWriter&) = delete;

  // Writes every row of a scored batch. The CSV header is written before
  // the first batch, for that batch's model; all batches must share the
  // model's groups. Output is buffered; the sink sees it in large writes.
  absl::Status Write(const Batch& batch, const BatchResult& result);

  // Writes what is buffered and closes the sink. Must be called to get the
  // last rows out and to learn about write errors; the destructor does not
  // report errors.
  absl::Status Close();

 private:
  absl::Status FlushIfLarge();

  std::unique_ptr<ByteSink> sink_;
  OutputFormat format_;
  WriterOptions options_;
  std::string buffer_;
  bool header_written_ = false;
  bool closed_ = false;
};

// Opens `path` ("-" for standard output) with a writer.
absl::StatusOr<std::unique_ptr<ResultWriter>> OpenResultWriter(
    const std::string& path, OutputFormat format,
    const WriterOptions& options = {});

}  // namespace healthscore::engine::io

#endif  // HEALTHSCORE_ENGINE_IO_RESULT_WRITER_H_
