// Result writers: scored accounts as JSON Lines or CSV.
//
// JSON Lines: one object per account, in the order written (batch order,
// or the order given to the interleaved Write). An account that scored:
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
// "model" names the model that scored the account: its `name:`, its
// `version:` label (text, as written in the model file) and its content
// hash. When the writer is told the model's version in its repository
// (ScoredPart::repository_version, which `healthscore score` gives under
// segment routing), it also carries "repository_version", that numeric
// version directory (2 for rules/default/2/model.yaml), as a number.
//
// CSV: a header row, then one row per account:
//   id,status,error,score,tier,coverage,<one column per group id>,
//   playbooks,delta,tier_changed,warnings
// with playbook ids joined by ';' in priority order, the account's warnings
// (values used as missing, values out of range) joined by " | ", missing
// values as empty cells and RFC 4180 quoting. When the rows may come from
// several models (WriterOptions::csv_models, for segment routing), the
// group columns are the union of those models' groups, a row leaves empty
// the cells of the groups its model lacks, and two columns come before
// `warnings`:
//   ...,tier_changed,model,repository_version,warnings
// naming the model that scored it (the version is empty when not known).
//
// Numbers (scores, coverage, group scores, delta, raw values, weights,
// points, and the numbers quoted in reasons, warnings and tier rules) are
// written as WriterOptions::numbers says (engine/common/number_format.h): by
// default the shortest text that reads back to the very same double, so a
// score of 79.999996 is written 79.999996, never 80, and a reader gets the
// engine's double bit for bit (zero is written 0, whatever its sign). With a
// precision, at most that many significant digits. Always the same text
// for the same value.
//
// What a row shows (which playbooks and reasons, which warnings, whether
// tier_changed is written, a failed row's text) is decided by
// engine::FillRowOutcome (engine/eval/outcome.h), which the server's
// AccountResult reads as well; this file only formats it.
//
// Thread-safety: a writer is used by one thread at a time.

#ifndef HEALTHSCORE_ENGINE_IO_RESULT_WRITER_H_
#define HEALTHSCORE_ENGINE_IO_RESULT_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "engine/common/number_format.h"
#include "engine/common/text_buffer.h"
#include "engine/eval/batch.h"
#include "engine/eval/explain.h"
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
  int top_drivers = eval::kDefaultTopDrivers;
  // CSV only: every model whose results the writer may receive, when rows
  // come from more than one (a routing model first, then its route
  // targets). Empty (the default): the columns are those of the first
  // batch's model, and the header stays exactly as for one model. Otherwise
  // the group columns are the union of these models' groups (the first
  // model's in its order, then each further model's new ones in its order)
  // and the `model` and `repository_version` columns are added.
  std::vector<std::shared_ptr<const model::CompiledModel>> csv_models;
  // How numbers are written; the default is exact (shortest round-trip).
  common::NumberFormat numbers;
};

// One scored batch among several whose rows are written interleaved: the
// parts of a request whose accounts were scored by different models.
struct ScoredPart {
  const eval::Batch* batch = nullptr;
  const eval::BatchResult* result = nullptr;
  // The model's numeric version in its repository, written as
  // "repository_version"; 0 when not known (the key is then left out).
  int64_t repository_version = 0;
};

// Appends the JSON object for `row` (no line break) to `out`.
void AppendJsonResult(const eval::Batch& batch, const eval::BatchResult& result,
                      size_t row, const WriterOptions& options,
                      std::string* out);
// The CSV header line for `model` (with "\n").
std::string CsvHeader(const model::CompiledModel& model);
// Appends the CSV line for `row` (with "\n") to `out`.
void AppendCsvResult(const eval::Batch& batch, const eval::BatchResult& result,
                     size_t row, std::string* out,
                     common::NumberFormat numbers = common::NumberFormat());

// Decision records: what the server's decision log writes per account
// (server/decision_log.h), rendered here so that a record's result is the
// very JSON Lines row above, never a second rendering of it. A record is
// that row's object with `lead` members first and the account's inputs
// last:
//
//   {"time":"2026-12-03T15:20:01.123456Z","request_id":"r-42",
//    "id":"acme","status":"ok","score":72.5,"tier":"yellow",...,
//    "model":{"name":"default","version":"3","hash":"9f2c..."},
//    "inputs":{"as_of":"2026-11-01","metrics":{"nps":"[masked]",...},
//              "attributes":{...},"dates":{...},"series":{...},
//              "previous_score":75,"previous_tier":"yellow"}}
//
// "inputs" holds the values the model read, after the value rules (a value
// that did not fit its input was used as missing and is not there; dates
// as YYYY-MM-DD), under the sections of the JSON Lines snapshot format, so
// a record's inputs read back as a snapshot. Missing values are left out,
// as are empty sections; previous_tier is written when it names a tier of
// the model. A failed account's record has no "inputs" (its row holds no
// usable values). An input whose id is in the mask (or "as_of",
// "previous_score", "previous_tier") and has a value is written as the
// string eval::kMaskedValue ("[masked]"), and the row's texts mask it too
// (eval::OutcomeOptions::masked: reasons, warnings, a failed row's error,
// and delta or the tier change that would give a masked previous score or
// tier away; masking previous_score masks score_delta in reasons, and
// previous_tier tier_changed): its value never reaches the text. A derived
// value computed from a masked input is shown unless its id is masked too.
// Records carry no explanation.

// Renders decision records of one scored batch. Per batch it escapes what
// every record repeats (as ResultRenderer does) and decides which inputs
// are masked; per row it only appends.
//
// Thread-safety: one thread at a time (it reuses a RowOutcome). `batch`,
// `result` and `mask` must outlive it.
class DecisionRecordRenderer {
 public:
  // `repository_version`: as ScoredPart's (0 leaves it out).
  DecisionRecordRenderer(const eval::Batch& batch,
                         const eval::BatchResult& result,
                         const WriterOptions& options,
                         const std::vector<std::string>& mask,
                         int64_t repository_version = 0);
  ~DecisionRecordRenderer();
  DecisionRecordRenderer(const DecisionRecordRenderer&) = delete;
  DecisionRecordRenderer& operator=(const DecisionRecordRenderer&) = delete;

  // Appends the record of `row` and a line break to `out`. `lead`: JSON
  // members ("key":value, comma-separated, already escaped) written
  // before "id"; may be empty.
  void Append(size_t row, std::string_view lead, std::string* out);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Appends `cell` as one RFC 4180 CSV field: quoted (quotes doubled) when it
// holds a comma, a quote or a line break, or starts or ends with a blank.
void AppendCsvCell(std::string_view cell, std::string* out);

// Renders scored rows in one output format into the caller's string: the
// formatting ResultWriter uses (it writes through a renderer), for callers
// that keep the text, e.g. to render batches on several threads and write
// them in order.
//
// Thread-safety: after construction a renderer is only read; Render may be
// called concurrently.
class ResultRenderer {
 public:
  // `first_model` stands for the first batch a writer would get: for CSV
  // its groups are the group columns unless options.csv_models lists the
  // models (see WriterOptions::csv_models).
  ResultRenderer(OutputFormat format, const WriterOptions& options,
                 const model::CompiledModel& first_model);

  // What comes before the first row: the CSV header line (with "\n");
  // empty for JSON Lines.
  const std::string& header() const { return header_; }

  // Appends every row of a scored batch to `out`, as ResultWriter::Write
  // writes it (without the header). Errors: as ResultWriter::Write (a CSV
  // batch whose model has a group the header has no column for); `out`
  // then holds no part of the batch.
  absl::Status Render(const eval::Batch& batch, const eval::BatchResult& result,
                      std::string* out) const;
  // Appends order.size() rows as the interleaved ResultWriter::Write.
  absl::Status Render(const std::vector<ScoredPart>& parts,
                      const std::vector<std::pair<uint32_t, uint32_t>>& order,
                      std::string* out) const;
  // The same texts appended to a TextBuffer, where a JSON Lines row is
  // written in place: into a std::string each row is written apart and
  // then copied, about 2% of `healthscore score` (bench/README.md, issue
  // 11). For callers that render many rows and write them out whole.
  absl::Status Render(const eval::Batch& batch, const eval::BatchResult& result,
                      common::TextBuffer* out) const;
  absl::Status Render(const std::vector<ScoredPart>& parts,
                      const std::vector<std::pair<uint32_t, uint32_t>>& order,
                      common::TextBuffer* out) const;

 private:
  friend class ResultWriter;
  // The Render methods, calling `after_row` (when not null) after each row
  // and stopping at its first error: the writer flushes there. Out is
  // std::string or common::TextBuffer.
  template <typename Out>
  absl::Status RenderBatch(
      const eval::Batch& batch, const eval::BatchResult& result, Out* out,
      const std::function<absl::Status()>* after_row) const;
  template <typename Out>
  absl::Status RenderParts(
      const std::vector<ScoredPart>& parts,
      const std::vector<std::pair<uint32_t, uint32_t>>& order, Out* out,
      const std::function<absl::Status()>* after_row) const;

  OutputFormat format_;
  WriterOptions options_;
  // CSV: the group ids of the header's group columns.
  std::vector<std::string> csv_groups_;
  std::string header_;
};

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
  // the first batch, for that batch's model (or for options.csv_models).
  // Output is buffered; the sink sees it in large writes.
  //
  // Errors: FailedPrecondition when the writer is closed, or for CSV when
  // the batch's model has a group the header has no column for (a batch of
  // another model than the first, not listed in options.csv_models); the
  // sink's write errors.
  absl::Status Write(const eval::Batch& batch, const eval::BatchResult& result);

  // Writes order.size() rows: for each {part, row} of `order`, in that
  // order, row `row` of parts[part], stamped with that part's model. The
  // CSV header, when not yet written, is for parts[0]'s model (or for
  // options.csv_models). Errors: as Write; InvalidArgument for a part or
  // row out of range.
  absl::Status Write(const std::vector<ScoredPart>& parts,
                     const std::vector<std::pair<uint32_t, uint32_t>>& order);

  // Writes what is buffered and closes the sink. Must be called to get the
  // last rows out and to learn about write errors; the destructor does not
  // report errors.
  absl::Status Close();

 private:
  absl::Status FlushIfLarge();
  // The renderer, made for `first_model` (and its header buffered) on the
  // first call.
  const ResultRenderer& Renderer(const model::CompiledModel& first_model);

  std::unique_ptr<ByteSink> sink_;
  OutputFormat format_;
  WriterOptions options_;
  std::string buffer_;
  std::unique_ptr<ResultRenderer> renderer_;  // after the first write
  std::function<absl::Status()> flush_;       // FlushIfLarge
  bool closed_ = false;
};

// Opens `path` ("-" for standard output) with a writer.
absl::StatusOr<std::unique_ptr<ResultWriter>> OpenResultWriter(
    const std::string& path, OutputFormat format,
    const WriterOptions& options = {});

}  // namespace healthscore::engine::io

#endif  // HEALTHSCORE_ENGINE_IO_RESULT_WRITER_H_
