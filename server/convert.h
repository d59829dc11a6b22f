// Conversion between the healthscore.v1 messages and the engine's
// AccountTable and BatchResult. No scoring logic: this file only moves
// values.
//
// Both request forms add every value to an engine::eval::AccountTable as it was
// sent (a number, a string, a day count, a series, or a dictionary code
// that is no code), knowing no model: each model that scores the request
// binds to the table (engine::TableBinder), which applies the input's
// declared type (the one set of rules every reader shares; see
// engine/eval/batch.h). Values are added in the same order per account in
// both forms: the as-of date, then the values by name (and section), then
// the previous score and tier. So the map form and the columnar form give
// identical results, warnings included. Missing values (NaN, code -1,
// length -1, empty strings) are not added.
//
// Thread-safety: a ColumnarPlan is immutable after Create and may be used by
// several threads at once (each with its own TableBuilder). The other
// functions have no shared state.

#ifndef HEALTHSCORE_SERVER_CONVERT_H_
#define HEALTHSCORE_SERVER_CONVERT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/eval/account_table.h"
#include "engine/eval/batch.h"
#include "engine/eval/outcome.h"
#include "engine/eval/result.h"
#include "engine/model/compiled_model.h"
#include "engine/shadow/shadow.h"
#include "healthscore/v1/account.pb.h"
#include "healthscore/v1/scoring.pb.h"

namespace healthscore::server {

// Adds accounts [begin, end) of a map-form request to `builder`'s table.
void AddAccountRows(
    const google::protobuf::RepeatedPtrField<v1::AccountSnapshot>& accounts,
    size_t begin, size_t end, engine::eval::TableBuilder* builder);

// Reads one serialised v1::AccountSnapshot (`bytes`, no tag or length)
// straight into `builder`'s table: the row AddAccountRows would add for the
// parsed message, without building the message's maps (issue 17). Returns
// false, having added nothing, for anything it does not read exactly as
// the protobuf parser would (malformed bytes, invalid UTF-8, a known field
// with another wire type): the caller then parses the message instead,
// which also gives the error.
bool AddAccountRowFromWire(std::string_view bytes,
                           engine::eval::TableBuilder* builder);

// A columnar request, checked.
class ColumnarPlan {
 public:
  // Checks the structure of `columns` (every per-account array has one entry
  // per id or is empty where allowed, series lengths add up to the values
  // sent, no column name twice in one kind). InvalidArgument naming the
  // column and the lengths found. `columns` must outlive the plan.
  static absl::StatusOr<ColumnarPlan> Create(
      const v1::ColumnarAccounts& columns);

  size_t size() const { return n_; }

  // Adds accounts [begin, end) to `builder`'s table.
  void AddRows(size_t begin, size_t end,
               engine::eval::TableBuilder* builder) const;

 private:
  struct Field {
    int kind = 0;  // 0 metrics, 1 attributes, 2 dates, 3 series
    const std::string* name = nullptr;
    const v1::NumberColumn* number = nullptr;
    const v1::StringColumn* strings = nullptr;
    const v1::DateColumn* dates = nullptr;
    const v1::SeriesColumn* series = nullptr;
    std::vector<uint64_t> offsets;  // series: n + 1 prefix sums
    std::vector<std::string_view> dictionary;  // attributes
  };

  ColumnarPlan() = default;

  const v1::ColumnarAccounts* columns_ = nullptr;
  size_t n_ = 0;
  std::vector<Field> fields_;  // by name, then kind
  std::vector<std::string_view> previous_tier_dictionary_;
};

// Writes row `row` of a scored batch as an AccountResult (map form), all
// but model_index: the engine::eval::RowOutcome of the row (engine/eval/outcome.h
// decides what a row shows, as for the CLI's output) filled as
// OutcomeOptionsFor(options) says. A failed row has only its error.
void WriteAccountResult(const engine::eval::Batch& batch,
                        const engine::eval::BatchResult& result, size_t row,
                        const v1::ScoreOptions& options,
                        v1::AccountResult* out);
// The same from an outcome the caller filled (and may reuse for the next
// row, which saves its allocations).
void WriteAccountResult(const engine::eval::RowOutcome& outcome,
                        v1::AccountResult* out);
// What a request's options ask of a row outcome: reasons unless
// omit_reasons, the explanation with explain, TopDrivers.
engine::eval::OutcomeOptions OutcomeOptionsFor(const v1::ScoreOptions& options);

// Writes the explanation of row `row`.
void WriteExplanation(const engine::eval::Batch& batch,
                      const engine::eval::BatchResult& result, size_t row,
                      int top_drivers, v1::Explanation* out);
// Writes the explanation of a row outcome filled with explain; nothing for
// one without (a failed row).
void WriteExplanation(const engine::eval::RowOutcome& outcome,
                      v1::Explanation* out);

// ScoreOptions.top_drivers with its default applied (0 means
// engine::kDefaultTopDrivers), at most engine::kMaxTopDrivers.
int TopDrivers(const v1::ScoreOptions& options);

// The shadow comparison's report as the response message (all but
// `version`, the candidate's repository version, which the caller knows).
void WriteShadowReport(const engine::shadow::ShadowReport& report,
                       v1::ShadowReport* out);

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_CONVERT_H_
