#include "engine/outcomes/join.h"

#include <cstring>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "engine/common/display.h"
#include "engine/common/json_text.h"
#include "engine/common/strings.h"

namespace healthscore::engine::outcomes {

using common::Cat;
using common::ToAbsl;
using common::TruncateForDisplay;
using common::WithThousandsSeparators;

namespace {

void AddExample(IdSample* sample, std::string_view id, size_t max) {
  ++sample->count;
  if (sample->ids.size() < max) sample->ids.push_back(TruncateForDisplay(id));
}

// A snapshot's (id, as_of) for finding duplicates: the as_of's bits, or a
// value no double has when there is none.
struct SnapshotIdentity {
  absl::string_view id;
  uint64_t as_of_bits;
  bool has_as_of;

  bool operator==(const SnapshotIdentity& o) const {
    return id == o.id && has_as_of == o.has_as_of && as_of_bits == o.as_of_bits;
  }
  template <typename H>
  friend H AbslHashValue(H h, const SnapshotIdentity& s) {
    return H::combine(std::move(h), s.id, s.as_of_bits, s.has_as_of);
  }
};

}  // namespace

absl::StatusOr<int32_t> ParseHorizon(std::string_view text) {
  const std::string_view t = common::Trim(text);
  auto invalid = [&]() {
    return absl::InvalidArgumentError(
        Cat("invalid horizon \"", TruncateForDisplay(text),
            "\": write a whole number of days or weeks, e.g. 180d or 26w, "
            "at most ",
            kMaxHorizonDays,
            " days (months and years vary in length, so "
            "they are not accepted)"));
  };
  if (t.size() < 2 || t.size() > 8) return invalid();
  const char unit = t.back();
  int64_t per_unit;
  if (unit == 'd' || unit == 'D') {
    per_unit = 1;
  } else if (unit == 'w' || unit == 'W') {
    per_unit = 7;
  } else {
    return invalid();
  }
  int64_t n = 0;
  for (size_t i = 0; i + 1 < t.size(); ++i) {
    if (t[i] < '0' || t[i] > '9') return invalid();
    n = n * 10 + (t[i] - '0');
  }
  const int64_t days = n * per_unit;
  if (days <= 0 || days > kMaxHorizonDays) return invalid();
  return static_cast<int32_t>(days);
}

void SnapshotKeys::Clear() {
  ids_.clear();
  spans_.clear();
  as_of_.clear();
  has_as_of_.clear();
}

void SnapshotKeys::Add(std::string_view id, std::optional<double> as_of) {
  spans_.emplace_back(ids_.size(), static_cast<uint32_t>(id.size()));
  ids_.append(id.data(), id.size());
  as_of_.push_back(as_of.value_or(0));
  has_as_of_.push_back(as_of.has_value() ? 1 : 0);
}

void SnapshotKeys::AddBatch(const eval::Batch& batch) {
  const double* as_of = batch.as_of();
  const uint8_t* valid = batch.as_of_valid();
  for (size_t r = 0; r < batch.size(); ++r) {
    Add(batch.id(r), valid[r] ? std::optional<double>(as_of[r]) : std::nullopt);
  }
}

std::string_view ExclusionName(Exclusion exclusion) {
  switch (exclusion) {
    case Exclusion::kNone:
      return "none";
    case Exclusion::kDuplicateSnapshot:
      return "duplicate_snapshot";
    case Exclusion::kNoOutcome:
      return "no_outcome";
    case Exclusion::kDuplicateOutcome:
      return "duplicate_outcome";
    case Exclusion::kUnknownOutcome:
      return "unknown_outcome";
    case Exclusion::kConflictingOutcome:
      return "conflicting_outcome";
    case Exclusion::kNoAsOf:
      return "no_as_of";
    case Exclusion::kAfterChurn:
      return "after_churn";
    case Exclusion::kNoChurnDate:
      return "no_churn_date";
    case Exclusion::kWindowNotComplete:
      return "window_not_complete";
  }
  return "unknown";
}

std::string_view ExclusionDescription(Exclusion exclusion) {
  switch (exclusion) {
    case Exclusion::kNone:
      return "labelled";
    case Exclusion::kDuplicateSnapshot:
      return "another snapshot has the same id and as_of";
    case Exclusion::kNoOutcome:
      return "no outcome record has the id";
    case Exclusion::kDuplicateOutcome:
      return "several outcome records have the id";
    case Exclusion::kUnknownOutcome:
      return "the outcome record does not say whether the account churned";
    case Exclusion::kConflictingOutcome:
      return "the outcome record has churned false and a churn_date";
    case Exclusion::kNoAsOf:
      return "the snapshot has no as_of, which a horizon needs";
    case Exclusion::kAfterChurn:
      return "the snapshot is on or after the churn date";
    case Exclusion::kNoChurnDate:
      return "churned, but the churn_date a horizon needs is not given";
    case Exclusion::kWindowNotComplete:
      return "the horizon ends after the outcomes' observed_until";
  }
  return "unknown";
}

absl::StatusOr<JoinResult> JoinOutcomes(const SnapshotKeys& snapshots,
                                        const Outcomes& outcomes,
                                        const JoinOptions& options) {
  if (options.horizon_days < 0 || options.horizon_days > kMaxHorizonDays) {
    return absl::InvalidArgumentError(Cat("the horizon must be 0 (none) to ",
                                          kMaxHorizonDays, " days, not ",
                                          options.horizon_days));
  }
  if (options.observed_until.has_value() &&
      !eval::IsSupportedDateDays(*options.observed_until)) {
    return absl::InvalidArgumentError(
        "observed_until is not a supported date (years 0000 to 9999)");
  }
  const RecordTable& records = outcomes.records();
  const size_t n = snapshots.size();
  const size_t max = options.max_examples;
  const bool horizon = options.horizon_days > 0;
  const double h = options.horizon_days;
  JoinResult result;
  JoinReport& report = result.report;
  report.snapshots = n;
  report.horizon_days = options.horizon_days;
  report.observed_until = options.observed_until;
  report.duplicate_outcome_ids = records.duplicate_ids().count;
  report.duplicate_outcome_records = records.duplicate_records();
  report.bad_outcome_records = records.bad_records().count;
  report.bad_outcome_values = records.bad_values().count;
  report.unlabelled_outcomes = outcomes.unlabelled().count;
  report.conflicting_outcomes = outcomes.conflicts().count;

  // Snapshots that share their id and as_of: how many there are of each.
  absl::flat_hash_map<SnapshotIdentity, uint32_t> identities;
  identities.reserve(n);
  auto identity = [&](size_t i) {
    SnapshotIdentity s{ToAbsl(snapshots.id(i)), 0, snapshots.has_as_of(i)};
    if (s.has_as_of) {
      // +0.0 for -0.0, so that equal days have equal bits.
      const double day = snapshots.as_of(i) + 0.0;
      std::memcpy(&s.as_of_bits, &day, sizeof day);
    }
    return s;
  };
  for (size_t i = 0; i < n; ++i) ++identities[identity(i)];

  std::vector<uint8_t> matched(records.size(), 0);
  result.rows.resize(n);
  for (size_t i = 0; i < n; ++i) {
    JoinedSnapshot& row = result.rows[i];
    const std::string_view id = snapshots.id(i);
    const int64_t record = records.FindRow(id);
    row.outcome = record;
    if (record >= 0) matched[record] = 1;
    Exclusion why = Exclusion::kNone;
    bool churned = false;
    if (identities[identity(i)] > 1) {
      why = Exclusion::kDuplicateSnapshot;
    } else if (record < 0) {
      why = records.IsDuplicateId(id) ? Exclusion::kDuplicateOutcome
                                      : Exclusion::kNoOutcome;
    } else {
      const ChurnStatus status = outcomes.status(record);
      const bool has_as_of = snapshots.has_as_of(i);
      const double a = snapshots.as_of(i);
      const bool has_c = outcomes.has_churn_date(record);
      const double c = outcomes.churn_date(record);
      if (status == ChurnStatus::kUnknown) {
        why = Exclusion::kUnknownOutcome;
      } else if (status == ChurnStatus::kConflict) {
        why = Exclusion::kConflictingOutcome;
      } else if (horizon && !has_as_of) {
        why = Exclusion::kNoAsOf;
      } else if (status == ChurnStatus::kChurned && has_as_of && has_c &&
                 c <= a) {
        why = Exclusion::kAfterChurn;
      } else if (!horizon) {
        churned = status == ChurnStatus::kChurned;
      } else if (status == ChurnStatus::kChurned && !has_c) {
        why = Exclusion::kNoChurnDate;
      } else if (status == ChurnStatus::kChurned && c <= a + h) {
        churned = true;
      } else if (status == ChurnStatus::kChurned) {
        // Churned after the window: a customer through all of it.
        churned = false;
      } else if (options.observed_until.has_value() &&
                 a + h > *options.observed_until) {
        why = Exclusion::kWindowNotComplete;
      }
    }
    row.exclusion = why;
    if (why != Exclusion::kNone) {
      row.label = Label::kExcluded;
      ++report.excluded;
      AddExample(&report.excluded_by[static_cast<size_t>(why)], id, max);
    } else if (churned) {
      row.label = Label::kChurned;
      ++report.churned;
    } else {
      row.label = Label::kRetained;
      ++report.retained;
    }
  }
  for (size_t r = 0; r < records.size(); ++r) {
    if (matched[r]) {
      ++report.outcomes_matched;
    } else {
      AddExample(&report.outcomes_without_snapshots, records.id(r), max);
    }
  }
  return result;
}

std::vector<std::string> DescribeJoinReport(const JoinReport& report) {
  using common::JoinForDisplay;
  std::vector<std::string> lines;
  auto count = [](uint64_t n) { return WithThousandsSeparators(n); };
  lines.push_back(Cat(
      count(report.snapshots), " snapshots: ", count(report.churned),
      " churned, ", count(report.retained), " retained, ",
      count(report.excluded), " excluded",
      report.horizon_days > 0 ? Cat(" (horizon ", report.horizon_days, " days)")
                              : std::string(" (no horizon)")));
  auto sample = [&](std::string head, const IdSample& s) {
    std::string line = std::move(head);
    if (!s.ids.empty()) {
      line.append(": ");
      line.append(JoinForDisplay(s.ids, s.ids.size()));
      if (s.count > s.ids.size()) {
        line.append(Cat(" and ", count(s.count - s.ids.size()), " more"));
      }
    }
    lines.push_back(std::move(line));
  };
  for (size_t e = 1; e < kExclusionCount; ++e) {
    const IdSample& s = report.excluded_by[e];
    if (s.count == 0) continue;
    const Exclusion why = static_cast<Exclusion>(e);
    sample(Cat("  ", count(s.count), " excluded, ", ExclusionName(why), " (",
               ExclusionDescription(why), ")"),
           s);
  }
  // "1 outcome record has" / "2 outcome records have".
  auto problem = [&](uint64_t n, const char* one, const char* many) {
    if (n > 0) lines.push_back(Cat(count(n), " ", n == 1 ? one : many));
  };
  if (report.outcomes_without_snapshots.count > 0) {
    sample(Cat(count(report.outcomes_without_snapshots.count),
               report.outcomes_without_snapshots.count == 1
                   ? " outcome record has no snapshot"
                   : " outcome records have no snapshot"),
           report.outcomes_without_snapshots);
  }
  if (report.duplicate_outcome_ids > 0) {
    lines.push_back(Cat(count(report.duplicate_outcome_ids),
                        report.duplicate_outcome_ids == 1
                            ? " id is given by several outcome records ("
                            : " ids are given by several outcome records (",
                        count(report.duplicate_outcome_records),
                        " records, all dropped)"));
  }
  problem(report.bad_outcome_records,
          "outcome record could not be read and was dropped",
          "outcome records could not be read and were dropped");
  problem(report.bad_outcome_values,
          "outcome value did not fit its column and was read as missing",
          "outcome values did not fit their column and were read as missing");
  problem(report.unlabelled_outcomes,
          "outcome record does not say whether the account churned",
          "outcome records do not say whether the account churned");
  problem(report.conflicting_outcomes,
          "outcome record has churned false and a churn_date",
          "outcome records have churned false and a churn_date");
  return lines;
}

namespace {

void AppendSampleJson(const IdSample& sample, std::string* out) {
  out->append("{\"count\": ");
  out->append(std::to_string(sample.count));
  out->append(", \"examples\": [");
  for (size_t i = 0; i < sample.ids.size(); ++i) {
    if (i > 0) out->append(", ");
    common::AppendJsonString(sample.ids[i], out);
  }
  out->append("]}");
}

}  // namespace

void AppendJoinReportJson(const JoinReport& report, std::string* out) {
  auto field = [out](const char* name, uint64_t value, bool first = false) {
    out->append(first ? "\"" : ", \"");
    out->append(name);
    out->append("\": ");
    out->append(std::to_string(value));
  };
  out->append("{");
  field("snapshots", report.snapshots, /*first=*/true);
  field("churned", report.churned);
  field("retained", report.retained);
  field("excluded", report.excluded);
  out->append(", \"horizon_days\": ");
  out->append(report.horizon_days > 0 ? std::to_string(report.horizon_days)
                                      : "null");
  out->append(", \"observed_until\": ");
  if (report.observed_until.has_value()) {
    common::AppendJsonString(eval::FormatIsoDate(*report.observed_until), out);
  } else {
    out->append("null");
  }
  out->append(", \"excluded_by\": {");
  for (size_t e = 1; e < kExclusionCount; ++e) {
    if (e > 1) out->append(", ");
    common::AppendJsonString(ExclusionName(static_cast<Exclusion>(e)), out);
    out->append(": ");
    AppendSampleJson(report.excluded_by[e], out);
  }
  out->append("}");
  field("outcomes_matched", report.outcomes_matched);
  out->append(", \"outcomes_without_snapshots\": ");
  AppendSampleJson(report.outcomes_without_snapshots, out);
  out->append(", \"outcomes_file\": {");
  field("duplicate_ids", report.duplicate_outcome_ids, /*first=*/true);
  field("duplicate_records", report.duplicate_outcome_records);
  field("bad_records", report.bad_outcome_records);
  field("bad_values", report.bad_outcome_values);
  field("unlabelled", report.unlabelled_outcomes);
  field("conflicting", report.conflicting_outcomes);
  out->append("}}");
}

}  // namespace healthscore::engine::outcomes
