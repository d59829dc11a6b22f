// Conversion between the healthscore.v1 messages and the engine's Batch and
// BatchResult. No scoring logic: this file only moves values.
//
// Both request forms hand every value to the BatchBuilder's Put functions,
// which apply the input's declared type (the one set of rules every reader
// shares; see engine/eval/batch.h), in the same order per account: the
// as-of date, then the values in the model's input order, then the previous
// score and tier. So the map form and the columnar form give identical
// results, warnings included. A name the model does not declare is skipped
// and counted as ignored; an input given in two sections is used as missing
// with a warning (the builder tracks what each record gave); a dictionary
// code that is no code costs that value only.
//
// Thread-safety: a ColumnarPlan is immutable after Create and may be used by
// several threads at once (each with its own BatchBuilder). The other
// functions have no shared state.

#ifndef HEALTHSCORE_SERVER_CONVERT_H_
#define HEALTHSCORE_SERVER_CONVERT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/eval/batch.h"
#include "engine/eval/result.h"
#include "engine/model/compiled_model.h"
#include "engine/repository/shadow.h"
#include "healthscore/v1/account.pb.h"
#include "healthscore/v1/scoring.pb.h"

namespace healthscore::server {

// Adds accounts [begin, end) of a map-form request to `builder`. Adds the
// number of values the model does not declare to `*ignored`.
void AddAccountRows(
    const google::protobuf::RepeatedPtrField<v1::AccountSnapshot>& accounts,
    size_t begin, size_t end, const engine::CompiledModel& model,
    engine::BatchBuilder* builder, uint64_t* ignored);
// As above, for accounts offset + rows[k], in that order (segment routing
// fills one batch per model with the accounts routed to it).
void AddAccountRows(
    const google::protobuf::RepeatedPtrField<v1::AccountSnapshot>& accounts,
    size_t offset, const std::vector<uint32_t>& rows,
    const engine::CompiledModel& model, engine::BatchBuilder* builder,
    uint64_t* ignored);

// A columnar request checked and resolved against one model.
class ColumnarPlan {
 public:
  // Checks the structure of `columns` (every per-account array has one entry
  // per id or is empty where allowed, series lengths add up to the values
  // sent, no column name twice in one kind) and resolves the column names.
  // InvalidArgument naming the column and the lengths found. `columns` and
  // `model` must outlive the plan.
  static absl::StatusOr<ColumnarPlan> Create(
      const v1::ColumnarAccounts& columns, const engine::CompiledModel& model);

  size_t size() const { return n_; }

  // Adds rows [begin, end) to `builder`; adds the number of present values
  // in columns the model does not declare to `*ignored`.
  void AddRows(size_t begin, size_t end, engine::BatchBuilder* builder,
               uint64_t* ignored) const;
  // As above, for rows offset + rows[k], in that order.
  void AddRows(size_t offset, const std::vector<uint32_t>& rows,
               engine::BatchBuilder* builder, uint64_t* ignored) const;

 private:
  struct Field {
    int input = -1;  // index into model inputs; -1 for undeclared
    int kind = 0;    // 0 metrics, 1 attributes, 2 dates, 3 series
    const std::string* name = nullptr;
    const v1::NumberColumn* number = nullptr;
    const v1::StringColumn* strings = nullptr;
    const v1::DateColumn* dates = nullptr;
    const v1::SeriesColumn* series = nullptr;
    std::vector<uint64_t> offsets;  // series: n + 1 prefix sums
  };

  ColumnarPlan() = default;
  void AddRow(size_t i, engine::BatchBuilder* builder,
              uint64_t* ignored) const;

  const v1::ColumnarAccounts* columns_ = nullptr;
  const engine::CompiledModel* model_ = nullptr;
  size_t n_ = 0;
  std::vector<Field> fields_;     // declared inputs, in model input order
  std::vector<Field> undeclared_;
};

// Writes row `row` of a scored batch as an AccountResult (map form), all
// but model_index. Its warnings are engine::RowWarnings of the row (the
// texts the CLI and the explanation write); a failed row has only its
// error.
void WriteAccountResult(const engine::Batch& batch,
                        const engine::BatchResult& result, size_t row,
                        const v1::ScoreOptions& options,
                        v1::AccountResult* out);

// Writes the explanation of row `row`.
void WriteExplanation(const engine::Batch& batch,
                      const engine::BatchResult& result, size_t row,
                      int top_drivers, v1::Explanation* out);

// ScoreOptions.top_drivers with its default applied (0 means
// engine::kDefaultTopDrivers), at most engine::kMaxTopDrivers.
int TopDrivers(const v1::ScoreOptions& options);

// The shadow comparison's report as the response message (all but
// `version`, the candidate's repository version, which the caller knows).
void WriteShadowReport(const engine::ShadowReport& report,
                       v1::ShadowReport* out);

}  // namespace healthscore::server

#endif  // HEALTHSCORE_SERVER_CONVERT_H_
