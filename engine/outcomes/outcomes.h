// Outcome files: what happened to each account (did it churn, and when),
// read as keyed records (record_table.h) with the outcomes schema, for the
// backtest and tuning (join.h labels snapshots with them) and the portfolio
// metrics (the revenue columns).
//
// Columns (docs/outcomes.md, "Outcomes files"), any order, one record per
// account, the id under ReaderOptions::id_field:
//
//   churned       bool    whether the account churned
//   churn_date    date    when it churned
//   renewal_date  date    carried for callers; not used to label
//   renewed       bool    carried for callers; not used to label
//   start_arr, end_arr, expansion, contraction
//                 number  revenue, carried for the portfolio metrics
//   anything else string  an attribute (segment, plan, region, ...)
//
// A file must name `churned` or `churn_date` (or both): ReadOutcomes fails
// otherwise, naming the columns the file has.
//
// Each record's churn status (ChurnStatus):
//   churned true                      churned (at churn_date when given)
//   churned false, no churn_date      retained
//   churned false, with a churn_date  conflict: counted in conflicts(),
//                                     the account's snapshots are excluded
//   churned empty, with a churn_date  churned
//   churned empty, no churn_date      retained when the file has no
//                                     churned column (an empty churn_date
//                                     then means "did not churn"), else
//                                     unknown
//   a bad churned or churn_date value unknown (never read as "retained")
// Unknown records are counted in unlabelled() and their snapshots are
// excluded.
//
// Thread-safety: an Outcomes once read is immutable and may be read from
// many threads.

#ifndef HEALTHSCORE_ENGINE_OUTCOMES_OUTCOMES_H_
#define HEALTHSCORE_ENGINE_OUTCOMES_OUTCOMES_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "engine/io/byte_source.h"
#include "engine/io/snapshot_reader.h"
#include "engine/outcomes/record_table.h"

namespace healthscore::engine::outcomes {

// The declared columns of an outcomes file: their index in
// Outcomes::records() (every one exists there, also when the file lacks it:
// see RecordTable::column_in_file).
enum OutcomeColumn : int {
  kChurnedColumn = 0,
  kChurnDateColumn,
  kRenewalDateColumn,
  kRenewedColumn,
  kStartArrColumn,
  kEndArrColumn,
  kExpansionColumn,
  kContractionColumn,
};

// The outcomes schema: the columns above, in that order; other columns are
// kept as strings.
RecordSchema OutcomesSchema();

enum class ChurnStatus : uint8_t { kRetained, kChurned, kUnknown, kConflict };

class Outcomes {
 public:
  Outcomes() = default;
  Outcomes(Outcomes&&) = default;
  Outcomes& operator=(Outcomes&&) = default;

  // The records, with every problem met reading them (bad records, bad
  // values, duplicate ids, ignored columns).
  const RecordTable& records() const { return records_; }
  size_t size() const { return records_.size(); }

  ChurnStatus status(size_t row) const {
    return static_cast<ChurnStatus>(status_[row]);
  }
  // Whether record `row` has a churn date, and the date (days since
  // 1970-01-01).
  bool has_churn_date(size_t row) const {
    return records_.has(kChurnDateColumn, row);
  }
  double churn_date(size_t row) const {
    return records_.number(kChurnDateColumn, row);
  }

  // Records with churned false and a churn date.
  const ProblemList& conflicts() const { return conflicts_; }
  // Records whose status is unknown.
  const ProblemList& unlabelled() const { return unlabelled_; }

 private:
  friend absl::StatusOr<Outcomes> MakeOutcomes(
      RecordTable records, const RecordReaderOptions& options);

  RecordTable records_;
  std::vector<uint8_t> status_;  // ChurnStatus per record
  ProblemList conflicts_;
  ProblemList unlabelled_;
};

// Reads an outcomes file (see ReadRecords for what is read and how bad
// input is counted). Errors: those of ReadRecords, and InvalidArgument when
// the file names neither churned nor churn_date.
absl::StatusOr<Outcomes> ReadOutcomes(std::unique_ptr<io::ByteSource> source,
                                      io::InputFormat format,
                                      const RecordReaderOptions& options = {});
// Opens `path` ("-" for standard input) and reads it; a message names the
// path.
absl::StatusOr<Outcomes> ReadOutcomesFile(
    const std::string& path, io::InputFormat format,
    const RecordReaderOptions& options = {});

// Labels the records of `records` (read with OutcomesSchema()). For
// callers that read the records themselves. Errors: as ReadOutcomes.
absl::StatusOr<Outcomes> MakeOutcomes(RecordTable records,
                                      const RecordReaderOptions& options = {});

}  // namespace healthscore::engine::outcomes

#endif  // HEALTHSCORE_ENGINE_OUTCOMES_OUTCOMES_H_
