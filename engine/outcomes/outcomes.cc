#include "engine/outcomes/outcomes.h"

#include <iterator>
#include <utility>

#include "absl/strings/match.h"
#include "engine/common/display.h"
#include "engine/common/status_macros.h"
#include "engine/common/strings.h"
#include "engine/eval/batch.h"

namespace healthscore::engine::outcomes {

using common::Cat;
using common::TruncateForDisplay;

namespace {

// The declared columns, in OutcomeColumn order.
const ColumnSpec kColumns[] = {
    {"churned", ColumnType::kBool},      {"churn_date", ColumnType::kDate},
    {"renewal_date", ColumnType::kDate}, {"renewed", ColumnType::kBool},
    {"start_arr", ColumnType::kNumber},  {"end_arr", ColumnType::kNumber},
    {"expansion", ColumnType::kNumber},  {"contraction", ColumnType::kNumber},
};

// The error for a file that names neither churned nor churn_date: what it
// does name, and the column it most likely meant.
absl::Status NoLabelColumn(const RecordTable& records,
                           const RecordReaderOptions& options) {
  std::vector<std::string> names;
  std::string hint;
  for (size_t c = 0; c < records.column_count(); ++c) {
    if (!records.column_in_file(c)) continue;
    const std::string& name = records.column_name(c);
    names.push_back(name);
    for (const char* label : {"churned", "churn_date", "churn"}) {
      if (hint.empty() && absl::EqualsIgnoreCase(name, label)) {
        hint = Cat(
            "; rename \"", TruncateForDisplay(name), "\" to ",
            label == std::string_view("churn_date") ? "churn_date" : "churned",
            " (names are case-sensitive)");
      }
    }
  }
  for (const auto& [name, count] : records.ignored_columns()) {
    names.push_back(name);
  }
  return absl::InvalidArgumentError(
      Cat("the outcomes file has no \"churned\" (true/false) or \"churn_date\" "
          "(YYYY-MM-DD) column; at least one is required. Columns besides the "
          "id (\"",
          TruncateForDisplay(options.reader.id_field), "\"): ",
          names.empty() ? std::string("none") : common::JoinForDisplay(names),
          hint));
}

}  // namespace

RecordSchema OutcomesSchema() {
  RecordSchema schema;
  schema.columns.assign(std::begin(kColumns), std::end(kColumns));
  schema.keep_other_columns = true;
  return schema;
}

absl::StatusOr<Outcomes> MakeOutcomes(RecordTable records,
                                      const RecordReaderOptions& options) {
  for (size_t c = 0; c < std::size(kColumns); ++c) {
    if (c >= records.column_count() ||
        records.column_name(c) != kColumns[c].name ||
        records.column_type(c) != kColumns[c].type) {
      return absl::InvalidArgumentError(
          "outcome records must be read with OutcomesSchema()");
    }
  }
  const bool churned_in_file = records.column_in_file(kChurnedColumn);
  if (!churned_in_file && !records.column_in_file(kChurnDateColumn)) {
    return NoLabelColumn(records, options);
  }
  Outcomes out;
  const size_t max_texts = options.max_problem_texts;
  out.status_.resize(records.size());
  for (size_t r = 0; r < records.size(); ++r) {
    using Cell = RecordTable::Cell;
    const Cell churned = records.cell(kChurnedColumn, r);
    const Cell date = records.cell(kChurnDateColumn, r);
    ChurnStatus status;
    if (churned == Cell::kBad || date == Cell::kBad) {
      status = ChurnStatus::kUnknown;
      out.unlabelled_.Add(
          Cat("line ", records.line(r), ": id \"",
              TruncateForDisplay(records.id(r)), "\": its ",
              churned == Cell::kBad ? "churned" : "churn_date",
              " value is unusable (see the bad values), so whether it "
              "churned is unknown"),
          max_texts);
    } else if (churned == Cell::kPresent) {
      const bool flag = records.flag(kChurnedColumn, r);
      if (flag) {
        status = ChurnStatus::kChurned;
      } else if (date == Cell::kPresent) {
        status = ChurnStatus::kConflict;
        out.conflicts_.Add(
            Cat("line ", records.line(r), ": id \"",
                TruncateForDisplay(records.id(r)),
                "\": churned is false but churn_date is ",
                eval::FormatIsoDate(records.number(kChurnDateColumn, r))),
            max_texts);
      } else {
        status = ChurnStatus::kRetained;
      }
    } else if (date == Cell::kPresent) {
      status = ChurnStatus::kChurned;
    } else if (!churned_in_file) {
      status = ChurnStatus::kRetained;
    } else {
      status = ChurnStatus::kUnknown;
      out.unlabelled_.Add(
          Cat("line ", records.line(r), ": id \"",
              TruncateForDisplay(records.id(r)),
              "\": churned is empty and there is no churn_date, so whether "
              "it churned is unknown"),
          max_texts);
    }
    out.status_[r] = static_cast<uint8_t>(status);
  }
  out.records_ = std::move(records);
  return out;
}

absl::StatusOr<Outcomes> ReadOutcomes(std::unique_ptr<io::ByteSource> source,
                                      io::InputFormat format,
                                      const RecordReaderOptions& options) {
  HEALTHSCORE_ASSIGN_OR_RETURN(
      RecordTable records,
      ReadRecords(std::move(source), format, OutcomesSchema(), options));
  return MakeOutcomes(std::move(records), options);
}

absl::StatusOr<Outcomes> ReadOutcomesFile(const std::string& path,
                                          io::InputFormat format,
                                          const RecordReaderOptions& options) {
  HEALTHSCORE_ASSIGN_OR_RETURN(
      RecordTable records,
      ReadRecordFile(path, format, OutcomesSchema(), options));
  auto outcomes = MakeOutcomes(std::move(records), options);
  if (!outcomes.ok()) {
    return absl::Status(outcomes.status().code(),
                        Cat(TruncateForDisplay(path), ": ",
                            std::string(outcomes.status().message())));
  }
  return outcomes;
}

}  // namespace healthscore::engine::outcomes
